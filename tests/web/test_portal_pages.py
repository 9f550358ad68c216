"""The portal and the calendar page count from today in Beijing time (core.workdays.today), not
the server's own clock zone: at 07:00 in Beijing a server on UTC is still on yesterday."""

from __future__ import annotations

from datetime import date

from helpers import bearer

from tongban.core import workdays


def test_the_deadline_calculator_starts_from_today_in_beijing(client, monkeypatch):
    monkeypatch.setattr(workdays, "today", lambda: date(2031, 3, 3))
    page = client.get("/")
    assert page.status_code == 200
    assert 'value="2031-03-03"' in page.text


def test_the_calendar_opens_on_this_year_in_beijing(client, monkeypatch):
    monkeypatch.setattr(workdays, "today", lambda: date(2031, 1, 1))
    page = client.get("/staff/calendar", headers=bearer(client, "admin"))
    assert page.status_code == 200, page.text
    assert "<h1>2031 年工作日历</h1>" in page.text
