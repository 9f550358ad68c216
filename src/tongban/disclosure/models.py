"""The disclosure catalog: documents (with their attachments and every version), the per-department
sequence their 索引号 are drawn from, and the subscriptions that push new documents to people."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # org's class, by its name in the shared registry
    from tongban.org.models import Department


class IndexSequence(Base):
    """The last sequence number given in a department's year: one row, incremented in place, so
    two drafters at once get two numbers (the row's write lock orders them on both engines)."""

    __tablename__ = "disclosure_index_sequences"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DisclosureDocument(Base):
    __tablename__ = "disclosure_documents"
    __table_args__ = (
        Index("ix_disclosure_documents_catalog", "status", "department_id", "published_on"),
        Index("ix_disclosure_documents_theme", "status", "theme", "published_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    index_number: Mapped[str] = mapped_column(String(40), unique=True)  # 索引号: PD-CZ-2026-00012
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    document_number: Mapped[str | None] = mapped_column(String(60))  # 文号
    issued_on: Mapped[date] = mapped_column(Date)  # 成文日期
    published_on: Mapped[date | None] = mapped_column(Date)  # 发布日期 (Beijing)
    theme: Mapped[str] = mapped_column(String(32))  # schemas.Theme
    genre: Mapped[str] = mapped_column(String(32))  # schemas.Genre
    openness: Mapped[str] = mapped_column(String(16))  # schemas.Openness
    withheld_ground: Mapped[str | None] = mapped_column(String(500))
    validity: Mapped[str] = mapped_column(String(16), default="in_force")  # schemas.Validity
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_documents.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # schemas.DocumentStatus
    version: Mapped[int] = mapped_column(Integer, default=1)  # the number of the latest version row
    drafted_by: Mapped[str] = mapped_column(String(64))  # the drafter's account id
    drafted_by_name: Mapped[str] = mapped_column(String(128))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_by_name: Mapped[str | None] = mapped_column(String(128))
    review_ground: Mapped[str | None] = mapped_column(Text)  # 保密审查 的意见及依据
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    department: Mapped[Department] = relationship("Department", lazy="joined")
    replaced_by: Mapped[DisclosureDocument | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)
    attachments: Mapped[list[DisclosureAttachment]] = relationship(order_by="DisclosureAttachment.id", lazy="selectin",
                                                                   cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}


class DisclosureAttachment(Base):
    __tablename__ = "disclosure_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("disclosure_documents.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded (its name only)
    stored_as: Mapped[str] = mapped_column(String(64))  # the file's name under data_dir/disclosure/
    kind: Mapped[str] = mapped_column(String(8))  # pdf | docx | xlsx | xls | ofd
    media_type: Mapped[str] = mapped_column(String(100))
    bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")  # extracted for search
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosureVersion(Base):
    """Every step of a document, with the fields as they stood after it: what the public saw when."""

    __tablename__ = "disclosure_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("disclosure_documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # schemas.VERSION_ACTION_LABELS
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[str] = mapped_column(Text)  # the document's fields at this version, JSON
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosureSubscription(Base):
    """One person follows a department's or a theme's new documents (市民信箱)."""

    __tablename__ = "disclosure_subscriptions"
    __table_args__ = (UniqueConstraint("account_id", "kind", "target"), Index("ix_disclosure_subscriptions_target", "kind", "target"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # schemas.SubscriptionKind
    target: Mapped[str] = mapped_column(String(32))  # a department code or a theme code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
