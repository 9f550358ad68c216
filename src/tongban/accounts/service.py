"""Accounts: creating them, signing in (with lock-out), and loading the principal of a request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from tongban.accounts.models import AccountKind, ApiClient, IdentityClaim, User, UserRole
from tongban.accounts.read_models import departments
from tongban.core import audit, clock, sessions, throttle
from tongban.core.auth import Principal, deny, ensure_department, principal_for
from tongban.core.config import Settings
from tongban.core.db.base import affected
from tongban.core.db.cache import GENERATION_COLUMN, note_generation
from tongban.core.db.driver import DriverStatement
from tongban.core.db.session import transaction_apart
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code
from tongban.core.permissions import STAFF_ROLES, Permission, Role, Scope
from tongban.core.security import (
    TokenClaims, burn_password_check, hash_password, new_client_secret, new_one_time_code, new_temporary_password,
    read_token, verify_password,
)
from tongban.core.sms import SmsSender
from tongban.org import service as org
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS

if TYPE_CHECKING:  # the departments callers pass in, org's (read in the principal's statement: read_models)
    from tongban.org.models import Department


class _Department(NamedTuple):
    id: int
    code: str
    name: str
    duty: str | None


_DEPARTMENT_COLUMNS = (departments.c.id, departments.c.code, departments.c.name, departments.c.duty)
# Whether the bearer token was revoked (RFC 7009): asked in the principal's own statement, so a
# request still makes one round trip to sign in.
_REVOKED_COLUMN = exists().where(sessions.RevokedToken.jti == bindparam("jti")).label("revoked")


class _UserRow(NamedTuple):
    """A row of ``_USER_PRINCIPAL``, its columns in the statement's order (a test compares them)."""
    id: int
    display_name: str
    kind: str
    is_active: bool
    role: str | None
    department_id: int | None
    department_code: str | None
    department_name: str | None
    department_duty: str | None
    reference_generation: str | None
    credential_generation: int
    revoked: bool
    must_change_password: bool

    @property
    def department(self) -> _Department | None:
        return None if self.department_id is None else _Department(
            self.department_id, self.department_code or "", self.department_name or "", self.department_duty)


class _ClientRow(NamedTuple):
    """A row of ``_CLIENT_PRINCIPAL``, its columns in the statement's order."""
    client_id: str
    name: str
    is_active: bool
    department_id: int
    department_code: str
    department_name: str
    department_duty: str | None
    reference_generation: str | None
    credential_generation: int
    revoked: bool

    @property
    def department(self) -> _Department:
        return _Department(self.department_id, self.department_code, self.department_name, self.department_duty)


# Built once: every request asks one of them, and building a statement's cache key each time
# cost as much as the read. Each also reads the reference generation, which the request's work
# would otherwise ask for in a statement of its own (``core.db.request_generation``).
_USER_PRINCIPAL = DriverStatement(select(User.id, User.display_name, User.kind, User.is_active, UserRole.role,
                                         *_DEPARTMENT_COLUMNS, GENERATION_COLUMN, User.credential_generation,
                                         _REVOKED_COLUMN, User.must_change_password)
                                  .outerjoin(UserRole, UserRole.user_id == User.id)
                                  .outerjoin(departments, departments.c.id == User.department_id)
                                  .where(User.id == bindparam("id")))
_CLIENT_PRINCIPAL = DriverStatement(select(ApiClient.client_id, ApiClient.name, ApiClient.is_active, *_DEPARTMENT_COLUMNS,
                                           GENERATION_COLUMN, ApiClient.credential_generation, _REVOKED_COLUMN)
                                    .join(departments, departments.c.id == ApiClient.department_id)
                                    .where(ApiClient.id == bindparam("id")))


def load_principal(db: Session, subject: str, *, via_session: bool = False,
                   generation: int | None = None, jti: str = "") -> Principal | None:
    """The principal of a token or session subject, or None if the account is gone or disabled,
    or if ``generation`` (the one the token or session was issued under) is no longer the
    account's: signed out everywhere, password changed, sessions revoked. None: not asked (the
    server's own look-ups). ``jti``: the bearer token's id, None if that token was revoked.

    Every request asks: columns, not ORM objects, in one round trip, run on the driver's cursor
    (SQLAlchemy's handling of a statement cost more CPU than the read)."""
    kind, _, raw_id = subject.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "user":
        rows = [_UserRow._make(row) for row in _USER_PRINCIPAL.rows(db, {"id": int(raw_id), "jti": jti})]
        if not rows:
            return None
        user = rows[0]  # one row per role, the account's columns repeated
        if not user.is_active or (generation is not None and user.credential_generation != generation) or user.revoked:
            return None
        note_generation(db, user.reference_generation)
        return principal_for(actor_type="user", actor_id=str(user.id), actor_name=user.display_name, kind=user.kind,
                             department=user.department, roles=sorted({row.role for row in rows if row.role}),
                             via_session=via_session, must_change_password=bool(user.must_change_password))
    if kind == "client":
        found = _CLIENT_PRINCIPAL.rows(db, {"id": int(raw_id), "jti": jti})
        if not found:
            return None
        client = _ClientRow._make(found[0])
        if not client.is_active or (generation is not None and client.credential_generation != generation) or client.revoked:
            return None
        note_generation(db, client.reference_generation)
        return principal_for(actor_type="client", actor_id=client.client_id, actor_name=client.name, kind="system",
                             department=client.department, roles=[Role.DEPARTMENT_SYSTEM.value])
    return None


def get_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def _unknown(settings: Settings, kind: str, typed: str) -> str:
    """What is kept of a name no account (or client) has: a keyed hash, never the text, which is
    often a password typed into the wrong field. Repeated attempts at one name still correlate."""
    digest = hmac.new(settings.secret_key.encode(), f"{kind}:{typed}".encode(), hashlib.sha256).hexdigest()
    return f"unknown:{digest[:16]}"


def _sign_in_keys(kind: str, account_key: str, address: str) -> tuple[str, str]:
    """(this account from this address, this address over every account)."""
    address = throttle.counted(address)
    return f"{kind}:{account_key}@{address}", f"{kind}@{address}"


def _throttled(db: Session, settings: Settings, keys: tuple[str, str], *, on_refusal) -> None:
    """Refuse a locked address; ``on_refusal(apart)`` audits the refusal in a transaction apart."""
    try:
        throttle.check(db, keys, slug="account-locked",
                       detail="登录失败次数过多，来自您当前网络地址的登录已临时锁定，请 {minutes} 分钟后再试")
    except Problem:
        with transaction_apart(db) as apart:
            on_refusal(apart)
        raise


def _count_failure(db: Session, settings: Settings, keys: tuple[str, str]) -> int:
    """Count a failure against the address and the account name from it, whether an account
    has that name or not: locking only known names after a few failures told which exist. The
    account's (or name's) count."""
    count = throttle.fail(db, keys[0], limit=settings.login_max_failures, window_minutes=24 * 60,
                          lock_minutes=settings.login_lock_minutes).count
    throttle.fail(db, keys[1], limit=settings.address_max_failures, window_minutes=settings.login_lock_minutes,
                  lock_minutes=settings.login_lock_minutes)
    return count


def authenticate_user(db: Session, settings: Settings, *, username: str, password: str, address: str) -> User:
    """The user, or a Problem; every attempt is audited. Failures are counted per (account,
    client address) and per address: an attacker's address is slowed down (429), the owner
    signing in from elsewhere is not locked out."""
    name = username.strip()
    # ID numbers and credit codes are stored upper-case ASCII ("x" check digit typed in lower case,
    # full-width digits typed on a Chinese keyboard).
    code = normalise_code(name) if len(name) == 18 else name
    user = get_by_username(db, name) or (get_by_username(db, code) if code != name else None)
    # A name no account has is counted under its one spelling too, as an account is by its id.
    account_key = str(user.id) if user else _unknown(settings, "sign-in", code)
    keys = _sign_in_keys("sign-in", account_key, address)
    actor = _actor_of(user) if user else audit.ANONYMOUS  # read before a refusal's transaction apart
    _throttled(db, settings, keys, on_refusal=lambda apart: audit.record(
        apart, actor=actor, action="auth.sign_in", object_type="user", object_id=account_key, outcome="denied",
        details={"reason": "throttled", "address": address}))
    if user is None:
        burn_password_check(password, profile=settings.argon2_profile)
        with transaction_apart(db) as apart:  # the failure counts although the sign-in is refused
            _count_failure(apart, settings, keys)
            audit.record(apart, actor=audit.ANONYMOUS, action="auth.sign_in", object_type="user",
                         object_id=account_key, outcome="failed", details={"reason": "unknown_user", "address": address})
        raise Problem("invalid-credentials", "用户名或密码错误")
    if not verify_password(user.password_hash, password, profile=settings.argon2_profile):
        user_id = user.id
        with transaction_apart(db) as apart:
            failures = _count_failure(apart, settings, keys)
            audit.record(apart, actor=actor, action="auth.sign_in", object_type="user",
                         object_id=str(user_id), outcome="failed",
                         details={"reason": "wrong_password", "failed_logins": failures, "address": address})
        raise Problem("invalid-credentials", "用户名或密码错误")
    if not user.is_active:
        user_id = user.id
        with transaction_apart(db) as apart:
            audit.record(apart, actor=actor, action="auth.sign_in", object_type="user", object_id=str(user_id),
                         outcome="denied", details={"reason": "disabled", "address": address})
        raise Problem("account-disabled", "账户已停用，不能登录。如需恢复，请联系电子政务办管理员启用")
    throttle.clear(db, keys[0])
    user.last_login_at = clock.now()
    audit.record(db, actor=actor, action="auth.sign_in", object_type="user", object_id=str(user.id))
    return user


def authenticate_client(db: Session, settings: Settings, *, client_id: str, client_secret: str,
                        address: str) -> ApiClient:
    """A department system, throttled like people: per (client, address) and per address."""
    client = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    client_key = client.client_id if client else _unknown(settings, "client", client_id)
    keys = _sign_in_keys("client", client_key, address)
    _throttled(db, settings, keys, on_refusal=lambda apart: audit.record(
        apart, actor=audit.ANONYMOUS, action="auth.client_credentials", object_type="api_client",
        object_id=client_key, outcome="denied", details={"reason": "throttled", "address": address}))
    if client is None or not client.is_active:
        burn_password_check(client_secret, profile=settings.argon2_profile)
        with transaction_apart(db) as apart:  # the failure counts although the client is refused
            _count_failure(apart, settings, keys)
        raise Problem("invalid-client", "客户端标识或密钥错误", error="invalid_client")
    if not verify_password(client.secret_hash, client_secret, profile=settings.argon2_profile):
        known, department_code = client.client_id, client.department.code
        with transaction_apart(db) as apart:
            _count_failure(apart, settings, keys)
            audit.record(apart, actor=audit.ANONYMOUS, action="auth.client_credentials", object_type="api_client",
                         object_id=known, outcome="failed", department_code=department_code,
                         details={"address": address})
        raise Problem("invalid-client", "客户端标识或密钥错误", error="invalid_client")
    throttle.clear(db, keys[0])
    client.last_used_at = clock.now()
    actor = load_principal(db, f"client:{client.id}")
    if actor is None:  # found active just above, in this transaction
        raise RuntimeError(f"api client {client.client_id} vanished while signing in")
    audit.record(db, actor=actor, action="auth.client_credentials", object_type="api_client",
                 object_id=client.client_id)
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


def _managed_client(db: Session, principal: Principal, client_id: str, *, action: str) -> ApiClient:
    client = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise Problem("not-found", f"没有业务系统 {client_id}")
    ensure_department(db, principal, Permission.CLIENTS_MANAGE, client.department, action=action)
    return client


def clients_query(principal: Principal):
    """The department systems the administrator manages: all of them, or their department's."""
    query = select(ApiClient)
    if principal.scope_for(Permission.CLIENTS_MANAGE) != Scope.ALL:
        query = query.where(ApiClient.department_id == principal.department_id)
    return query


def rotate_client_secret(db: Session, settings: Settings, principal: Principal, *,
                         client_id: str) -> tuple[ApiClient, str]:
    """A new secret, returned once; the old one and every token issued under it end now."""
    client = _managed_client(db, principal, client_id, action="clients.rotate_secret")
    secret = new_client_secret()
    client.secret_hash = hash_password(secret, profile=settings.argon2_profile)
    client.credential_generation = (client.credential_generation or 0) + 1
    audit.record(db, actor=principal, action="clients.rotate_secret", object_type="api_client",
                 object_id=client.client_id, department_code=client.department.code)
    db.flush()
    return client, secret


def set_client_active(db: Session, principal: Principal, *, client_id: str, active: bool) -> ApiClient:
    """Disabling ends the system's tokens at once; enabled again, it asks for new ones."""
    action = "clients.enable" if active else "clients.disable"
    client = _managed_client(db, principal, client_id, action=action)
    client.is_active = active
    if not active:
        client.credential_generation = (client.credential_generation or 0) + 1
    audit.record(db, actor=principal, action=action, object_type="api_client", object_id=client.client_id,
                 department_code=client.department.code)
    db.flush()
    return client


def department_by_code(db: Session, code: str) -> Department:
    return org.get_by_code_or_404(db, code)


# ------------------------------------------------------------------ sessions and credentials

def end_sessions(db: Session, user: User) -> None:
    """Every web session and bearer token of the account ends now: the generation they carry
    is no longer the account's (``load_principal``), and the session rows go."""
    user.credential_generation = (user.credential_generation or 0) + 1
    db.flush()
    sessions.end_all_for_user(db, user.id)


def end_token(db: Session, claims: TokenClaims) -> None:
    """This bearer token ends now, the account's other tokens and sessions do not."""
    if claims.jti:
        sessions.revoke_token(db, claims.jti, datetime.fromtimestamp(claims.expires, UTC))


def revoke_token(db: Session, settings: Settings, *, token: str) -> None:
    """RFC 7009: whoever holds a token may end it. A token that is forged, expired or garbled
    is already worth nothing, and the answer is the same (§2.2)."""
    try:
        claims = read_token(token, secret_key=settings.secret_key)
    except Problem:
        return
    end_token(db, claims)
    audit.record(db, actor=load_principal(db, claims.subject) or audit.ANONYMOUS, action="auth.revoke_token",
                 object_type="token", object_id=claims.subject[:64])


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise Problem("not-found", "没有该账户")
    return user


def user_of(db: Session, principal: Principal) -> User:
    if principal.actor_type != "user" or not str(principal.actor_id).isdigit():
        raise Problem("permission-denied", "只有个人、企业和工作人员账户有密码")
    return get_user(db, int(principal.actor_id))


def change_password(db: Session, settings: Settings, *, user: User, current: str, new: str, address: str) -> None:
    """Needs the current password (counted like a sign-in); every session and token ends."""
    keys = _sign_in_keys("sign-in", str(user.id), address)
    _throttled(db, settings, keys, on_refusal=lambda apart: None)
    if not verify_password(user.password_hash, current, profile=settings.argon2_profile):
        actor, user_id = _actor_of(user), user.id
        with transaction_apart(db) as apart:  # the failure counts although the change is refused
            _count_failure(apart, settings, keys)
            audit.record(apart, actor=actor, action="accounts.change_password", object_type="user",
                         object_id=str(user_id), outcome="failed", details={"reason": "wrong_password"})
        raise Problem("invalid-credentials", "当前密码错误")
    if new == current:
        raise Problem("validation-error", "新密码不能与当前密码相同",
                      errors=[{"field": "body.new_password", "code": "unchanged", "message": "新密码不能与当前密码相同"}])
    user.password_hash = hash_password(new, profile=settings.argon2_profile)
    user.must_change_password = False
    end_sessions(db, user)
    audit.record(db, actor=_actor_of(user), action="accounts.change_password", object_type="user", object_id=str(user.id))


# ------------------------------------------------------------------ 实名核验: real-name binding

class ApplicantIdentity(NamedTuple):
    """The signed-in applicant's identity, as the cases domain files applications under it."""

    id: int
    resident_id: str | None
    credit_code: str | None
    display_name: str
    verified: bool


_IDENTITY = select(User.id, User.resident_id, User.credit_code, User.display_name, User.verified_at).where(
    User.id == bindparam("id"))


def applicant_identity(db: Session, principal: Principal) -> ApplicantIdentity | None:
    """The applicant account behind a principal (None for a department system)."""
    if principal.actor_type != "user" or not str(principal.actor_id).isdigit():
        return None
    row = db.execute(_IDENTITY, {"id": int(principal.actor_id)}).first()
    if row is None:
        return None
    return ApplicantIdentity(row.id, row.resident_id, row.credit_code, row.display_name, row.verified_at is not None)


def verified_citizen(db: Session, resident_id: str) -> int | None:
    """The active, verified (实名核验) citizen account holding this resident ID, if any: the one a
    caller who gave that ID on the phone is told of their ticket in."""
    return db.scalar(select(User.id).where(User.resident_id == resident_id, User.verified_at.is_not(None),
                                           User.is_active.is_(True)))


def holders(db: Session, keys: Sequence[str]) -> dict[str, int]:
    """The active, verified applicant accounts holding these resident IDs or credit codes, by key:
    whom a finding about such a subject (a policy it qualifies for) is told to."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), 1000):
        chunk = list(keys[start:start + 1000])
        for user_id, resident_id, credit_code in db.execute(
                select(User.id, User.resident_id, User.credit_code)
                .where(or_(User.resident_id.in_(chunk), User.credit_code.in_(chunk)),
                       User.verified_at.is_not(None), User.is_active.is_(True))):
            found[str(credit_code or resident_id)] = user_id
    return found


def ensure_verified(identity: ApplicantIdentity) -> None:
    """Nothing is prefilled or applied for in an identity the account has not proven."""
    if not identity.verified:
        what = "身份证号" if identity.resident_id else "统一社会信用代码"
        raise Problem("identity-not-verified",
                      f"账户尚未完成实名核验，不能使用该{what}预填或申请。"
                      "个人请在「我的账户」以人口库登记手机收到的验证码完成核验；企业请由已核验的法定代表人绑定。")


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(value: str | None) -> str:
        return "".join(unicodedata.normalize("NFKC", value or "").split())
    return bool(norm(a)) and norm(a) == norm(b)


def _code_hash(settings: Settings, resident_id: str, code: str) -> str:
    # Keyed: a copy of the table alone cannot be tried against the million codes.
    return hmac.new(settings.secret_key.encode(), f"{resident_id}:{code}".encode(), hashlib.sha256).hexdigest()


def rate_limit_identity(db: Session, settings: Settings, address: str) -> None:
    """Registration, asking for a code and trying one: so many per client address and hour."""
    key = f"identity@{throttle.counted(address)}"
    throttle.check(db, [key], slug="too-many-attempts", detail="操作过于频繁，请 {minutes} 分钟后再试")
    throttle.fail(db, key, limit=settings.identity_actions_per_hour, window_minutes=60, lock_minutes=60)


def request_code(db: Session, settings: Settings, sender: SmsSender, *, resident_id: str, name: str, purpose: str,
                 user: User | None = None, new_password_hash: str | None = None) -> None:
    """Send a one-time code to the phone the population registry holds for the ID number, if the
    name matches. The caller's answer is the same either way (no oracle for names or phones);
    ``new_password_hash`` is hashed by the caller beforehand, whether the name matches or not."""
    person = registry.current_row(db, PERSONS, resident_id)
    phone = (person or {}).get("phone") or ""
    matched = person is not None and _same_name(person.get("name"), name) and phone.startswith("1")
    audit.record(db, actor=audit.ANONYMOUS, action=f"accounts.code_{purpose}", object_type="person",
                 object_id=resident_id, outcome="success" if matched else "failed",
                 details={"reason": None if matched else "no_match"})
    if not matched:
        return
    # Per ID number too: a stranger who knows the name cannot flood the owner's phone (or keep
    # voiding the owner's codes) from many addresses. The answer stays the same.
    try:
        throttle.check(db, [f"sms:{resident_id}"])
    except Problem:
        return
    throttle.fail(db, f"sms:{resident_id}", limit=settings.sms_codes_per_hour, window_minutes=60, lock_minutes=60)
    now = clock.now()
    # Only the latest code counts: asking again voids the earlier ones.
    db.execute(update(IdentityClaim).where(IdentityClaim.resident_id == resident_id, IdentityClaim.used_at.is_(None))
               .values(used_at=now))
    code = new_one_time_code()
    db.add(IdentityClaim(purpose=purpose, resident_id=resident_id, user_id=user.id if user else None,
                         password_hash=new_password_hash,
                         code_hash=_code_hash(settings, resident_id, code), attempts=0, created_at=now,
                         expires_at=now + timedelta(minutes=settings.sms_code_minutes)))
    db.flush()
    sender.send(phone, f"【通办】您的实名核验验证码为 {code}，{settings.sms_code_minutes} 分钟内有效。"
                       "如非本人操作，请勿将验证码告知他人。")


_CODE_REFUSED = "验证码错误或已失效，请重新获取"


def confirm_code(db: Session, settings: Settings, *, resident_id: str, code: str) -> User:
    """Prove the ID number with its code: the account is bound to it (and, on recovery, gets the
    new password). Whoever held an unproven account on the number loses it, sessions and all."""
    now = clock.now()
    claim = db.scalar(select(IdentityClaim).where(IdentityClaim.resident_id == resident_id,
                                                  IdentityClaim.used_at.is_(None))
                      .order_by(IdentityClaim.id.desc()).limit(1).with_for_update())  # one use, even at once
    if claim is None or claim.expires_at <= now or claim.attempts >= settings.sms_code_attempts:
        raise Problem("code-invalid", _CODE_REFUSED)
    if not hmac.compare_digest(claim.code_hash, _code_hash(settings, resident_id, code.strip())):
        claim.attempts += 1
        if claim.attempts >= settings.sms_code_attempts:
            claim.used_at = now  # void: a new code must be asked for
        audit.record(db, actor=audit.ANONYMOUS, action="accounts.code_confirm", object_type="person",
                     object_id=resident_id, outcome="failed", details={"attempts": claim.attempts})
        db.commit()
        raise Problem("code-invalid", _CODE_REFUSED)
    claim.used_at = now
    person = registry.current_row(db, PERSONS, resident_id) or {}
    user = get_by_username(db, resident_id)
    if user is None:  # recovery of a number nobody registered yet: the account is made now
        if claim.password_hash is None:
            raise Problem("code-invalid", _CODE_REFUSED)
        user = User(kind=AccountKind.CITIZEN.value, username=resident_id, display_name=person.get("name") or resident_id,
                    password_hash=claim.password_hash, resident_id=resident_id,
                    role_rows=[UserRole(role=Role.CITIZEN.value)], credential_generation=0)
        db.add(user)
        db.flush()
    else:
        if claim.purpose == "register" and claim.user_id != user.id:
            raise Problem("code-invalid", _CODE_REFUSED)  # the account changed hands since the code was sent
        taken_over = user.verified_at is None and claim.purpose != "register"
        if claim.password_hash is not None:
            user.password_hash, user.must_change_password = claim.password_hash, False
        if claim.purpose != "register":
            end_sessions(db, user)  # a recovery: whoever held the account (or its old password) is out
        if taken_over:
            audit.record(db, actor=audit.ANONYMOUS, action="accounts.reclaimed", object_type="user",
                         object_id=str(user.id), details={"previous_name": user.display_name})
    user.display_name = person.get("name") or user.display_name
    user.phone = person.get("phone")
    user.verified_at = now
    audit.record(db, actor=_actor_of(user), action=f"accounts.verified_{claim.purpose}", object_type="user",
                 object_id=str(user.id))
    return user


def bind_enterprise(db: Session, settings: Settings, *, citizen: User, credit_code: str, password: str) -> User:
    """A verified citizen who is the legal representative the legal-entity registry names binds
    the enterprise's account (made now, or taken from whoever registered it unproven) and sets
    its password. Every earlier session of that account ends."""
    if citizen.kind != AccountKind.CITIZEN.value or citizen.verified_at is None or not citizen.resident_id:
        raise Problem("identity-not-verified", "请先以本人身份证号完成实名核验，再绑定企业账户")
    entity = registry.current_row(db, LEGAL_ENTITIES, credit_code)
    if entity is None or entity.get("legal_representative_id") != citizen.resident_id:
        raise Problem("not-legal-representative", "法人库登记的法定代表人不是您，不能绑定该企业")
    user = get_by_username(db, credit_code)
    if user is None:
        user = User(kind=AccountKind.ENTERPRISE.value, username=credit_code, display_name=entity.get("name") or credit_code,
                    password_hash=hash_password(password, profile=settings.argon2_profile), credit_code=credit_code,
                    role_rows=[UserRole(role=Role.ENTERPRISE.value)], credential_generation=0)
        db.add(user)
        db.flush()
    else:
        user.password_hash = hash_password(password, profile=settings.argon2_profile)
        end_sessions(db, user)
    user.display_name = entity.get("name") or user.display_name
    user.phone = entity.get("phone")
    user.verified_at = clock.now()
    audit.record(db, actor=_actor_of(citizen), action="accounts.bind_enterprise", object_type="user",
                 object_id=str(user.id), details={"credit_code": credit_code})
    return user


def mark_verified(db: Session, user: User) -> None:
    """For the demo accounts, which match the registries by construction."""
    user.verified_at = user.verified_at or clock.now()
    db.flush()


# ------------------------------------------------------------------ the flows the API and the pages share

def start_citizen_registration(db: Session, settings: Settings, sender: SmsSender, *, resident_id: str, name: str,
                               password: str, address: str, phone: str | None = None) -> User:
    """An unbound citizen account, and the code to the registry's phone if the name matches."""
    rate_limit_identity(db, settings, address)
    db.commit()  # the attempt counts when refused too: "已存在" answers whether an ID number has an account
    if get_by_username(db, resident_id) is not None:
        raise Problem("conflict", f"账户 {resident_id} 已存在。如果不是您本人注册的，或忘记了密码，请使用「找回账户」。")
    user = register_citizen(db, settings, resident_id=resident_id, display_name=name, password=password, phone=phone)
    audit.record(db, actor=audit.ANONYMOUS, action="accounts.register_citizen", object_type="user", object_id=str(user.id))
    request_code(db, settings, sender, resident_id=resident_id, name=name, purpose="register", user=user)
    return user


def start_recovery(db: Session, settings: Settings, sender: SmsSender, *, resident_id: str, name: str,
                   password: str, address: str) -> None:
    """找回账户 / 重置密码: the code to the registry's phone; the new password waits for it."""
    rate_limit_identity(db, settings, address)
    # Hashed before the registry is asked: hashing only for a matching name made the answer
    # a password hash slower, telling a stranger whether the name goes with the ID number.
    password_hash = hash_password(password, profile=settings.argon2_profile)
    request_code(db, settings, sender, resident_id=resident_id, name=name, purpose="recover",
                 new_password_hash=password_hash)


def confirm(db: Session, settings: Settings, *, resident_id: str, code: str, address: str) -> User:
    rate_limit_identity(db, settings, address)
    db.commit()  # the attempt counts even when the code is wrong
    return confirm_code(db, settings, resident_id=resident_id, code=code)


def resend_code(db: Session, settings: Settings, sender: SmsSender, *, user: User, address: str) -> None:
    """A new code for the signed-in holder of an unbound citizen account (nothing if bound)."""
    if user.resident_id is None:
        raise Problem("validation-error", "只有个人账户以短信验证码核验；企业账户由法定代表人绑定")
    rate_limit_identity(db, settings, address)
    if user.verified_at is None:
        request_code(db, settings, sender, resident_id=user.resident_id, name=user.display_name, purpose="register",
                     user=user)


def _managed_user(db: Session, principal: Principal, user_id: int, *, action: str) -> User:
    """The account, if it is within the administrator's scope (an account of no department,
    a citizen's or an enterprise's, only for a platform-wide administrator)."""
    user = get_user(db, user_id)
    if user.department is not None:
        ensure_department(db, principal, Permission.USERS_MANAGE, user.department, action=action)
    elif principal.scope_for(Permission.USERS_MANAGE) != Scope.ALL:
        raise deny(db, principal, slug="permission-denied", detail="只有电子政务办管理员可以管理个人和企业账户",
                   action=action, object_type="user", object_id=str(user.id))
    return user


def revoke_sessions(db: Session, principal: Principal, *, user_id: int) -> User:
    """An administrator ends every session and token of an account (within their scope)."""
    user = _managed_user(db, principal, user_id, action="users.revoke_sessions")
    end_sessions(db, user)
    audit.record(db, actor=principal, action="users.revoke_sessions", object_type="user", object_id=str(user.id))
    return user


def set_active(db: Session, principal: Principal, *, user_id: int, active: bool) -> User:
    """Disable an account (it cannot sign in, and every session and token of it ends at once)
    or enable it again (its old sessions and tokens stay ended)."""
    action = "users.enable" if active else "users.disable"
    user = _managed_user(db, principal, user_id, action=action)
    if not active and principal.actor_type == "user" and principal.actor_id == str(user.id):
        raise Problem("conflict", "不能停用自己的账户")
    user.is_active = active
    if not active:
        end_sessions(db, user)
    audit.record(db, actor=principal, action=action, object_type="user", object_id=str(user.id))
    return user


def reset_staff_password(db: Session, settings: Settings, principal: Principal, *, user_id: int) -> tuple[User, str]:
    """An administrator sets a temporary password (returned once, never stored in clear); the
    staff member must choose a new one at the next sign-in, and every session and token ends."""
    user = _managed_user(db, principal, user_id, action="users.reset_password")
    if user.kind != AccountKind.STAFF.value:
        raise Problem("permission-denied", "个人和企业账户请本人通过「找回账户」以人口库登记手机的验证码重置密码")
    temporary = new_temporary_password()
    user.password_hash = hash_password(temporary, profile=settings.argon2_profile)
    user.must_change_password = True
    end_sessions(db, user)
    audit.record(db, actor=principal, action="users.reset_password", object_type="user", object_id=str(user.id))
    return user, temporary


# ------------------------------------------------------------------ housekeeping

def purge_expired(db: Session, settings: Settings) -> int:
    """Expired one-time codes, web sessions, revoked-token entries and quiet throttles go, so the
    tables hold what can still matter; how many rows went. A throttle goes once quiet for longer
    than the longest window failures are counted in (``_count_failure``, ``rate_limit_identity``)."""
    now = clock.now()
    gone = affected(db, delete(IdentityClaim).where(IdentityClaim.expires_at < now))
    gone += sessions.purge_expired(db, now)
    longest = max(timedelta(hours=24), timedelta(minutes=settings.login_lock_minutes))
    return gone + throttle.purge(db, now, quiet_for=longest)


def housekeeping_job(sessionmaker, settings: Settings) -> int:
    """The periodic purge of the server (``core.periodic``)."""
    with sessionmaker() as db:
        gone = purge_expired(db, settings)
        db.commit()
        return gone
