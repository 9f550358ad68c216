"""Notifications to a department (its staff see them on the workbench) or to one account, and text
messages to a phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))  # only this role of the department, if set
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)  # one person's account instead
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000))
    link: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReadMark(Base):
    """One person has read one notification. A department's notice reaches several people: each
    reads it for themselves, so the read mark is per person, not on the notice."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TextMessage(Base):
    """A text message (短信) to a mobile phone, written in the transaction of the step it tells of and
    sent after commit by the text sender (``service.send_texts``): a rolled-back step sends nothing,
    a committed one is sent at least once. The phone is personal data: no page lists these."""

    __tablename__ = "notification_texts"
    # Only the waiting texts are indexed: the sender finds them fast however long the history.
    __table_args__ = (Index("ix_notification_texts_waiting", "id", sqlite_where=text("sent_at IS NULL"),
                            postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(64))  # what it tells of (a ticket's number)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender took it (one process sends it)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
