"""12345 工单: what only a call has, beside the grid case that carries the ticket through the engine.

A ticket IS a ``grid_cases`` row (``source = hotline``, number ``RX-…``): its state, department,
trail and clocks are the case engine's. This 1:1 row holds the call: who phoned (personal data,
masked outside the handling department and the centre), what they said and the agent's summary,
the hotline category, the outcome the agent chose, the knowledge used, the transfer line, and what
happened to it since: signing, an extension asked for, urges, the follow-up (回访).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime


class Outcome(StrEnum):
    ANSWERED = "answered"  # 直接办结
    DISPATCHED = "dispatched"  # 派单
    TRANSFERRED = "transferred"  # 转专线
    MERGED = "merged"  # 合并


OUTCOME_LABELS = {Outcome.ANSWERED: "直接办结", Outcome.DISPATCHED: "派单", Outcome.TRANSFERRED: "转专线",
                  Outcome.MERGED: "合并"}


class ExtensionState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"


EXTENSION_LABELS = {ExtensionState.REQUESTED: "待审批", ExtensionState.APPROVED: "已同意", ExtensionState.REFUSED: "未同意"}


class Satisfaction(StrEnum):
    """好差评's five grades."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY = "basically"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


SATISFACTION_LABELS = {Satisfaction.VERY_SATISFIED: "非常满意", Satisfaction.SATISFIED: "满意",
                       Satisfaction.BASICALLY: "基本满意", Satisfaction.DISSATISFIED: "不满意",
                       Satisfaction.VERY_DISSATISFIED: "非常不满意"}


class HotlineTicket(Base):
    __tablename__ = "hotline_tickets"
    __table_args__ = (
        Index("ix_hotline_tickets_caller", "caller_phone", "created_at"),  # the caller's earlier tickets
        Index("ix_hotline_tickets_caller_id", "caller_id_number", "created_at"),  # 我的 12345 诉求
        Index("ix_hotline_tickets_extension", "extension_state"),  # the centre's extension requests
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("grid_cases.id", ondelete="CASCADE"), primary_key=True)
    caller_phone: Mapped[str] = mapped_column(String(20))  # personal data: masked outside the department and centre
    caller_name: Mapped[str | None] = mapped_column(String(64))
    caller_id_number: Mapped[str | None] = mapped_column(String(18))  # resident ID, when the caller gives it
    said: Mapped[str] = mapped_column(String(2000))  # what the caller said, as the agent typed it
    summary: Mapped[str] = mapped_column(String(500))  # the agent's summary
    category_code: Mapped[str] = mapped_column(String(16))  # the hotline's category (G-E0102, H-RS01)
    outcome: Mapped[str] = mapped_column(String(12))  # Outcome
    knowledge_ref: Mapped[str | None] = mapped_column(String(64))  # FAQ or item code used to answer
    knowledge_text: Mapped[str | None] = mapped_column(String(2000))  # the answer given
    transfer_line: Mapped[str | None] = mapped_column(String(8))
    agent_account: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 签收 of the current round
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    extension_state: Mapped[str | None] = mapped_column(String(10))  # ExtensionState
    urges: Mapped[int] = mapped_column(Integer, default=0)  # 督办 count
    satisfaction: Mapped[str | None] = mapped_column(String(20))  # Satisfaction, at the last follow-up
    solved: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_note: Mapped[str | None] = mapped_column(String(500))
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CorrectionKind(StrEnum):
    FILED = "filed"  # the agent filed the call under another category than the one proposed
    REROUTED = "rerouted"  # the centre changed a returned ticket's category when re-routing it


CORRECTION_LABELS = {CorrectionKind.FILED: "坐席改选分类", CorrectionKind.REROUTED: "退单改派改分类"}


class ClassifierCorrection(Base):
    """A label the centre gave against the classifier: what the caller said, the category chosen
    and the one proposed. The next retraining learns from every row up to its ``corrections_upto``."""

    __tablename__ = "hotline_classifier_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("grid_cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(24))  # the ticket's number, as the centre reads it
    said: Mapped[str] = mapped_column(String(2000))
    category_code: Mapped[str] = mapped_column(String(16))  # chosen: the label learnt
    proposed_code: Mapped[str] = mapped_column(String(16))  # what the classifier (or the ticket before) said
    kind: Mapped[str] = mapped_column(String(10))  # CorrectionKind
    actor_account: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClassifierVersion(Base):
    """One retraining: which labelled rows it used (corrections up to an id, tickets confirmed solved
    at a follow-up up to a time), how it scored on the demo's held-back tickets, who asked, when.
    A reference table: its writes move the generation (migration 0029), so every server process
    notices a new row on its next proposal and trains the same model from the same rows."""

    __tablename__ = "hotline_classifier_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    corrections_upto: Mapped[int] = mapped_column(Integer)  # the last correction's id used (0: none)
    confirmed_until: Mapped[datetime] = mapped_column(UTCDateTime)  # tickets followed up solved until then
    corrections: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    examples: Mapped[int] = mapped_column(Integer)  # everything trained on (demo part included)
    accuracy: Mapped[float] = mapped_column(Float)  # department top-1 on the demo's held-back tickets
    trained_by: Mapped[str] = mapped_column(String(64))
    trained_by_name: Mapped[str] = mapped_column(String(100))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
