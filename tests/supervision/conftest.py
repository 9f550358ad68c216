"""Each supervision test module has a database of its own, with the demo government, and an app
on it that runs no background jobs: scans and applications on chosen dates stay out of the other
modules' way, and no scan on the real date interferes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from conftest import clone_demo_template
from fastapi.testclient import TestClient
from helpers import bearer

from tongban import demo
from tongban.app import create_app
from tongban.core import clock

UNEMPLOYMENT = "000112010000"  # 失业保险金申领: 人社局, committed 5 working days, applied for by citizens


@pytest.fixture(scope="module")
def own_database(demo_template, tmp_path_factory, request):
    db, cleanup = clone_demo_template(demo_template, tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    yield db
    if "engine" in db.__dict__:
        db.engine.dispose()
    cleanup()


@pytest.fixture(scope="module")
def quiet_app(own_database):
    return create_app(own_database.settings.model_copy(update={"relay_enabled": False}))


@pytest.fixture
def client(quiet_app):
    with TestClient(quiet_app) as test_client:
        yield test_client


@pytest.fixture
def db(quiet_app):
    session = quiet_app.state.sessionmaker()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def as_role(client):
    """``as_role(username)`` → that demo account's Authorization headers, signed in once per stretch
    of the platform's clock: a test that moves the clock by days signs in again, as a person would
    (a token lives minutes)."""
    tokens: dict[str, tuple[dict, datetime]] = {}

    def headers(username: str) -> dict:
        issued = tokens.get(username)
        if issued is None or abs(clock.now() - issued[1]) > timedelta(minutes=10):
            issued = tokens[username] = (bearer(client, username), clock.now())
        return issued[0]
    return headers


@pytest.fixture
def file_online(client, as_role):
    """``file_online()`` → the number of a new 失业保险金申领 the demo citizen filed online (complete, so
    it waits at the window)."""
    def file() -> str:
        citizen = as_role(demo.CITIZEN.username)
        form = client.get("/api/v1/applications/forms", params={"item": UNEMPLOYMENT}, headers=citizen).json()
        values = {f["key"]: f["value"] or "因单位裁员失业" for f in form["fields"]}
        materials = [m["name"] for m in form["materials"] if not m["exempt"]]
        created = client.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex},
                              json={"item": UNEMPLOYMENT, "form": values, "materials": materials})
        assert created.status_code == 201, created.text
        return created.json()["number"]
    return file
