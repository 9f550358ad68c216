"""Open311 GeoReport v2 at /open311/v2: every method in JSON and XML as the specification shows them,
the filters and pages of GET requests, each refusal in the specification's error format (nothing
changed), a standard client's exchange, and the staff's API keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from helpers import assert_problem
from sqlalchemy import func, select

from tongban.core import clock as wall
from tongban.core.audit import AuditEvent
from tongban.demo.open311 import DEMO_OPEN311_CLIENT, DEMO_OPEN311_KEY, load_open311_client
from tongban.grid import geo
from tongban.grid.models import GridCase

from .conftest import category_code, jpeg

BASE = "/open311/v2"
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
                  "address", "address_id", "zipcode", "lat", "long", "media_url"]
PERSONAL = ["open311.tester@example.com", "13800138000", "Wei", "Zhang"]


@pytest.fixture(scope="module")
def key(quiet_app) -> str:
    """The demo client, as the demo loads it."""
    session = quiet_app.state.sessionmaker()
    load_open311_client(session)
    load_open311_client(session)  # idempotent
    session.commit()
    session.close()
    return DEMO_OPEN311_KEY


def xml_of(response) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def assert_error(response, status: int, fmt: str = "json", *, contains: str | None = None) -> str:
    """The specification's error: [{"code": 404, "description": "..."}] or <errors><error>…"""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert root.find("error/code").text == str(status)
        description = root.find("error/description").text
    else:
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description and any("\u4e00" <= ch <= "\u9fff" for ch in description), description  # Chinese
    if contains:
        assert contains in description, description
    return description


def post(client, fmt="json", **fields):
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in fields.items() if v is not None})


def cases(db) -> int:
    count = db.scalar(select(func.count()).select_from(GridCase))
    db.rollback()
    return count


# ---- discovery and services ------------------------------------------------------------------------


def test_discovery_in_json_and_xml(client):
    found = client.get(f"{BASE}/discovery.json")
    assert found.status_code == 200 and found.headers["content-type"] == "application/json; charset=utf-8"
    body = found.json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root.find("endpoints")] == ["endpoint"]
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]
    assert root.find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert_error(client.get(f"{BASE}/discovery.csv"), 404)


def test_services_and_their_definitions(client):
    listed = client.get(f"{BASE}/services.json").json()
    categories = client.get("/api/v1/grid/categories").json()
    # the union: every grid category, and the classes of the hotline's own (filed by calling 12345)
    grid = [s for s in listed if not s["service_code"].startswith("hotline-")]
    assert len(grid) == len(categories) > 50 and len(listed) > len(grid)
    garbage = category_code(client, "event", "暴露垃圾")
    service = next(s for s in listed if s["service_code"] == f"event-{garbage}")
    assert service["service_name"] == "暴露垃圾" and service["metadata"] is True and service["type"] == "realtime"
    assert service["group"] and service["description"] and "事件" in service["keywords"]
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root) == len(listed) and {e.tag for e in root} == {"service"}
    first = root[0]
    assert [e.tag for e in first] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert first.find("metadata").text == "true"

    event = client.get(f"{BASE}/services/event-{garbage}.json").json()
    assert event["service_code"] == f"event-{garbage}"
    assert [a["code"] for a in event["attributes"]] == ["crs"]
    crs = event["attributes"][0]
    assert crs["datatype"] == "singlevaluelist" and crs["required"] is False and crs["variable"] is True
    assert [v["key"] for v in crs["values"]] == ["wgs84", "cgcs2000", "gcj02"]
    lamp = category_code(client, "component", "路灯")
    component = xml_of(client.get(f"{BASE}/services/component-{lamp}.xml"))
    assert component.tag == "service_definition" and component.find("service_code").text == f"component-{lamp}"
    attributes = component.find("attributes")
    assert [a.find("code").text for a in attributes] == ["crs", "component_code"]
    assert attributes[1].find("datatype").text == "string" and attributes[1].find("values") is None
    assert [v.find("key").text for v in attributes[0].find("values")] == ["wgs84", "cgcs2000", "gcj02"]

    assert_error(client.get(f"{BASE}/services/event-9999.json"), 404, contains="event-9999")
    assert_error(client.get(f"{BASE}/services/rubbish.xml"), 404, "xml")
    assert_error(client.get(f"{BASE}/services/event-{garbage}.yaml"), 404)


# ---- filing and reading requests ---------------------------------------------------------------------


def test_a_standard_client_files_a_request_and_follows_it(client, db, key, cell_point, as_role):
    """What a typical Open311 client library sends: a form-encoded POST with the api_key, then the
    request by its id, then the list filtered by the ids it holds."""
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=1)
    form = {"api_key": key, "jurisdiction_id": "pudong", "service_code": f"event-{garbage}", "lat": str(lat),
            "long": str(lon), "address_string": "浦东新区某路 100 号", "email": PERSONAL[0], "phone": PERSONAL[1],
            "first_name": PERSONAL[2], "last_name": PERSONAL[3], "device_id": "device-1", "account_id": "",
            "description": "路口有成堆生活垃圾未清运", "media_url": "https://media.example.com/p/1.jpg"}
    created = client.post(f"{BASE}/requests.json", data=form,
                          headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    number = body[0]["service_request_id"]
    assert number.startswith("WG-") and body[0]["account_id"] is None and "立案" in body[0]["service_notice"]

    case = db.scalar(select(GridCase).where(GridCase.number == number))
    assert case.source == "open311" and case.client_id == DEMO_OPEN311_CLIENT and case.status == "reported"
    assert case.reporter_contact == f"{PERSONAL[1]}；{PERSONAL[0]}" and case.reporter_name == "Wei Zhang"
    assert case.address == "浦东新区某路 100 号" and case.cell_code
    token = case.token
    db.rollback()

    one = client.get(f"{BASE}/requests/{number}.json")
    assert one.status_code == 200, one.text
    [request] = one.json()
    assert list(request) == REQUEST_FIELDS
    assert request["service_request_id"] == number and request["status"] == "open"
    assert request["service_code"] == f"event-{garbage}" and request["service_name"] == "暴露垃圾"
    assert request["description"] == "路口有成堆生活垃圾未清运" and request["media_url"] == "https://media.example.com/p/1.jpg"
    assert request["lat"] == pytest.approx(lat) and request["long"] == pytest.approx(lon)
    assert request["requested_datetime"].endswith("+08:00") and request["status_notes"] == "待立案"
    assert request["agency_responsible"] is None and request["zipcode"] is None and request["address_id"] is None
    expected = datetime.fromisoformat(request["expected_datetime"])
    assert expected > datetime.fromisoformat(request["requested_datetime"])  # the category's limit, estimated
    assert not any(p in one.text for p in PERSONAL), "personal data in a public answer"

    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": f"{number},WG-19990101-000000"})
    assert [r["service_request_id"] for r in listed.json()] == [number]

    # the centre dispatches it: open, the department responsible, the real expected moment
    centre = as_role("grid.centre")
    client.post(f"/api/v1/grid/cases/{number}/register", headers=centre, json={}).raise_for_status()
    dispatched = client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={"note": "请尽快清运"})
    dispatched.raise_for_status()
    root = xml_of(client.get(f"{BASE}/requests/{number}.xml", params={"extensions": "true"}))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    request_xml = root.find("request")
    assert [e.tag for e in request_xml] == [*REQUEST_FIELDS, "extended_attributes"]
    assert request_xml.find("status").text == "open"
    assert request_xml.find("agency_responsible").text  # the department dispatched to
    assert "请尽快清运" in request_xml.find("status_notes").text
    due = datetime.fromisoformat(dispatched.json()["expected_at"])
    assert datetime.fromisoformat(request_xml.find("expected_datetime").text) == due
    trail = request_xml.find("extended_attributes/trail")
    assert [e.find("action").text for e in trail] == ["report", "register", "dispatch"]
    assert request_xml.find("extended_attributes/tongban_status").text == "dispatched"
    assert all(e.find("datetime").text.endswith("+08:00") for e in trail)
    assert request_xml.find("zipcode").text is None
    assert not any(p in ET.tostring(root, encoding="unicode") for p in PERSONAL)

    by_token = client.get(f"{BASE}/tokens/{token}.json")
    assert by_token.json() == [{"token": token, "service_request_id": number}]
    token_xml = xml_of(client.get(f"{BASE}/tokens/{token}.xml"))
    assert token_xml.tag == "service_requests" and token_xml.find("request/service_request_id").text == number
    assert_error(client.get(f"{BASE}/tokens/nope.json"), 404)
    assert_error(client.get(f"{BASE}/requests/WG-19990101-000000.xml"), 404, "xml")


def test_xml_and_multipart_with_a_photo_and_attributes(client, db, key, cell_point):
    lamp = category_code(client, "component", "路灯")  # the component named is the demo census's first street lamp
    _cell, lon, lat = cell_point("310115009", offset=2)
    created = client.post(f"{BASE}/requests.xml", data={
        "api_key": key, "service_code": f"component-{lamp}", "lat": str(lat), "long": str(lon),
        "description": "路灯夜间不亮", "attribute[component_code]": "3101150116000001", "attribute[crs]": "wgs84"},
        files=[("media", ("lamp.jpg", jpeg(), "image/jpeg"))])
    root = xml_of(created)
    assert created.status_code == 200 and root.tag == "service_requests"
    request = root.find("request")
    assert [e.tag for e in request] == ["service_request_id", "service_notice", "account_id"]
    number = request.find("service_request_id").text
    assert request.find("account_id").text is None
    case = db.scalar(select(GridCase).where(GridCase.number == number))
    assert case.component_code == "3101150116000001" and case.category_kind == "component"
    db.rollback()
    [read] = client.get(f"{BASE}/requests/{number}.json").json()
    assert read["media_url"].startswith(f"http://testserver{BASE}/media/{number}/")
    picture = client.get(read["media_url"].removeprefix("http://testserver"))
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"
    assert client.get(f"{BASE}/media/{number}/999999").status_code == 404
    assert client.get(f"{BASE}/media/{number}/{2**63}").status_code == 422  # an id past BIGINT: no 500

    # coordinates from a Chinese map app (GCJ-02) land where they are
    gcj_lon, gcj_lat = (float(v) for v in geo.wgs84_to_gcj02(lon, lat))
    assert geo.distance_m(lon, lat, gcj_lon, gcj_lat) > 300  # the offset is real
    gcj = client.post(f"{BASE}/requests.json", data={
        "api_key": key, "service_code": f"component-{lamp}", "lat": str(gcj_lat), "long": str(gcj_lon),
        "description": "路灯杆倾斜", "attribute[crs]": "gcj02"})
    assert gcj.status_code == 200, gcj.text
    [moved] = client.get(f"{BASE}/requests/{gcj.json()[0]['service_request_id']}.json").json()
    assert geo.distance_m(lon, lat, moved["long"], moved["lat"]) < 5


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_refusal_is_in_the_specification_format_and_changes_nothing(client, db, key, cell_point, fmt):
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=4)
    good = {"api_key": key, "service_code": f"event-{garbage}", "lat": str(lat), "long": str(lon), "description": "垃圾未清运"}
    before = cases(db)
    refusals = [
        ({**good, "api_key": None}, 403, "api_key"),
        ({**good, "api_key": "not-a-key"}, 403, "api_key"),
        ({**good, "service_code": None}, 400, "service_code"),
        ({**good, "service_code": "event-9999"}, 404, "event-9999"),
        ({**good, "service_code": "lamp"}, 404, "lamp"),
        ({**good, "lat": None, "long": None, "address_string": "浦东新区世纪大道 100 号"}, 400, "lat"),
        ({**good, "lat": None, "long": None}, 400, "位置"),
        ({**good, "lat": "31.2x"}, 400, "lat"),
        ({**good, "long": "nan"}, 400, "long"),
        ({**good, "lat": "95"}, 400, "lat"),
        ({**good, "lat": "39.9042", "long": "116.4074"}, 400, "本区"),  # Beijing: outside the district
        ({**good, "description": "很" * 2001}, 400, "description"),
        ({**good, "attribute[crs]": "bd09"}, 400, "crs"),
        ({**good, "email": "not an email"}, 400, "email"),
        ({**good, "media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({**good, "phone": "1" * 21}, 400, "phone"),
        ({**good, "device_id": "d" * 101}, 400, "device_id"),
    ]
    for fields, status, word in refusals:
        assert_error(post(client, fmt, **fields), status, fmt, contains=word)
    lamp = category_code(client, "component", "路灯")
    assert_error(post(client, fmt, **{**good, "service_code": f"component-{lamp}", "attribute[component_code]": "12"}),
                 400, fmt, contains="component_code")
    assert_error(client.post(f"{BASE}/requests.{fmt}", content=b'{"api_key": "x"}', headers={"Content-Type": "application/json"}),
                 403, fmt)
    assert_error(post(client, "html", **good), 404)
    assert cases(db) == before
    longest = post(client, fmt, **{**good, "first_name": "W" * 32, "last_name": "Z" * 32, "phone": "1" * 20,
                                   "email": "e" * 89 + "@example.c"})  # every field at its limit fits its column
    assert longest.status_code == 200, longest.text
    refused = db.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "grid.open311.report",
                                                          AuditEvent.outcome != "success")).all()
    db.rollback()
    assert refused.count("denied") >= 3 and refused.count("failed") >= len(refusals) - 2


def test_filters_and_pages(client, db, key, cell_point, as_role):
    garbage = category_code(client, "event", "暴露垃圾")
    parking = category_code(client, "event", "非机动车乱停放")
    since = datetime.now(UTC)  # the cases before it (other tests') are left out by start_date
    numbers = []
    for offset, code in enumerate([garbage, parking, garbage, parking, garbage]):
        _cell, lon, lat = cell_point("310115004", offset=10 + offset)
        created = post(client, api_key=key, service_code=f"event-{code}", lat=str(lat), long=str(lon), description=f"第 {offset} 件")
        assert created.status_code == 200, created.text
        numbers.append(created.json()[0]["service_request_id"])
    rejected = client.post(f"/api/v1/grid/cases/{numbers[0]}/reject", headers=as_role("grid.centre"),
                           json={"reason": "现场核实无此问题"})
    assert rejected.status_code == 200, rejected.text
    start = since.isoformat()

    def listed(**params) -> list[str]:
        answer = client.get(f"{BASE}/requests.json", params=params)
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    newest_first = list(reversed(numbers))
    assert listed(start_date=start) == newest_first  # newest first
    assert listed(start_date=start, service_code=f"event-{parking}") == [numbers[3], numbers[1]]
    assert listed(start_date=start, service_code=f"event-{parking},event-{garbage}") == newest_first
    assert listed(start_date=start, status="closed") == [numbers[0]]
    assert listed(start_date=start, status="open") == newest_first[:4]
    assert listed(start_date=start, status="open,closed") == newest_first
    assert listed(start_date=start, page_size="2") == newest_first[:2]
    assert listed(start_date=start, page_size="2", page="2") == newest_first[2:4]
    assert listed(start_date=start, page_size="2", page="3") == newest_first[4:]
    assert listed(start_date=start, page_size="2", page="4") == []
    assert listed(end_date=start) and not set(listed(end_date=start, page_size="200")) & set(numbers)
    naive_beijing = wall.beijing(since).replace(tzinfo=None).isoformat()  # no offset: Beijing time
    assert listed(start_date=naive_beijing, end_date=(since + timedelta(days=1)).isoformat()) == newest_first
    # service_request_id overrides every other filter, as the specification says
    assert set(listed(service_request_id=f"{numbers[0]}, {numbers[2]}", status="open", service_code="event-0000")) \
        == {numbers[0], numbers[2]}
    [closed] = client.get(f"{BASE}/requests/{numbers[0]}.json").json()
    assert closed["status"] == "closed" and closed["status_notes"] == "不予立案：现场核实无此问题"
    assert closed["expected_datetime"] is None
    default = listed(page_size="200")  # the last 90 days by default
    assert set(numbers) <= set(default) and 52 <= len(default) <= 200  # the demo day and these
    asked = default[:52]  # more than a page: every id asked for comes in one answer
    assert listed(service_request_id=",".join(reversed(asked))) == asked
    assert listed(service_request_id=",".join(asked), page_size="50", page="2") == asked[50:]
    assert_error(client.get(f"{BASE}/requests.json", params={"service_request_id": ",".join(["WG-1"] * 201)}), 400,
                 contains="service_request_id")
    closed_xml = xml_of(client.get(f"{BASE}/requests.xml", params={"start_date": start, "status": "closed"}))
    assert [r.find("service_request_id").text for r in closed_xml] == [numbers[0]]
    assert closed_xml.find("request/status").text == "closed"

    for params, word in [({"start_date": "yesterday"}, "start_date"), ({"end_date": "2026-13-01"}, "end_date"),
                         ({"status": "pending"}, "status"), ({"page": "0"}, "page"), ({"page_size": "ten"}, "page_size"),
                         ({"page": str(2**70)}, "page"), ({"end_date": "0001-01-01T00:00:00Z"}, "end_date"),
                         ({"service_code": "garbage"}, "garbage"),
                         ({"start_date": "2026-12-01T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"}, "start_date")]:
        assert_error(client.get(f"{BASE}/requests.json", params=params), 400, contains=word)
        assert_error(client.get(f"{BASE}/requests.xml", params=params), 400, "xml", contains=word)


def test_a_large_page_is_capped_and_the_query_uses_the_created_index(client, db):
    assert len(client.get(f"{BASE}/requests.json", params={"page_size": "100000"}).json()) <= 200
    if db.get_bind().dialect.name == "sqlite":
        from sqlalchemy import text
        plan = " ".join(str(row) for row in db.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM grid_cases WHERE created_at >= '2026-01-01' AND created_at <= '2026-12-31' "
            "ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 50")))
        db.rollback()
        assert "ix_grid_cases_created" in plan, plan


# ---- the staff's API keys ----------------------------------------------------------------------------


def test_staff_issue_list_and_stop_keys(client, as_role, cell_point):
    centre, supervisor = as_role("grid.centre"), as_role("grid")
    assert_problem(client.post("/api/v1/grid/open311-clients", headers=supervisor, json={"name": "某 App"}), 403,
                   "permission-denied")
    created = client.post("/api/v1/grid/open311-clients", headers=centre, json={"name": "街道随手拍小程序"})
    assert created.status_code == 201, created.text
    issued = created.json()
    new_key = issued["key"]
    assert len(new_key) >= 40 and issued["active"] is True
    assert_problem(client.post("/api/v1/grid/open311-clients", headers=centre, json={"name": "街道随手拍小程序"}), 409, "conflict")
    listed = client.get("/api/v1/grid/open311-clients", headers=centre)
    assert listed.status_code == 200 and new_key not in listed.text and "key" not in listed.json()[0]
    assert "街道随手拍小程序" in [c["name"] for c in listed.json()]

    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=20)
    good = {"api_key": new_key, "service_code": f"event-{garbage}", "lat": str(lat), "long": str(lon), "description": "垃圾"}
    assert post(client, **good).status_code == 200
    stopped = client.delete(f"/api/v1/grid/open311-clients/{issued['id']}", headers=centre)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    assert_error(post(client, **good), 403, contains="api_key")
    again = client.patch(f"/api/v1/grid/open311-clients/{issued['id']}", headers=centre, json={"active": True})
    assert again.status_code == 200 and again.json()["active"] is True
    assert post(client, **good).status_code == 200
    assert_problem(client.delete("/api/v1/grid/open311-clients/999999", headers=centre), 404, "not-found")


def test_personal_data_a_reporter_writes_is_not_published(client, db, key, cell_point, as_role):
    """A description (and a staff note) is public in Open311: a phone number, an ID number or an
    e-mail address written into it is masked in every answer; the case keeps the text as written."""
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=3)
    written = "垃圾堆在门口三天了，我是业主，电话13912345678，身份证31011519850612002X，邮箱 li.si@example.com"
    created = client.post(f"{BASE}/requests.json", data={"api_key": key, "service_code": f"event-{garbage}", "lat": str(lat),
                                                          "long": str(lon), "description": written})
    assert created.status_code == 200, created.text
    number = created.json()[0]["service_request_id"]
    centre = as_role("grid.centre")
    client.post(f"/api/v1/grid/cases/{number}/register", headers=centre,
                json={"note": "已联系报告人 021-58881234 核实"}).raise_for_status()
    for fmt in ("json", "xml"):
        text = client.get(f"{BASE}/requests/{number}.{fmt}", params={"extensions": "true"}).text
        listed = client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": number}).text
        for answer in (text, listed):
            assert "垃圾堆在门口三天了" in answer and "[电话号码已隐去]" in answer and "[身份证号已隐去]" in answer
            assert not any(p in answer for p in ("13912345678", "31011519850612002X", "li.si@example.com", "58881234"))
    case = db.scalar(select(GridCase).where(GridCase.number == number))
    assert case.description == written  # kept as written for the staff
    db.rollback()
