"""电子监察 on every engine, with a controlled clock (``today=`` given to every scan): a task crosses
yellow then red with the right people told, once per level; a paused clock does not warn and
resumes with its due date moved; the National Day week does not count; explanations are
recorded once; departments see only their own; bad input is refused in Chinese, changing nothing.

The module has a database of its own, and its app runs without the background jobs, so no scan
on the real date interferes and nothing here reaches the other modules' tests.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import pytest
from helpers import assert_problem
from sqlalchemy import select

from tongban import demo
from tongban.core import clock as wall
from tongban.notifications.models import Notification
from tongban.org import service as org
from tongban.supervision import clocks, service
from tongban.supervision.models import ClockKind, SupervisionClock, SupervisionWarning


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def who(as_role):
    return as_role


@pytest.fixture
def on_day(fixed_clock):
    """The platform's clock stands on a date; ``on_day(date)`` moves it."""
    fixed_clock.set(date(2026, 6, 1))
    return fixed_clock.set


def _apply_and_accept(api, who, file_online) -> str:
    number = file_online()
    accepted = api.post(f"/api/v1/applications/{number}/acceptance", headers=who("clerk"), json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    return number


def _task(api, who, number: str) -> dict:
    [task] = [t for t in api.get("/api/v1/tasks", headers=who("reviewer.rs")).json()["items"] if t["application"] == number]
    return task


def _clock(db, kind: ClockKind, subject) -> SupervisionClock:
    clock = clocks.find(db, kind, subject)
    assert clock is not None, (kind, subject)
    return clock


def _scan(db, day: date) -> service.ScanResult:
    # The scan runs on that day, at the real time of day: each scan its own moment, as in service.
    with wall.frozen(datetime.combine(day, wall.SystemClock().now().astimezone(wall.BEIJING).time(), wall.BEIJING)):
        result = service.scan(db, today=day)
    db.commit()
    db.expire_all()  # the scan writes with set-based statements, behind the session's objects
    # Each yellow told once (owner or department); each red three times (that, the head, the inspectors).
    assert result.yellow >= 0 and result.red >= 0 and result.notifications == result.yellow + 3 * result.red
    return result


def _warnings(db, clock_id: int) -> dict[str, SupervisionWarning]:
    return {w.level: w for w in db.scalars(select(SupervisionWarning).where(SupervisionWarning.clock_id == clock_id))}


def test_a_task_crosses_yellow_then_red_and_the_right_people_are_told_once(api, who, db, on_day, file_online):
    on_day(date(2026, 6, 1))  # a Monday
    number = _apply_and_accept(api, who, file_online)
    task = _task(api, who, number)
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", headers=who("reviewer.rs")).status_code == 200
    clock = _clock(db, ClockKind.TASK, task["id"])
    owner, title = str(clock.owner_account), clock.title
    assert clock.department.code == "PD-RS" and owner  # claimed: the reviewer owns it
    assert (clock.started_on, clock.limit_days, clock.due_on) == (date(2026, 6, 1), 5, date(2026, 6, 8))
    assert (clock.yellow_on, clock.red_on) == (date(2026, 6, 4), date(2026, 6, 9))  # 2 working days before; overdue
    # The case's own clocks: acceptance closed on time, the application's running.
    window = _clock(db, ClockKind.ACCEPTANCE, number)
    assert (window.status, window.outcome, window.on_time, window.used_days) == ("closed", "accepted", True, 0)
    assert _clock(db, ClockKind.APPLICATION, number).status == "open"
    clock_id = clock.id
    db.rollback()

    _scan(db, date(2026, 6, 3))
    assert _warnings(db, clock_id) == {}
    _scan(db, date(2026, 6, 4))
    _scan(db, date(2026, 6, 5))  # again: nothing twice
    yellow = _warnings(db, clock_id)
    assert list(yellow) == ["yellow"] and json.loads(yellow["yellow"].notified) == ["owner"]
    assert db.get(SupervisionClock, clock_id).level == "yellow"
    db.rollback()

    _scan(db, date(2026, 6, 8))  # the due day itself is not late
    assert list(_warnings(db, clock_id)) == ["yellow"]
    _scan(db, date(2026, 6, 9))
    _scan(db, date(2026, 6, 10))
    warned = _warnings(db, clock_id)
    assert set(warned) == {"yellow", "red"}
    assert json.loads(warned["red"].notified) == ["owner", "department_head", "inspectors"]
    assert db.get(SupervisionClock, clock_id).level == "red"

    rs, jcj = org.get_by_code(db, "PD-RS").id, org.get_by_code(db, "PD-JCJ").id
    # The owner is sent to the task; the head and the inspectors, who watch it, to the clock.
    work, watch = f"/staff/tasks/{task['id']}", f"/supervision/clocks/{clock_id}"
    told = {(n.kind, n.department_id, n.role, n.account_id, n.link) for n in db.scalars(
        select(Notification).where(Notification.link.in_((work, watch)), Notification.kind.like("supervision.%")))}
    db.rollback()
    assert told == {("supervision.yellow", rs, None, owner, work), ("supervision.red", rs, None, owner, work),
                    ("supervision.red", rs, "department_head", None, watch), ("supervision.red", jcj, "inspector", None, watch)}

    def titles(username: str) -> list[str]:
        return [n["title"] for n in api.get("/api/v1/notifications", headers=who(username)).json()
                if n["kind"].startswith("supervision.") and n["link"] in (work, watch)]

    assert sorted(titles("reviewer.rs")) == sorted([f"黄色预警：{title}", f"红色预警：{title}"])
    assert titles("steward.rs") == []  # the owner's notices are the owner's alone
    assert titles("head") == [f"红色预警：{title}"]
    assert titles("inspector") == [f"红色预警：{title}"]

    # Deciding late closes the clock as late, with the working days it used.
    on_day(date(2026, 6, 10))
    decided = api.post(f"/api/v1/tasks/{task['id']}/decision", headers=who("reviewer.rs"),
                       json={"decision": "approve", "opinion": "符合条件", "version": _task(api, who, number)["version"]})
    assert decided.status_code == 200, decided.text
    closed = _clock(db, ClockKind.TASK, task["id"])
    assert (closed.status, closed.outcome, closed.on_time, closed.used_days) == ("closed", "approve", False, 7)
    finished = _clock(db, ClockKind.APPLICATION, number)
    assert (finished.status, finished.outcome, finished.on_time) == ("closed", "approved", False)
    db.rollback()


def test_a_paused_clock_does_not_warn_and_resumes_with_its_due_date_moved(api, who, db, on_day, file_online):
    on_day(date(2026, 6, 1))
    number = _apply_and_accept(api, who, file_online)
    task = _task(api, who, number)
    on_day(date(2026, 6, 2))
    asked = api.post(f"/api/v1/tasks/{task['id']}/decision", headers=who("reviewer.rs"),
                     json={"decision": "supplement", "opinion": "请补充解除劳动合同证明", "version": task["version"]})
    assert asked.status_code == 200, asked.text
    paused = _clock(db, ClockKind.APPLICATION, number)
    assert (paused.status, paused.paused_since, paused.due_on) == ("paused", date(2026, 6, 2), date(2026, 6, 8))
    clock_id = paused.id
    # What the case reads (the clock is the only source of its deadline): it stands still while paused.
    deadline = service.deadline_of(db, ClockKind.APPLICATION, number)
    assert deadline is not None and (deadline.paused, deadline.paused_days, deadline.due_on) == (True, 0, date(2026, 6, 8))
    assert deadline.remaining_days == 4  # from the day it stopped (Tue) to Mon 8 June
    assert service.deadlines_of(db, ClockKind.APPLICATION, [number, "NO-SUCH-NUMBER"]) == {number: deadline}
    db.rollback()  # SQLite: a reading session holds the write lock until it ends
    shown = api.get(f"/api/v1/applications/{number}", headers=who(demo.CITIZEN.username)).json()
    assert (shown["paused"], shown["due_on"], shown["remaining_days"]) == (True, "2026-06-08", 4)

    _scan(db, date(2026, 6, 15))  # long past the old due date: a paused clock never warns
    assert _warnings(db, clock_id) == {}
    assert db.get(SupervisionClock, clock_id).level == "none"
    db.rollback()

    on_day(date(2026, 6, 5))  # the applicant answers on Friday: Wed, Thu, Fri paused
    supplied = api.post(f"/api/v1/applications/{number}/supplement", headers=who(demo.CITIZEN.username),
                        json={"note": "已补充", "materials": ["解除劳动合同证明"]})
    assert supplied.status_code == 200, supplied.text
    resumed = _clock(db, ClockKind.APPLICATION, number)
    assert (resumed.status, resumed.paused_days, resumed.pause_count) == ("open", 3, 1)
    assert resumed.due_on == date(2026, 6, 11) == date.fromisoformat(supplied.json()["due_on"])  # the case agrees
    assert (resumed.yellow_on, resumed.red_on) == (date(2026, 6, 9), date(2026, 6, 12))
    assert service.deadline_of(db, ClockKind.APPLICATION, number) == service.Deadline(
        started_on=date(2026, 6, 1), limit_days=resumed.limit_days, due_on=date(2026, 6, 11), paused=False,
        paused_since=None, paused_days=3, closed=False, remaining_days=4)
    assert supplied.json()["paused_days"] == 3 and supplied.json()["remaining_days"] == 4
    db.rollback()
    detail = api.get(f"/api/v1/supervision/clocks/{clock_id}", headers=who("inspector")).json()
    assert [e["action"] for e in detail["history"]] == ["started", "paused", "resumed"]


def test_public_holidays_do_not_count(db):
    department = org.get_by_code(db, "PD-MZ")
    subject = f"TEST-{uuid.uuid4().hex[:8]}"
    clock = clocks.start(db, kind=ClockKind.CONSULTATION, subject=subject, title="国庆前的咨询", department_id=department.id,
                         limit_days=3, started_on=date(2026, 9, 29))
    db.commit()
    # Sep 30, then the National Day week (Oct 1–7) is skipped: Oct 8, Oct 9.
    assert clock.due_on == date(2026, 10, 9) and not clock.provisional
    assert clock.red_on == date(2026, 10, 10)  # a make-up working Saturday, but a day after the due date all the same
    assert _scan(db, date(2026, 10, 7)).yellow >= 1  # eight calendar days on, two working days left: yellow, not red
    assert list(_warnings(db, clock.id)) == ["yellow"]
    _scan(db, date(2026, 10, 9))  # the due day
    assert list(_warnings(db, clock.id)) == ["yellow"]
    assert _scan(db, date(2026, 10, 10)).red >= 1
    assert set(_warnings(db, clock.id)) == {"yellow", "red"}
    # Starting the same subject again is the same clock.
    assert clocks.start(db, kind=ClockKind.CONSULTATION, subject=subject, title="x", department_id=department.id,
                        limit_days=9, started_on=date(2026, 10, 12)).id == clock.id
    db.rollback()


def _red_warning_in_rs(db) -> tuple[int, int]:
    """(warning id, clock id) of a new red warning of 人社局 that nobody owns."""
    department = org.get_by_code(db, "PD-RS")
    clock = clocks.start(db, kind=ClockKind.CORRECTION, subject=f"TEST-{uuid.uuid4().hex[:8]}", title="测试纠错处理",
                         department_id=department.id, limit_days=1, started_on=date(2026, 3, 2))
    db.commit()
    _scan(db, date(2026, 3, 4))
    found = _warnings(db, clock.id)["red"].id, clock.id
    db.rollback()  # SQLite: end the reading transaction before the next request
    return found


def test_a_warning_is_explained_once_by_the_owner_or_the_head(api, who, db):
    warning_id, _clock_id = _red_warning_in_rs(db)
    url = f"/api/v1/supervision/warnings/{warning_id}/acknowledgement"
    # Bad input and the wrong people change nothing.
    assert_problem(api.post(url, headers=who("head"), json={"explanation": ""}), 422, "validation-error")
    body = assert_problem(api.post(url, headers=who("head"), json={"explanation": "   "}), 422, "validation-error")
    assert body["errors"][0]["field"] == "body.explanation"
    assert_problem(api.post(url, headers=who("reviewer.ga"), json={"explanation": "不是我的"}), 403, "department-scope")
    assert_problem(api.post(url, headers=who("reviewer.rs"), json={"explanation": "不是我的"}), 403, "permission-denied")
    assert_problem(api.post(url, headers=who("inspector"), json={"explanation": "x"}), 403, "permission-denied")
    assert db.get(SupervisionWarning, warning_id).acknowledged_at is None
    db.rollback()

    done = api.post(url, headers=who("head"), json={"explanation": "  申请人材料核实需函询外区，  已督促办理 "})
    assert done.status_code == 200, done.text
    assert done.json()["explanation"] == "申请人材料核实需函询外区， 已督促办理"
    assert done.json()["acknowledged_by"] == "赵立新" and done.json()["acknowledged_at"]
    again = assert_problem(api.post(url, headers=who("head"), json={"explanation": "再说明一次"}), 409, "already-acknowledged")
    assert "赵立新" in again["detail"]
    assert db.get(SupervisionWarning, warning_id).explanation == "申请人材料核实需函询外区， 已督促办理"
    db.rollback()
    listed = api.get("/api/v1/supervision/warnings", headers=who("head"), params={"acknowledged": "true", "limit": 500}).json()
    assert warning_id in [w["id"] for w in listed["items"]]


def test_departments_see_their_own_clocks_and_inspectors_see_all(api, who, db):
    _warning_id, clock_id = _red_warning_in_rs(db)
    own = api.get("/api/v1/supervision/clocks", headers=who("reviewer.rs"), params={"limit": 500})
    assert own.status_code == 200
    assert own.json()["items"] and {c["department"] for c in own.json()["items"]} == {"PD-RS"}
    assert_problem(api.get("/api/v1/supervision/clocks", headers=who("reviewer.ga"), params={"department": "PD-RS"}),
                   403, "department-scope")
    assert_problem(api.get(f"/api/v1/supervision/clocks/{clock_id}", headers=who("reviewer.ga")),
                   403, "department-scope")
    assert_problem(api.get("/api/v1/supervision/warnings", headers=who("reviewer.ga"), params={"department": "PD-RS"}),
                   403, "department-scope")
    assert_problem(api.get("/api/v1/supervision/clocks", headers=who(demo.CITIZEN.username)), 403, "permission-denied")
    assert api.get("/api/v1/supervision/clocks/99999999", headers=who("inspector")).status_code == 404

    seen = api.get(f"/api/v1/supervision/clocks/{clock_id}", headers=who("inspector")).json()
    assert seen["level"] == "red" and [w["level"] for w in seen["warnings"]] == ["red"]
    assert [e["action"] for e in seen["history"]][-1] == "warned_red"
    red = api.get("/api/v1/supervision/clocks", headers=who("inspector"),
                  params={"department": "PD-RS", "level": "red", "limit": 2})
    assert red.status_code == 200 and all(c["level"] == "red" for c in red.json()["items"])
    if red.json()["next_cursor"]:  # the one pagination helper's cursor leads on
        more = api.get("/api/v1/supervision/clocks", headers=who("inspector"),
                       params={"department": "PD-RS", "level": "red", "cursor": red.json()["next_cursor"]})
        assert more.status_code == 200
    everyone = api.get("/api/v1/supervision/clocks", headers=who("admin"), params={"limit": 500}).json()["items"]
    assert len({c["department"] for c in everyone}) > 1  # the demo's clocks are in several departments
    assert_problem(api.get("/api/v1/supervision/clocks", headers=who("inspector"), params={"level": "orange"}),
                   422, "validation-error")


def test_warning_rules_are_read_and_changed_by_the_office_and_bad_changes_are_refused(api, who, db):
    rules = {r["kind"]: r for r in api.get("/api/v1/supervision/rules", headers=who("head")).json()}
    assert set(rules) >= {k.value for k in ClockKind}
    assert rules["task"]["yellow_days_before_due"] == 2 and rules["task"]["red_days_after_due"] == 0

    url = "/api/v1/supervision/rules/consultation"
    assert_problem(api.put("/api/v1/supervision/rules/lunch", headers=who("inspector"),
                           json={"yellow_days_before_due": 1}), 422, "validation-error")
    for bad in ({"yellow_days_before_due": -1}, {"yellow_days_before_due": 999}, {"yellow_days_before_due": "两天"},
                {"yellow_days_before_due": 1, "red_days_after_due": 31}, {"yellow_days_before_due": 1, "colour": "red"}):
        body = assert_problem(api.put(url, headers=who("inspector"), json=bad), 422, "validation-error")
        assert body["errors"]
    assert_problem(api.put(url, headers=who("head"), json={"yellow_days_before_due": 1}), 403, "permission-denied")
    assert_problem(api.post("/api/v1/supervision/scan", headers=who("reviewer.rs")), 403, "permission-denied")
    assert api.get("/api/v1/supervision/rules", headers=who("head")).json() == list(rules.values())

    department = org.get_by_code(db, "PD-MZ")
    clock = clocks.start(db, kind=ClockKind.CONSULTATION, subject=f"TEST-{uuid.uuid4().hex[:8]}", title="规则测试",
                         department_id=department.id, limit_days=10, started_on=date(2026, 6, 1))
    db.commit()
    assert (clock.due_on, clock.yellow_on) == (date(2026, 6, 15), date(2026, 6, 11))
    try:
        changed = api.put(url, headers=who("inspector"), json={"yellow_days_before_due": 5, "red_days_after_due": 1})
        assert changed.status_code == 200, changed.text
        assert changed.json()["updated_by"] == "孙正" and changed.json()["clocks_rescheduled"] >= 1
        db.refresh(clock)
        assert (clock.due_on, clock.yellow_on, clock.red_on) == (date(2026, 6, 15), date(2026, 6, 8), date(2026, 6, 17))
        db.rollback()
    finally:
        restored = api.put(url, headers=who("admin"), json={"yellow_days_before_due": 2, "red_days_after_due": 0})
        assert restored.status_code == 200
    scanned = api.post("/api/v1/supervision/scan", headers=who("inspector"))
    assert scanned.status_code == 200 and set(scanned.json()) == {"today", "yellow", "red", "notifications"}
