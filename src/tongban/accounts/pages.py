"""Sign-in and sign-out pages (session cookie, CSRF-protected forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from tongban.accounts import service
from tongban.core.auth import Principal, require
from tongban.core.database import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core import audit, sessions
from tongban.core.security import csrf_matches, new_csrf_token
from tongban.core.templating import render
from tongban.core.throttle import client_address

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_matches(request.session.get("csrf"), token):
        raise Problem("csrf-failed", "表单已失效（CSRF 校验未通过），请刷新页面后重试")


@router.get("/login", summary="登录页")
def login_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
               next: str | None = None):
    return render(request, "login.html", principal=principal, next=_safe_next(next) or "", error=None, username="")


@router.post("/login", summary="登录")
def login(
    request: Request,
    db: DbSession,
    _: Annotated[Principal | None, require(Permission.PUBLIC)],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
):
    check_csrf(request, csrf_token)
    try:
        if not username or not password:
            raise Problem("invalid-credentials", "请输入用户名和密码")
        user = service.authenticate_user(db, request.app.state.settings, username=username, password=password,
                                         address=client_address(request))
    except Problem as problem:
        if problem.status >= 500:
            raise
        return render(request, "login.html", status_code=problem.status, principal=None, next=_safe_next(next) or "",
                      error=problem.detail, username=username)
    db.commit()
    sign_in_session(request, user)
    default = "/staff" if user.kind == "staff" else "/me"
    return RedirectResponse(_safe_next(next) or default, status_code=303)


def sign_in_session(request: Request, user) -> None:
    """A fresh session (new id, new CSRF token) carrying the account's credential generation:
    nothing from before (fixation) survives, and the session dies when the generation moves."""
    request.session.clear()
    sessions.rotate(request)
    request.session["subject"] = f"user:{user.id}"
    request.session["gen"] = user.credential_generation
    request.session["csrf"] = new_csrf_token()


@router.post("/logout", summary="退出")
def logout(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
           csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    if principal is not None and principal.actor_type == "user":
        # Signing out ends the account's sessions and tokens everywhere, not only this cookie.
        service.end_sessions(db, service.user_of(db, principal))
        audit.record(db, actor=principal, action="auth.sign_out", object_type="user", object_id=principal.actor_id)
        db.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/me", summary="我的账户")
def my_account(request: Request, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    return render(request, "me.html", principal=principal)
