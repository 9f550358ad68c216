"""Evaluations on every engine: a month of work of two departments, built with the clocks' own
functions on chosen dates (March 2025: no public holiday inside it, 清明 just after it), every
figure checked against values worked out by hand below; computed again, the same figures and
still one row per department and period. Then the levels of publication: inspectors read the
internal details, a department head the department's summary, the portal the published public
summary; and the dashboard and its exports show the same figures.

The module has a database of its own (and an app without the background scans), so no other
work enters the figures, and its departments appear on no other module's dashboard.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from helpers import assert_problem, bearer
from sqlalchemy import func, select

from tongban import demo
from tongban.accounts import service as accounts
from tongban.cases.models import Application, ApplicationStatus, ProcessDefinitionRow
from tongban.core.permissions import Role
from tongban.org.models import Department
from tongban.supervision import clocks, evaluation
from tongban.core.audit import AuditEvent
from tongban.supervision.models import ClockKind, Evaluation, EvaluationVersion, ServiceRating, SupervisionWarning
from tongban.core import clock as wall

START, END = date(2025, 3, 1), date(2025, 3, 31)
D = date


@pytest.fixture(scope="module")
def month(quiet_app):
    """Two departments and their March 2025; returns their codes and the head of the second."""
    tag = uuid.uuid4().hex[:6].upper()
    db = quiet_app.state.sessionmaker()
    try:
        a = Department(code=f"EV-A-{tag}", name=f"评估测试甲局{tag}", short_name=f"甲局{tag}", level="district",
                       division_code="310115")
        b = Department(code=f"EV-B-{tag}", name=f"评估测试乙局{tag}", short_name=f"乙局{tag}", level="district",
                       division_code="310115")
        db.add_all([a, b])
        db.flush()
        head = f"head.ev{tag.lower()}"
        accounts.create_staff(db, quiet_app.state.settings, username=head, display_name="乙局负责人", password=demo.DEMO_PASSWORD,
                              department=b, roles=[Role.DEPARTMENT_HEAD])

        made = {}

        def start(kind, name, department, limit, on):
            made[name] = clocks.start(db, kind=kind, subject=f"{tag}-{name}", title=f"评估测试 {name}",
                                      department_id=department.id, limit_days=limit, started_on=on)

        def close(kind, name, on, outcome="approved"):
            return clocks.close(db, kind, f"{tag}-{name}", on=on, outcome=outcome)

        app_, task, share = ClockKind.APPLICATION, ClockKind.TASK, ClockKind.SHARING_REQUEST
        # 甲局
        start(app_, "A1", a, 5, D(2025, 3, 3)); close(app_, "A1", D(2025, 3, 7))  # due 3-10: on time, 4 days
        start(app_, "A2", a, 3, D(2025, 3, 3))  # due 3-6
        clocks.pause(db, app_, f"{tag}-A2", on=D(2025, 3, 4))
        clocks.resume(db, app_, f"{tag}-A2", on=D(2025, 3, 6))  # 2 days paused: due 3-10
        close(app_, "A2", D(2025, 3, 10), "refused")  # on time, 5 - 2 = 3 days
        start(app_, "A3", a, 2, D(2025, 3, 10)); close(app_, "A3", D(2025, 3, 14))  # due 3-12: late, 4 days
        start(task, "A4", a, 5, D(2025, 3, 17))  # due 3-24, still open: overdue at the end
        start(task, "A5", a, 10, D(2025, 3, 25))  # due 4-9 (清明 4-4), open, not overdue
        start(app_, "A6", a, 5, D(2025, 2, 24)); close(app_, "A6", D(2025, 3, 5))  # due 3-3: late, 7 days; started before
        start(ClockKind.ACCEPTANCE, "A7", a, 5, D(2025, 3, 20))
        clocks.cancel(db, ClockKind.ACCEPTANCE, f"{tag}-A7", on=D(2025, 3, 21))  # withdrawn: neither on time nor late
        start(app_, "A8", a, 5, D(2025, 3, 26)); close(app_, "A8", D(2025, 4, 2))  # closed after the period: open at its end
        start(share, "A9", a, 10, D(2025, 3, 3)); close(share, "A9", D(2025, 3, 14), "answered")  # due 3-17: on time, 9 days
        start(app_, "A10", a, 3, D(2025, 3, 24))  # due 3-27, paused 3-25 and still: time stopped before the due date
        clocks.pause(db, app_, f"{tag}-A10", on=D(2025, 3, 25))
        start(app_, "A11", a, 2, D(2025, 3, 17))  # due 3-19, paused 3-21 already overdue: overdue at the end
        clocks.pause(db, app_, f"{tag}-A11", on=D(2025, 3, 21))
        start(app_, "A0", a, 5, D(2025, 2, 3)); close(app_, "A0", D(2025, 2, 10))  # before the period: not counted
        # 乙局
        start(share, "B1", b, 10, D(2025, 3, 3)); close(share, "B1", D(2025, 3, 18), "answered")  # due 3-17: late, 11 days
        start(share, "B2", b, 10, D(2025, 3, 10)); close(share, "B2", D(2025, 3, 20), "answered")  # due 3-24: on time, 8
        start(app_, "B3", b, 5, D(2025, 3, 5))
        clocks.pause(db, app_, f"{tag}-B3", on=D(2025, 3, 6))
        clocks.resume(db, app_, f"{tag}-B3", on=D(2025, 3, 11))  # 3 days paused: due 3-17
        close(app_, "B3", D(2025, 3, 13))  # on time, 6 - 3 = 3 days
        start(app_, "B4", b, 1, D(2025, 3, 12)); close(app_, "B4", D(2025, 3, 13), "refused")  # on time, 1 day
        start(ClockKind.RECTIFICATION, "B5", b, 10, D(2025, 3, 27))  # due 4-11, open

        # Ratings, counted by the Beijing day they were given.
        definition = db.scalar(select(ProcessDefinitionRow.id).limit(1))
        rated = {"A1": (5, "2025-03-08T02:00:00"), "A2": (2, "2025-03-11T02:00:00"),
                 "A3": (1, "2025-03-31T15:30:00"),  # 23:30 on the 31st in Beijing: inside
                 "A6": (4, "2025-03-31T16:30:00"),  # 00:30 on April 1st in Beijing: outside
                 "B3": (4, "2025-02-28T16:10:00"),  # 00:10 on March 1st in Beijing: inside
                 "B4": (3, "2025-03-20T02:00:00")}
        for name, (score, moment) in rated.items():
            application = Application(
                number=f"EV-{tag}-{name}", subject_kind="item", subject_code="000112010000", name="评估测试办件",
                channel="online", applicant_type="自然人", applicant_id="310115199306151236", applicant_name="张伟",
                applicant_account=None, submitted_by="test", form="{}", materials="[]",
                status=ApplicationStatus.APPROVED, definition_id=definition, created_at=wall.now())
            db.add(application)
            db.flush()
            made[name].subject_ref = application.number  # the application's clock is named by its number
            db.add(ServiceRating(application_id=application.id, score=score, reasons="[]",
                                 rated_at=datetime.fromisoformat(moment).replace(tzinfo=UTC)))
        # Warnings as the scan leaves them (one per clock and level), by the day raised.
        for name, department, level, raised in [("A3", a, "yellow", D(2025, 3, 12)), ("A3", a, "red", D(2025, 3, 13)),
                                                ("A4", a, "yellow", D(2025, 3, 21)), ("A4", a, "red", D(2025, 3, 25)),
                                                ("A8", a, "yellow", D(2025, 4, 1)),  # after the period
                                                ("B1", b, "red", D(2025, 3, 18))]:
            clock = made[name]
            db.add(SupervisionWarning(clock_id=clock.id, level=level, kind=clock.kind, department_id=department.id,
                                      due_on=clock.due_on, raised_on=raised, raised_at=wall.now(), notified="[]"))
        db.commit()
        return {"a": a.code, "b": b.code, "a_id": a.id, "b_id": b.id, "head": head, "tag": tag}
    finally:
        db.close()


# Worked out by hand from the clocks above (rates to 4 places, averages to 2, half up).
EXPECTED_A = {
    "started": 10,  # A1–A5, A7–A11 (A6 and A0 started before March)
    "closed": 5, "on_time": 3, "closed_late": 2,  # A1 A2 A9 on time; A3 A6 late; A7 withdrawn, A8 after the period
    "on_time_rate": "0.6000",
    "used_days_total": 27, "avg_used_days": "5.40",  # 4 + 3 + 4 + 7 + 9
    "limit_days_total": 25, "avg_limit_days": "5.00",  # 5 + 3 + 2 + 5 + 10
    "open_at_end": 5, "open_overdue": 2, "overdue": 4,  # A4 A5 A8 A10 A11 open; A4 and A11 overdue
    "applications_closed": 4, "supplemented": 1, "supplement_rate": "0.2500", "refused": 1, "refusal_rate": "0.2500",
    "sharing_closed": 1, "sharing_on_time": 1, "sharing_timeliness": "1.0000",
    "ratings": 3, "satisfaction": "2.67", "poor_ratings": 2, "poor_share": "0.6667",  # 5, 2, 1
    "ratings_by_score": {"1": 1, "2": 1, "3": 0, "4": 0, "5": 1},
    "yellow_warnings": 2, "red_warnings": 2,
}
EXPECTED_A_KINDS = {
    "acceptance": {"started": 1, "closed": 0, "on_time": 0, "closed_late": 0, "open_at_end": 0, "open_overdue": 0,
                   "overdue": 0, "on_time_rate": None, "avg_used_days": None, "avg_limit_days": None,
                   "used_days_total": 0, "limit_days_total": 0},
    "application": {"started": 6, "closed": 4, "on_time": 2, "closed_late": 2, "open_at_end": 3, "open_overdue": 1,
                    "overdue": 3, "on_time_rate": "0.5000", "avg_used_days": "4.50", "avg_limit_days": "3.75",
                    "used_days_total": 18, "limit_days_total": 15},
    "sharing_request": {"started": 1, "closed": 1, "on_time": 1, "closed_late": 0, "open_at_end": 0, "open_overdue": 0,
                        "overdue": 0, "on_time_rate": "1.0000", "avg_used_days": "9.00", "avg_limit_days": "10.00",
                        "used_days_total": 9, "limit_days_total": 10},
    "task": {"started": 2, "closed": 0, "on_time": 0, "closed_late": 0, "open_at_end": 2, "open_overdue": 1,
             "overdue": 1, "on_time_rate": None, "avg_used_days": None, "avg_limit_days": None,
             "used_days_total": 0, "limit_days_total": 0},
}
EXPECTED_B = {
    "started": 5, "closed": 4, "on_time": 3, "closed_late": 1, "on_time_rate": "0.7500",
    "used_days_total": 23, "avg_used_days": "5.75",  # 11 + 8 + 3 + 1
    "limit_days_total": 26, "avg_limit_days": "6.50",  # 10 + 10 + 5 + 1
    "open_at_end": 1, "open_overdue": 0, "overdue": 1,
    "applications_closed": 2, "supplemented": 1, "supplement_rate": "0.5000", "refused": 1, "refusal_rate": "0.5000",
    "sharing_closed": 2, "sharing_on_time": 1, "sharing_timeliness": "0.5000",
    "ratings": 2, "satisfaction": "3.50", "poor_ratings": 0, "poor_share": "0.0000",
    "ratings_by_score": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 0},
    "yellow_warnings": 0, "red_warnings": 1,
}


def _rows(db, month) -> dict[int, Evaluation]:
    return {row.department_id: row for row in db.scalars(select(Evaluation).join(EvaluationVersion).where(
        EvaluationVersion.period_start == START, EvaluationVersion.period_end == END,
        Evaluation.department_id.in_([month["a_id"], month["b_id"]])))}


def test_every_figure_by_hand_and_again_after_a_rerun(db, month):
    first = evaluation.evaluate(db, period_start=START, period_end=END, computed_by="测试")
    db.commit()
    mine = {row.department_id: json.loads(row.figures) for row in first if row.department_id in (month["a_id"], month["b_id"])}
    a, b = mine[month["a_id"]], mine[month["b_id"]]
    assert {k: a[k] for k in EXPECTED_A} == EXPECTED_A
    assert a["by_kind"] == EXPECTED_A_KINDS
    assert {k: b[k] for k in EXPECTED_B} == EXPECTED_B
    assert set(b["by_kind"]) == {"application", "rectification", "sharing_request"}
    stored = _rows(db, month)
    texts = {d: row.figures for d, row in stored.items()}
    ids = {d: row.id for d, row in stored.items()}
    db.rollback()

    again = evaluation.evaluate(db, period_start=START, period_end=END, computed_by="测试（重新生成）")
    db.commit()
    assert {row.department_id: row.figures for row in again if row.department_id in texts} == texts  # the same text
    rerun = _rows(db, month)
    assert {d: row.id for d, row in rerun.items()} == ids  # the same figures: no new version, the same rows
    assert db.get(EvaluationVersion, rerun[month["a_id"]].version_id).computed_by == "测试（重新生成）"
    counts = db.execute(select(Evaluation.department_id, func.count()).join(EvaluationVersion).where(
        EvaluationVersion.period_start == START, EvaluationVersion.period_end == END)
        .group_by(Evaluation.department_id)).all()
    assert counts and all(count == 1 for _department, count in counts)
    db.rollback()


def test_levels_of_publication(client, db, month, as_role):
    inspector, head = as_role("inspector"), bearer(client, month["head"])
    period = {"period_start": str(START), "period_end": str(END)}
    # Computing is for inspectors and the e-government office; bad periods are refused in Chinese.
    assert_problem(client.post("/api/v1/supervision/evaluations", headers=head, json=period), 403, "permission-denied")
    body = assert_problem(client.post("/api/v1/supervision/evaluations", headers=inspector,
                                      json={"period_start": "2025-03-31", "period_end": "2025-03-01"}), 422, "validation-error")
    assert "结束日期" in body["detail"]
    assert_problem(client.post("/api/v1/supervision/evaluations", headers=inspector,
                               json={"period_start": "2025-03-01", "period_end": "2026-06-01"}), 422, "validation-error")
    computed = client.post("/api/v1/supervision/evaluations", headers=inspector, json=period)
    assert computed.status_code == 200, computed.text

    internal = {e["department"]: e for e in client.get("/api/v1/supervision/evaluations", headers=inspector,
                                                        params=period).json()}
    assert internal[month["a"]]["level"] == "internal" and internal[month["a"]]["figures"]["by_kind"] == EXPECTED_A_KINDS
    overdue = client.get(f"/api/v1/supervision/evaluations/{month['a']}/overdue", headers=inspector, params=period).json()
    assert sorted(c["subject"].rsplit("-", 1)[-1] for c in overdue["items"]) == ["A11", "A3", "A4", "A6"]

    # The head of 乙局 sees the department's summary, nothing of 甲局, and no internal details.
    summary = client.get("/api/v1/supervision/evaluations", headers=head, params=period).json()
    assert [e["department"] for e in summary] == [month["b"]]
    assert summary[0]["level"] == "department" and "by_kind" not in summary[0]["figures"]
    assert {k: summary[0]["figures"][k] for k in EXPECTED_B} == EXPECTED_B
    assert_problem(client.get(f"/api/v1/supervision/evaluations/{month['b']}/overdue", headers=head, params=period),
                   403, "permission-denied")

    # The portal shows nothing until published; then volumes, timeliness and satisfaction only.
    assert month["a"] not in {d["department"] for d in client.get("/api/v1/public/evaluations", params=period)
                              .json()["departments"]}
    assert client.post("/api/v1/supervision/evaluations/publication", headers=inspector, json=period).status_code == 200
    public = client.get("/api/v1/public/evaluations", params=period).json()
    shown = {d["department"]: d for d in public["departments"]}[month["a"]]
    assert shown == {"department": month["a"], "department_name": internal[month["a"]]["department_name"], "started": 10,
                     "closed": 5, "on_time_rate": "0.6000", "avg_used_days": "5.40", "avg_limit_days": "5.00",
                     "ratings": 3, "satisfaction": "2.67"}
    text = json.dumps(public, ensure_ascii=False)
    assert f"{month['tag']}-A" not in text and "张伟" not in text  # no case numbers, no subjects, no applicants
    page = client.get("/evaluations", params={"period": f"{START}/{END}"})
    assert page.status_code == 200 and "60.0%" in page.text and "评估公示" in page.text

    # Computed again over the same records: still published, the same figures.
    again = client.post("/api/v1/supervision/evaluations", headers=inspector, json=period).json()
    assert {e["department"]: (e["published"], e["figures"]) for e in again if e["department"] in internal} == \
        {code: (True, e["figures"]) for code, e in internal.items()}


def test_the_dashboard_and_its_exports_show_the_same_figures(client, month, as_role):
    import openpyxl
    from pypdf import PdfReader

    inspector = as_role("inspector")
    query = {"from": str(START), "to": str(END), "department": month["a"]}
    board = client.get("/api/v1/supervision/dashboard", headers=inspector, params=query).json()
    assert {k: board["totals"][k] for k in EXPECTED_A} == EXPECTED_A
    days = {d["day"]: (d["yellow"], d["red"]) for d in board["warnings_per_day"]}
    assert len(days) == 31 and days["2025-03-12"] == (1, 0) and days["2025-03-25"] == (0, 1)

    page = client.get("/supervision", headers=inspector, params=query)
    assert page.status_code == 200 and page.text.count('role="img"') == 5 and "60.0%" in page.text  # the five charts (not the bell's icon)

    workbook = client.get("/api/v1/supervision/dashboard/xlsx", headers=inspector, params=query)
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxml")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["部门汇总"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]]))
    assert row["部门代码"] == month["a"] and row["办结（件）"] == 5 and row["按时办结率"] == pytest.approx(0.6)
    assert row["平均用时（工作日）"] == pytest.approx(5.4) and row["红色预警"] == 2

    document = client.get("/api/v1/supervision/dashboard/pdf", headers=inspector, params=query)
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(document.content)).pages)
    assert "电子监察统计报表" in text and "60.0%" in text

    # A department head reads only the department's own board.
    head = bearer(client, month["head"])
    assert_problem(client.get("/api/v1/supervision/dashboard", headers=head, params=query), 403, "department-scope")
    own = client.get("/api/v1/supervision/dashboard", headers=head, params={"from": str(START), "to": str(END)}).json()
    assert own["department"] == month["b"] and [d["department"] for d in own["departments"]] == [month["b"]]
    assert "by_kind" not in own["totals"]
    assert_problem(client.get("/api/v1/supervision/dashboard", headers=as_role("reviewer"), params=query),
                   403, "permission-denied")
    assert_problem(client.get("/api/v1/supervision/dashboard", headers=inspector,
                              params={"from": "2025-03-31", "to": "2025-03-01"}), 422, "validation-error")


NOVEMBER = {"period_start": "2025-11-01", "period_end": "2025-11-30"}


def _public(client, department: str) -> tuple[int | None, dict | None]:
    body = client.get("/api/v1/public/evaluations", params=NOVEMBER).json()
    return body["version"], {d["department"]: d for d in body["departments"]}.get(department)


def test_a_late_change_is_a_new_version_and_the_portal_keeps_the_published_one(client, db, month, as_role):
    """The issue's November: an application entered after the month was published. Re-run, the
    figures that differ become version 2 beside the published version 1; the portal (API and page)
    shows version 1 until the inspector, shown what changed, publishes version 2."""
    tag = uuid.uuid4().hex[:6].upper()
    police = Department(code=f"EV-C-{tag}", name=f"评估测试公安分局{tag}", short_name=f"公安{tag}", level="district",
                        division_code="310115")
    db.add(police)
    db.flush()
    app_ = ClockKind.APPLICATION
    clocks.start(db, kind=app_, subject=f"{tag}-C1", title="评估测试 C1", department_id=police.id, limit_days=5,
                 started_on=D(2025, 11, 3))
    clocks.close(db, app_, f"{tag}-C1", on=D(2025, 11, 7), outcome="approved")  # due 11-10: on time
    clocks.start(db, kind=app_, subject=f"{tag}-C2", title="评估测试 C2", department_id=police.id, limit_days=20,
                 started_on=D(2025, 11, 10))  # due in December: open, not overdue
    # Plain values from here: reading an expired row after a commit would hold SQLite's write lock.
    code, name, police_id = police.code, police.name, police.id
    db.commit()
    inspector, head = as_role("inspector"), bearer(client, month["head"])

    first = client.post("/api/v1/supervision/evaluations", headers=inspector, json=NOVEMBER).json()
    assert {e["version"] for e in first} == {1}
    assert client.post("/api/v1/supervision/evaluations/publication", headers=inspector,
                       json={**NOVEMBER, "version": 1}).status_code == 200
    published_version, published = _public(client, code)
    assert published_version == 1 and published["started"] == 2 and published["closed"] == 1
    page = client.get("/evaluations", params={"period": "2025-11-01/2025-11-30"}).text
    assert f"<td>{name}</td><td>2</td>" in page

    # The late change: an application received on November 20th, entered after publication.
    clocks.start(db, kind=app_, subject=f"{tag}-C3", title="评估测试 C3", department_id=police_id, limit_days=20,
                 started_on=D(2025, 11, 20))
    db.commit()
    rerun = client.post("/api/v1/supervision/evaluations", headers=inspector, json=NOVEMBER).json()
    assert {(e["version"], e["published"]) for e in rerun} == {(2, False)}
    assert {e["department"]: e["figures"]["started"] for e in rerun}[code] == 3
    # The portal, API and page, still shows the published figures.
    assert _public(client, code) == (1, published)
    assert f"<td>{name}</td><td>2</td>" in client.get("/evaluations", params={"period": "2025-11-01/2025-11-30"}).text

    # The difference, named: department, figure, published value → new value; nothing else changed.
    changes = client.get("/api/v1/supervision/evaluations/changes", headers=inspector, params=NOVEMBER).json()
    assert (changes["published_version"], changes["version"]) == (1, 2)
    assert [(c["department"], c["figure_name"], c["before"], c["after"], c["public"]) for c in changes["changes"]] == [
        (code, "新收（件）", 2, 3, True),
        (code, "期末在办", 1, 2, False),
        (code, "办件办结 · 新收（件）", 2, 3, False),
        (code, "办件办结 · 期末在办", 1, 2, False),
    ]
    assert_problem(client.get("/api/v1/supervision/evaluations/changes", headers=head, params=NOVEMBER),
                   403, "permission-denied")  # the difference is internal
    inspector_page = client.get("/supervision/evaluations", headers=inspector, params=NOVEMBER).text
    assert "第 2 版与门户公示的第 1 版不同" in inspector_page and f"公安{tag}" in inspector_page
    assert "公布第 2 版，取代门户上的第 1 版" in inspector_page

    # Publishing the version the inspector checked only: a stale one is refused and changes nothing.
    assert_problem(client.post("/api/v1/supervision/evaluations/publication", headers=inspector,
                               json={**NOVEMBER, "version": 1}), 409, "stale-version")
    assert _public(client, code) == (1, published)
    # Run again over the same records: no version 3.
    assert {e["version"] for e in client.post("/api/v1/supervision/evaluations", headers=inspector,
                                               json=NOVEMBER).json()} == {2}

    assert client.post("/api/v1/supervision/evaluations/publication", headers=inspector,
                       json={**NOVEMBER, "version": 2}).status_code == 200
    version, shown = _public(client, code)
    assert version == 2 and shown == {**published, "started": 3}
    assert f"<td>{name}</td><td>3</td>" in client.get("/evaluations", params={"period": "2025-11-01/2025-11-30"}).text
    db.rollback()
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "supervision.publish",
                                                  AuditEvent.object_id == "2025-11-01/2025-11-30")
                         .order_by(AuditEvent.seq)).all()
    assert [json.loads(a.details) for a in audited] == [
        {"departments": len(first), "version": 1, "replaces": None, "changed_figures": 0},
        {"departments": len(first), "version": 2, "replaces": 1, "changed_figures": 4}]
    assert {a.actor_name for a in audited} == {audited[0].actor_name} and audited[0].outcome == "success"
    db.rollback()

    # The history: both versions kept, version 1's figures as published, each with what it changed.
    history = client.get("/api/v1/supervision/evaluations/versions", headers=inspector, params=NOVEMBER).json()
    assert [(v["number"], v["shown"], v["published_at"] is not None, len(v["changes"])) for v in history] == [
        (2, True, True, 4), (1, False, True, 0)]
    old = client.get("/api/v1/supervision/evaluations", headers=inspector, params={**NOVEMBER, "version": 1}).json()
    assert {e["department"]: e["figures"]["started"] for e in old}[code] == 2
    assert_problem(client.get("/api/v1/supervision/evaluations/versions", headers=head, params=NOVEMBER),
                   403, "permission-denied")


def test_the_difference_names_departments_that_come_and_go():
    """A department with work only in the new version, or only in the old, is a change too."""
    only_new = {"started": 1, "closed": 0, "on_time_rate": None, "by_kind": {"task": {"started": 1}}}
    changed = evaluation.diff({}, {7: only_new})
    assert [(c.department_id, c.figure, c.before, c.after) for c in changed] == [
        (7, "started", None, 1), (7, "closed", None, 0), (7, "by_kind.task.started", None, 1)]
    assert changed[0].before_text == "—" and changed[0].name == "新收（件）"
    gone = evaluation.diff({7: {**only_new, "on_time_rate": "0.5000"}}, {})
    assert [(c.figure, c.before_text, c.after_text) for c in gone][:3] == [
        ("started", "1", "—"), ("closed", "0", "—"), ("on_time_rate", "50.0%", "—")]
    assert evaluation.diff({7: only_new}, {7: dict(only_new)}) == []
