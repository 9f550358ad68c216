"""Limits in hours: an urgent category's clock runs round the clock and turns yellow when a quarter
of its limit is left and red the moment it passes; a limit in working hours stops outside office
hours and over the weekend. One clock mechanism: supervision's, with its scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tongban.core import clock
from tongban.supervision import service as supervision
from tongban.supervision.models import SupervisionClock

from .conftest import category_code
from .test_case_cycle import CENTRE, SUPERVISOR, report

BEIJING = clock.BEIJING


def handling_clock(db, number: str) -> SupervisionClock:
    found = db.scalars(select(SupervisionClock).where(SupervisionClock.kind == "grid_handle",
                                                      SupervisionClock.subject_ref.startswith(f"{number}/"))
                       .order_by(SupervisionClock.id.desc())).first()
    assert found is not None
    return found


def scan_level(db, number: str) -> str:
    supervision.scan(db)
    db.commit()
    level = handling_clock(db, number).level
    db.rollback()
    return level


def dispatched(client, as_role, cell_point, kind: str, name: str) -> str:
    code = category_code(client, kind, name)
    _cell, lon, lat = cell_point("310115004", offset=7)
    case = report(client, as_role(SUPERVISOR), kind, code, lon, lat, description="现场发现问题，需尽快处置").json()
    centre = as_role(CENTRE)
    client.post(f"/api/v1/grid/cases/{case['number']}/register", headers=centre, json={}).raise_for_status()
    client.post(f"/api/v1/grid/cases/{case['number']}/dispatch", headers=centre, json={}).raise_for_status()
    return case["number"]


def test_an_urgent_category_goes_yellow_and_red_by_the_hour(client, db, as_role, cell_point, fixed_clock):
    # Saturday night: a missing sewer cover (2 clock hours) does not wait for Monday.
    fixed_clock.set(datetime(2026, 12, 5, 22, 0, tzinfo=BEIJING))
    number = dispatched(client, as_role, cell_point, "component", "污水井盖")
    timed = handling_clock(db, number)
    assert timed.limit_hours == 2 and timed.hour_basis == "clock"
    assert clock.beijing(timed.due_at) == datetime(2026, 12, 6, 0, 0, tzinfo=BEIJING)
    db.rollback()
    detail = client.get(f"/api/v1/grid/cases/{number}", headers=as_role(CENTRE)).json()
    assert detail["expected_text"] == "2026-12-06 00:00"
    fixed_clock.set(datetime(2026, 12, 5, 23, 29, tzinfo=BEIJING))
    assert scan_level(db, number) == "none"  # 31 minutes left: more than a quarter of 2 hours
    fixed_clock.set(datetime(2026, 12, 5, 23, 31, tzinfo=BEIJING))
    assert scan_level(db, number) == "yellow"  # a quarter left
    fixed_clock.set(datetime(2026, 12, 6, 0, 0, tzinfo=BEIJING))
    assert scan_level(db, number) == "yellow"  # due now, not yet late
    fixed_clock.set(datetime(2026, 12, 6, 0, 0, 2, tzinfo=BEIJING))
    assert scan_level(db, number) == "red"
    # handled late: the clock closes late and the trail says so
    client.post(f"/api/v1/grid/cases/{number}/handle", headers=as_role("grid.jsjt"), data={"result": "已补装井盖"}).raise_for_status()
    closed = handling_clock(db, number)
    assert closed.status == "closed" and closed.on_time is False and closed.used_minutes == 120


def test_working_hours_stop_outside_office_hours(client, db, as_role, cell_point, fixed_clock):
    # Friday 16:00: four working hours (无照经营游商) are due on Monday at 12:00, not on Friday night.
    fixed_clock.set(datetime(2026, 12, 4, 16, 0, tzinfo=BEIJING))
    number = dispatched(client, as_role, cell_point, "event", "无照经营游商")
    timed = handling_clock(db, number)
    assert timed.hour_basis == "working"
    assert clock.beijing(timed.due_at) == datetime(2026, 12, 7, 12, 0, tzinfo=BEIJING)
    assert clock.beijing(timed.yellow_at) == datetime(2026, 12, 7, 11, 0, tzinfo=BEIJING)
    db.rollback()
    fixed_clock.set(datetime(2026, 12, 6, 20, 0, tzinfo=BEIJING))  # Sunday evening
    assert scan_level(db, number) == "none"
    fixed_clock.set(datetime(2026, 12, 7, 11, 5, tzinfo=BEIJING))
    assert scan_level(db, number) == "yellow"
    fixed_clock.set(datetime(2026, 12, 7, 13, 30, tzinfo=BEIJING))
    assert scan_level(db, number) == "red"
