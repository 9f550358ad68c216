"""热线分析: tickets seeded over twelve Beijing weeks through the tickets API (the clock moved to
each call; weeks of 2025, before the demo's ten weeks of calls, which end in the real week), then the counts by category, street and week, the rising rule, repeat callers (masked),
repeat places, the departments' hotline figures, bad input and who may read it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, bearer

import own_database as _own

from tongban.core import clock
from tongban.core.clock import BEIJING
from tongban.hotline import analysis

own_database, quiet_app, client, db, signed_in = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.signed_in
URL = "/api/v1/hotline/analysis"
TICKETS = "/api/v1/hotline/tickets"
PERIOD = {"start": "2025-09-08", "end": "2025-11-30"}
NOW = datetime(2025, 12, 1, 10, 0, tzinfo=BEIJING)  # a Monday: the latest complete week is 11-24 … 11-30
REPEATER = "13900001111"
BASELINE = [date(2025, 10, 28), date(2025, 11, 4), date(2025, 11, 11), date(2025, 11, 18)]  # Tuesdays
LATEST = date(2025, 11, 25)
OUTSIDE_POINT = (121.4402, 30.8605)  # inside the district's extent, south-west of the demo grid


class Seeded:
    def __init__(self) -> None:
        self.cell = ""
        self.cell_street = ""
        self.repeater_last = ""
        self.outside_grid = False


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def seeded(quiet_app) -> Seeded:
    """25 tickets in the period (and one the evening before it), created as the calls came."""
    from shapely.geometry import shape
    import json

    from sqlalchemy import select

    from tongban.grid import service as grid
    from tongban.grid.models import GridCell

    seed = Seeded()
    session = quiet_app.state.sessionmaker()
    cell = session.scalars(select(GridCell).where(GridCell.current.is_(True), GridCell.area_m2 > 8000)
                           .order_by(GridCell.code).limit(1)).one()
    seed.cell, seed.cell_street = cell.code, cell.street
    point = shape(json.loads(cell.geometry)).representative_point()
    seed.outside_grid = grid.locate(session, *OUTSIDE_POINT) is None
    session.rollback()
    session.close()
    lon, lat = round(point.x, 7), round(point.y, 7)
    counter = iter(range(1000))
    stopped = clock.FixedClock(NOW)
    clock.set_clock(stopped)
    try:
        with TestClient(quiet_app) as test_client:
            tokens: dict[str, tuple[dict, datetime]] = {}

            def headers(user: str) -> dict:
                issued = tokens.get(user)
                if issued is None or abs(clock.now() - issued[1]) > timedelta(minutes=10):
                    issued = tokens[user] = (bearer(test_client, user), clock.now())
                return issued[0]

            def call(moment: datetime, category: str, outcome: str, phone: str | None = None, **extra) -> dict:
                stopped.set(moment)
                body = {"caller_phone": phone or f"1370000{next(counter):04d}", "said": f"来电反映情况第 {next(counter)} 次",
                        "summary": "来电摘要", "category": category, "outcome": outcome, **extra}
                if outcome == "answered":
                    body["knowledge_text"] = "已按政策口径答复来电人"
                response = test_client.post(TICKETS, json=body, headers=headers("hotline"))
                assert response.status_code == 201, response.text
                return response.json()

            # the evening before the period (Beijing), and its first minutes
            call(datetime(2025, 9, 7, 23, 30, tzinfo=BEIJING), "H-SC01", "transferred")
            call(datetime(2025, 9, 8, 0, 10, tzinfo=BEIJING), "H-SC01", "transferred")
            for i in range(3):  # one place outside the grid: three calls within a few metres
                call(_at(date(2025, 9, 16), 10, i), "H-SC01", "transferred", lon=OUTSIDE_POINT[0] + i * 0.0001,
                     lat=OUTSIDE_POINT[1])
            for day in BASELINE:  # 欠薪 once a week, 政务咨询 twice
                call(_at(day, 9), "H-RS01", "dispatched")
                call(_at(day, 10), "H-ZW01", "answered")
                call(_at(day, 11), "H-ZW01", "answered", phone=REPEATER if day != BASELINE[0] else None)
            rising = [call(_at(LATEST, 9, i), "H-RS01", "dispatched", lon=lon if i < 3 else None, lat=lat if i < 3 else None)
                      for i in range(6)]
            for i in range(3):
                last = call(_at(LATEST, 14, i), "H-ZW01", "answered", phone=REPEATER if i == 0 else None)
                if i == 0:
                    seed.repeater_last = last["number"]
            # the department answers two of the rising week's tickets; the follow-ups grade them
            stopped.set(_at(date(2025, 11, 26), 10))
            department, centre = headers("reviewer.rs"), headers("hotline")
            for ticket, grade, solved in ((rising[4], "satisfied", True), (rising[5], "very_dissatisfied", False)):
                number = ticket["number"]
                signed = test_client.post(f"{TICKETS}/{number}/sign", json={"version": ticket["version"]}, headers=department).json()
                replied = test_client.post(f"{TICKETS}/{number}/reply", json={"version": signed["version"], "reply": "已约谈企业"},
                                           headers=department).json()
                assert replied["status"] == "handled", replied
                done = test_client.post(f"{TICKETS}/{number}/follow-up", headers=centre,
                                        json={"version": replied["version"], "satisfaction": grade, "solved": solved})
                assert done.status_code == 200, done.text
    finally:
        clock.set_clock(None)
    return seed


@pytest.fixture
def now(fixed_clock):
    fixed_clock.set(NOW)
    return fixed_clock



def read(client, user: str, **params):
    return client.get(URL, params=params or PERIOD, headers=bearer(client, user))


def test_counts_by_category_street_and_beijing_week(client, seeded, now):
    found = read(client, "hotline")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 25  # the call at 23:30 the evening before the period is not in it
    assert [(c["category"], c["count"]) for c in body["categories"]] == [("H-ZW01", 11), ("H-RS01", 10), ("H-SC01", 4)]
    assert body["categories"][0]["share"] == 0.44 and body["categories"][0]["name"]
    weeks = body["weeks"]
    assert len(weeks) == 12 and weeks[0]["week_start"] == "2025-09-08" and weeks[-1]["week_end"] == "2025-11-30"
    assert [w["total"] for w in weeks][:2] == [1, 3] and weeks[-1]["total"] == 9
    assert weeks[-1]["by_category"]["H-RS01"] == 6 and weeks[-2]["by_category"] == {"H-ZW01": 2, "H-RS01": 1, "H-SC01": 0}
    streets = {s["name"]: s["count"] for s in body["streets"]}
    assert streets[seeded.cell_street] == 3 and streets[analysis.OUTSIDE] == 22


def test_a_category_well_above_its_four_weeks_average_is_rising(client, seeded, now):
    body = read(client, "hotline").json()
    assert body["latest_complete_week"] == "2025-11-24"
    assert [(t["category"], t["latest"], t["baseline_average"], t["ratio"]) for t in body["rising"]] == [("H-RS01", 6, 1.0, 6.0)]
    assert any("2 倍" in rule and "5 件" in rule for rule in body["rules"])  # the rule, in words, beside the figures


def test_repeat_callers_are_shown_masked_with_their_last_ticket(client, seeded, now):
    found = read(client, "inspector")
    assert found.status_code == 200, found.text
    callers = found.json()["repeat_callers"]
    assert len(callers) == 1
    caller = callers[0]
    assert caller["caller_phone"] == "139****1111" and caller["count"] == 4
    assert sum(caller["categories"].values()) == 4 and caller["last_number"] == seeded.repeater_last
    assert REPEATER not in found.text


def test_repeat_places_in_a_cell_and_within_fifty_metres_outside_the_grid(client, seeded, now):
    places = read(client, "hotline").json()["repeat_places"]
    in_cell = [p for p in places if p["cell_code"] == seeded.cell]
    assert len(in_cell) == 1 and in_cell[0]["tickets"] == 3 and in_cell[0]["count"] >= 3
    assert in_cell[0]["street"] == seeded.cell_street and all(c["link"].startswith(("/hotline/tickets/", "/grid/cases/"))
                                                              for c in in_cell[0]["latest"])
    assert seeded.outside_grid, "the point chosen outside the grid is in a demo cell"
    nearby = [p for p in places if p["kind"] == "nearby"]
    assert len(nearby) == 1 and nearby[0]["count"] == 3 and list(nearby[0]["categories"].values()) == [3]


def test_the_departments_hotline_figures_for_the_grids_evaluation(client, seeded, now):
    departments = {d["department"]: d for d in read(client, "hotline").json()["departments"]}
    rs = departments["PD-RS"]
    assert rs["dispatched"] == 11  # ten calls dispatched, one reopened after an unsolved follow-up
    assert (rs["returned"], rs["handled"], rs["handled_on_time"], rs["on_time_rate"]) == (0, 2, 2, 1.0)
    assert (rs["followed_up"], rs["solved"], rs["satisfaction_average"]) == (2, 1, 2.5)


def test_the_default_period_is_the_last_twelve_beijing_weeks(client, seeded, now):
    body = client.get(URL, headers=bearer(client, "hotline")).json()
    assert (body["start"], body["end"]) == ("2025-09-15", "2025-12-07") and len(body["weeks"]) == 12
    assert body["total"] == 24  # the week of 09-07 (one call) is no longer in it


@pytest.mark.parametrize("params", [
    {"start": "2026-11-01", "end": "2026-10-01"},  # the end before the start
    {"start": "2024-01-01", "end": "2026-01-02"},  # more than two years
    {"start": "2026-13-01"},
    {"end": "yesterday"},
    {"start": "2026-1-5"},
])
def test_bad_periods_are_refused_in_chinese(client, seeded, now, params):
    body = assert_problem(client.get(URL, params=params, headers=bearer(client, "hotline")), 422, "validation-error")
    assert body["errors"][0]["field"] in ("query.start", "query.end")


def test_a_department_handler_may_not_read_the_analysis(client, seeded, now):
    for user in ("reviewer.rs", "grid.lhsr"):
        assert_problem(read(client, user), 403, "permission-denied")


def test_the_page_draws_each_chart_with_its_table(signed_in, seeded, now):
    centre, inspector_browser = signed_in("hotline"), signed_in("inspector")
    page = centre.get("/hotline/analysis", params=PERIOD)
    assert page.status_code == 200, page.text
    text = page.text
    for part in ("热线分析", "热点分类", "按街道", "按周走势", "上升话题", "重复来电", "重复地点", "承办部门的热线指标",
                 'id="chart-categories"', 'id="chart-weeks"', 'class="table-wrap"', "139****1111", "6.0 倍"):
        assert part in text, part
    assert REPEATER not in text and f'href="/hotline/tickets/{seeded.repeater_last}"' in text
    inspector = inspector_browser.get("/hotline/analysis", params=PERIOD)
    assert inspector.status_code == 200 and seeded.repeater_last in inspector.text
    assert 'href="/hotline/tickets/' not in inspector.text  # an inspector reads the figures, not the tickets
    bad = centre.get("/hotline/analysis", params={"start": "2026-11-01", "end": "2026-10-01"})
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.text and "热线分析" in bad.text
    workbench = inspector_browser.get("/staff")
    assert 'href="/hotline/analysis"' in workbench.text
