"""好差评 on every engine: only the applicant rates, only a finished application, once, with a score
and reasons from the list; bad input is refused in Chinese and changes nothing. A poor rating opens
a rectification for the department whose service it was, with a deadline in working days and a
clock of its own; its head records follow-ups and closes it, which closes the clock.

The module has a database of its own: its applications stay out of the other modules' counts.
"""

from __future__ import annotations

import pytest
from helpers import assert_problem, at_once
from sqlalchemy import func, select

from tongban import demo
from tongban.core.workdays import WorkingCalendar
from tongban.notifications.models import Notification
from tongban.supervision import clocks
from tongban.supervision.models import ClockKind, Rectification, ServiceRating
from tongban.core import clock as wall


def _finish(client, as_role, number: str, decision: str = "approve") -> None:
    accepted = client.post(f"/api/v1/applications/{number}/acceptance", headers=as_role("clerk"), json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    reviewer = as_role("reviewer.rs")
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    decided = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                          json={"decision": decision, "opinion": "经审查", "version": task["version"]})
    assert decided.status_code == 200, decided.text


@pytest.fixture
def finished(client, as_role, file_online):
    """A new application of the demo citizen, finished (approved)."""
    number = file_online()
    _finish(client, as_role, number)
    return number


def _ratings(db, number: str) -> int:
    from tongban.cases.models import Application

    count = db.scalar(select(func.count()).select_from(ServiceRating).join(Application, Application.id == ServiceRating.application_id)
                      .where(Application.number == number))
    db.rollback()
    return count


def test_only_the_applicant_rates_a_finished_application_once(client, as_role, db, file_online):
    citizen = as_role(demo.CITIZEN.username)
    number = file_online()
    url = f"/api/v1/applications/{number}/rating"
    body = assert_problem(client.post(url, headers=citizen, json={"score": 5}), 409, "not-finished")
    assert "尚未办结" in body["detail"]
    _finish(client, as_role, number)
    # Someone else: another applicant, a clerk (no rating permission at all), nobody signed in.
    assert_problem(client.post(url, headers=as_role(demo.ENTERPRISE.username), json={"score": 5}), 403, "permission-denied")
    assert_problem(client.post(url, headers=as_role("clerk"), json={"score": 5}), 403, "permission-denied")
    assert_problem(client.post(url, json={"score": 5}), 401, "not-authenticated")
    assert_problem(client.post("/api/v1/applications/BJ-19990101-NONE00/rating", headers=citizen, json={"score": 5}),
                   404, "not-found")
    # Bad input, each refused with the field named, in Chinese.
    for payload, field in [({"score": 0}, "body.score"), ({"score": 6}, "body.score"), ({"score": "很好"}, "body.score"),
                           ({}, "body.score"), ({"score": 4, "reasons": ["fast"]}, "body.reasons"),
                           ({"score": 1}, "body.reasons"),  # a poor rating says why
                           ({"score": 2, "reasons": ["efficient"]}, "body.reasons"),
                           ({"score": 5, "reasons": ["slow"]}, "body.reasons"),
                           ({"score": 5, "comment": "好" * 501}, "body.comment"),
                           ({"score": 5, "stars": 5}, "body.stars")]:
        problem = assert_problem(client.post(url, headers=citizen, json=payload), 422, "validation-error")
        assert field in [e["field"] for e in problem.get("errors", [])], (payload, problem)
    assert _ratings(db, number) == 0  # nothing changed

    rated = client.post(url, headers=citizen, json={"score": 4, "reasons": ["efficient", "efficient"], "comment": "  很快 "})
    assert rated.status_code == 201, rated.text
    assert rated.json() | {"rated_at": None} == {
        "application": number, "score": 4, "score_label": "满意", "reasons": [{"code": "efficient", "label": "高效便捷"}],
        "comment": "很快", "rated_at": None, "rectification": None}
    again = assert_problem(client.post(url, headers=citizen, json={"score": 1, "reasons": ["slow"]}), 409, "already-rated")
    assert "只能评价一次" in again["detail"] and "4 分" in again["detail"]
    assert _ratings(db, number) == 1
    page = client.get(f"/applications/{number}", headers=citizen)
    assert page.status_code == 200 and "我的评价" in page.text and "高效便捷" in page.text
    reasons = client.get("/api/v1/supervision/rating-reasons").json()
    assert {"code": "many_trips", "label": "多次跑腿"} in reasons["poor"] and len(reasons["good"]) == 3


def test_a_poor_rating_opens_a_supervised_rectification(client, as_role, db, finished, quiet_app):
    citizen, head, inspector = as_role(demo.CITIZEN.username), as_role("head"), as_role("inspector")
    rated = client.post(f"/api/v1/applications/{finished}/rating", headers=citizen,
                        json={"score": 2, "reasons": ["slow", "many_trips"], "comment": "跑了两趟才办完"})
    assert rated.status_code == 201, rated.text
    opened = rated.json()["rectification"]
    today = wall.today()
    days = quiet_app.state.settings.rectification_days
    assert opened["status"] == "open"
    assert opened["deadline"] == str(WorkingCalendar.load(db).add_working_days(today, days).due)
    row = db.get(Rectification, opened["id"])
    clock = clocks.find(db, ClockKind.RECTIFICATION, row.id)
    service_clock = clocks.find(db, ClockKind.APPLICATION, finished)
    assert row.clock_id == clock.id and row.department_id == service_clock.department_id
    assert (clock.status, clock.limit_days, clock.started_on, str(clock.due_on)) == ("open", days, today, opened["deadline"])
    assert clock.department.code == "PD-RS" and clock.link == f"/supervision/rectifications/{row.id}"
    assert "办事效率低、多次跑腿" in row.reason and "跑了两趟才办完" in row.reason
    told = db.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "supervision.rectification", Notification.role == "department_head",
        Notification.link == f"/supervision/rectifications/{row.id}"))
    assert told == 1
    rectification_id, clock_id, service_clock_id = row.id, clock.id, service_clock.id
    department_name = service_clock.department.name
    db.rollback()

    # Inspectors see all, the department's head the department's; a reviewer has no access.
    assert rectification_id in [r["id"] for r in client.get("/api/v1/supervision/rectifications", headers=inspector,
                                                           params={"status": "open", "limit": 500}).json()["items"]]
    assert client.get(f"/api/v1/supervision/rectifications/{rectification_id}", headers=head).json()["department"] == "PD-RS"
    assert_problem(client.get(f"/api/v1/supervision/rectifications/{rectification_id}", headers=as_role("reviewer.rs")),
                   403, "permission-denied")

    url = f"/api/v1/supervision/rectifications/{rectification_id}"
    assert_problem(client.post(f"{url}/follow-ups", headers=as_role("reviewer.rs"), json={"text": "不是负责人"}),
                   403, "permission-denied")
    assert_problem(client.post(f"{url}/follow-ups", headers=head, json={"text": "  "}), 422, "validation-error")
    assert_problem(client.post(f"{url}/closure", headers=inspector, json={"result": "监察人员不办理整改"}),
                   403, "permission-denied")
    followed = client.post(f"{url}/follow-ups", headers=head, json={"text": "已约谈经办人，优化材料告知"})
    assert followed.status_code == 201, followed.text
    assert [f["text"] for f in followed.json()["follow_ups"]] == ["已约谈经办人，优化材料告知"]
    assert_problem(client.post(f"{url}/closure", headers=head, json={"result": ""}), 422, "validation-error")
    closed = client.post(f"{url}/closure", headers=head, json={"result": "材料清单已细化并公布，已回访申请人"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["result"] == "材料清单已细化并公布，已回访申请人"
    assert_problem(client.post(f"{url}/closure", headers=head, json={"result": "再次"}), 409, "rectification-closed")
    assert_problem(client.post(f"{url}/follow-ups", headers=head, json={"text": "再次"}), 409, "rectification-closed")

    detail = client.get(f"/api/v1/supervision/clocks/{clock_id}", headers=inspector).json()
    assert (detail["status"], detail["outcome"], detail["on_time"]) == ("closed", "rectified", True)
    notes = client.get("/api/v1/notifications", headers=citizen).json()
    assert any(finished in n["title"] and "已整改" in n["title"] for n in notes)

    # The pages: the application's clock names the application and its rating; the rectification its department.
    page = client.get(f"/supervision/clocks/{service_clock_id}", headers=inspector)
    assert page.status_code == 200 and f'href="/applications/{finished}"' in page.text
    assert "办事效率低" in page.text and "不满意" in page.text
    page = client.get(f"/supervision/rectifications/{rectification_id}", headers=head)
    assert page.status_code == 200 and department_name in page.text and "材料清单已细化并公布" in page.text
    page = client.get("/supervision/rectifications", headers=inspector)
    assert page.status_code == 200 and f"/supervision/rectifications/{rectification_id}" in page.text
    page = client.get("/supervision/departments/PD-RS", headers=inspector, params={"overdue": "true"})
    assert page.status_code == 200


def test_two_ratings_of_one_application_at_once_one_wins(client, as_role, db, finished):
    citizen = as_role(demo.CITIZEN.username)
    rate = lambda own: own.post(f"/api/v1/applications/{finished}/rating", headers=citizen,  # noqa: E731
                                json={"score": 5, "reasons": ["efficient"]})
    results = at_once(client, [rate, rate, rate])
    assert sorted(r.status_code for r in results) == [201, 409, 409], [r.text for r in results]
    for loser in (r for r in results if r.status_code == 409):
        assert_problem(loser, 409, "already-rated")
    assert _ratings(db, finished) == 1
