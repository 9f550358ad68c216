"""网格管理 in the pages: the grid manager uploads cells and components, edits a category's
conditions and limit, and sets who handles a kind of problem; everyone else is refused."""

from __future__ import annotations

import json

from helpers import csrf_of

from tongban import demo

from .test_grid_import import cells, component


def signed_in(client, username: str) -> str:
    client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                "csrf_token": csrf_of(client.get("/login").text)}, follow_redirects=False)
    return csrf_of(client.get("/grid/manage").text) if username == "grid.centre" else ""


def test_the_centre_keeps_the_grid_data_in_its_page(client, cell_point):
    csrf = signed_in(client, "grid.centre")
    assert 'href="/grid/manage"' in client.get("/staff").text  # reached from the workbench
    page = client.get("/grid/manage")
    assert page.status_code == 200
    example = client.get("/api/v1/grid/import-examples/cells.geojson").json()  # the format, by example
    assert set(example["features"][0]["properties"]) >= {"code", "street_code", "community_code", "land_use"}
    assert "单元网格" in page.text and "浦东新区单元网格（演示）.geojson" in page.text and "暴露垃圾" in page.text
    uploaded = client.post("/grid/manage/cells", data={"csrf_token": csrf, "crs": "wgs84"},
                           files={"file": ("新社区.geojson", json.dumps(cells()).encode(), "application/geo+json")},
                           follow_redirects=True)
    assert uploaded.status_code == 200 and "已导入第" in uploaded.text and "新社区.geojson" in uploaded.text
    broken = client.post("/grid/manage/cells", data={"csrf_token": csrf, "crs": "wgs84"},
                         files={"file": ("坏文件.geojson", b"{", "application/geo+json")})
    assert broken.status_code == 422 and "不是合法的 JSON" in broken.text
    _cell, lon, lat = cell_point("310115009", offset=9)
    parts = client.post("/grid/manage/components", data={"csrf_token": csrf, "crs": "wgs84"},
                        files={"file": ("部件.geojson", json.dumps({"type": "FeatureCollection", "features": [
                            component("3101150116900077", lon, lat)]}).encode(), "application/geo+json")},
                        follow_redirects=True)
    assert "部件普查成果已导入：新增 1 个" in parts.text
    edited = client.post("/grid/manage/categories/event/0102", data={
        "csrf_token": csrf, "register_condition": "人行道或绿地内有成堆暴露垃圾", "close_condition": "垃圾已清运，地面无残留",
        "limit_value": "4", "limit_unit": "working_hours", "handler": "sanitation", "active": "on"}, follow_redirects=True)
    assert "已保存分类「暴露垃圾」" in edited.text
    category = next(c for c in client.get("/api/v1/grid/categories", params={"kind": "event"}).json() if c["code"] == "0102")
    assert category["limit_text"] == "4 个工作小时" and category["close_condition"] == "垃圾已清运，地面无残留"
    bad = client.post("/grid/manage/categories/event/0102", data={
        "csrf_token": csrf, "register_condition": "x", "close_condition": "垃圾已清运", "limit_value": "0",
        "limit_unit": "working_hours", "handler": "sanitation", "active": "on"})
    assert bad.status_code == 422 and "分类填写有误" in bad.text
    routed = client.post("/grid/manage/routes/sanitation", data={"csrf_token": csrf, "department": "PD-CGZF"},
                         follow_redirects=True)
    assert "「环境卫生」类问题今后派遣至所选部门" in routed.text
    located = client.get("/api/v1/grid/locate", params={"lon": lon, "lat": lat, "kind": "event", "code": "0102"}).json()
    assert located["proposed_department"] == "PD-CGZF"
    assert client.post("/grid/manage/routes/sanitation", data={"department": "PD-LHSR"}).status_code in (400, 403)


def test_others_may_not_manage_the_grid(client):
    signed_in(client, "grid")
    assert client.get("/grid/manage").status_code == 403
