"""公众举报 (随手拍): a signed-in resident or enterprise reports a problem from the portal into the
case engine (``Source.PUBLIC``) and follows it in 「我的上报」 — through the API
(``/api/v1/me/grid-reports``) and the pages — reading the public trail only: the bodies that took
each step, the reply once closed, the photos they took; nobody else's report (404). Bad input is
refused in Chinese with nothing written; the staff's waiting lists pick the case up."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, csrf_of
from sqlalchemy import func, select

from tongban import demo
from tongban.grid.models import GridCase

from .conftest import category_code, jpeg

CITIZEN, ENTERPRISE = demo.CITIZEN.username, demo.ENTERPRISE.username
SUPERVISOR, CENTRE, SANITATION = "grid", "grid.centre", "grid.lhsr"
ME = "/api/v1/me/grid-reports"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def file(client, headers, code, lon, lat, *, description="小区门口人行道上垃圾堆积多日无人清运", photos=1, **extra):
    files = [("photos", (f"p{i}.jpg", jpeg("orange"), "image/jpeg")) for i in range(photos)]
    data = {"kind": "event", "code": code, "lon": str(lon), "lat": str(lat), "description": description, **extra}
    return client.post(ME, headers=headers, data=data, files=files or None)


def cases(db) -> int:
    count = db.scalar(select(func.count()).select_from(GridCase)) or 0
    db.rollback()
    return count


@pytest.fixture
def signed_in(quiet_app):
    """``signed_in(username)`` → (a client with that person's session cookie, the pages' CSRF token)."""
    opened = []

    def sign_in(username: str) -> tuple[TestClient, str]:
        browser = TestClient(quiet_app)
        browser.__enter__()
        opened.append(browser)
        browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                     "csrf_token": csrf_of(browser.get("/login").text)}, follow_redirects=False)
        return browser, csrf_of(browser.get("/").text)
    yield sign_in
    for browser in opened:
        browser.__exit__(None, None, None)


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_citizens_report_goes_through_the_engine_and_its_owner_reads_the_public_trail(client, as_role, cell_point, db):
    citizen, centre = as_role(CITIZEN), as_role(CENTRE)
    garbage = category_code(client, "event", "暴露垃圾")
    cell, lon, lat = cell_point("310115004")

    created = file(client, citizen, garbage, lon, lat, address="浦东南路 1 号门前")
    assert created.status_code == 201, created.text
    mine = created.json()
    number = mine["number"]
    assert mine["status"] == "reported" and mine["status_label"] == "待立案" and mine["kind_label"] == "事件"
    assert mine["category_name"] == "暴露垃圾" and mine["address"] == "浦东南路 1 号门前"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", mine["created_text"])
    assert [s["label"] for s in mine["steps"]] == ["提交上报"]
    assert len(mine["photos"]) == 1 and mine["photos"][0]["url"].startswith(f"{ME}/{number}/photos/")
    picture = client.get(mine["photos"][0]["url"], headers=citizen)
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"

    # the staff see it as any case, from the public, with the reporter's name; in the centre's queue
    staff = client.get(f"/api/v1/grid/cases/{number}", headers=centre).json()
    assert staff["source"] == "public" and staff["source_label"] == "公众举报"
    assert staff["reporter_name"] == demo.CITIZEN.name and staff["cell_code"] == cell
    assert staff["proposed_department"] == "PD-LHSR"

    listed = client.get(ME, headers=citizen).json()
    assert listed["items"][0]["number"] == number and listed["next_cursor"] is None
    assert all(item["number"] != number for item in client.get(ME, headers=as_role(ENTERPRISE)).json()["items"])

    # register, dispatch with an internal note, handle with a photo; a supervisor checks it
    version = staff["version"]
    client.post(f"/api/v1/grid/cases/{number}/register", headers=centre,
                json={"version": version, "note": "内部备注：请核实举报人"}).raise_for_status()
    client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={"note": "内部备注：加急"}).raise_for_status()
    handled = client.post(f"/api/v1/grid/cases/{number}/handle", headers=as_role(SANITATION),
                          data={"result": "已安排保洁员清运，现场已清理干净"},
                          files=[("photos", ("after.jpg", jpeg("green"), "image/jpeg"))])
    assert handled.status_code == 200, handled.text
    handled_photo = next(p["id"] for p in handled.json()["photos"] if p["stage"] == "handle")
    # the citizen reads neither the result before it is checked nor the department's photo
    before = client.get(f"{ME}/{number}", headers=citizen).json()
    assert before["status_label"] == "待核查" and before["reply"] is None and len(before["photos"]) == 1
    assert_problem(client.get(f"{ME}/{number}/photos/{handled_photo}", headers=citizen), 404, "not-found")

    # a supervisor's 「等我处理」 holds the public case to check (not theirs, but from the public)
    waiting = client.get("/grid/cases", headers=as_role(SUPERVISOR))
    assert waiting.status_code == 200 and number in waiting.text
    closed = client.post(f"/api/v1/grid/cases/{number}/verify", headers=as_role(SUPERVISOR),
                         data={"fixed": "true", "note": "内部备注：监督员核查"})
    assert closed.status_code == 200, closed.text
    staff_trail = closed.json()["trail"]

    detail = client.get(f"{ME}/{number}", headers=citizen)
    assert detail.status_code == 200
    after = detail.json()
    assert after["status_label"] == "已结案" and after["closed_text"]
    assert after["reply"] == "已安排保洁员清运，现场已清理干净"
    assert after["department_name"] == "浦东新区绿化和市容管理局"
    assert [s["label"] for s in after["steps"]] == ["提交上报", "立案受理", "派遣至处置部门", "处置完毕，待核查", "核查通过，已结案"]
    assert [s["status_label"] for s in after["steps"]] == ["待立案", "待派遣", "处置中", "待核查", "已结案"]
    assert after["steps"][2]["department"] == after["department_name"]
    assert len(after["photos"]) == 1
    text = detail.text
    assert "内部备注" not in text
    for event in staff_trail[1:]:  # staff names never, department names only
        assert event["actor_name"] not in text, event["actor_name"]


def test_a_rejected_report_tells_its_reason(client, as_role, cell_point):
    citizen, centre = as_role(ENTERPRISE), as_role(CENTRE)
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=3)
    number = file(client, citizen, garbage, lon, lat, photos=0).json()["number"]
    client.post(f"/api/v1/grid/cases/{number}/reject", headers=centre,
                json={"reason": "经核实为私人庭院内的垃圾，不属于城市管理范围"}).raise_for_status()
    mine = client.get(f"{ME}/{number}", headers=citizen).json()
    assert mine["status_label"] == "不予立案"
    assert mine["reply"] == "经核实为私人庭院内的垃圾，不属于城市管理范围"
    assert mine["steps"][-1]["label"] == "不予立案" and mine["steps"][-1]["reply"] == mine["reply"]


def test_bad_input_is_refused_in_chinese_and_changes_nothing(client, as_role, cell_point, db):
    citizen = as_role(CITIZEN)
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=5)
    number = file(client, citizen, garbage, lon, lat).json()["number"]
    photo = client.get(f"{ME}/{number}", headers=citizen).json()["photos"][0]["url"]
    before = cases(db)

    no_position = client.post(ME, headers=citizen, data={"kind": "event", "code": garbage, "description": "垃圾堆积"})
    assert_problem(no_position, 422, "validation-error")
    assert_problem(file(client, citizen, garbage, 116.4, 39.9), 422, "grid-outside-district")
    not_an_image = client.post(ME, headers=citizen, data={"kind": "event", "code": garbage, "lon": str(lon), "lat": str(lat),
                                                          "description": "垃圾堆积"},
                               files=[("photos", ("p.jpg", b"%PDF-1.4 not a photo", "image/jpeg"))])
    assert_problem(not_an_image, 422, "grid-invalid-photo")
    assert_problem(file(client, citizen, garbage, lon, lat, photos=7), 422, "validation-error")
    assert_problem(file(client, citizen, "9999", lon, lat), 404, "not-found")
    assert_problem(file(client, {}, garbage, lon, lat), 401, "not-authenticated")
    assert_problem(file(client, as_role(SUPERVISOR), garbage, lon, lat), 403, "permission-denied")  # staff use /grid/report
    assert cases(db) == before

    # another person's report is as unknown as a number never given
    other = as_role(ENTERPRISE)
    assert_problem(client.get(f"{ME}/{number}", headers=other), 404, "not-found")
    assert_problem(client.get(photo, headers=other), 404, "not-found")
    assert_problem(client.get(f"{ME}/WG-00000000-000000", headers=citizen), 404, "not-found")
    assert_problem(client.get(ME, headers={}), 401, "not-authenticated")


def test_the_portal_pages(signed_in, client, cell_point, db):
    _, lon, lat = cell_point("310115004", offset=7)
    anonymous = client.get("/grid/public-reports/new", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert 'href="/grid/public-reports/new"' in client.get("/").text  # the portal's home links it

    citizen, csrf = signed_in(CITIZEN)
    home = citizen.get("/").text
    assert 'href="/grid/public-reports"' in home  # the citizen's navigation: 我的上报
    page = citizen.get("/grid/public-reports/new")
    assert page.status_code == 200
    assert "随手拍" in page.text and 'data-lookup="off"' in page.text and 'action="/grid/public-reports/new"' in page.text
    assert "暴露垃圾" in page.text and "事件 · " in page.text and not SNAKE.findall(visible(page.text))
    assert citizen.get("/grid/base.geojson").status_code == 200  # the map's own base layer
    assert citizen.get("/api/v1/grid/cells.geojson").status_code == 403  # the cells stay the staff's
    garbage = re.search(r'<option value="(event/\d{4})"[^>]*>暴露垃圾</option>', page.text).group(1)

    # refusals on the page, the form kept, nothing written
    before = cases(db)
    form = {"csrf_token": csrf, "category": garbage, "description": "路边垃圾堆积", "address": "张杨路 2 号"}
    no_position = citizen.post("/grid/public-reports/new", data=form)
    assert no_position.status_code == 422 and "请确定问题位置" in no_position.text and "路边垃圾堆积" in no_position.text
    outside = citizen.post("/grid/public-reports/new", data={**form, "lon": "116.4", "lat": "39.9"})
    assert outside.status_code == 422 and "不在本区范围内" in outside.text and 'value="116.4"' in outside.text
    picture = citizen.post("/grid/public-reports/new", data={**form, "lon": str(lon), "lat": str(lat)},
                           files=[("photos", ("p.jpg", b"not a picture", "image/jpeg"))])
    assert picture.status_code == 422 and "照片不是可识别的图片" in picture.text
    no_csrf = citizen.post("/grid/public-reports/new", data={**form, "csrf_token": "x", "lon": str(lon), "lat": str(lat)})
    assert no_csrf.status_code == 403
    assert cases(db) == before

    done = citizen.post("/grid/public-reports/new", data={**form, "lon": str(lon), "lat": str(lat)},
                        files=[("photos", ("p.jpg", jpeg(), "image/jpeg"))], follow_redirects=False)
    assert done.status_code == 303, done.text
    number = re.fullmatch(r"/grid/public-reports/(WG-[\w-]+)", done.headers["location"]).group(1)
    detail = citizen.get(done.headers["location"])
    assert detail.status_code == 200 and f"已提交，编号 {number}" in detail.text
    assert "待立案" in detail.text and "提交上报" in detail.text and "张杨路 2 号" in detail.text
    assert detail.text.count('class="wg-thumb"') == 1 and not SNAKE.findall(visible(detail.text))
    listing = citizen.get("/grid/public-reports")
    assert listing.status_code == 200 and number in listing.text and "事件 · 暴露垃圾" in listing.text
    assert "待立案" in listing.text

    # another person's report: 404; staff have their own form
    enterprise, _ = signed_in(ENTERPRISE)
    assert enterprise.get(f"/grid/public-reports/{number}").status_code == 404
    assert number not in enterprise.get("/grid/public-reports").text
    supervisor, _ = signed_in(SUPERVISOR)
    assert supervisor.get("/grid/public-reports/new").status_code == 403
    assert supervisor.get("/grid/report").status_code == 200

    # the centre's case page says the reason for not registering goes to the reporter
    centre, _ = signed_in(CENTRE)
    staff_page = centre.get(f"/grid/cases/{number}").text
    assert "公众举报" in staff_page and 'id="reject-public"' in staff_page
