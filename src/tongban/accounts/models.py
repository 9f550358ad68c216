"""People and systems that sign in: staff, citizens, enterprises, and department API clients."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

from tongban.core import clock

if TYPE_CHECKING:  # org's, related by name in the one registry of models (tongban.metadata imports it)
    from tongban.org.models import Department


class AccountKind(StrEnum):
    STAFF = "staff"
    CITIZEN = "citizen"  # 自然人, keyed by resident ID number
    ENTERPRISE = "enterprise"  # 法人, keyed by unified social credit code


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Sign-in name: staff choose one; citizens use the ID number, enterprises the credit code.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    resident_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # 实名核验: when the ID number (or, for an enterprise, its legal representative) was proven.
    # Until then the account is the registrant's word only: nothing is prefilled or applied for.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moves on sign-out everywhere, password change, reset, disabling, an admin's revocation:
    # every session and bearer token carries the value it was issued under and dies with it.
    credential_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by an administrator's reset: the temporary password serves only to choose a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    department: Mapped[Department | None] = relationship("Department")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> list[str]:
        return sorted(row.role for row in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class IdentityClaim(Base):
    """A pending proof of identity: a one-time code sent to the phone the population registry
    holds for the ID number. Kept hashed; expires in minutes; single use; a few attempts."""

    __tablename__ = "identity_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # register | recover
    resident_id: Mapped[str] = mapped_column(String(18), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The new password of a recovery, set only once the code is proven (argon2 hash).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    code_hash: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiClient(Base):
    """A department's business system, signing in with OAuth2 client credentials."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # As users': moves when the secret is rotated or the client disabled, and every token
    # issued before dies with it.
    credential_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    department: Mapped[Department] = relationship("Department")
