"""Idempotency keys: a retry of the same request gets the first answer; the same key with another
request is refused, so a client that reuses keys by mistake learns of it instead of silently
receiving the result of a different request."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request

from tongban.core.errors import Problem


def request_hash(request: Request, body: Any) -> str:
    """SHA-256 of the method, the route (its template), the values of its path parameters and the
    body as parsed, in a canonical form: a retry sending the same fields in another order still
    matches; the same form sent to another path (``/apply/{code}``) does not."""
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    canonical = json.dumps([request.method, route, dict(request.path_params), body], ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_replay(stored_hash: str | None, current_hash: str | None, key: str) -> None:
    """Raise ``idempotency-key-reused`` when a stored request under ``key`` differs from this one.
    A request stored before hashes were kept (``None``) is taken as the same, as it was then."""
    if stored_hash is not None and current_hash is not None and stored_hash != current_hash:
        raise Problem("idempotency-key-reused",
                      f"幂等键「{key[:64]}」已用于另一个内容不同的请求，本次请求未执行；新的请求请使用新的幂等键 (Idempotency-Key)",
                      errors=[{"field": "header.Idempotency-Key", "code": "reused",
                               "message": "该幂等键已用于内容不同的请求"}])
