"""电子监察: a clock for every time-limited piece of work, the warnings raised as clocks run,
the rules that say when, and the tables the evaluations and ratings (好差评) build on.

A clock is registered by the module whose work it times (``tongban.supervision.clocks``); nobody
types one in. Its due date and the first days its yellow and red rules apply are computed once,
on the working-day calendar, when it starts or resumes, so the warning scan compares dates in
SQL over millions of clocks instead of walking a calendar per row.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime
from tongban.supervision.read_models import Department  # what supervision uses of org's Department


class ClockKind(StrEnum):
    """What is timed; a later module adds its own kind here (and a rule row, or the defaults apply)."""

    ACCEPTANCE = "acceptance"  # 受理: from submission to the window's decision
    APPLICATION = "application"  # 办结: from acceptance to the result, paused during supplements
    TASK = "task"  # one department's review task of an application
    SHARING_REQUEST = "sharing_request"  # the provider's answer to a sharing request
    CORRECTION = "correction"  # the source's decision on a 纠错 request
    CONSULTATION = "consultation"  # a person's answer to a handed-over question
    RECTIFICATION = "rectification"  # 整改 after a poor rating
    DISCLOSURE_PUBLICATION = "disclosure_publication"  # 主动公开: published within 20 working days of 成文日期
    DISCLOSURE_NOTICE = "disclosure_notice"  # 政府信息公开条例第三十条: a 补正 notice within 7 working days
    DISCLOSURE_REPLY = "disclosure_reply"  # 第三十三条: the reply to a disclosure request, 20 (+20) working days
    # 城市网格化管理: the steps of a city-management case after it is reported
    GRID_REGISTER = "grid_register"  # 案卷建立: the supervision centre registers (立案) or rejects a report
    GRID_DISPATCH = "grid_dispatch"  # 任务派遣: the command centre sends it to a department
    GRID_HANDLE = "grid_handle"  # 任务处理: the department, within the category's 处置时限
    GRID_VERIFY = "grid_verify"  # 核查结案: the supervisor checks on site
    # 12345 热线工单: the department signs for a ticket; the centre calls the caller back after the reply
    HOTLINE_SIGN = "hotline_sign"  # 工单签收
    HOTLINE_FOLLOW_UP = "hotline_follow_up"  # 工单回访
    # 领导信箱: the letters office answers or assigns; the department replies; the office reviews and sends
    MAILBOX_OFFICE = "mailbox_office"
    MAILBOX_REPLY = "mailbox_reply"
    MAILBOX_REVIEW = "mailbox_review"


KIND_LABELS: dict[str, str] = {ClockKind.ACCEPTANCE: "受理", ClockKind.APPLICATION: "办件办结", ClockKind.TASK: "部门审查",
               ClockKind.SHARING_REQUEST: "共享申请答复", ClockKind.CORRECTION: "纠错处理",
               ClockKind.CONSULTATION: "咨询答复", ClockKind.RECTIFICATION: "整改",
               ClockKind.DISCLOSURE_PUBLICATION: "主动公开发布",
               ClockKind.DISCLOSURE_NOTICE: "信息公开补正告知", ClockKind.DISCLOSURE_REPLY: "信息公开申请答复",
               ClockKind.GRID_REGISTER: "城管案件立案", ClockKind.GRID_DISPATCH: "城管案件派遣",
               ClockKind.GRID_HANDLE: "城管案件处置", ClockKind.GRID_VERIFY: "城管案件核查",
               ClockKind.HOTLINE_SIGN: "热线工单签收", ClockKind.HOTLINE_FOLLOW_UP: "热线工单回访",
               ClockKind.MAILBOX_OFFICE: "领导信箱来信办理", ClockKind.MAILBOX_REPLY: "领导信箱部门答复",
               ClockKind.MAILBOX_REVIEW: "领导信箱答复审核"}


class HourBasis(StrEnum):
    """How a limit in hours counts: office hours of working days, or every hour of the day."""

    WORKING = "working"  # 工作小时
    CLOCK = "clock"  # 自然小时: emergencies do not wait for Monday


HOUR_BASIS_LABELS = {HourBasis.WORKING: "工作小时", HourBasis.CLOCK: "小时"}
# A clock in hours turns yellow when this share of its limit is left (a day clock: the rule's days).
YELLOW_SHARE_LEFT = 0.25


class ClockStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"  # waiting on someone outside the department (the applicant): no time counts, no warning
    CLOSED = "closed"


class Level(StrEnum):
    """The highest warning a clock has reached; it stays when a resumed clock moves its due date."""

    NONE = "none"
    YELLOW = "yellow"  # 黄牌: the yellow rule's days before the due date
    RED = "red"  # 红牌: overdue (by the red rule's days)


LEVEL_LABELS: dict[str, str] = {Level.NONE: "正常", Level.YELLOW: "黄色预警", Level.RED: "红色预警"}
STATUS_LABELS: dict[str, str] = {ClockStatus.OPEN: "计时中", ClockStatus.PAUSED: "暂停计时", ClockStatus.CLOSED: "已结束"}
CANCELLED = "cancelled"  # the outcome of a clock whose work was withdrawn: neither on time nor late
# How the subject of a clock ended, as a page says it: each domain closes its clocks with its own
# word (an application's status, a task's decision, a correction's answer …), named here, or as
# "kind:outcome" where a word means something else for that kind; an unnamed one reads as 已办结.
OUTCOME_LABELS: dict[str, str] = {
    CANCELLED: "已撤回", "accepted": "已受理", "correction:accepted": "已采纳", "not_accepted": "不予受理", "approved": "准予许可",
    "approve": "同意", "refused": "不予许可", "refuse": "不予许可", "supplement": "退回补正",
    "rejected": "不予采纳", "answered": "已答复", "escalated": "已提交协调", "rectified": "已整改",
    "disclosure_publication:published": "已公开",
    "disclosure_notice:clear": "无需补正", "disclosure_notice:supplement": "已告知补正", "transferred": "已转交",
}


def outcome_label(kind: str, outcome: str | None) -> str:
    """How a closed clock's subject ended, in words (see ``OUTCOME_LABELS``)."""
    return OUTCOME_LABELS.get(f"{kind}:{outcome}") or OUTCOME_LABELS.get(outcome or "", "已办结")


class SupervisionClock(Base):
    __tablename__ = "supervision_clocks"
    __table_args__ = (
        UniqueConstraint("kind", "subject_ref"),
        # The scan's two candidate sets: only open clocks still below the level are indexed.
        Index("ix_supervision_clocks_yellow", "yellow_on",
              postgresql_where=text("status = 'open' AND level = 'none'"),
              sqlite_where=text("status = 'open' AND level = 'none'")),
        Index("ix_supervision_clocks_red", "red_on",
              postgresql_where=text("status = 'open' AND level <> 'red'"),
              sqlite_where=text("status = 'open' AND level <> 'red'")),
        # Evaluations: a department's clocks closed in a period (open ones by closed_on IS NULL).
        Index("ix_supervision_clocks_department", "department_id", "closed_on"),
        # A period's evaluation of every department: the clocks closed in it, not years of them.
        Index("ix_supervision_clocks_closed_on", "closed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject_ref: Mapped[str] = mapped_column(String(64))  # the subject's number or id within its kind
    title: Mapped[str] = mapped_column(String(200))  # for people: 「营业执照核发审查」办件 BJ-…
    link: Mapped[str | None] = mapped_column(String(300))  # where the work is done
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    owner_account: Mapped[str | None] = mapped_column(String(64))  # the person on it; None: the department
    started_on: Mapped[date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer)  # working days committed
    paused_since: Mapped[date | None] = mapped_column(Date)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)  # working days spent paused so far
    pause_count: Mapped[int] = mapped_column(Integer, default=0)  # supplements asked (supplement rate)
    due_on: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # the due date touches an unpublished year
    yellow_on: Mapped[date] = mapped_column(Date)  # first day the yellow rule applies
    red_on: Mapped[date] = mapped_column(Date)  # first day the red rule applies
    status: Mapped[str] = mapped_column(String(8), default=ClockStatus.OPEN)
    level: Mapped[str] = mapped_column(String(8), default=Level.NONE)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(24))  # the subject's result: approved, refused, answered, cancelled …
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # set at close; None when cancelled
    used_days: Mapped[int | None] = mapped_column(Integer)  # working days used at close, pauses excluded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A limit in hours (urgent city-management work: a missing manhole cover within 2 hours) runs
    # on moments; the dates above are then those moments' Beijing dates, so the scan's day
    # indexes find it and the moments decide (``hour_basis``: working hours or clock hours).
    limit_hours: Mapped[int | None] = mapped_column(Integer)
    hour_basis: Mapped[str | None] = mapped_column(String(8))  # HourBasis
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    yellow_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    red_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_minutes: Mapped[int | None] = mapped_column(Integer)  # hours clocks: minutes used at close, pauses excluded

    department: Mapped[Department] = relationship("Department", lazy="joined")  # org's model, by its name


class ClockEvent(Base):
    """A clock's history: started, paused, resumed, assigned, closed (warnings are their own rows)."""

    __tablename__ = "supervision_clock_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("supervision_clocks.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))


class WarningRule(Base):
    """When a kind of work warns. A kind without a row warns by the defaults."""

    __tablename__ = "supervision_rules"
    __table_args__ = (
        CheckConstraint("yellow_days_before_due BETWEEN 0 AND 30", name="yellow_days"),
        CheckConstraint("red_days_after_due BETWEEN 0 AND 30", name="red_days"),
    )

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    yellow_days_before_due: Mapped[int] = mapped_column(Integer, default=2)  # working days
    red_days_after_due: Mapped[int] = mapped_column(Integer, default=0)  # working days overdue before red
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SupervisionWarning(Base):
    """One warning of one level for one clock, raised by the scan, acknowledged with an explanation."""

    __tablename__ = "supervision_warnings"
    __table_args__ = (
        UniqueConstraint("clock_id", "level"),
        Index("ix_supervision_warnings_department", "department_id", "raised_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("supervision_clocks.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))  # the clock's, copied for lists and counts
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    owner_account: Mapped[str | None] = mapped_column(String(64))  # the clock's owner when raised
    due_on: Mapped[date] = mapped_column(Date)  # the clock's due date when raised
    raised_on: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # one scan's warnings share it
    notified: Mapped[str] = mapped_column(String(200))  # JSON list: owner | department | department_head | inspectors
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_account: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation: Mapped[str | None] = mapped_column(String(2000))

    clock: Mapped[SupervisionClock] = relationship(lazy="joined")


# ---- the tables the evaluations and 好差评 are built on (their logic comes later) -------------------


class ServiceRating(Base):
    """好差评: the applicant's rating of a finished application, one per application."""

    __tablename__ = "supervision_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("case_applications.id"), unique=True)
    applicant_account: Mapped[str | None] = mapped_column(String(64), index=True)
    score: Mapped[int] = mapped_column(SmallInteger)  # 1 非常不满意 … 5 非常满意
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RectificationStatus(StrEnum):
    OPEN = "open"  # the department works on it, under its own clock
    SUBMITTED = "submitted"  # the department reports it done; the inspector checks
    CLOSED = "closed"


class Rectification(Base):
    """整改: what a department must put right after a poor rating (or a warning), by a deadline."""

    __tablename__ = "supervision_rectifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_ratings.id"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_warnings.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_clocks.id"))  # kind rectification
    status: Mapped[str] = mapped_column(String(16), default=RectificationStatus.OPEN, index=True)
    reason: Mapped[str] = mapped_column(String(2000))
    deadline: Mapped[date] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    follow_ups: Mapped[list[RectificationFollowUp]] = relationship(
        order_by="RectificationFollowUp.id", lazy="selectin", cascade="all, delete-orphan")


class RectificationFollowUp(Base):
    __tablename__ = "supervision_rectification_follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("supervision_rectifications.id", ondelete="CASCADE"),
                                                  index=True)
    text: Mapped[str] = mapped_column(String(2000))
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvaluationVersion(Base):
    """One computation of a period's figures that differed from the one before it. Its figures
    never change once written: the portal shows the period's latest published version, so a re-run
    that finds other figures (a late application, a late clock) adds a version beside the
    published one, and the public figures change only when an inspector publishes it. A re-run
    finding the same figures only stamps ``computed_at``/``computed_by``."""

    __tablename__ = "supervision_evaluation_versions"
    __table_args__ = (UniqueConstraint("period_start", "period_end", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the period
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when these figures were first computed
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the latest run that found the same figures
    computed_by: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(128))


class Evaluation(Base):
    """One department's figures in one version of a period's evaluation."""

    __tablename__ = "supervision_evaluations"
    __table_args__ = (UniqueConstraint("version_id", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("supervision_evaluation_versions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    figures: Mapped[str] = mapped_column(Text)  # JSON: on-time rate, average days, overdue, supplement, refusal …
