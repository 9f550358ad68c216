"""领导信箱 (the leader's mailbox): the letters residents and enterprises write, and their trail.

A letter's own short flow is kept here for now (issue 28 asks for one case engine; the letter is
kept simple so it can become a channel of it later), with supervision's clocks, the audit log
and notifications shared with every other domain:

    received 待处理 → answered 已答复 (the letters office answers centrally)
    received → assigned 部门办理中 → replied 待审核 → answered (the office reviews and sends the
    department's reply; or sends it back: assigned again) → published 已选登 (only with the
    writer's consent, with personal data removed)

A letter's deadlines are supervision's clocks, never copied here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime


class LetterStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    ANSWERED = "answered"
    PUBLISHED = "published"


STATUS_LABELS = {LetterStatus.RECEIVED: "待处理", LetterStatus.ASSIGNED: "部门办理中", LetterStatus.REPLIED: "待审核",
                 LetterStatus.ANSWERED: "已答复", LetterStatus.PUBLISHED: "已答复并选登"}
# What the writer reads: nothing of the office's inner steps, only where the letter is.
WRITER_STATUS_LABELS = {LetterStatus.RECEIVED: "已收到，正在办理", LetterStatus.ASSIGNED: "正在办理",
                        LetterStatus.REPLIED: "正在办理", LetterStatus.ANSWERED: "已答复",
                        LetterStatus.PUBLISHED: "已答复"}


class LetterAction(StrEnum):
    WRITE = "write"
    ANSWER = "answer"  # the office answers centrally
    ASSIGN = "assign"  # 交办 to a department, with a deadline
    REPLY = "reply"  # the department's reply, to the office
    SEND = "send"  # the office reviews the department's reply and sends it to the writer
    RETURN = "return"  # the office sends the department's reply back to be redone
    LEADER = "leader"  # 呈报领导
    PUBLISH = "publish"  # 选登


ACTION_LABELS = {LetterAction.WRITE: "来信", LetterAction.ANSWER: "信访办直接答复", LetterAction.ASSIGN: "交办部门",
                 LetterAction.REPLY: "部门答复", LetterAction.SEND: "审核通过，答复来信人",
                 LetterAction.RETURN: "退回部门重新办理", LetterAction.LEADER: "呈报领导", LetterAction.PUBLISH: "选登公开"}


class Letter(Base):
    __tablename__ = "mailbox_letters"
    __table_args__ = (
        Index("ix_mailbox_letters_status_created", "status", "created_at"),
        Index("ix_mailbox_letters_department_status", "department_id", "status"),
        Index("ix_mailbox_letters_writer", "writer_account", "id"),  # 我的来信
        Index("ix_mailbox_letters_published", "published_at"),  # 信件选登
        Index("ix_mailbox_letters_duplicate", "writer_key", "text_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # XF-YYYYMMDD-XXXXXX
    query_code_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the query code given to the writer
    subject: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)  # 同意公开: the letter and reply may be published
    # The writer: personal data, read only by the office and the department it is assigned to.
    writer_account: Mapped[str | None] = mapped_column(String(64))
    writer_kind: Mapped[str] = mapped_column(String(12))  # citizen | enterprise | anonymous
    writer_name: Mapped[str] = mapped_column(String(64))
    writer_phone: Mapped[str | None] = mapped_column(String(32))
    writer_email: Mapped[str | None] = mapped_column(String(120))
    writer_key: Mapped[str] = mapped_column(String(64))  # the account, or the contact: who wrote, for duplicates
    text_hash: Mapped[str] = mapped_column(String(64))  # sha256 of subject + body as written
    status: Mapped[str] = mapped_column(String(10), default=LetterStatus.RECEIVED)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # assigned to
    limit_days: Mapped[int | None] = mapped_column(Integer)  # the department's working days to reply
    for_leader: Mapped[bool] = mapped_column(Boolean, default=False)  # 呈报领导
    department_reply: Mapped[str | None] = mapped_column(Text)  # the department's draft, for the office
    reply: Mapped[str | None] = mapped_column(Text)  # what the writer was sent
    replied_by: Mapped[str | None] = mapped_column(String(100))  # the body that answered (a department's name)
    public_subject: Mapped[str | None] = mapped_column(String(100))  # as published: personal data removed
    public_body: Mapped[str | None] = mapped_column(Text)
    public_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # assignments so far (each has its clocks)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class LetterEvent(Base):
    """The trail of a letter: every step, by whom, with what note."""

    __tablename__ = "mailbox_letter_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("mailbox_letters.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(10))  # LetterAction
    status: Mapped[str] = mapped_column(String(10))  # the letter's status after it
    actor_account: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
