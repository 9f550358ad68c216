"""Who is calling, and may they: the principal of a request and the permission each route declares.

A request is authenticated by a bearer token (API clients and scripts) or by the server-side
session of the web pages (``core.sessions``). Either carries the account's credential
generation, which the app's principal loader compares with the account's: when it moves
(sign-out everywhere, password change, disabling, revocation) both end at once. The loader is
the accounts domain's, registered by the app as ``app.state.load_principal`` (a
``PrincipalLoader``): core knows no domain. ``require(permission)`` is the one way a route
states its permission; the app refuses to start if an API route has none (see ``check_routes``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.db.cache import request_generation, take_generation
from tongban.core.db.session import ReadDbSession, end_session, for_route, get_read_db, run_db
from tongban.core.errors import Problem, document_problems
from tongban.core.permissions import PERMISSION_LABELS, ROLE_LABELS, Permission, Role, Scope, grants_for
from tongban.core.security import TokenClaims, csrf_matches, read_token

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Principal:
    """A signed-in person or department system, as the audit log and permission checks see it."""

    actor_type: str  # user | client
    actor_id: str
    actor_name: str
    kind: str  # staff | citizen | enterprise | system
    department_id: int | None
    department_code: str | None
    department_name: str | None
    department_duty: str | None
    roles: tuple[str, ...]
    grants: dict[Permission, Scope] = field(default_factory=dict)
    via_session: bool = False
    # An administrator set a temporary password: nothing but changing it until it is changed.
    must_change_password: bool = False

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS.get(Role(r), r) for r in self.roles]

    def scope_for(self, permission: Permission) -> Scope | None:
        return self.grants.get(permission)

    def can(self, permission: Permission) -> bool:
        return permission == Permission.PUBLIC or permission in self.grants

    def can_for_department(self, permission: Permission, department_id: int | None) -> bool:
        scope = self.scope_for(permission)
        if scope == Scope.ALL:
            return True
        return scope == Scope.DEPARTMENT and department_id is not None and department_id == self.department_id


class PrincipalLoader(Protocol):
    """Who a token's or session's subject is (None: gone, disabled, signed out, revoked): the
    app registers one as ``app.state.load_principal``."""

    def __call__(self, db: Session, subject: str, *, via_session: bool = False,
                 generation: int | None = None, jti: str = "") -> Principal | None: ...


def principal_for(*, actor_type: str, actor_id: str, actor_name: str, kind: str, department,
                  roles: list[str], via_session: bool = False, must_change_password: bool = False) -> Principal:
    return Principal(
        actor_type=actor_type,
        actor_id=actor_id,
        actor_name=actor_name,
        kind=kind,
        department_id=department.id if department else None,
        department_code=department.code if department else None,
        department_name=department.name if department else None,
        department_duty=department.duty if department else None,
        roles=tuple(roles),
        grants=grants_for({Role(r) for r in roles}),
        via_session=via_session,
        must_change_password=must_change_password,
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":  # client credentials, read by the token endpoint only
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem("invalid-token", "Authorization 头应为 “Bearer <令牌>”",
                      headers={"WWW-Authenticate": "Bearer"})
    return value.strip()


def bearer_claims(request: Request) -> TokenClaims | None:
    """The claims of the request's bearer token (None without one); a bad token is a 401."""
    token = _bearer(request)
    return None if token is None else read_token(token, secret_key=request.app.state.settings.secret_key)


def authenticate(request: Request, db: Session) -> Principal | None:
    """The caller, or None for an anonymous request; a bad token is an error, not anonymity."""
    load_principal: PrincipalLoader = request.app.state.load_principal

    claims = bearer_claims(request)
    if claims is not None:
        principal = load_principal(db, claims.subject, generation=claims.generation, jti=claims.jti)
        if principal is None:
            raise Problem("invalid-token", "令牌已失效（已退出、已撤销、改密或被停用），或对应的账户不存在",
                          headers={"WWW-Authenticate": "Bearer"})
        return principal
    session = request.session if "session" in request.scope else {}
    subject = session.get("subject")
    if subject:
        generation = session.get("gen")
        principal = load_principal(db, subject, via_session=True,
                                   generation=generation if isinstance(generation, int) else -1)
        if principal is None:
            session.clear()  # the server-side session ends with it (core.sessions)
        return principal
    return None


def deny(db: Session, principal: Principal | None, *, slug: str, detail: str, action: str,
         object_type: str | None = None, object_id: str | None = None, **extensions: Any) -> Problem:
    """Record a refused attempt in the audit log and return the Problem to raise.

    A refused request changes nothing: whatever it had written is rolled back (first, so the
    refusal's own write never waits behind the request's locks). The refusal is recorded and
    committed in a transaction of its own, never through the caller's session: the caller's unit
    of work is left as it was (rolled back, unused), and ends as the raised Problem ends it.
    """
    db.rollback()
    with Session(bind=db.get_bind()) as own:
        audit.record(own, actor=principal or audit.ANONYMOUS, action=action[:64], object_type=object_type,
                     object_id=object_id, outcome="denied", details={"reason": slug})
        own.commit()
    return Problem(slug, detail, **extensions)


class PermissionCheck:
    """The dependency behind ``require``; carries its permission so OpenAPI can show it."""

    def __init__(self, permission: Permission, *alternatives: Permission, before_password_change: bool = False) -> None:
        self.permission = permission
        self.permissions = (permission, *alternatives)  # any one of them suffices
        self.before_password_change = before_password_change

    @property
    def label(self) -> str:
        return " | ".join(p.value for p in self.permissions)

    @property
    def chinese_label(self) -> str:
        return "”或“".join(PERMISSION_LABELS[p] for p in self.permissions)

    async def __call__(self, request: Request, db: ReadDbSession) -> Principal | None:
        # A verified token is cached; what is left is one indexed read that never waits for a
        # lock (a reading session): ``run_db`` keeps it on the loop where that is cheaper (on
        # PostgreSQL for the routes that run there anyway), and the connection goes back to the
        # pool at once. A refusal writes the audit log through
        # a writing session, which may wait for the write lock: a worker thread.
        known = request.scope.get(_SIGNED_IN)
        if known is not None:  # checked before the body was read (``authorize_before_body``)
            principal, generation = known
        else:
            route = request.scope.get("route")
            keep = _reads_after_sign_in(route)

            def look_up() -> Principal | None:
                try:
                    return authenticate(request, db)
                finally:
                    if not keep:
                        db.rollback()

            principal = await run_db(db, look_up)
            generation = take_generation(db)
            request.scope[_SIGNED_IN] = (principal, generation)
        request_generation.set(generation)  # read with the principal: the request's work uses it
        if principal is not None:
            request.scope.setdefault("state", {})["principal_name"] = principal.actor_name
            # Cookie-authenticated writes must prove they come from our own pages.
            if principal.via_session and request.method in _UNSAFE_METHODS and request.url.path.startswith("/api/"):
                if not csrf_matches(request.session.get("csrf"), request.headers.get("x-csrf-token")):
                    raise Problem("csrf-failed", "缺少或错误的 X-CSRF-Token 头")
        if self.permission == Permission.PUBLIC:
            return principal
        if principal is None:
            raise Problem("not-authenticated", "请先登录或在 Authorization 头中提供访问令牌",
                          headers={"WWW-Authenticate": "Bearer"})
        if principal.must_change_password and not self.before_password_change:
            # Pages answer it with the change-password page (the app's error page renderer).
            raise Problem("password-change-required", "管理员已重置您的密码，请先修改密码（POST /api/v1/auth/password）")
        if not any(principal.can(p) for p in self.permissions):
            route = request.scope.get("route")

            def refuse() -> Problem:
                with request.app.state.sessionmaker() as writer:
                    return deny(writer, principal, slug="permission-denied",
                                detail=f"当前账户（{'、'.join(principal.role_labels) or '无角色'}）没有“{self.chinese_label}”权限",
                                action=f"{request.method} {route.path if route else request.url.path}",
                                # The codes for programs; the page a person sees says it in Chinese only.
                                required_permissions=[p.value for p in self.permissions])

            raise await run_in_threadpool(refuse)
        return principal


def _reads_after_sign_in(route) -> bool:
    """Whether the route is async and reads through the same reading session as its sign-in check
    (the exchange's): the check then leaves the connection to the route's own statements, one
    checkout per request instead of two. Other routes get it back at once: a route that writes
    uses a session of its own, and must not hold a second connection meanwhile."""
    if route is None:
        return False
    known = getattr(route, "_tongban_reads_after_sign_in", None)  # judged once per route
    if known is None:
        known = inspect.iscoroutinefunction(getattr(route, "endpoint", None)) and any(
            dependency.call is get_read_db for dependency in route.dependant.dependencies)
        route._tongban_reads_after_sign_in = known
    return known


def require(permission: Permission, *alternatives: Permission, before_password_change: bool = False) -> Any:
    """``principal: Annotated[Principal, require(Permission.X)]`` — the one way to guard a route.
    Alternatives: a route two kinds of user reach (an applicant online, a clerk at the window).
    ``before_password_change``: the route serves an account whose password an administrator
    reset and that has not changed it yet (the change-password routes); every other route
    that needs a sign-in refuses it (``password-change-required``)."""
    return Depends(PermissionCheck(permission, *alternatives, before_password_change=before_password_change))


async def authorize_before_body(request: Request, route: APIRoute) -> None:
    """The route's own permission check, run before its body is read (see ``core.limits``): a
    caller who may not upload is refused having sent no more than the headers. The caller found
    is kept in the request's scope, and the route's own dependency takes it from there rather
    than reading it again."""
    check = _route_permission(route)
    if check is None:
        return
    db = for_route(request.app.state.read_sessionmaker(), route)
    try:
        await check(request, db)
    finally:
        await end_session(db)


# In a request's scope: (the principal, the reference generation read with it), once checked.
_SIGNED_IN = "tongban.signed_in"


def ensure_department(db: Session, principal: Principal, permission: Permission, department, *, action: str) -> None:
    """Department data is visible only within the holder's scope for that permission."""
    if not principal.can_for_department(permission, department.id):
        raise deny(db, principal, slug="department-scope",
                   detail=f"无权访问{department.name}的数据（仅限本部门：{principal.department_name or '无'}）",
                   action=action, object_type="department", object_id=department.code)


def _route_permission(route: APIRoute) -> PermissionCheck | None:
    found = []

    def walk(dependant) -> None:
        if isinstance(dependant.call, PermissionCheck):
            found.append(dependant.call)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found[0] if found else None


def api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps them wrapped)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            found.extend(api_routes(route.original_router.routes))
    return found


def check_routes(app: FastAPI) -> None:
    """Refuse to start if any route forgot its permission; publish each in OpenAPI."""
    missing = []
    for route in api_routes(app.routes):
        permission = _route_permission(route)
        if permission is None:
            missing.append(f"{','.join(sorted(route.methods or ()))} {route.path}")
            continue
        route.openapi_extra = {**(route.openapi_extra or {}), "x-permission": permission.label}
        note = f"**权限 (permission)**: `{permission.label}`"
        if note not in (route.description or ""):
            route.description = f"{note}\n\n{route.description or ''}".strip()
    if missing:
        raise RuntimeError("routes without a declared permission: " + "; ".join(missing))
    _document_errors(app)


def _document_errors(app: FastAPI) -> None:
    """``/openapi.json`` states every operation's error answers as problem+json (core/errors.py),
    401/403 by the permission each route declared; built once, like FastAPI's own document."""
    build = app.openapi

    documented = False

    def openapi() -> dict[str, Any]:
        nonlocal documented
        if not documented:
            document_problems(build(), signed_in=lambda operation: operation.get("x-permission") != Permission.PUBLIC.value)
            documented = True
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
