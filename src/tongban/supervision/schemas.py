"""API shapes of clocks, warnings, rules and scans; the labels of 好差评 that pages show (the
rating form of an application is cases' page)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from tongban.supervision.models import (  # noqa: F401 (ClockKind, HourBasis: re-exported for the domains that time work)
    KIND_LABELS, LEVEL_LABELS, STATUS_LABELS, ClockKind, HourBasis, RectificationStatus, ServiceRating, SupervisionClock, SupervisionWarning,
    WarningRule,
)

SCORE_LABELS = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}
# The reasons an applicant can tick; poor ones go with scores up to 3, good ones from 3.
POOR_REASONS = {"slow": "办事效率低", "attitude": "服务态度差", "unclear_materials": "材料要求不清",
                "many_trips": "多次跑腿", "system": "系统不好用"}
GOOD_REASONS = {"efficient": "高效便捷", "warm": "服务热情", "one_visit": "一次办成"}
REASON_LABELS = {**POOR_REASONS, **GOOD_REASONS}
RECTIFICATION_STATUS_LABELS: dict[str, str] = {
    RectificationStatus.OPEN: "整改中", RectificationStatus.SUBMITTED: "待核查", RectificationStatus.CLOSED: "已整改"}


def reason_labels(rating: ServiceRating) -> list[str]:
    """A rating's reasons as people read them."""
    return [REASON_LABELS.get(code, code) for code in json.loads(rating.reasons)]


class ClockRead(BaseModel):
    id: int
    kind: str
    kind_label: str
    subject: str
    title: str
    link: str | None
    department: str
    department_name: str
    owner_account: str | None
    started_on: date
    limit_days: int
    paused_since: date | None
    paused_days: int
    pause_count: int
    due_on: date
    provisional: bool
    yellow_on: date
    red_on: date
    remaining_days: int | None = Field(description="剩余工作日（负数为已逾期）；已结束为 null")
    status: str
    status_label: str
    level: str
    level_label: str
    closed_on: date | None
    outcome: str | None
    on_time: bool | None
    used_days: int | None


def clock_read(clock: SupervisionClock, remaining_days: int | None) -> ClockRead:
    return ClockRead(
        id=clock.id, kind=clock.kind, kind_label=KIND_LABELS.get(clock.kind, clock.kind), subject=clock.subject_ref,
        title=clock.title, link=clock.link, department=clock.department.code, department_name=clock.department.name,
        owner_account=clock.owner_account, started_on=clock.started_on, limit_days=clock.limit_days,
        paused_since=clock.paused_since, paused_days=clock.paused_days, pause_count=clock.pause_count,
        due_on=clock.due_on, provisional=clock.provisional, yellow_on=clock.yellow_on, red_on=clock.red_on,
        remaining_days=remaining_days, status=clock.status, status_label=STATUS_LABELS.get(clock.status, clock.status),
        level=clock.level, level_label=LEVEL_LABELS.get(clock.level, clock.level), closed_on=clock.closed_on,
        outcome=clock.outcome, on_time=clock.on_time, used_days=clock.used_days)


class WarningRead(BaseModel):
    id: int
    clock_id: int
    clock_title: str
    kind: str
    level: str
    level_label: str
    department: str
    department_name: str
    owner_account: str | None
    due_on: date
    raised_on: date
    raised_at: datetime
    notified: list[str] = Field(description="owner 承办人 | department 本部门 | department_head 部门负责人 | inspectors 电子监察人员")
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    explanation: str | None


def warning_read(warning: SupervisionWarning) -> WarningRead:
    clock = warning.clock
    return WarningRead(
        id=warning.id, clock_id=warning.clock_id, clock_title=clock.title, kind=warning.kind, level=warning.level,
        level_label=LEVEL_LABELS.get(warning.level, warning.level), department=clock.department.code,
        department_name=clock.department.name, owner_account=warning.owner_account, due_on=warning.due_on,
        raised_on=warning.raised_on, raised_at=warning.raised_at, notified=json.loads(warning.notified),
        acknowledged_by=warning.acknowledged_by, acknowledged_at=warning.acknowledged_at,
        explanation=warning.explanation)


class EventRead(BaseModel):
    action: str = Field(description="started | paused | resumed | extended | assigned | warned_yellow | warned_red | closed")
    day: date
    at: datetime | None
    note: str | None


class ClockDetail(ClockRead):
    warnings: list[WarningRead]
    history: list[EventRead]


def clock_detail(clock: SupervisionClock, remaining_days: int | None, warnings: list[SupervisionWarning],
                 timeline: list[dict]) -> ClockDetail:
    return ClockDetail(**clock_read(clock, remaining_days).model_dump(),
                       warnings=[warning_read(w) for w in warnings], history=[EventRead(**e) for e in timeline])


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    explanation: str = Field(min_length=1, max_length=2000, description="情况说明：为何临近或超过期限，如何处理")


class RuleRead(BaseModel):
    kind: str
    kind_label: str
    yellow_days_before_due: int
    red_days_after_due: int
    enabled: bool
    updated_by: str | None
    updated_at: datetime | None


def rule_read(rule: WarningRule) -> RuleRead:
    return RuleRead(kind=rule.kind, kind_label=KIND_LABELS.get(rule.kind, rule.kind),
                    yellow_days_before_due=rule.yellow_days_before_due, red_days_after_due=rule.red_days_after_due,
                    enabled=rule.enabled, updated_by=rule.updated_by, updated_at=rule.updated_at)


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yellow_days_before_due: int = Field(ge=0, le=30, description="到期前几个工作日起黄色预警")
    red_days_after_due: int = Field(default=0, ge=0, le=30, description="逾期超过几个工作日红色预警（0：一逾期即红色）")
    enabled: bool = True


class RuleUpdated(RuleRead):
    clocks_rescheduled: int


class ScanRead(BaseModel):
    today: date
    yellow: int
    red: int
    notifications: int


@dataclass(frozen=True)
class Deadline:
    """A piece of work's deadline as its clock keeps it, for the module whose work it times (the
    one source of the fact: the module keeps no copy)."""
    started_on: date
    limit_days: int
    due_on: date
    paused: bool
    paused_since: date | None  # the day the clock stopped, while it is paused
    paused_days: int  # working days spent paused so far (the current pause not yet counted)
    closed: bool
    remaining_days: int | None  # working days left (negative when overdue); None once closed
