"""Sharing requests (需求导向、供方响应、协调确认) and the grants they end in."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # the catalog's and org's classes, by their names in the shared registry
    from tongban.catalog.models import Resource
    from tongban.org.models import Department


class SharingRequest(Base):
    __tablename__ = "sharing_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # GX-20261122-7KQ2XM (core.numbers)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    duty: Mapped[str] = mapped_column(String(500))  # 职责依据
    basis: Mapped[str] = mapped_column(String(500))  # 法律或业务依据
    purpose: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)  # the provider's deadline, in working days
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_reason: Mapped[str | None] = mapped_column(String(16))  # refused | overdue
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    resource: Mapped[Resource] = relationship("Resource", lazy="joined")
    requester: Mapped[Department] = relationship("Department", foreign_keys=[requester_id], lazy="joined")
    provider: Mapped[Department] = relationship("Department", foreign_keys=[provider_id], lazy="joined")
    items: Mapped[list[SharingRequestItem]] = relationship(order_by="SharingRequestItem.id", lazy="selectin",
                                                           cascade="all, delete-orphan")
    steps: Mapped[list[SharingStep]] = relationship(order_by="SharingStep.id", lazy="selectin",
                                                    cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}


class SharingRequestItem(Base):
    __tablename__ = "sharing_request_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_requests.id", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    sharing_type: Mapped[str] = mapped_column(String(16))  # as the catalog said when asked
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str | None] = mapped_column(String(16))  # catalog | provider | egov


class SharingStep(Base):
    """Every step of a request, in order: who did what, when, why."""

    __tablename__ = "sharing_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_requests.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Grant(Base):
    """What a department may read of a resource, for which purpose, until when."""

    __tablename__ = "sharing_grants"
    __table_args__ = (Index("ix_sharing_grants_holder", "department_id", "resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_requests.id"), index=True)
    items: Mapped[str] = mapped_column(Text)  # JSON list of item codes
    purpose: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(16))  # catalog | provider | egov
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    department: Mapped[Department] = relationship("Department", lazy="joined")
    resource: Mapped[Resource] = relationship("Resource", lazy="joined")
