"""Sign-in and sign-out pages (server-side session, CSRF-protected forms); registration with
实名核验, 找回账户 / password reset, password change, enterprise binding."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tongban.accounts import service
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.permissions import Permission
from tongban.accounts.api import CODE_SENT
from tongban.core import audit, sessions
from tongban.core.idnumbers import InvalidNumber, check_credit_code, check_resident_id
from tongban.core.pagination import paginate
from tongban.accounts.models import ApiClient
from tongban.accounts.schemas import ClientId, Switch
from tongban.org import service as org
from tongban.core.security import Csrf, check_csrf, new_csrf_token
from tongban.core.sms import sender_for
from tongban.core.templating import flash, render
from tongban.core.urls import local_path
from tongban.core.throttle import client_address

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link borrow our sign-in page.
    return local_path(target)


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
    csrf_token: Csrf = "",
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
        response = render(request, "login.html", status_code=problem.status, principal=None,
                          next=_safe_next(next) or "", error=problem.detail, username=username)
        if "Retry-After" in problem.headers:  # a throttled address is told when to come back
            response.headers["Retry-After"] = problem.headers["Retry-After"]
        return response
    db.commit()
    sign_in_session(request, user)
    if user.must_change_password:
        flash(request, "管理员已重置您的密码，请先设置新密码。", "info")
        return RedirectResponse("/me/password", status_code=303)
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
           csrf_token: Csrf = ""):
    """Ends this browser's session only (its row goes, the cookie is cleared): signing out on an
    office PC leaves the account's phone and scripts signed in. 「退出所有设备」 ends them all."""
    check_csrf(request, csrf_token)
    if principal is not None:
        audit.record(db, actor=principal, action="auth.sign_out", object_type=principal.actor_type,
                     object_id=principal.actor_id)
        db.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.post("/me/sessions/end", summary="退出所有设备")
def logout_everywhere(request: Request, db: DbSession,
                      principal: Annotated[Principal, require(Permission.SELF_MANAGE, before_password_change=True)],
                      csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    user = service.user_of(db, principal)
    service.end_sessions(db, user)
    audit.record(db, actor=principal, action="auth.sign_out_everywhere", object_type="user", object_id=str(user.id))
    db.commit()
    request.session.clear()
    sessions.rotate(request)  # its row is gone already: the message travels in a fresh, anonymous one
    flash(request, "已退出所有设备：本账户的全部登录和访问令牌均已失效，请重新登录。", "info")
    return RedirectResponse("/login", status_code=303)


@router.get("/me", summary="我的账户")
def my_account(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    account = service.user_of(db, principal) if principal.actor_type == "user" else None
    return render(request, "me.html", principal=principal, account=account)


# ------------------------------------------------------------------ registration, 实名核验, 找回账户

def _resident_id(raw: str) -> str:
    try:
        return check_resident_id(raw.strip())
    except InvalidNumber as error:
        raise Problem("validation-error", f"身份证号：{error.message}") from None


def _new_password(raw: str) -> str:
    if not 10 <= len(raw) <= 128:
        raise Problem("validation-error", "密码至少 10 个字符")
    return raw


def _form_page(request: Request, template: str, form: dict, work, **context):
    """Run a form's work; a refusal shows the same form again with the reason, nothing changed."""
    check_csrf(request, form.pop("csrf_token", ""))
    try:
        return work()
    except Problem as problem:
        if problem.status >= 500:
            raise
        response = render(request, template, status_code=problem.status, error=problem.detail, form=form, **context)
        if "Retry-After" in problem.headers:
            response.headers["Retry-After"] = problem.headers["Retry-After"]
        return response


@router.get("/register", summary="个人注册")
def register_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "register.html", principal=principal, error=None, form={})


@router.post("/register", summary="个人注册")
def register(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
             resident_id: Annotated[str, Form(max_length=32)] = "", name: Annotated[str, Form(max_length=100)] = "",
             password: Annotated[str, Form(max_length=128)] = "", csrf_token: Csrf = ""):
    settings = request.app.state.settings

    def work():
        number, who = _resident_id(resident_id), name.strip()
        if not who:
            raise Problem("validation-error", "请填写姓名")
        service.start_citizen_registration(db, settings, sender_for(settings), resident_id=number, name=who,
                                           password=_new_password(password), address=client_address(request))
        db.commit()
        flash(request, CODE_SENT.format(minutes=settings.sms_code_minutes), "info")
        return _to_verify(request, number)

    return _form_page(request, "register.html", {"resident_id": resident_id, "name": name, "csrf_token": csrf_token}, work,
                      principal=principal)


_VERIFYING = "verify_resident_id"


def _to_verify(request: Request, number: str) -> RedirectResponse:
    """To the code page, the ID number carried in the session: in the address it would stay in
    the browser's history (a shared computer at a service hall) and in proxies' logs."""
    request.session[_VERIFYING] = number
    return RedirectResponse("/verify", status_code=303)


@router.get("/verify", summary="实名核验（输入验证码）")
def verify_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                resident_id: Annotated[str, Query(max_length=32)] = ""):
    number = resident_id or str(request.session.get(_VERIFYING) or "")
    return render(request, "verify.html", principal=principal, error=None, form={"resident_id": number})


@router.post("/verify", summary="实名核验（输入验证码）")
def verify(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
           resident_id: Annotated[str, Form(max_length=32)] = "", code: Annotated[str, Form(max_length=12)] = "",
           csrf_token: Csrf = ""):
    settings = request.app.state.settings

    def work():
        user = service.confirm(db, settings, resident_id=_resident_id(resident_id), code=code.strip(),
                               address=client_address(request))
        db.commit()
        request.session.pop(_VERIFYING, None)
        flash(request, "实名核验已完成。")
        if principal is not None and principal.actor_id == str(user.id):
            sign_in_session(request, user)  # the generation may have moved (a recovery): stay signed in
            return RedirectResponse("/me", status_code=303)
        return RedirectResponse("/login", status_code=303)

    return _form_page(request, "verify.html", {"resident_id": resident_id, "csrf_token": csrf_token}, work,
                      principal=principal)


@router.get("/recover", summary="找回账户 / 重置密码")
def recover_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "recover.html", principal=principal, error=None, form={})


@router.post("/recover", summary="找回账户 / 重置密码")
def recover(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
            resident_id: Annotated[str, Form(max_length=32)] = "", name: Annotated[str, Form(max_length=100)] = "",
            password: Annotated[str, Form(max_length=128)] = "", csrf_token: Csrf = ""):
    settings = request.app.state.settings

    def work():
        number = _resident_id(resident_id)
        service.start_recovery(db, settings, sender_for(settings), resident_id=number, name=name.strip(),
                               password=_new_password(password), address=client_address(request))
        db.commit()
        flash(request, CODE_SENT.format(minutes=settings.sms_code_minutes), "info")
        return _to_verify(request, number)

    return _form_page(request, "recover.html", {"resident_id": resident_id, "name": name, "csrf_token": csrf_token}, work,
                      principal=principal)


@router.post("/me/verification-code", summary="重新发送实名核验验证码")
def resend_code(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)],
                csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    user = service.user_of(db, principal)
    if user.resident_id is None or user.verified_at is not None:
        return RedirectResponse("/me", status_code=303)
    service.resend_code(db, settings, sender_for(settings), user=user, address=client_address(request))
    db.commit()
    flash(request, CODE_SENT.format(minutes=settings.sms_code_minutes), "info")
    return _to_verify(request, user.resident_id)


# ------------------------------------------------------------------ the signed-in area

@router.get("/me/password", summary="修改密码")
def password_page(request: Request,
                  principal: Annotated[Principal, require(Permission.SELF_MANAGE, before_password_change=True)]):
    return render(request, "password.html", principal=principal, error=None, form={})


@router.post("/me/password", summary="修改密码")
def change_password(request: Request, db: DbSession,
                    principal: Annotated[Principal, require(Permission.SELF_MANAGE, before_password_change=True)],
                    current_password: Annotated[str, Form(max_length=128)] = "",
                    new_password: Annotated[str, Form(max_length=128)] = "",
                    csrf_token: Csrf = ""):
    def work():
        user = service.user_of(db, principal)
        service.change_password(db, request.app.state.settings, user=user, current=current_password,
                                new=_new_password(new_password), address=client_address(request))
        db.commit()
        sign_in_session(request, user)  # this browser stays signed in under the new generation; others end
        flash(request, "密码已修改，其他设备上的登录和访问令牌均已失效。")
        return RedirectResponse("/me", status_code=303)

    return _form_page(request, "password.html", {"csrf_token": csrf_token}, work, principal=principal)


@router.get("/me/enterprise", summary="绑定企业账户")
def enterprise_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)]):
    return render(request, "bind_enterprise.html", principal=principal, error=None, form={},
                  account=service.user_of(db, principal))


@router.post("/me/enterprise", summary="绑定企业账户")
def bind_enterprise(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)],
                    credit_code: Annotated[str, Form(max_length=32)] = "",
                    password: Annotated[str, Form(max_length=128)] = "",
                    csrf_token: Csrf = ""):
    citizen = service.user_of(db, principal)

    def work():
        try:
            code = check_credit_code(credit_code.strip())
        except InvalidNumber as error:
            raise Problem("validation-error", f"统一社会信用代码：{error.message}") from None
        enterprise = service.bind_enterprise(db, request.app.state.settings, citizen=citizen, credit_code=code,
                                             password=_new_password(password))
        db.commit()
        flash(request, f"已绑定「{enterprise.display_name}」。请退出后用统一社会信用代码 {code} 和刚设置的密码登录企业账户。")
        return RedirectResponse("/me", status_code=303)

    return _form_page(request, "bind_enterprise.html", {"credit_code": credit_code, "csrf_token": csrf_token}, work,
                      principal=principal, account=citizen)


def _back_to_department(user) -> RedirectResponse:
    target = f"/staff/departments/{user.department.code}" if user.department else "/staff"
    return RedirectResponse(target, status_code=303)


@router.post("/staff/users/{user_id}/sessions/revoke", summary="结束账户的全部会话")
def revoke_sessions(request: Request, user_id: Id, db: DbSession,
                    principal: Annotated[Principal, require(Permission.USERS_MANAGE)],
                    csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    user = service.revoke_sessions(db, principal, user_id=user_id)
    db.commit()
    flash(request, f"已结束「{user.display_name}」的全部会话和访问令牌")
    return _back_to_department(user)


@router.post("/staff/users/{user_id}/password-reset", summary="重置工作人员密码")
def reset_password(request: Request, user_id: Id, db: DbSession,
                   principal: Annotated[Principal, require(Permission.USERS_MANAGE)],
                   csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    user, temporary = service.reset_staff_password(db, request.app.state.settings, principal, user_id=user_id)
    db.commit()
    # Shown in this answer only: never kept in the session or a cache.
    response = render(request, "temporary_password.html", principal=principal, account=user, temporary=temporary)
    response.headers["Cache-Control"] = "no-store"
    return response


_SWITCHED = {"disable": "已停用「{}」：不能再登录，原有会话和访问令牌已全部失效", "enable": "已启用「{}」，可以重新登录"}


@router.post("/staff/users/{user_id}/{switch}", summary="停用或启用账户")
def switch_user(request: Request, user_id: Id, switch: Switch,
                db: DbSession, principal: Annotated[Principal, require(Permission.USERS_MANAGE)],
                csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    user = service.set_active(db, principal, user_id=user_id, active=switch == "enable")
    db.commit()
    flash(request, _SWITCHED[switch].format(user.display_name))
    return _back_to_department(user)


# ------------------------------------------------------------------ department systems (OAuth2 clients)

def _clients_page(request: Request, db: DbSession, principal: Principal, *, cursor: str | None = None,
                  shown: dict | None = None, error: str | None = None, status_code: int = 200):
    """The list; ``shown``: a secret just made, shown in this answer only (never kept in the session)."""
    clients, next_cursor = paginate(db, service.clients_query(principal), ApiClient.id, cursor=cursor, limit=50,
                                    descending=False)
    departments = [d for d in org.list_all(db) if principal.can_for_department(Permission.CLIENTS_MANAGE, d.id)]
    response = render(request, "clients.html", status_code=status_code, principal=principal, clients=clients,
                      next_cursor=next_cursor, departments=departments, shown=shown, error=error)
    if shown is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret stays out of every cache
    return response


@router.get("/staff/clients", summary="部门业务系统")
def clients_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)],
                 cursor: Annotated[str | None, Query(max_length=200)] = None):
    return _clients_page(request, db, principal, cursor=cursor)


@router.post("/staff/clients", summary="登记部门业务系统")
def create_client(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)],
                  name: Annotated[str, Form(max_length=100)] = "",
                  department_code: Annotated[str, Form(max_length=32)] = "",
                  csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    try:
        if len(name.strip()) < 2:
            raise Problem("validation-error", "请填写系统名称（至少 2 个字）")
        department = service.department_by_code(db, department_code)
        ensure_department(db, principal, Permission.CLIENTS_MANAGE, department, action="clients.create")
        client, secret = service.create_client(db, request.app.state.settings, name=name.strip(), department=department)
        audit.record(db, actor=principal, action="clients.create", object_type="api_client", object_id=client.client_id,
                     details={"department": department.code})
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _clients_page(request, db, principal, error=problem.detail, status_code=problem.status)
    return _clients_page(request, db, principal, shown={"client_id": client.client_id, "secret": secret,
                                                        "message": f"已登记「{client.name}」"})


@router.post("/staff/clients/{client_id}/secret", summary="更换业务系统密钥")
def rotate_client_secret(request: Request, client_id: ClientId, db: DbSession,
                         principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)],
                         csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    client, secret = service.rotate_client_secret(db, request.app.state.settings, principal, client_id=client_id)
    db.commit()
    return _clients_page(request, db, principal, shown={
        "client_id": client.client_id, "secret": secret,
        "message": f"已更换「{client.name}」的密钥；旧密钥和用它取得的访问令牌已全部失效"})


_CLIENT_SWITCHED = {"disable": "已停用「{}」，其访问令牌已全部失效", "enable": "已启用「{}」，须用现有密钥重新获取访问令牌"}


@router.post("/staff/clients/{client_id}/{switch}", summary="停用或启用业务系统")
def switch_client(request: Request, client_id: ClientId, switch: Switch,
                  db: DbSession, principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)],
                  csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    client = service.set_client_active(db, principal, client_id=client_id, active=switch == "enable")
    db.commit()
    flash(request, _CLIENT_SWITCHED[switch].format(client.name))
    return RedirectResponse("/staff/clients", status_code=303)
