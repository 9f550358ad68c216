"""办件进度查询 without signing in: the number and the applicant's ID together open an application's
progress, on the page and in the API; a mismatch says nothing about which half was wrong, and an
address that keeps guessing waits (429) while others are not affected."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from helpers import assert_problem, bearer, csrf_of
from tongban import demo
from tongban.app import create_app
from tongban.cases.progress import MAX_FAILURES
from tongban.core.throttle import Throttle


def _own_application(client) -> str:
    return client.get("/api/v1/applications/mine", headers=bearer(client, demo.CITIZEN.username)).json()["items"][0]["number"]


@pytest.fixture
def guessed(fresh_database):
    """A client of its own database: the guesses it counts lock nobody else's tests out."""
    with TestClient(create_app(fresh_database.settings)) as client:
        yield client


def test_the_page_shows_progress_for_the_number_and_the_applicants_id(client, db):
    number = _own_application(client)
    page = client.get("/progress")
    assert page.status_code == 200 and "办件编号" in page.text and "申请人证件号码" in page.text
    forged = client.post("/progress", data={"number": number, "applicant_id": demo.CITIZEN.username})
    assert forged.status_code == 403 and "CSRF" in forged.text and 'id="progress-result"' not in forged.text
    shown = client.post("/progress", data={"number": number.lower(), "applicant_id": demo.CITIZEN.username,
                                           "csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200 and 'id="progress-result"' in shown.text and number in shown.text
    assert "办理过程（北京时间）" in shown.text and demo.CITIZEN.username not in shown.text  # the ID is not echoed back
    wrong = client.post("/progress", data={"number": number, "applicant_id": "310115199001011234",
                                           "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 404 and "办件编号与申请人证件号码不匹配" in wrong.text and 'id="progress-result"' not in wrong.text
    db.execute(delete(Throttle).where(Throttle.key.like("progress@%")))  # the shared database's address starts afresh
    db.commit()


def test_an_address_that_keeps_guessing_waits_and_the_api_says_so(guessed):
    number = _own_application(guessed)
    for n in range(MAX_FAILURES):
        assert_problem(guessed.get(f"/api/v1/applications/{number}/status", params={"applicant_id": f"31011519900101{n:04d}"}),
                       404, "not-found")
    locked = guessed.get(f"/api/v1/applications/{number}/status", params={"applicant_id": demo.CITIZEN.username})
    assert_problem(locked, 429, "too-many-attempts")  # even the right pair waits: guesses cannot be told apart
    assert int(locked.headers["Retry-After"]) > 0
    page = guessed.get("/progress")
    refused = guessed.post("/progress", data={"number": number, "applicant_id": demo.CITIZEN.username,
                                              "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 429 and "查询失败次数过多" in refused.text


def test_a_consultation_number_opens_its_answer(client):
    asked = client.post("/api/v1/consultations", json={"question": "夜间可以施工吗？", "item": "000115010000"})
    assert asked.status_code == 201, asked.text
    number = asked.json()["number"]
    opened = client.get("/consultations", params={"number": number.lower()}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/consultations/{number}"
    assert client.get("/consultations", follow_redirects=False).headers["location"] == "/services"
    assert 'action="/consultations"' in client.get("/services").text and 'href="/progress"' in client.get("/").text
