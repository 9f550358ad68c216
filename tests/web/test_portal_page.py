"""The portal's deadline calculator and the staff calendar start from today in Beijing: between 16:00 and 24:00 UTC a
server on UTC is still on the previous day, and the form would offer yesterday."""

from __future__ import annotations

import re
from datetime import datetime, UTC

from tongban import demo

NEW_YEARS_EVE_UTC = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # already 1 January in Beijing


def test_the_deadline_form_starts_on_beijing_today(quiet_client, fixed_clock):
    fixed_clock.set(NEW_YEARS_EVE_UTC)
    page = quiet_client.get("/")
    assert page.status_code == 200
    assert 'id="start" name="start" type="date" value="2027-01-01"' in page.text


def test_the_calendar_page_opens_on_beijing_year(quiet_client, fixed_clock):
    fixed_clock.set(NEW_YEARS_EVE_UTC)
    form = quiet_client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed_in = quiet_client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD, "csrf_token": csrf},
                            follow_redirects=False)
    assert signed_in.status_code == 303
    assert "<h1>2027 年工作日历</h1>" in quiet_client.get("/staff/calendar").text
