"""Statutory working days: the published 2025 and 2026 schedules, and provisional 2027."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import assert_problem, bearer

from tongban.core.workdays import WorkingCalendar


@pytest.fixture
def calendar(db) -> WorkingCalendar:
    return WorkingCalendar.load(db)


def test_2025_national_day_and_its_make_up_saturday(calendar):
    # 2025: 10-01..10-08 off (国庆 + 中秋); Sunday 09-28 and Saturday 10-11 are working days.
    start = date(2025, 9, 30)
    assert calendar.add_working_days(start, 1).due == date(2025, 10, 9)
    assert calendar.add_working_days(start, 2).due == date(2025, 10, 10)
    third = calendar.add_working_days(start, 3)
    assert third.due == date(2025, 10, 11)  # the make-up Saturday counts
    assert third.due.weekday() == 5 and not third.provisional
    assert calendar.add_working_days(start, 4).due == date(2025, 10, 13)  # Sunday 10-12 does not
    assert calendar.is_working_day(date(2025, 9, 28))  # make-up Sunday before the holiday
    assert calendar.add_working_days(date(2025, 9, 26), 1).due == date(2025, 9, 28)


def test_2026_national_day_and_its_make_up_saturday(calendar):
    # 2026: 10-01..10-07 off; Saturday 10-10 is a working day.
    assert calendar.add_working_days(date(2026, 9, 30), 1).due == date(2026, 10, 8)
    assert calendar.add_working_days(date(2026, 9, 30), 3).due == date(2026, 10, 10)
    assert not calendar.is_working_day(date(2026, 10, 7))
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_a_twenty_day_limit_across_the_2025_holiday(calendar):
    # Accepted Friday 2025-09-19: 20 working days, the holiday week skipped, two make-up days counted.
    assert calendar.add_working_days(date(2025, 9, 19), 20).due == date(2025, 10, 23)


def test_spring_festival_2026(calendar):
    # 2026 Spring Festival: 02-15..02-23 off, Saturday 02-14 and 02-28 working.
    assert calendar.add_working_days(date(2026, 2, 13), 1).due == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 14), 1).due == date(2026, 2, 24)


def test_2027_is_provisional(calendar):
    result = calendar.add_working_days(date(2026, 12, 28), 5)
    assert result.provisional and result.unknown_years == (2027,)
    assert "2027" in result.note and "暂定" in result.note
    assert not calendar.add_working_days(date(2026, 12, 1), 5).provisional


def test_2027_deadline_over_the_api_until_an_override_is_stored(fresh_database):
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    with TestClient(create_app(fresh_database.settings)) as client:
        query = {"start": "2027-09-29", "working_days": 3}
        before = client.get("/api/v1/calendar/deadline", params=query).json()
        assert before["provisional"] is True and before["unknown_years"] == [2027]
        # Weekends and the fixed-date 10-01..10-03 are guessed: 09-30, 10-04, 10-05.
        assert before["due"] == "2027-10-05"

        schedule = {
            "notice": "国务院办公厅关于2027年部分节假日安排的通知（演示）",
            "holidays": [{"day": f"2027-10-0{d}", "name": "国庆节"} for d in range(1, 8)],
            "workdays": [{"day": "2027-09-26", "name": "国庆节调休"}, {"day": "2027-10-09", "name": "国庆节调休"}],
        }
        # Only the e-government office may store a schedule.
        assert_problem(client.put("/api/v1/calendar/years/2027", json=schedule, headers=bearer(client, "clerk")),
                       403, "permission-denied")
        stored = client.put("/api/v1/calendar/years/2027", json=schedule, headers=bearer(client, "admin"))
        assert stored.status_code == 200, stored.text
        assert stored.json()["source"] == "published"

        after = client.get("/api/v1/calendar/deadline", params=query).json()
        assert after["provisional"] is False and after["note"] is None
        assert after["due"] == "2027-10-09"  # 09-30, 10-08, then the make-up Saturday 10-09
        # A deadline reaching into 2028 is still provisional.
        assert client.get("/api/v1/calendar/deadline", params={"start": "2027-12-20", "working_days": 15}).json()["provisional"]


def test_a_schedule_must_belong_to_its_year(client, as_role):
    body = {"notice": "错误的安排（测试）", "holidays": [{"day": "2028-01-01", "name": "元旦"}], "workdays": []}
    problem = assert_problem(client.put("/api/v1/calendar/years/2029", json=body, headers=as_role("admin")), 422,
                             "validation-error")
    assert "2028-01-01" in problem["detail"]


def test_deadline_rejects_bad_input(client):
    assert_problem(client.get("/api/v1/calendar/deadline", params={"start": "2025-02-30", "working_days": 3}), 422,
                   "validation-error")
    assert_problem(client.get("/api/v1/calendar/deadline", params={"start": "2025-02-03", "working_days": -1}), 422,
                   "validation-error")
