"""Each supervision test module has a database of its own, with the demo government, and an app
on it that runs no background jobs: scans and applications on chosen dates stay out of the other
modules' way, and no scan on the real date interferes."""

from __future__ import annotations

import pytest
from conftest import create_database
from fastapi.testclient import TestClient
from helpers import bearer

from tongban import demo
from tongban.app import create_app
from tongban.core.database import session_scope


@pytest.fixture(scope="module")
def own_database(database, tmp_path_factory, request):
    db, cleanup = create_database(database.engine_name, tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    with session_scope(db.sessionmaker()) as session:
        demo.load(session, db.settings)
    yield db
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
    """``as_role(username)`` → that demo account's Authorization headers, signed in once."""
    tokens: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in tokens:
            tokens[username] = bearer(client, username)
        return tokens[username]
    return headers
