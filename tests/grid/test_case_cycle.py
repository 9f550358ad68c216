"""The seven steps of a city-management case through the API, with a return, a rework and a merged
duplicate; the department routing proposes for points inside, on the border of and outside the grid."""

from __future__ import annotations

import json

import numpy as np
from helpers import assert_problem
from shapely.geometry import shape
from sqlalchemy import select

from tongban.grid import geo
from tongban.grid import service as grid
from tongban.grid.models import GridCell

from .conftest import category_code, jpeg

SUPERVISOR, CENTRE = "grid", "grid.centre"


def report(client, headers, kind, code, lon, lat, description="人行道旁有成堆生活垃圾未清运", photos=1):
    files = [("photos", (f"p{i}.jpg", jpeg(), "image/jpeg")) for i in range(photos)]
    return client.post("/api/v1/grid/cases", headers=headers, data={
        "kind": kind, "code": code, "lon": str(lon), "lat": str(lat), "description": description}, files=files or None)


def test_seven_steps_with_return_rework_and_duplicate(client, as_role, cell_point):
    supervisor, centre = as_role(SUPERVISOR), as_role(CENTRE)
    garbage = category_code(client, "event", "暴露垃圾")  # handled by 绿化市容局 (sanitation)
    cell, lon, lat = cell_point("310115004")

    # 信息收集: a supervisor's report with a photo lands in its cell with a proposed department
    created = report(client, supervisor, "event", garbage, lon, lat)
    assert created.status_code == 201, created.text
    case = created.json()
    number = case["number"]
    assert case["status"] == "reported" and case["status_label"] == "待立案"
    assert case["cell_code"] == cell and case["street_code"] == "310115004"
    assert case["proposed_department"] == "PD-LHSR"
    assert len(case["photos"]) == 1 and case["photos"][0]["media_type"] == "image/jpeg"
    assert [c["step"] for c in case["clocks"]] == ["立案"]
    photo = client.get(case["photos"][0]["url"], headers=centre)
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"

    # a second report of the same problem 10 m away is proposed as its duplicate once the first is registered
    registered = client.post(f"/api/v1/grid/cases/{number}/register", headers=centre, json={"version": case["version"]})
    assert registered.status_code == 200, registered.text
    assert registered.json()["status"] == "registered"
    again = report(client, supervisor, "event", garbage, lon + 0.0001, lat, description="同一处垃圾又被发现").json()
    assert again["possible_duplicates"] == [number]
    merged = client.post(f"/api/v1/grid/cases/{again['number']}/merge", headers=centre, json={"into": number})
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged" and merged.json()["merged_into"] == number

    # 任务派遣 to the proposed department; the wrong department returns it (退回) with a reason
    dispatched = client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={"department_code": "PD-CGZF"})
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["department"] == "PD-CGZF" and dispatched.json()["expected_text"]
    not_theirs = client.post(f"/api/v1/grid/cases/{number}/handle", headers=as_role("grid.lhsr"), data={"result": "已清运"})
    assert_problem(not_theirs, 403, "department-scope")
    returned = client.post(f"/api/v1/grid/cases/{number}/return", headers=as_role("grid.cgzf"),
                           json={"reason": "暴露垃圾清运属绿化市容局职责"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "registered" and returned.json()["returns"] == 1
    dispatched = client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={}).json()
    assert dispatched["department"] == "PD-LHSR"

    # 任务处理 and 处理反馈 with a photo; 核查: not fixed → 返工 on a new clock; then fixed → 结案
    lhsr = as_role("grid.lhsr")
    handled = client.post(f"/api/v1/grid/cases/{number}/handle", headers=lhsr, data={"result": "已安排保洁员清运"},
                          files=[("photos", ("after.jpg", jpeg("green"), "image/jpeg"))])
    assert handled.status_code == 200, handled.text
    assert handled.json()["status"] == "handled"
    reworked = client.post(f"/api/v1/grid/cases/{number}/verify", headers=supervisor,
                           data={"fixed": "false", "note": "仍有部分垃圾未清运"})
    assert reworked.status_code == 200, reworked.text
    assert reworked.json()["status"] == "dispatched" and reworked.json()["reworks"] == 1
    client.post(f"/api/v1/grid/cases/{number}/handle", headers=lhsr, data={"result": "已全部清运完毕"}).raise_for_status()
    closed = client.post(f"/api/v1/grid/cases/{number}/verify", headers=supervisor, data={"fixed": "true", "note": "现场已清理"})
    assert closed.status_code == 200, closed.text
    detail = closed.json()
    assert detail["status"] == "closed" and detail["closed_at"]
    assert [e["action"] for e in detail["trail"]] == [
        "report", "register", "duplicate", "dispatch", "return", "dispatch", "handle", "rework", "handle", "verify"]
    assert all(e["at_text"] for e in detail["trail"])
    steps = [c["step"] for c in detail["clocks"]]
    assert steps.count("处置") == 3 and steps.count("核查") == 2 and steps.count("派遣") == 2
    assert all(c["status"] == "closed" for c in detail["clocks"])
    assert len(detail["photos"]) == 2

    # 综合评价 counts the return, the rework and the closure against the department that did them
    evaluation = client.get("/api/v1/grid/evaluation", headers=centre).json()
    rows = {row["key"]: row["figures"] for row in evaluation["departments"]}
    assert rows["PD-CGZF"]["returned"] >= 1
    assert rows["PD-LHSR"]["reworked"] >= 1 and rows["PD-LHSR"]["closed"] >= 1
    assert "派遣准确率" in evaluation["formulas"]["dispatch_accuracy"]


def test_a_step_out_of_order_or_on_a_stale_version_changes_nothing(client, as_role, cell_point):
    supervisor, centre = as_role(SUPERVISOR), as_role(CENTRE)
    code = category_code(client, "event", "占道堆物")
    _cell, lon, lat = cell_point("310115009", offset=3)
    case = report(client, supervisor, "event", code, lon, lat, description="建筑材料堆放在人行道上").json()
    number = case["number"]
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={}), 409, "grid-state")
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/verify", headers=supervisor, data={"fixed": "true"}),
                   409, "grid-state")
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/register", headers=centre, json={"version": case["version"] + 1}),
                   409, "conflict")
    # a supervisor may not register, a department may not dispatch
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/register", headers=supervisor, json={}), 403, "permission-denied")
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/dispatch", headers=as_role("grid.cgzf"), json={}), 403,
                   "permission-denied")
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/reject", headers=centre, json={"reason": ""}), 422,
                   "validation-error")
    after = client.get(f"/api/v1/grid/cases/{number}", headers=centre).json()
    assert after["status"] == "reported" and after["version"] == case["version"] and len(after["trail"]) == 1


def test_routing_inside_on_the_border_and_outside_the_grid(db, client, as_role, cell_point):
    index = grid.grid_index(db)
    cells = {c.code: c for c in db.scalars(select(GridCell).where(GridCell.current.is_(True)))}
    db.expunge_all()
    db.rollback()  # SQLite: a reading transaction holds the write lock
    code, lon, lat = cell_point("310115009", offset=10)
    assert index.locate(lon, lat).code == code
    # on the border: a point on the edge shared by two neighbouring cells belongs to the smaller code
    polygons = {c: shape(json.loads(cells[c].geometry)) for c in cells if c.startswith(code[:12])}
    first = polygons[code]
    neighbour = next(c for c, p in polygons.items() if c != code and p.intersection(first).length > 1e-5)
    edge = polygons[neighbour].intersection(first)
    middle = edge.interpolate(0.5, normalized=True)
    assert index.locate(middle.x, middle.y).code == min(code, neighbour)
    # just outside the grid's edge (20 m) belongs to the nearest cell; 200 m out belongs to none
    bounds = np.array([shape(json.loads(c.geometry)).bounds for c in cells.values()])
    west = bounds[:, 0].min()
    west_cell = min((c for c in cells.values() if shape(json.loads(c.geometry)).bounds[0] == west), key=lambda c: c.code)
    y = shape(json.loads(west_cell.geometry)).representative_point().y
    polygon = shape(json.loads(west_cell.geometry))
    edge_x = min(x for x, yy in polygon.exterior.coords)
    near = index.locate(edge_x - geo.LocalMetres(edge_x, y).metres_to_degrees(20) * 0.8, y)
    assert near is not None and near.code == west_cell.code
    assert index.locate(west - 0.01, y) is None
    # the API says so, and proposes by the category's handler: street office inside, nobody outside
    street = category_code(client, "event", "非机动车乱停放")  # handler: the street (属地)
    headers = as_role(CENTRE)
    inside = client.get("/api/v1/grid/locate", headers=headers, params={"lon": lon, "lat": lat, "kind": "event", "code": street}).json()
    assert inside["inside_grid"] and inside["cell"] == code and inside["proposed_department"] == "PD-HM"
    outside = client.get("/api/v1/grid/locate", headers=headers,
                         params={"lon": west - 0.01, "lat": y, "kind": "event", "code": street}).json()
    assert not outside["inside_grid"] and outside["proposed_department"] is None
    # a report outside the grid (but in the district) is registered and must be dispatched by hand
    case = report(client, as_role(SUPERVISOR), "event", street, west - 0.01, y, description="共享单车堆放占用盲道").json()
    assert case["cell_code"] is None and case["proposed_department"] is None
    client.post(f"/api/v1/grid/cases/{case['number']}/register", headers=headers, json={}).raise_for_status()
    assert_problem(client.post(f"/api/v1/grid/cases/{case['number']}/dispatch", headers=headers, json={}), 422, "validation-error")
    chosen = client.post(f"/api/v1/grid/cases/{case['number']}/dispatch", headers=headers, json={"department_code": "PD-LJZ"})
    assert chosen.status_code == 200 and chosen.json()["department"] == "PD-LJZ"


def test_gcj02_positions_are_converted(client, as_role, cell_point):
    code, lon, lat = cell_point("310115005", offset=2)
    g_lon, g_lat = geo.wgs84_to_gcj02(lon, lat)
    assert abs(float(g_lon) - lon) > 0.003  # the offset is hundreds of metres in Shanghai
    headers = as_role(CENTRE)
    found = client.get("/api/v1/grid/locate", headers=headers,
                       params={"lon": float(g_lon), "lat": float(g_lat), "crs": "gcj02"}).json()
    assert found["cell"] == code
    assert abs(found["lon"] - lon) < 1e-6 and abs(found["lat"] - lat) < 1e-6


def test_two_dispatchers_at_once_one_wins_and_nothing_is_lost(client, as_role, cell_point):
    from helpers import at_once

    supervisor, centre = as_role(SUPERVISOR), as_role(CENTRE)
    code = category_code(client, "event", "店外经营")
    _cell, lon, lat = cell_point("310115005", offset=11)
    number = report(client, supervisor, "event", code, lon, lat, description="沿街商铺在店外摆放货架经营").json()["number"]
    client.post(f"/api/v1/grid/cases/{number}/register", headers=centre, json={}).raise_for_status()
    answers = at_once(client, [
        lambda own: own.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={"department_code": "PD-CGZF"}),
        lambda own: own.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={"department_code": "PD-LJZ"}),
    ])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    after = client.get(f"/api/v1/grid/cases/{number}", headers=centre).json()
    assert after["department"] == winner["department"]
    assert [e["action"] for e in after["trail"]].count("dispatch") == 1
    assert [c["step"] for c in after["clocks"]].count("处置") == 1
