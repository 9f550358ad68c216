"""Each policies test module has a database of its own (the demo district, its four policies
published and matched) and an app on it without background jobs: a test runs the rematch round
itself, as the loop would."""

from __future__ import annotations

import own_database as _own
import pytest

from tongban.core.db.engine import reading

own_database, quiet_app, client, as_role, signed_in = _own.own_database, _own.quiet_app, _own.client, _own.as_role, _own.signed_in
writer = _own.db  # a writing session (on SQLite it holds the write lock from its first statement)


@pytest.fixture
def db(quiet_app):
    """A session that only reads: each statement sees what is committed, and requests made
    between its reads never wait for it."""
    session = reading(quiet_app.state.sessionmaker)()
    yield session
    session.close()

DRAFTER, PUBLISHER, OTHER_DEPARTMENT = "reviewer.rs", "head", "reviewer"  # 人社局 (drafts), its head; 市场监管局
CITIZEN, ENTERPRISE = "310115199306151236", "91310115MA1FL0001N"
POLICIES = "/api/v1/policies"
