"""Server-side web sessions: the cookie carries only an opaque id, the data lives in a table.

A signed cookie (Starlette's ``SessionMiddleware``) cannot be ended: whoever kept a copy could
use it until it expired. Here signing out deletes the row, and the cookie means nothing after.
The id is random; the table keeps only its SHA-256, so a copy of the table lets no one in.
``request.session`` stays a plain dict for the routes; the middleware loads it before the route
and saves it (only if it changed) before the response starts.

A row is made only when there is something to keep (a sign-in, a flash message, a pending
verification): an anonymous visitor's only state, the CSRF token of the forms, travels in a cookie
of its own (``tongban_csrf``, signed with the secret key) and comes back as ``session["csrf"]``, so
the one CSRF check (the posted token equals ``session["csrf"]``) serves both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

from sqlalchemy import ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from tongban.core.db.base import Base, UTCDateTime, affected, insert_for

from tongban.core import clock

COOKIE = "tongban_session"
CSRF_COOKIE = "tongban_csrf"
_CSRF = "csrf"
_ROTATE = "tongban.session_rotate"


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's value
    # The signed-in account (``user:<id>``), so that ending every session of an account is one statement.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RevokedToken(Base):
    """A bearer token ended before its expiry (RFC 7009 revocation, signing out with it): kept in
    the database, so every worker process refuses it, and only until the token would expire anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def revoke_token(db: Session, jti: str, expires_at: datetime) -> None:
    """Deny the token from now on (in the caller's transaction); revoking twice is no error."""
    db.execute(insert_for(db, RevokedToken).values(jti=jti[:64], expires_at=expires_at).on_conflict_do_nothing())


def purge_expired(db: Session, now: datetime) -> int:
    """Delete the sessions and deny-list entries that have run out (the housekeeping job; an
    expired session is refused anyway, and a revoked token past its expiry could not be used);
    how many rows went."""
    gone = affected(db, delete(WebSession).where(WebSession.expires_at < now))
    return gone + affected(db, delete(RevokedToken).where(RevokedToken.expires_at < now))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _csrf_signature(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf-cookie:{token}".encode(), hashlib.sha256).hexdigest()[:32]


def _signed_csrf(secret_key: str, token: str) -> str:
    return f"{token}.{_csrf_signature(secret_key, token)}"


def _csrf_from_cookie(secret_key: str, value: str | None) -> str | None:
    """The visitor's CSRF token if the cookie carries our signature: one planted from a sibling
    host, without the key, is ignored."""
    token, _, signature = (value or "").rpartition(".")
    if token and hmac.compare_digest(signature, _csrf_signature(secret_key, token)):
        return token
    return None


def _worth_a_row(data: dict) -> bool:
    return any(key != _CSRF for key in data)


def _user_id(data: dict) -> int | None:
    kind, _, raw = str(data.get("subject") or "").partition(":")
    return int(raw) if kind == "user" and raw.isdigit() else None


def rotate(request: Request) -> None:
    """Give the session a new id when its privileges change (sign-in): an id planted before
    (session fixation) is worth nothing after."""
    request.scope[_ROTATE] = True


def end_all_for_user(db: Session, user_id: int) -> int:
    """Delete every web session of an account (in the caller's transaction); how many there were."""
    return affected(db, delete(WebSession).where(WebSession.user_id == user_id))


class ServerSessionMiddleware:
    """Puts ``scope["session"]`` in place from the ``web_sessions`` row the cookie names."""

    def __init__(self, app, *, max_age_seconds: int, https_only: bool = False) -> None:
        self.app = app
        self.max_age = max_age_seconds
        self.https_only = https_only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        secret_key = state.settings.secret_key
        token = self._cookie(scope)
        loaded: dict = {}
        if token is not None:
            loaded = await run_in_threadpool(self._load, state.read_sessionmaker, token)
            if not loaded:
                token = None  # ended or expired: whatever the browser sent means nothing now
        cookie_csrf = _csrf_from_cookie(secret_key, self._cookie(scope, CSRF_COOKIE))
        if token is None and cookie_csrf:
            loaded = {_CSRF: cookie_csrf}
        scope["session"] = dict(loaded)
        sent_cookie = self._cookie(scope) is not None

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                data = scope["session"]
                rotate_now = scope.pop(_ROTATE, False)
                headers = MutableHeaders(scope=message)
                if data != loaded or (rotate_now and token is not None):
                    row_data = data if _worth_a_row(data) else {}
                    new_token = token
                    if row_data or token is not None:
                        new_token = await run_in_threadpool(self._save, state.sessionmaker, token, row_data,
                                                            rotate_now)
                    if new_token is None:
                        if sent_cookie:
                            headers.append("Set-Cookie", self._set_cookie(COOKIE, "", 0))
                    elif new_token != token:
                        headers.append("Set-Cookie", self._set_cookie(COOKIE, new_token, self.max_age))
                csrf = data.get(_CSRF)
                if csrf and not _worth_a_row(data) and csrf != cookie_csrf:
                    # Nothing else to keep: the token goes in its own cookie, not in a row.
                    headers.append("Set-Cookie", self._set_cookie(CSRF_COOKIE, _signed_csrf(secret_key, str(csrf)),
                                                                  self.max_age))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    @staticmethod
    def _cookie(scope, wanted: str = COOKIE) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a garbled cookie header is as good as none
                    return None
                if wanted in cookie and 20 <= len(cookie[wanted].value) <= 100:
                    return cookie[wanted].value
        return None

    def _set_cookie(self, name: str, value: str, max_age: int) -> str:
        parts = [f"{name}={value}", "path=/", f"Max-Age={max_age}", "httponly", "samesite=lax"]
        if self.https_only:
            parts.append("secure")
        return "; ".join(parts)

    @staticmethod
    def _load(sessionmaker, token: str) -> dict:
        with sessionmaker() as db:
            row = db.execute(select(WebSession.data, WebSession.expires_at)
                             .where(WebSession.id == _digest(token))).first()
            db.commit()
        if row is None or row.expires_at <= clock.now():
            return {}
        try:
            data = json.loads(row.data)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, sessionmaker, token: str | None, data: dict, rotate_now: bool) -> str | None:
        """Write the session; the cookie's new value (or the same), None when it is gone."""
        with sessionmaker() as db:
            if token is not None and (rotate_now or not data):
                db.execute(delete(WebSession).where(WebSession.id == _digest(token)))
                token = None
            if data:
                now = clock.now()
                if token is None:
                    token = secrets.token_urlsafe(32)
                    user_id = _user_id(data)
                    # A visitor's session (a flash message, a pending verification) lives an hour:
                    # rows made by callers that never come back do not pile up.
                    life = self.max_age if user_id is not None else min(self.max_age, 3600)
                    db.add(WebSession(id=_digest(token), user_id=user_id, data=json.dumps(data),
                                      created_at=now, expires_at=now + timedelta(seconds=life)))
                else:
                    row = db.get(WebSession, _digest(token))
                    if row is None:  # ended meanwhile (signed out elsewhere, revoked): stays ended
                        db.commit()
                        return None
                    row.data, row.user_id = json.dumps(data), _user_id(data)
            db.commit()
        return token
