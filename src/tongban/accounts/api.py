"""Sign-in (OAuth2 token endpoint) and account management."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from tongban.accounts import service
from tongban.accounts.models import ApiClient, User
from tongban.accounts.schemas import (
    AccountRead, AccountStatus, CitizenRegister, ClientCreate, ClientCreated, ClientId, ClientRead, ClientSecret,
    CodeConfirm, CodeRequest, CodeSent, EnterpriseBinding, EnterpriseRegister, Me, PasswordChange, SessionsEnded,
    StaffCreate, StaffRead, Switch, TemporaryPassword, TokenResponse,
)
from tongban.core import audit
from tongban.core.auth import Principal, bearer_claims, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import THROTTLED, Problem
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.core.security import issue_token
from tongban.core.sms import sender_for
from tongban.core.throttle import client_address

router = APIRouter(prefix="/api/v1", tags=["账户与登录 accounts"])

def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        raise Problem("invalid-client", "Basic 认证头格式错误", error="invalid_client") from None
    return client_id, secret


@router.post("/auth/token", response_model=TokenResponse, summary="获取访问令牌 (OAuth2 password / client_credentials)",
             responses=THROTTLED)
def token(
    request: Request,
    db: DbSession,
    _: Annotated[Principal | None, require(Permission.PUBLIC)],
    grant_type: Annotated[str, Form(max_length=32)],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=128)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=128)] = None,
):
    """OAuth2 token endpoint (RFC 6749 §4.3 and §4.4), form-encoded.

    - ``grant_type=password`` with ``username`` (工作人员用户名 / 身份证号 / 统一社会信用代码) and ``password``;
    - ``grant_type=client_credentials`` with ``client_id`` and ``client_secret`` (or HTTP Basic).
    """
    settings = request.app.state.settings
    if grant_type == "password":
        if not username or not password:
            raise Problem("validation-error", "password 授权需要 username 和 password", error="invalid_request",
                          errors=[{"field": f"body.{k}", "code": "missing", "message": "缺少必填字段"}
                                  for k, v in (("username", username), ("password", password)) if not v])
        user = service.authenticate_user(db, settings, username=username, password=password,
                                         address=client_address(request))
        subject, generation = f"user:{user.id}", user.credential_generation
    elif grant_type == "client_credentials":
        client_id, client_secret = _basic_credentials(request) or (client_id, client_secret)
        if not client_id or not client_secret:
            raise Problem("invalid-client", "client_credentials 授权需要 client_id 和 client_secret", error="invalid_client")
        client = service.authenticate_client(db, settings, client_id=client_id, client_secret=client_secret,
                                             address=client_address(request))
        subject, generation = f"client:{client.id}", client.credential_generation
    else:
        raise Problem("unsupported-grant-type", "grant_type 应为 password 或 client_credentials",
                      error="unsupported_grant_type")
    issued = issue_token(subject=subject, secret_key=settings.secret_key, ttl_minutes=settings.token_ttl_minutes,
                         generation=generation)
    db.commit()
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in, expires_at=issued.expires_at)


@router.get("/auth/me", response_model=Me, summary="当前账户")
def me(db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    identity = service.applicant_identity(db, principal)
    return Me(
        verified=identity.verified if identity is not None and (identity.resident_id or identity.credit_code) else None,
        actor_type=principal.actor_type, id=principal.actor_id, name=principal.actor_name, kind=principal.kind,
        department_code=principal.department_code, department_name=principal.department_name,
        roles=list(principal.roles), role_labels=principal.role_labels,
        permissions={p.value: s.value for p, s in principal.grants.items()},
    )


def _staff_read(user: User) -> StaffRead:
    return StaffRead(
        id=user.id, username=user.username, display_name=user.display_name,
        department_code=user.department.code if user.department else None,
        department_name=user.department.name if user.department else None,
        roles=user.roles, is_active=user.is_active, created_at=user.created_at,
    )


@router.post("/users", response_model=StaffRead, status_code=201, summary="创建工作人员账户")
def create_staff(request: Request, body: StaffCreate, db: DbSession,
                 principal: Annotated[Principal, require(Permission.USERS_MANAGE)]):
    department = service.department_by_code(db, body.department_code)
    ensure_department(db, principal, Permission.USERS_MANAGE, department, action="users.create")
    user = service.create_staff(db, request.app.state.settings, username=body.username, display_name=body.display_name,
                                password=body.password, department=department, roles=body.roles, phone=body.phone)
    audit.record(db, actor=principal, action="users.create", object_type="user", object_id=str(user.id),
                 details={"username": user.username, "department": department.code, "roles": user.roles})
    db.commit()
    return _staff_read(user)


@router.get("/departments/{code}/staff", response_model=list[StaffRead], summary="部门工作人员名单")
def department_staff(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.USERS_READ)]):
    department = service.department_by_code(db, code)
    ensure_department(db, principal, Permission.USERS_READ, department, action="users.list")
    users = service.list_staff(db, department=department)
    audit.record(db, actor=principal, action="users.list", object_type="department", object_id=department.code,
                 details={"count": len(users)})
    db.commit()
    return [_staff_read(u) for u in users]


CODE_SENT = ("如姓名与身份证号在人口库中一致，验证码已发送至人口库登记的手机，{minutes} 分钟内有效；"
             "请在「实名核验」页输入验证码。")


def _account_read(user: User, message: str | None = None) -> AccountRead:
    return AccountRead(id=user.id, kind=user.kind, username=user.username, display_name=user.display_name,
                       created_at=user.created_at, verified=user.verified_at is not None, message=message)


@router.post("/accounts/citizens", response_model=AccountRead, status_code=201, summary="自然人注册（身份证号，随后短信实名核验）",
             responses=THROTTLED)
def register_citizen(request: Request, body: CitizenRegister, db: DbSession,
                     _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    """The account exists at once but is not bound to the ID number: nothing is prefilled or
    applied for in it until the code sent to the registry's phone is entered
    (``POST /accounts/citizens/verification``). The answer is the same whether the name matches."""
    settings = request.app.state.settings
    user = service.start_citizen_registration(db, settings, sender_for(settings), resident_id=body.resident_id,
                                              name=body.name, password=body.password, phone=body.phone,
                                              address=client_address(request))
    db.commit()
    return _account_read(user, CODE_SENT.format(minutes=settings.sms_code_minutes))


@router.post("/accounts/enterprises", response_model=AccountRead, status_code=201, summary="法人注册（统一社会信用代码，随后由法定代表人绑定）",
             responses=THROTTLED)
def register_enterprise(request: Request, body: EnterpriseRegister, db: DbSession,
                        _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    """Not bound until the legal representative, with a verified citizen account, binds it
    (``POST /accounts/enterprises/binding``)."""
    settings = request.app.state.settings
    service.rate_limit_identity(db, settings, client_address(request))
    db.commit()  # the attempt counts when refused too: "已存在" answers whether a credit code has an account
    user = service.register_enterprise(db, settings, credit_code=body.credit_code,
                                       display_name=body.name, password=body.password, phone=body.phone)
    audit.record(db, actor=audit.ANONYMOUS, action="accounts.register_enterprise", object_type="user", object_id=str(user.id))
    db.commit()
    return _account_read(user, "账户尚未绑定：请法定代表人以已实名核验的个人账户登录，在「绑定企业」页完成绑定。")


@router.post("/accounts/citizens/recovery", response_model=CodeSent, status_code=202,
             summary="找回账户 / 重置密码（验证码发送至人口库登记的手机）",
             responses=THROTTLED)
def recover_citizen(request: Request, body: CodeRequest, db: DbSession,
                    _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    """For a forgotten password, and for a person whose ID number someone else registered:
    entering the code sets the new password, binds the account, and ends every other session."""
    settings = request.app.state.settings
    service.start_recovery(db, settings, sender_for(settings), resident_id=body.resident_id, name=body.name,
                           password=body.password, address=client_address(request))
    db.commit()
    return CodeSent(message=CODE_SENT.format(minutes=settings.sms_code_minutes))


@router.post("/accounts/citizens/verification", response_model=AccountRead, summary="输入短信验证码完成实名核验",
             responses=THROTTLED)
def confirm_citizen(request: Request, body: CodeConfirm, db: DbSession,
                    _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    user = service.confirm(db, request.app.state.settings, resident_id=body.resident_id, code=body.code,
                           address=client_address(request))
    db.commit()
    return _account_read(user, "实名核验已完成")


@router.post("/accounts/me/verification-code", response_model=CodeSent, status_code=202, summary="重新发送实名核验验证码",
             responses=THROTTLED)
def resend_code(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)]):
    settings = request.app.state.settings
    service.resend_code(db, settings, sender_for(settings), user=service.user_of(db, principal),
                        address=client_address(request))
    db.commit()
    return CodeSent(message=CODE_SENT.format(minutes=settings.sms_code_minutes))


@router.post("/accounts/enterprises/binding", response_model=AccountRead, summary="法定代表人绑定企业账户")
def bind_enterprise(request: Request, body: EnterpriseBinding, db: DbSession,
                    principal: Annotated[Principal, require(Permission.SELF_MANAGE)]):
    """The signed-in, verified citizen whom the legal-entity registry names as the legal
    representative binds the enterprise's account and sets its password."""
    citizen = service.user_of(db, principal)
    enterprise = service.bind_enterprise(db, request.app.state.settings, citizen=citizen,
                                         credit_code=body.credit_code, password=body.password)
    db.commit()
    return _account_read(enterprise, "企业账户已绑定，请用统一社会信用代码和新密码登录")


@router.post("/auth/password", status_code=204, summary="修改密码（需当前密码；所有会话和令牌随即失效）",
             responses=THROTTLED)
def change_password(request: Request, body: PasswordChange, db: DbSession,
                    principal: Annotated[Principal, require(Permission.SELF_MANAGE, before_password_change=True)]):
    """Also the one route open to an account whose password an administrator reset."""
    user = service.user_of(db, principal)
    service.change_password(db, request.app.state.settings, user=user, current=body.current_password,
                            new=body.new_password, address=client_address(request))
    db.commit()


@router.post("/auth/logout", status_code=204, summary="退出（结束本次调用所用的令牌或会话）")
def logout(request: Request, db: DbSession,
           principal: Annotated[Principal, require(Permission.SELF_READ, before_password_change=True)]):
    """Ends the credential of this call only: the bearer token it carries, or the web session of
    its cookie. The account's other sessions and tokens (another device, a script) go on; to end
    them all, ``POST /auth/logout/everywhere``."""
    claims = bearer_claims(request)
    if claims is not None:
        service.end_token(db, claims)
    else:
        request.session.clear()  # the session row goes with it (core.sessions)
    audit.record(db, actor=principal, action="auth.sign_out", object_type=principal.actor_type,
                 object_id=principal.actor_id)
    db.commit()


@router.post("/auth/logout/everywhere", status_code=204, summary="退出所有设备（本账户的所有会话和令牌随即失效）")
def logout_everywhere(db: DbSession,
                      principal: Annotated[Principal, require(Permission.SELF_MANAGE, before_password_change=True)]):
    user = service.user_of(db, principal)
    service.end_sessions(db, user)
    audit.record(db, actor=principal, action="auth.sign_out_everywhere", object_type="user", object_id=str(user.id))
    db.commit()


@router.post("/auth/revoke", status_code=200, response_class=Response, summary="撤销访问令牌 (RFC 7009)")
def revoke(request: Request, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
           token: Annotated[str, Form(max_length=4096)],
           token_type_hint: Annotated[str | None, Form(max_length=32)] = None):
    """OAuth 2.0 token revocation (RFC 7009), form-encoded: ``token`` is the access token to end.
    Holding the token is the right to end it (our tokens are bearer tokens of public clients and
    scripts). The answer is 200 with an empty body, also for a token that was already invalid
    (§2.2); ``token_type_hint`` is accepted and not needed (there are only access tokens)."""
    service.revoke_token(db, request.app.state.settings, token=token)
    db.commit()
    return Response(status_code=200)


@router.post("/users/{user_id}/sessions/revoke", response_model=SessionsEnded, summary="结束某账户的全部会话和令牌")
def revoke_sessions(user_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.USERS_MANAGE)]):
    user = service.revoke_sessions(db, principal, user_id=user_id)
    db.commit()
    return SessionsEnded(user_id=user.id, message=f"已结束「{user.display_name}」的全部会话和令牌")


@router.post("/users/{user_id}/password-reset", response_model=TemporaryPassword,
             summary="重置工作人员密码（临时密码只显示一次，本人登录后须先修改）")
def reset_password(request: Request, user_id: Id, db: DbSession,
                   principal: Annotated[Principal, require(Permission.USERS_MANAGE)]):
    user, temporary = service.reset_staff_password(db, request.app.state.settings, principal, user_id=user_id)
    db.commit()
    return TemporaryPassword(user_id=user.id, temporary_password=temporary,
                             message=f"已重置「{user.display_name}」的密码；其原有会话和令牌已全部失效，下次登录后须先修改密码")


@router.post("/users/{user_id}/{switch}", response_model=AccountStatus,
             summary="停用或启用账户（停用时其会话和令牌随即失效）")
def switch_user(user_id: Id, switch: Switch, db: DbSession,
                principal: Annotated[Principal, require(Permission.USERS_MANAGE)]):
    user = service.set_active(db, principal, user_id=user_id, active=switch == "enable")
    db.commit()
    message = (f"已启用「{user.display_name}」，可以重新登录" if user.is_active
               else f"已停用「{user.display_name}」，其全部会话和令牌已失效")
    return AccountStatus(user_id=user.id, is_active=user.is_active, message=message)


@router.post("/clients", response_model=ClientCreated, status_code=201, summary="登记部门业务系统（OAuth2 客户端）")
def create_client(request: Request, body: ClientCreate, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)]):
    department = service.department_by_code(db, body.department_code)
    client, secret = service.create_client(db, request.app.state.settings, name=body.name, department=department)
    audit.record(db, actor=principal, action="clients.create", object_type="api_client", object_id=client.client_id,
                 details={"department": department.code})
    db.commit()
    return ClientCreated(client_id=client.client_id, client_secret=secret, name=client.name, department_code=department.code)


def client_read(client: ApiClient) -> ClientRead:
    return ClientRead(client_id=client.client_id, name=client.name, department_code=client.department.code,
                      department_name=client.department.name, is_active=client.is_active,
                      created_at=client.created_at, last_used_at=client.last_used_at)


@router.get("/clients", response_model=Page[ClientRead], summary="部门业务系统名单")
def list_clients(db: DbSession, principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)],
                 cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.clients_query(principal), ApiClient.id, cursor=cursor, limit=limit,
                                 descending=False)
    return Page[ClientRead](items=[client_read(c) for c in rows], next_cursor=next_cursor)


@router.post("/clients/{client_id}/secret", response_model=ClientSecret, summary="更换业务系统密钥（旧密钥和令牌随即失效）")
def rotate_client_secret(request: Request, client_id: ClientId, db: DbSession,
                         principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)]):
    client, secret = service.rotate_client_secret(db, request.app.state.settings, principal, client_id=client_id)
    db.commit()
    return ClientSecret(client_id=client.client_id, client_secret=secret,
                        message="新密钥只显示这一次，请妥善保存；旧密钥和用它取得的令牌已全部失效")


@router.post("/clients/{client_id}/{switch}", response_model=ClientRead,
             summary="停用或启用业务系统（停用时其令牌随即失效）")
def switch_client(client_id: ClientId, switch: Switch, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CLIENTS_MANAGE)]):
    client = service.set_client_active(db, principal, client_id=client_id, active=switch == "enable")
    db.commit()
    return client_read(client)
