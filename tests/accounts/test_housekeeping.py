"""Expired one-time codes, web sessions, revoked tokens and quiet throttles are purged by the
platform's one background loop (core.periodic), started with the app."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban.accounts.models import IdentityClaim
from tongban.core.sessions import RevokedToken, WebSession
from tongban.core.throttle import Throttle
from tongban.core import clock


def test_expired_rows_are_purged_and_live_ones_kept(app, db):
    from tongban.accounts import service

    now, tag = clock.now(), uuid.uuid4().hex[:12]
    hour, day = timedelta(hours=1), timedelta(days=1)
    db.add_all([
        IdentityClaim(purpose="register", resident_id=f"X{tag[:17]}", code_hash="old", attempts=0,
                      created_at=now - day, expires_at=now - hour),
        IdentityClaim(purpose="register", resident_id=f"Y{tag[:17]}", code_hash="live", attempts=0,
                      created_at=now, expires_at=now + hour),
        WebSession(id=f"old-{tag}", data="{}", created_at=now - day, expires_at=now - hour),
        WebSession(id=f"live-{tag}", data="{}", created_at=now, expires_at=now + hour),
        RevokedToken(jti=f"old-{tag}", expires_at=now - hour),
        RevokedToken(jti=f"live-{tag}", expires_at=now + hour),
        Throttle(key=f"old@{tag}", count=3, last_at=now - 2 * day, locked_until=None),
        Throttle(key=f"locked@{tag}", count=9, last_at=now - 2 * day, locked_until=now + hour),  # still locked
        Throttle(key=f"recent@{tag}", count=1, last_at=now - hour, locked_until=None),  # within its window
    ])
    db.commit()
    service.housekeeping_job(app.state.sessionmaker, app.state.settings)
    try:
        claims = select(IdentityClaim.code_hash).where(IdentityClaim.resident_id.like(f"_{tag[:17]}"))
        assert set(db.scalars(claims)) == {"live"}
        assert set(db.scalars(select(WebSession.id).where(WebSession.id.like(f"%-{tag}")))) == {f"live-{tag}"}
        assert set(db.scalars(select(RevokedToken.jti).where(RevokedToken.jti.like(f"%-{tag}")))) == {f"live-{tag}"}
        assert set(db.scalars(select(Throttle.key).where(Throttle.key.like(f"%@{tag}")))) == {f"locked@{tag}",
                                                                                            f"recent@{tag}"}
    finally:
        db.rollback()


def test_the_purge_runs_in_the_apps_background_loop(app, monkeypatch):
    from tongban.accounts import service

    ran = threading.Event()
    monkeypatch.setattr(service, "housekeeping_job", lambda sessionmaker, settings: ran.set())
    assert app.state.settings.relay_enabled
    with TestClient(app):
        assert ran.wait(timeout=60)  # a Periodic's first run is at start
