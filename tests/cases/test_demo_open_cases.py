"""The demo's open applications are real cases (issue 25, finding 12): each one still running on its
clock has the department task a real acceptance opens, in the queue of that department's demo
reviewer, who can open it and decide it; its overdue steps are counted on the reviewer's workbench
and listed by the queue's 已逾期 filter. On every engine, on a database of its own (a decision
would take the red case away from the tests that look at it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, bearer, csrf_of
from sqlalchemy import select

from tongban import demo
from tongban.app import create_app
from tongban.cases.models import Application, CaseTask, TaskStatus
from tongban.core.permissions import Role
from tongban.supervision.models import ClockKind, ClockStatus, SupervisionClock

REVIEWERS = {a.department_code: a.username for a in reversed(demo.STAFF) if a.role == Role.REVIEWER}


@pytest.fixture
def own_app(fresh_database) -> Iterator[TestClient]:
    # No background loops: the deadline scan would write the day's warnings meanwhile.
    app = create_app(fresh_database.settings.model_copy(update={"relay_enabled": False}))
    with TestClient(app) as client:
        yield client


def _signed_in(app, username: str) -> TestClient:
    browser = TestClient(app)
    response = browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                            "csrf_token": csrf_of(browser.get("/login").text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser


def _waiting(html: str, label: str) -> tuple[int, str]:
    found = re.search(r'<a href="([^"]+)"><strong>(\d+)</strong><span>' + re.escape(label) + "</span>", html)
    assert found, label
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def test_every_open_demo_case_waits_for_its_reviewer_who_decides_a_red_one(own_app, fresh_database):
    with fresh_database.sessionmaker()() as db:
        running = db.execute(
            select(Application.id, Application.number, SupervisionClock.level)
            .join(SupervisionClock, (SupervisionClock.kind == ClockKind.APPLICATION)
                  & (SupervisionClock.subject_ref == Application.number))
            .where(Application.idempotency_key.like(f"{demo.DEMO_MONTH_KEY}%"),
                   SupervisionClock.status == ClockStatus.OPEN)).all()
        open_tasks = {application_id: [(task.id, task.department.code) for task in db.scalars(
            select(CaseTask).where(CaseTask.application_id == application_id, CaseTask.department_id.is_not(None),
                                   CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED))))]
            for application_id, _number, _level in running}
        waiting_at_the_window = db.scalars(select(SupervisionClock.subject_ref).where(
            SupervisionClock.kind == ClockKind.ACCEPTANCE, SupervisionClock.status != ClockStatus.CLOSED,
            SupervisionClock.subject_ref.in_([number for _id, number, _level in running]))).all()
    assert running and any(level == "red" for _id, _number, level in running)  # the demo's overdue case
    assert not waiting_at_the_window  # accepted, so the window's clock stopped

    queues: dict[str, str] = {}
    for application_id, number, _level in running:
        assert open_tasks[application_id], f"{number} runs on its clock but no department can act on it"
        for task_id, department in open_tasks[application_id]:
            reviewer = REVIEWERS[department]  # every such department has its demo reviewer
            if reviewer not in queues:
                queues[reviewer] = own_app.get("/staff/tasks", headers=bearer(own_app, reviewer)).text
            assert f'href="/staff/tasks/{task_id}"' in queues[reviewer], (number, reviewer)

    # The red one: its reviewer sees it counted and listed as overdue, opens it and decides it.
    red_number = next(number for _id, number, level in running if level == "red")
    red_id = next(i for i, number, _level in running if number == red_number)
    [(task_id, department)] = open_tasks[red_id]
    reviewer = _signed_in(own_app.app, REVIEWERS[department])
    count, href = _waiting(reviewer.get("/staff").text, "已逾期的待办")
    assert href == "/staff/tasks?due=overdue" and count >= 1
    listed = reviewer.get(href).text
    assert len(re.findall(r'<a href="/staff/tasks/\d+">', listed)) == count
    assert f'href="/staff/tasks/{task_id}"' in listed and "逾期" in listed and "个工作日" in listed
    api = own_app.get("/api/v1/tasks", params={"due": "overdue"}, headers=bearer(own_app, REVIEWERS[department])).json()
    assert sorted(re.findall(r'<a href="/staff/tasks/(\d+)">', listed)) == sorted(str(t["id"]) for t in api["items"])
    assert_problem(own_app.get("/api/v1/tasks", params={"due": "late"}, headers=bearer(own_app, REVIEWERS[department])),
                   422, "validation-error")
    assert reviewer.get("/staff/tasks?due=late").status_code == 422
    page = reviewer.get(f"/staff/tasks/{task_id}")
    assert page.status_code == 200 and red_number in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    decided = reviewer.post(f"/staff/tasks/{task_id}", data={"decision": "approve", "opinion": "材料齐全，同意（已逾期，优先办理）。",
                                                             "version": version, "csrf_token": csrf_of(page.text)},
                            follow_redirects=False)
    assert decided.status_code == 303, decided.text
    case = reviewer.get(f"/applications/{red_number}").text
    assert "已办结（准予）" in case
    assert _waiting(reviewer.get("/staff").text, "已逾期的待办")[0] == count - 1
    assert f'href="/staff/tasks/{task_id}"' not in reviewer.get(href).text
    reviewer.close()

    # The inspectors, told of the red step, are sent to its clock (the task is its reviewers' page).
    inspector = _signed_in(own_app.app, "inspector")
    told = re.findall(r'href="(/[^"]+)"[^>]*>[^<]*红色预警：「[^」]+」（办件 ' + re.escape(red_number),
                      inspector.get("/notifications").text)
    assert told and all(link.startswith("/supervision/clocks/") for link in told), told
    assert inspector.get(told[0]).status_code == 200
    inspector.close()

