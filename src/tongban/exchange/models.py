"""The exchange's own records: every call (usage), subscriptions and their dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # the catalog's and org's classes, by their names in the shared registry
    from tongban.catalog.models import Resource
    from tongban.org.models import Department


class ExchangeCall(Base):
    """One call of the exchange: who read what, how much, why, and what came of it."""

    __tablename__ = "exchange_calls"
    __table_args__ = (Index("ix_exchange_calls_resource_at", "resource_code", "at"),
                      Index("ix_exchange_calls_department_at", "department_code", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str | None] = mapped_column(String(32))
    resource_code: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str] = mapped_column(String(16))  # record | query | changes | features | delivery
    keys_count: Mapped[int] = mapped_column(Integer)
    items: Mapped[str] = mapped_column(Text)  # JSON list of the item codes answered
    purpose: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | not_found | denied | invalid | failed
    grant_ids: Mapped[str | None] = mapped_column(String(200))  # JSON list: the grants that allowed it


class Subscription(Base):
    """Changes of a resource delivered to a department system's callback URL."""

    __tablename__ = "exchange_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    callback_url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))  # HMAC key; shown to the subscriber once
    items: Mapped[str | None] = mapped_column(Text)  # JSON list; None: every granted item
    purpose: Mapped[str] = mapped_column(String(500))
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # last feed position delivered
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts of the current batch
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))

    department: Mapped[Department] = relationship("Department", lazy="joined")
    resource: Mapped[Resource] = relationship("Resource", lazy="joined")


class DeadLetter(Base):
    """A batch of changes that could not be delivered after every retry; replayable."""

    __tablename__ = "exchange_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("exchange_subscriptions.id"), index=True)
    first_position: Mapped[int] = mapped_column(BigInteger)
    last_position: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
