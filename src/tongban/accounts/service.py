"""Accounts: creating them, signing in (with lock-out), and loading the principal of a request."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongban.accounts.models import AccountKind, ApiClient, User, UserRole
from tongban.core import audit
from tongban.core.auth import Principal, principal_for
from tongban.core.config import Settings
from tongban.core.database import GENERATION_COLUMN, DriverStatement, note_generation, utcnow
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code
from tongban.core.permissions import STAFF_ROLES, Role
from tongban.core.security import burn_password_check, hash_password, new_client_secret, verify_password
from tongban.org import service as org
from tongban.org.models import Department


class _Department(NamedTuple):
    id: int
    code: str
    name: str
    duty: str | None


_DEPARTMENT_COLUMNS = (Department.id, Department.code, Department.name, Department.duty)

# Built once: every request asks one of them, and building a statement's cache key each time
# cost as much as the read. Each also reads the reference generation, which the request's work
# would otherwise ask for in a statement of its own (``core.database.request_generation``).
_USER_PRINCIPAL = DriverStatement(select(User.id, User.display_name, User.kind, User.is_active, UserRole.role,
                                         *_DEPARTMENT_COLUMNS, GENERATION_COLUMN)
                                  .outerjoin(UserRole, UserRole.user_id == User.id)
                                  .outerjoin(Department, Department.id == User.department_id)
                                  .where(User.id == bindparam("id")))
_CLIENT_PRINCIPAL = DriverStatement(select(ApiClient.client_id, ApiClient.name, ApiClient.is_active, *_DEPARTMENT_COLUMNS,
                                           GENERATION_COLUMN)
                                    .join(Department, Department.id == ApiClient.department_id)
                                    .where(ApiClient.id == bindparam("id")))


def load_principal(db: Session, subject: str, *, via_session: bool = False) -> Principal | None:
    """The principal of a token or session subject, or None if the account is gone or disabled.

    Every request asks: columns, not ORM objects, in one round trip, run on the driver's cursor
    (SQLAlchemy's handling of a statement cost more CPU than the read)."""
    kind, _, raw_id = subject.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "user":
        rows = _USER_PRINCIPAL.rows(db, {"id": int(raw_id)})
        if not rows or not rows[0][3]:
            return None
        user_id, display_name, user_kind = rows[0][:3]
        note_generation(db, rows[0][9])
        department = _Department(*rows[0][5:9]) if rows[0][5] is not None else None
        return principal_for(actor_type="user", actor_id=str(user_id), actor_name=display_name, kind=user_kind,
                             department=department, roles=sorted({row[4] for row in rows if row[4]}),
                             via_session=via_session)
    if kind == "client":
        rows = _CLIENT_PRINCIPAL.rows(db, {"id": int(raw_id)})
        if not rows or not rows[0][2]:
            return None
        client_id, name, _, *department, generation = rows[0]
        note_generation(db, generation)
        return principal_for(actor_type="client", actor_id=client_id, actor_name=name, kind="system",
                             department=_Department(*department), roles=[Role.DEPARTMENT_SYSTEM.value])
    return None


def get_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def _check_lock(account, settings: Settings) -> None:
    if account.locked_until is not None and account.locked_until > utcnow():
        minutes = max(1, int((account.locked_until - utcnow()).total_seconds() // 60) + 1)
        raise Problem("account-locked", f"登录失败次数过多，账户已临时锁定，请 {minutes} 分钟后再试",
                      headers={"Retry-After": str(minutes * 60)})


def _register_failure(account, settings: Settings) -> None:
    account.failed_logins += 1
    if account.failed_logins >= settings.login_max_failures:
        # Back-off doubles with each further failure after the threshold, capped at a day.
        extra = account.failed_logins - settings.login_max_failures
        minutes = min(settings.login_lock_minutes * (2**extra), 24 * 60)
        account.locked_until = utcnow() + timedelta(minutes=minutes)


def authenticate_user(db: Session, settings: Settings, *, username: str, password: str) -> User:
    """The user, or a Problem; every attempt is audited, failures count toward the lock-out."""
    name = username.strip()
    # ID numbers and credit codes are stored upper-case ASCII ("x" check digit typed in lower case,
    # full-width digits typed on a Chinese keyboard).
    user = get_by_username(db, name) or (get_by_username(db, normalise_code(name)) if len(name) == 18 else None)
    if user is None:
        burn_password_check(password, profile=settings.argon2_profile)
        audit.record(db, actor=audit.ANONYMOUS, action="auth.sign_in", object_type="user",
                     object_id=username[:64], outcome="failed", details={"reason": "unknown_user"})
        db.commit()
        raise Problem("invalid-credentials", "用户名或密码错误")
    _check_lock(user, settings)
    if not verify_password(user.password_hash, password, profile=settings.argon2_profile):
        _register_failure(user, settings)
        audit.record(db, actor=_actor_of(user), action="auth.sign_in", object_type="user",
                     object_id=str(user.id), outcome="failed",
                     details={"reason": "wrong_password", "failed_logins": user.failed_logins})
        db.commit()
        raise Problem("invalid-credentials", "用户名或密码错误")
    if not user.is_active:
        raise Problem("account-disabled", "账户已停用，请联系管理员")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record(db, actor=_actor_of(user), action="auth.sign_in", object_type="user", object_id=str(user.id))
    return user


def authenticate_client(db: Session, settings: Settings, *, client_id: str, client_secret: str) -> ApiClient:
    client = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or not client.is_active:
        burn_password_check(client_secret, profile=settings.argon2_profile)
        raise Problem("invalid-client", "客户端标识或密钥错误", error="invalid_client")
    _check_lock(client, settings)
    if not verify_password(client.secret_hash, client_secret, profile=settings.argon2_profile):
        _register_failure(client, settings)
        audit.record(db, actor=audit.ANONYMOUS, action="auth.client_credentials", object_type="api_client",
                     object_id=client.client_id, outcome="failed", department_code=client.department.code)
        db.commit()
        raise Problem("invalid-client", "客户端标识或密钥错误", error="invalid_client")
    client.failed_logins = 0
    client.locked_until = None
    client.last_used_at = utcnow()
    audit.record(db, actor=load_principal(db, f"client:{client.id}"), action="auth.client_credentials",
                 object_type="api_client", object_id=client.client_id)
    return client


def _actor_of(user: User) -> Principal:
    return principal_for(actor_type="user", actor_id=str(user.id), actor_name=user.display_name,
                         kind=user.kind, department=user.department, roles=user.roles)


def _ensure_free(db: Session, username: str) -> None:
    if get_by_username(db, username) is not None:
        raise Problem("conflict", f"账户 {username} 已存在")


def create_staff(db: Session, settings: Settings, *, username: str, display_name: str, password: str,
                 department: Department, roles: list[Role], phone: str | None = None) -> User:
    not_staff = [r for r in roles if r not in STAFF_ROLES]
    if not roles or not_staff:
        raise Problem("validation-error", "工作人员账户至少需要一个工作人员角色",
                      errors=[{"field": "body.roles", "code": "invalid_role", "message": "角色无效"}])
    _ensure_free(db, username)
    user = User(kind=AccountKind.STAFF.value, username=username, display_name=display_name,
                password_hash=hash_password(password, profile=settings.argon2_profile),
                department=department, phone=phone, role_rows=[UserRole(role=r.value) for r in roles])
    db.add(user)
    db.flush()
    return user


def register_citizen(db: Session, settings: Settings, *, resident_id: str, display_name: str, password: str,
                     phone: str | None = None) -> User:
    """``resident_id`` must already be validated (``tongban.core.idnumbers.ResidentId``)."""
    return _register_applicant(db, settings, kind=AccountKind.CITIZEN, role=Role.CITIZEN, key=resident_id,
                               display_name=display_name, password=password, phone=phone, resident_id=resident_id)


def register_enterprise(db: Session, settings: Settings, *, credit_code: str, display_name: str, password: str,
                        phone: str | None = None) -> User:
    """``credit_code`` must already be validated (``tongban.core.idnumbers.CreditCode``)."""
    return _register_applicant(db, settings, kind=AccountKind.ENTERPRISE, role=Role.ENTERPRISE, key=credit_code,
                               display_name=display_name, password=password, phone=phone, credit_code=credit_code)


def _register_applicant(db: Session, settings: Settings, *, kind: AccountKind, role: Role, key: str, display_name: str,
                        password: str, phone: str | None, **identity: str) -> User:
    """Citizens sign in with their ID number, enterprises with their credit code."""
    _ensure_free(db, key)
    user = User(kind=kind.value, username=key, display_name=display_name,
                password_hash=hash_password(password, profile=settings.argon2_profile), phone=phone,
                role_rows=[UserRole(role=role.value)], **identity)
    db.add(user)
    db.flush()
    return user


def create_client(db: Session, settings: Settings, *, name: str, department: Department,
                  client_id: str | None = None, secret: str | None = None) -> tuple[ApiClient, str]:
    """A department system's credentials; the clear secret is returned once and never stored."""
    client_id = client_id or f"{department.code.lower()}-{secrets.token_hex(4)}"
    if db.scalar(select(ApiClient).where(ApiClient.client_id == client_id)) is not None:
        raise Problem("conflict", f"客户端标识 {client_id} 已存在")
    secret = secret or new_client_secret()
    client = ApiClient(client_id=client_id, name=name, department=department,
                       secret_hash=hash_password(secret, profile=settings.argon2_profile))
    db.add(client)
    db.flush()
    return client, secret


def list_staff(db: Session, *, department: Department | None = None) -> list[User]:
    query = select(User).where(User.kind == AccountKind.STAFF.value).order_by(User.id)
    if department is not None:
        query = query.where(User.department_id == department.id)
    return list(db.scalars(query))


def department_by_code(db: Session, code: str) -> Department:
    return org.get_by_code_or_404(db, code)
