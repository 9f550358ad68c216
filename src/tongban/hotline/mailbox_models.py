"""领导信箱 (the leader's mailbox): what only a letter has, beside the case that carries it on the engine.

A letter IS a ``grid_cases`` row (``source = mailbox``, number ``XF-…``): its state, the department
it is assigned to, its trail, its version and its clocks are the case engine's (``grid.service``),
as a 12345 ticket's are. This 1:1 row holds the letter: its subject and text, who wrote it
(personal data, read only by the letters office and the departments it was assigned to), the
writer's consent to publication, the query code, the deadline the office gave the department, the
reply the writer was sent and, once published (选登), the public texts with personal data removed.

The letter's own vocabulary over the engine's states and steps:

    received 待处理 (registered) → answered 已答复 (answer: the office answers it itself)
    received → assigned 部门办理中 (dispatch = 交办) → replied 待审核 (handle = the department's reply)
    → answered (verify = the office sends it) | assigned again (rework = 退回重办, a new round)
    answered → published 已答复并选登 (only with the writer's consent)
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
        Index("ix_mailbox_letters_writer", "writer_account", "id"),  # 我的来信
        Index("ix_mailbox_letters_published", "published_at"),  # 信件选登
        Index("ix_mailbox_letters_duplicate", "writer_key", "text_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("grid_cases.id", ondelete="CASCADE"), unique=True)
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
    limit_days: Mapped[int | None] = mapped_column(Integer)  # the department's working days to reply
    for_leader: Mapped[bool] = mapped_column(Boolean, default=False)  # 呈报领导
    reply: Mapped[str | None] = mapped_column(Text)  # what the writer was sent (the department's draft is the case's result)
    replied_by: Mapped[str | None] = mapped_column(String(100))  # the body that answered (a department's name)
    public_subject: Mapped[str | None] = mapped_column(String(100))  # as published: personal data removed
    public_body: Mapped[str | None] = mapped_column(Text)
    public_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
