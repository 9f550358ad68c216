"""Passwords (argon2), bearer tokens (signed JWT) and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, NamedTuple

import jwt
from fastapi import Form
from starlette.requests import Request
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from tongban.core.errors import Problem
from tongban.core import clock

TOKEN_ISSUER = "tongban"
_ALGORITHM = "HS256"


@lru_cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def hash_password(password: str, *, profile: str) -> str:
    return _hasher(profile).hash(password)


def verify_password(password_hash: str, password: str, *, profile: str) -> bool:
    try:
        return _hasher(profile).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_password_check(password: str, *, profile: str) -> None:
    """Spend the time of a real check so unknown accounts cannot be told apart by timing."""
    verify_password(_dummy_hash(profile), password, profile=profile)


@lru_cache
def _dummy_hash(profile: str) -> str:
    return hash_password(secrets.token_urlsafe(16), profile=profile)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    expires_at: datetime


def issue_token(*, subject: str, secret_key: str, ttl_minutes: int, now: datetime | None = None,
                generation: int = 0) -> IssuedToken:
    """``generation``: the account's credential generation; the token dies when it moves."""
    now = now or clock.now()
    expires_at = now + timedelta(minutes=ttl_minutes)
    claims = {
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    token = jwt.encode(claims, secret_key, algorithm=_ALGORITHM)
    return IssuedToken(token, ttl_minutes * 60, expires_at)


class TokenClaims(NamedTuple):
    subject: str
    generation: int  # the account's credential generation it was issued under (-1: none)
    jti: str  # its own id, by which it is revoked ("" for a token without one)
    expires: int  # Unix time


# Verified tokens, so a system calling many times a second is verified once per token: the
# signature of the same string cannot change, and the expiry is checked again on every use.
_VERIFIED: dict[tuple[str, str], TokenClaims] = {}
_VERIFIED_MAX = 10_000


def read_token(token: str, *, secret_key: str) -> TokenClaims:
    """The token's claims; raises a 401 Problem for an expired, forged or garbled token.
    (Whether the generation is still the account's, and whether the token was revoked, are the
    caller's questions: they change without the token changing.)"""
    known = _VERIFIED.get((secret_key, token))
    if known is not None:
        if clock.now().timestamp() < known.expires:
            return known
        _VERIFIED.pop((secret_key, token), None)
    claims = _verify(token, secret_key)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(secret_key, token)] = claims
    return claims


def _verify(token: str, secret_key: str) -> TokenClaims:
    # Times are checked against the platform's one clock, not the library's own reading of the
    # system time: a district replaying a day (or a test standing on one) must agree with itself.
    try:
        claims = jwt.decode(
            token, secret_key, algorithms=[_ALGORITHM], issuer=TOKEN_ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        if not isinstance(claims["exp"], int) or clock.now().timestamp() >= claims["exp"]:
            raise jwt.ExpiredSignatureError
    except jwt.ExpiredSignatureError:
        raise Problem("token-expired", "访问令牌已过期，请重新获取", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    except jwt.InvalidSignatureError:
        raise Problem("invalid-token", "访问令牌签名无效", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    except jwt.InvalidTokenError:
        raise Problem("invalid-token", "访问令牌格式错误或已被篡改", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    generation = claims.get("gen")
    # A token without a generation predates revocation: it is treated as revoked.
    return TokenClaims(str(claims["sub"]), generation if isinstance(generation, int) else -1,
                       str(claims.get("jti") or "")[:64], int(claims["exp"]))


# The CSRF token field of a page form (``csrf_token: Csrf = ""``), checked by ``check_csrf``.
Csrf = Annotated[str, Form(max_length=100)]


def check_csrf(request: Request, token: str | None) -> None:
    """A form post carries the session's CSRF token, or is refused (every page form, every domain)."""
    if not csrf_matches(request.session.get("csrf"), token):
        raise Problem("csrf-failed", "表单已失效（CSRF 校验未通过），请刷新页面后重试")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def new_one_time_code() -> str:
    """Six digits for an SMS: few enough to type, with the attempts per code kept to a handful."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_temporary_password() -> str:
    """What an administrator reads out to a staff member: 12 characters, none that look alike."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)
