"""Fixtures of the request tests: a database of the module's own (the demo district loaded), an app
on it running no background jobs, the demo accounts' headers re-issued as the clock moves, and the
applicants' valid ID numbers."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import pypdf
import pytest
from conftest import create_database
from fastapi.testclient import TestClient
from helpers import bearer
from stdnum.cn import ric

from tongban import demo
from tongban.app import create_app
from tongban.core import clock
from tongban.core.db.session import session_scope
from tongban.core.idnumbers import new_credit_code

OFFICER, HEAD, OTHER_OFFICER = "gongkai.gh", "gongkai.gh.head", "gongkai.zj"  # 规划资源局 ×2, 住房保障局
GH, ZJ = "PD-GHZY", "PD-ZJ"


def resident_id(serial: int) -> str:
    """A valid resident ID of a person born in 浦东 (its code exists since 1993) on 1 January 1995 (+ serial days)."""
    body = f"310115{(datetime(1995, 1, 1) + timedelta(days=serial)):%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # (stdnum reads the first 17 characters)


def credit_code(seed: int) -> str:
    return new_credit_code("310115", random.Random(seed))


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages).replace("\n", "")


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
    """``as_role(username)`` → that demo account's headers, signed in again when the clock has moved."""
    tokens: dict[str, tuple[dict, datetime]] = {}

    def headers(username: str) -> dict:
        issued = tokens.get(username)
        if issued is None or abs(clock.now() - issued[1]) > timedelta(minutes=10):
            issued = tokens[username] = (bearer(client, username), clock.now())
        return issued[0]
    return headers


from web.conftest import browser, live_server  # noqa: E402,F401 (the browser test's real server and Chromium)
