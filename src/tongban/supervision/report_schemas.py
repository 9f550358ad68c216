"""API shapes of ratings (好差评), rectifications (整改), evaluations and the dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from tongban.core.inputs import Id
from tongban.supervision import evaluation
from tongban.supervision.models import Evaluation, EvaluationVersion, Rectification, ServiceRating
from tongban.supervision.read_models import Department
from tongban.supervision.schemas import (
    GOOD_REASONS, POOR_REASONS, RECTIFICATION_STATUS_LABELS, SCORE_LABELS, reason_labels,
)


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意；1–2 分为差评，转部门整改")
    reasons: list[str] = Field(default_factory=list, max_length=8,
                               description="原因代码（见 GET /api/v1/supervision/rating-reasons）；差评至少一项")
    comment: str | None = Field(default=None, max_length=500, description="评价内容，最多 500 字")


class Reason(BaseModel):
    code: str
    label: str


class ReasonList(BaseModel):
    poor: list[Reason] = Field(description="差评原因（1–3 分可选）")
    good: list[Reason] = Field(description="好评原因（3–5 分可选）")


class RectificationBrief(BaseModel):
    id: int
    deadline: date
    status: str


class RatingRead(BaseModel):
    application: str
    score: int
    score_label: str
    reasons: list[Reason]
    comment: str | None
    rated_at: datetime
    rectification: RectificationBrief | None = Field(description="差评转办的整改；好评为 null")


def rating_read(rating: ServiceRating, number: str, rectification: Rectification | None) -> RatingRead:
    codes = json.loads(rating.reasons)
    return RatingRead(
        application=number, score=rating.score, score_label=SCORE_LABELS[rating.score],
        reasons=[Reason(code=c, label=label) for c, label in zip(codes, reason_labels(rating))],
        comment=rating.comment, rated_at=rating.rated_at,
        rectification=RectificationBrief(id=rectification.id, deadline=rectification.deadline, status=rectification.status)
        if rectification else None)


def reason_list() -> ReasonList:
    return ReasonList(poor=[Reason(code=c, label=label) for c, label in POOR_REASONS.items()],
                      good=[Reason(code=c, label=label) for c, label in GOOD_REASONS.items()])


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000, description="整改进展")


class ClosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: str = Field(max_length=2000, description="整改结果")


class FollowUpRead(BaseModel):
    text: str
    by: str
    at: datetime


class RectificationRead(BaseModel):
    id: int
    department: str
    department_name: str
    status: str
    status_label: str
    reason: str
    deadline: date
    clock_id: int | None
    result: str | None
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    follow_ups: list[FollowUpRead]


def rectification_read(row: Rectification, department: Department) -> RectificationRead:
    return RectificationRead(
        id=row.id, department=department.code, department_name=department.name, status=row.status,
        status_label=RECTIFICATION_STATUS_LABELS.get(row.status, row.status), reason=row.reason, deadline=row.deadline,
        clock_id=row.clock_id, result=row.result, created_by=row.created_by, created_at=row.created_at,
        closed_at=row.closed_at, follow_ups=[FollowUpRead(text=f.text, by=f.by, at=f.at) for f in row.follow_ups])


# The figures of ``evaluation.figures``: rates as four-decimal strings, averages as two-decimal
# strings, None when there was nothing to divide. Every key is optional: a stored evaluation keeps
# the figures of the day it was computed, and a department's summary has no ``by_kind``.
class WorkFigures(TypedDict, total=False):
    started: int
    closed: int
    on_time: int
    closed_late: int
    open_at_end: int
    open_overdue: int
    overdue: int
    on_time_rate: str | None
    avg_used_days: str | None
    avg_limit_days: str | None
    used_days_total: int
    limit_days_total: int


class Figures(WorkFigures, total=False):
    applications_closed: int
    supplemented: int
    supplement_rate: str | None
    refused: int
    refusal_rate: str | None
    sharing_closed: int
    sharing_on_time: int
    sharing_timeliness: str | None
    ratings: int
    satisfaction: str | None
    poor_ratings: int
    poor_share: str | None
    ratings_by_score: dict[str, int]
    yellow_warnings: int
    red_warnings: int
    by_kind: dict[str, WorkFigures]  # internal only: each kind of work


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_start: date = Field(description="评估期间第一天")
    period_end: date = Field(description="评估期间最后一天（含）")


class PublicationIn(PeriodIn):
    version: Id | None = Field(default=None, description="核对过的版本号；期间已重新生成为更新的版本时拒绝公布（409）")


class EvaluationRead(BaseModel):
    department: str
    department_name: str
    period_start: date
    period_end: date
    version: int = Field(description="该期间评估的版本号（重新生成得出不同数字时加一）")
    level: str = Field(description="internal 内部（监察人员）| department 部门汇总（部门负责人）| public 公开")
    published: bool = Field(description="该版本是否为门户当前公示的版本")
    figures: Figures = Field(description="比率为四位小数的字符串（0.8750 即 87.5%），平均数为两位小数；无分母时为 null")
    computed_at: datetime
    computed_by: str


def evaluation_read(row: Evaluation, version: EvaluationVersion, department: Department, level: str,
                    shown: EvaluationVersion | None) -> EvaluationRead:
    """``shown``: the version the portal shows, if any."""
    values = json.loads(row.figures)
    if level == "department":
        values = evaluation.department_summary(values)
    return EvaluationRead(department=department.code, department_name=department.name, period_start=version.period_start,
                          period_end=version.period_end, version=version.number, level=level,
                          published=shown is not None and shown.id == version.id,
                          figures=values, computed_at=version.computed_at, computed_by=version.computed_by)


class FigureChangeRead(BaseModel):
    department: str
    department_name: str
    figure: str = Field(description="数字的键，如 started、ratings_by_score.5、by_kind.application.on_time_rate")
    figure_name: str = Field(description="数字的中文名称，如「新收（件）」「办件办结 · 按时办结率」")
    before: int | str | None = Field(description="原值（已公布版本或上一版本；部门当时没有数字为 null）")
    after: int | str | None = Field(description="新值")
    public: bool = Field(description="是否为门户公示的数字")


def change_reads(changes: list[evaluation.FigureChange], names: Mapping[int, Department]) -> list[FigureChangeRead]:
    return [FigureChangeRead(department=names[c.department_id].code, department_name=names[c.department_id].name,
                             figure=c.figure, figure_name=c.name, before=c.before, after=c.after, public=c.public)
            for c in changes]


class EvaluationChanges(BaseModel):
    period_start: date
    period_end: date
    published_version: int | None = Field(description="门户当前公示的版本；尚未公布为 null")
    version: int = Field(description="最新版本")
    changes: list[FigureChangeRead] = Field(description="最新版本与公示版本不同的数字（before 为公示值，after 为新值）；"
                                                        "两者相同或尚未公布时为空")


class EvaluationVersionRead(BaseModel):
    number: int
    created_at: datetime = Field(description="首次得出这些数字的时间")
    computed_at: datetime = Field(description="最近一次重新生成得出相同数字的时间")
    computed_by: str
    published_at: datetime | None
    published_by: str | None
    shown: bool = Field(description="门户当前公示的版本")
    departments: int
    changes: list[FigureChangeRead] = Field(description="与上一版本相比变化的数字（第 1 版为空）")


class PublicEvaluation(BaseModel):
    department: str
    department_name: str
    started: int = Field(description="新收件数")
    closed: int = Field(description="办结件数")
    on_time_rate: str | None = Field(description="按时办结率（0–1，四位小数）")
    avg_used_days: str | None
    avg_limit_days: str | None
    ratings: int
    satisfaction: str | None = Field(description="好差评平均分（1–5）")


class PublicEvaluations(BaseModel):
    version: int | None = Field(description="公示的评估版本")
    period_start: date | None
    period_end: date | None
    published_at: datetime | None
    departments: list[PublicEvaluation]


class DashboardDepartment(BaseModel):
    department: str
    department_name: str
    figures: Figures


class DashboardDay(BaseModel):
    day: date
    yellow: int
    red: int


class DashboardRead(BaseModel):
    period_start: date
    period_end: date
    department: str | None
    totals: Figures
    departments: list[DashboardDepartment]
    warnings_per_day: list[DashboardDay]

