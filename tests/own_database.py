"""Fixtures of a test package whose modules each need a database of their own (the demo loaded)
and an app on it that runs no background jobs: work on chosen dates stays out of the other
modules' way, and no scan on the real date interferes. A package's conftest imports them:
``from own_database import as_role, client, db, own_database, quiet_app  # noqa: F401``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import clone_demo_template
from fastapi.testclient import TestClient
from helpers import bearer, csrf_of

from tongban import demo
from tongban.app import create_app
from tongban.core import clock


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
def signed_in(quiet_app):
    """``signed_in(username)`` → a client of the pages with that demo account's session cookie."""
    opened = []

    def sign_in(username: str) -> TestClient:
        browser = TestClient(quiet_app)
        browser.__enter__()
        opened.append(browser)
        browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                     "csrf_token": csrf_of(browser.get("/login").text)}, follow_redirects=False)
        return browser
    yield sign_in
    for browser in opened:
        browser.__exit__(None, None, None)
