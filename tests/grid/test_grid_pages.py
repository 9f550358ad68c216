"""The grid's pages through a browser's eyes without a browser: each page for the roles it serves
and refused to the others, the report form and the step forms with their refusals shown on the
page (the form kept), the lists by role, the base layer and the evaluation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import csrf_of

from tongban import demo

from .conftest import category_code, jpeg

SUPERVISOR, CENTRE, SANITATION, ENFORCEMENT = "grid", "grid.centre", "grid.lhsr", "grid.cgzf"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def signed_in(quiet_app):
    """``signed_in(username)`` → (a client with that person's session cookie, the pages' CSRF token)."""
    opened = []

    def sign_in(username: str) -> tuple[TestClient, str]:
        client = TestClient(quiet_app)
        client.__enter__()
        opened.append(client)
        client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                    "csrf_token": csrf_of(client.get("/login").text)}, follow_redirects=False)
        return client, csrf_of(client.get("/staff").text)
    yield sign_in
    for client in opened:
        client.__exit__(None, None, None)


def visible(html: str) -> str:
    """The text a person reads: no tags, scripts or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def number_of(response) -> str:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/grid/cases/(WG-[\w-]+)", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_each_page_serves_its_roles_and_refuses_the_others(signed_in, client):
    supervisor, _ = signed_in(SUPERVISOR)
    for path in ("/grid/report", "/grid/cases", "/grid/map", "/grid/evaluation"):
        page = supervisor.get(path)
        assert page.status_code == 200, path
        assert not SNAKE.findall(visible(page.text)), (path, SNAKE.findall(visible(page.text)))
    workbench = supervisor.get("/staff").text
    assert "城市网格化管理" in workbench and 'href="/grid/report"' in workbench and 'href="/grid/map"' in workbench

    handler, _ = signed_in(SANITATION)
    assert handler.get("/grid/report").status_code == 403  # a department reports nothing: it handles
    assert handler.get("/grid/cases").status_code == 200
    assert 'href="/grid/report"' not in handler.get("/staff").text

    clerk, _ = signed_in("clerk")
    for path in ("/grid/report", "/grid/cases", "/grid/map", "/grid/evaluation", "/grid/base.geojson"):
        assert clerk.get(path).status_code == 403, path
    assert "城市网格化管理" not in clerk.get("/staff").text

    anonymous = client.get("/grid/cases", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_base_layer_is_made_from_the_current_grid(signed_in):
    supervisor, _ = signed_in(SUPERVISOR)
    answer = supervisor.get("/grid/base.geojson")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/geo+json")
    layers: dict[str, list] = {}
    for feature in answer.json()["features"]:
        layers.setdefault(feature["properties"]["layer"], []).append(feature)
    assert {f["properties"]["name"] for f in layers["street"]} == {"花木街道", "陆家嘴街道", "潍坊新村街道"}
    assert len(layers["community"]) > 10 and len(layers["road"]) == 1
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in layers["street"])


def test_the_report_form_shows_its_refusals_with_the_form_kept(signed_in, cell_point, client):
    supervisor, token = signed_in(SUPERVISOR)
    garbage = category_code(client, "event", "暴露垃圾")
    page = supervisor.get("/grid/report").text
    assert 'capture="environment"' in page and 'accept="image/*"' in page and "立案条件" in page
    _cell, lon, lat = cell_point("310115004")
    form = {"csrf_token": token, "category": f"event/{garbage}", "description": "人行道旁有成堆生活垃圾未清运",
            "address": "浦东南路 1000 号门前"}

    no_position = supervisor.post("/grid/report", data=form)
    assert no_position.status_code in (400, 422)
    assert "请确定问题位置" in no_position.text and "人行道旁有成堆生活垃圾未清运" in no_position.text
    assert "浦东南路 1000 号门前" in no_position.text

    not_image = supervisor.post("/grid/report", data={**form, "lon": str(lon), "lat": str(lat)},
                                files=[("photos", ("p.jpg", b"not a picture", "image/jpeg"))])
    assert not_image.status_code in (400, 422)
    assert "照片不是可识别的图片" in not_image.text and f'value="{lon}"' in not_image.text

    outside = supervisor.post("/grid/report", data={**form, "lon": "121.3", "lat": "31.2"})
    assert outside.status_code in (400, 422) and "不在本区范围内" in outside.text

    no_category = supervisor.post("/grid/report", data={**form, "category": "", "lon": str(lon), "lat": str(lat)})
    assert no_category.status_code in (400, 422) and "请选择问题分类" in no_category.text

    forged = supervisor.post("/grid/report", data={**form, "csrf_token": "forged", "lon": str(lon), "lat": str(lat)})
    assert forged.status_code == 403

    created = supervisor.post("/grid/report", data={**form, "lon": str(lon), "lat": str(lat)},
                              files=[("photos", ("p.jpg", jpeg(), "image/jpeg"))], follow_redirects=False)
    number = number_of(created)
    case = supervisor.get(f"/grid/cases/{number}")
    assert case.status_code == 200 and f"已上报，案件编号 {number}" in case.text
    assert "待立案" in case.text and 'class="wg-thumb"' in case.text and "浦东南路 1000 号门前" in case.text
    assert "form-register" not in case.text  # a supervisor does not register


def test_the_seven_steps_through_the_case_page(signed_in, cell_point, client):
    supervisor, s_token = signed_in(SUPERVISOR)
    centre, c_token = signed_in(CENTRE)
    sanitation, h_token = signed_in(SANITATION)
    enforcement, _ = signed_in(ENFORCEMENT)
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=3)
    number = number_of(supervisor.post("/grid/report", data={
        "csrf_token": s_token, "category": f"event/{garbage}", "lon": str(lon), "lat": str(lat),
        "description": "绿化带边堆放垃圾"}, follow_redirects=False))

    # the centre: its list shows the report first-hand; the case page offers register, reject, merge
    assert number in centre.get("/grid/cases").text
    page = centre.get(f"/grid/cases/{number}").text
    assert all(f'id="form-{step}"' in page for step in ("register", "reject", "merge"))
    version = version_of(page)
    empty_reason = centre.post(f"/grid/cases/{number}/reject", data={"csrf_token": c_token, "version": version, "reason": ""})
    assert empty_reason.status_code in (400, 422) and 'id="error-reject"' in empty_reason.text
    registered = centre.post(f"/grid/cases/{number}/register", data={"csrf_token": c_token, "version": version},
                             follow_redirects=False)
    assert registered.status_code == 303
    stale = centre.post(f"/grid/cases/{number}/register", data={"csrf_token": c_token, "version": version})
    assert stale.status_code == 409 and "已被他人处理，请刷新" in stale.text and 'id="error-register"' not in stale.text
    late_click = centre.post(f"/grid/cases/{number}/dispatch", data={"csrf_token": c_token, "version": version})
    assert late_click.status_code == 409 and "已被他人处理，请刷新" in late_click.text

    # 派遣: the proposed department is preselected
    page = centre.get(f"/grid/cases/{number}").text
    assert re.search(r'<option value="PD-LHSR" selected>[^<]*（系统建议）', page), page
    dispatched = centre.post(f"/grid/cases/{number}/dispatch", data={"csrf_token": c_token, "version": version_of(page),
                                                                     "department": "PD-LHSR"}, follow_redirects=False)
    assert dispatched.status_code == 303

    # the department: its list and its forms; another department may not even read it
    assert enforcement.get(f"/grid/cases/{number}").status_code == 403
    assert number in sanitation.get("/grid/cases").text
    page = sanitation.get(f"/grid/cases/{number}").text
    assert 'id="form-handle"' in page and 'id="form-return"' in page and "处置中" in page
    no_result = sanitation.post(f"/grid/cases/{number}/handle", data={"csrf_token": h_token, "version": version_of(page)})
    assert no_result.status_code in (400, 422) and "请填写处置结果" in no_result.text
    handled = sanitation.post(f"/grid/cases/{number}/handle", data={"csrf_token": h_token, "version": version_of(page),
                                                                   "result": "已安排保洁员清运"},
                              files=[("photos", ("after.jpg", jpeg("green"), "image/jpeg"))], follow_redirects=False)
    assert handled.status_code == 303

    # the supervisor checks: a choice is required; fixed → 已结案, with the trail in Beijing time
    assert number in supervisor.get("/grid/cases").text  # 等我处理: the reports they made, handled
    page = supervisor.get(f"/grid/cases/{number}").text
    assert 'id="form-verify"' in page
    unanswered = supervisor.post(f"/grid/cases/{number}/verify", data={"csrf_token": s_token, "version": version_of(page)})
    assert unanswered.status_code in (400, 422) and "请选择现场核查结果" in unanswered.text
    closed = supervisor.post(f"/grid/cases/{number}/verify", data={"csrf_token": s_token, "version": version_of(page),
                                                                  "fixed": "yes", "note": "现场已清理"},
                             follow_redirects=False)
    assert closed.status_code == 303
    page = supervisor.get(f"/grid/cases/{number}").text
    assert "已结案" in page and "核查通过，结案" in page and 'id="form-verify"' not in page
    assert page.count('class="wg-thumb"') == 1  # the handling's photo
    assert not SNAKE.findall(visible(page))


def test_the_lists_put_each_persons_work_first(signed_in):
    centre, _ = signed_in(CENTRE)
    mine = centre.get("/grid/cases").text
    statuses = set(re.findall(r'<tr class="st-(\w+)', mine))
    assert statuses and statuses <= {"reported", "registered"}
    assert "等我处理" in mine
    sanitation, _ = signed_in(SANITATION)
    theirs = sanitation.get("/grid/cases").text
    assert set(re.findall(r'<tr class="st-(\w+)', theirs)) <= {"dispatched"}
    everything = sanitation.get("/grid/cases?tab=closed").text
    assert "已结案" in everything
    supervisor, _ = signed_in(SUPERVISOR)
    assert set(re.findall(r'<tr class="st-(\w+)', supervisor.get("/grid/cases").text)) <= {"handled"}
    street = supervisor.get("/grid/cases?tab=open&street=310115004").text
    rows = re.sub(r"<select.*?</select>", "", street, flags=re.S)
    assert "陆家嘴街道" in rows and "潍坊新村街道" not in rows and "花木街道" not in rows
    # the workbench counts what waits on each person: the rows of their 「等我处理」 list
    for client in (centre, sanitation, supervisor):
        listed = len(re.findall(r'<tr class="st-', client.get("/grid/cases?tab=mine").text))
        workbench = visible(client.get("/staff").text)
        assert re.search(rf"\b{listed}\s*待办城管案件", workbench), (listed, " ".join(workbench.split())[:600])


def test_the_evaluation_page_shows_the_tables_and_formulas(signed_in):
    centre, _ = signed_in(CENTRE)
    page = centre.get("/grid/evaluation")
    assert page.status_code == 200
    for text in ("派遣准确率 = (派遣数 − 退回数) ÷ 派遣数", "处置部门", "街道", "监督员", "按期处置率"):
        assert text in page.text
    assert centre.get("/grid/evaluation?start=2026-13-01").status_code in (400, 422)


def test_a_department_returns_a_case_and_the_centre_merges_a_duplicate(signed_in, cell_point, client):
    supervisor, s_token = signed_in(SUPERVISOR)
    centre, c_token = signed_in(CENTRE)
    enforcement, e_token = signed_in(ENFORCEMENT)
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115005", offset=2)

    def reported(description: str, east: float = 0.0) -> str:
        return number_of(supervisor.post("/grid/report", data={
            "csrf_token": s_token, "category": f"event/{garbage}", "lon": str(lon + east), "lat": str(lat),
            "description": description}, follow_redirects=False))

    first = reported("小区门口垃圾堆放")
    page = centre.get(f"/grid/cases/{first}").text
    centre.post(f"/grid/cases/{first}/register", data={"csrf_token": c_token, "version": version_of(page)})
    page = centre.get(f"/grid/cases/{first}").text
    centre.post(f"/grid/cases/{first}/dispatch", data={"csrf_token": c_token, "version": version_of(page),
                                                       "department": "PD-CGZF", "note": "请执法局处理"})

    # the wrong department sends it back with its reason; it still reads what it did
    page = enforcement.get(f"/grid/cases/{first}").text
    no_reason = enforcement.post(f"/grid/cases/{first}/return", data={"csrf_token": e_token, "version": version_of(page)})
    assert no_reason.status_code in (400, 422) and 'id="error-return"' in no_reason.text
    returned = enforcement.post(f"/grid/cases/{first}/return", data={
        "csrf_token": e_token, "version": version_of(page), "reason": "垃圾清运属绿化市容局职责"}, follow_redirects=False)
    assert returned.status_code == 303
    page = enforcement.get(f"/grid/cases/{first}").text
    assert "待派遣" in page and "垃圾清运属绿化市容局职责" in page and 'id="form-handle"' not in page
    assert first in centre.get("/grid/cases").text  # back in the centre's queue

    # a second report of the same problem close by: the centre merges it into the first
    second = reported("同一处垃圾又被发现", east=0.0001)
    page = centre.get(f"/grid/cases/{second}").text
    assert f'<option value="{first}">' in page
    merged = centre.post(f"/grid/cases/{second}/merge", data={"csrf_token": c_token, "version": version_of(page),
                                                              "into": first}, follow_redirects=False)
    assert merged.status_code == 303
    page = centre.get(f"/grid/cases/{second}").text
    assert "已合并" in page and f'href="/grid/cases/{first}"' in page and 'id="actions"' not in page


def test_a_late_case_is_marked_on_the_list_and_its_page(signed_in):
    from datetime import timedelta

    from tongban.core import clock as wall

    with wall.frozen(wall.now() + timedelta(days=10)):
        centre, _ = signed_in(CENTRE)
        listed = centre.get("/grid/cases?tab=dispatched").text
        late = re.findall(r'<tr class="st-dispatched late">\s*<td class="wg-number"><a href="/grid/cases/([\w-]+)"', listed)
        assert late, "the demo has cases being handled: ten days on, they are late"
        assert "已超时" in listed
        page = centre.get(f"/grid/cases/{late[0]}").text
        assert 'class="tag level-red wg-late"' in page
        features = centre.get("/api/v1/grid/cases.geojson", params={"status": "dispatched"}).json()["features"]
        assert any(f["properties"]["late"] for f in features) and all(f["properties"]["kind"] in ("component", "event")
                                                                      for f in features)
