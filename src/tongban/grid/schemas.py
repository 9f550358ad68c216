"""What the grid's API takes and gives (and what other domains may read of it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tongban.core import clock as wall
from tongban.grid.geo import CRS_LABELS, Crs
from tongban.grid.models import (  # noqa: F401 (re-exported: other channels file cases with their source)
    ACTION_LABELS, KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, UNIT_LABELS, Action, CaseEvent, CasePhoto, CaseStatus,
    GridCase, GridCategory, GridCell, Source,
)


class CategoryRead(BaseModel):
    kind: str
    kind_label: str
    code: str
    major_code: str
    major: str
    name: str
    register_condition: str = Field(description="立案条件")
    close_condition: str = Field(description="结案条件")
    limit_value: int = Field(description="处置时限（数值）")
    limit_unit: str = Field(description="clock_hours 小时 | working_hours 工作小时 | working_days 工作日")
    limit_text: str = Field(description="处置时限，如「2 小时」")
    urgent: bool
    handler: str
    active: bool


def category_read(category: GridCategory) -> CategoryRead:
    return CategoryRead(kind=category.kind, kind_label=KIND_LABELS.get(category.kind, category.kind),  # type: ignore[call-overload]
                        code=category.code, major_code=category.major_code, major=category.major, name=category.name,
                        register_condition=category.register_condition, close_condition=category.close_condition,
                        limit_value=category.limit_value, limit_unit=category.limit_unit,
                        limit_text=f"{category.limit_value} 个{UNIT_LABELS.get(category.limit_unit, category.limit_unit)}"  # type: ignore[call-overload]
                        .replace("个小时", "小时"),
                        urgent=category.urgent, handler=category.handler, active=category.active)


class CategoryUpdate(BaseModel):
    """What the city edits of a class: its conditions and its limit (codes and names are the standard's)."""

    model_config = {"extra": "forbid"}
    register_condition: str | None = Field(default=None, min_length=2, max_length=300)
    close_condition: str | None = Field(default=None, min_length=2, max_length=300)
    limit_value: int | None = Field(default=None, ge=1, le=720)
    limit_unit: Literal["clock_hours", "working_hours", "working_days"] | None = None
    handler: str | None = Field(default=None, min_length=2, max_length=24, pattern=r"^[a-z_]+$")
    active: bool | None = None


class ImportRead(BaseModel):
    version: int
    cells: int
    communities: list[str]
    replaced: int = Field(description="被替换（不再现行）的旧网格数")
    crs: str
    crs_label: str


class ComponentImportRead(BaseModel):
    created: int
    updated: int
    outside_grid: int = Field(description="不在任何单元网格内的部件数")


class ComponentRead(BaseModel):
    code: str
    category_code: str
    name: str
    cell_code: str | None
    owner: str
    maintainer: str
    state: str
    state_label: str
    lon: float
    lat: float


class CellRead(BaseModel):
    code: str
    street_code: str
    street: str
    community_code: str
    community: str
    land_use: str
    responsible_department: str | None = Field(description="责任单位；为空时由所在街道兜底")
    area_m2: float
    version: int


class Located(BaseModel):
    lon: float
    lat: float
    inside_grid: bool
    cell: str | None
    street_code: str | None
    proposed_department: str | None = Field(description="按该分类的处置主体建议的派遣部门")
    proposed_department_name: str | None


class EventRead(BaseModel):
    action: str
    action_label: str
    status: str
    status_label: str
    actor_name: str
    department: str | None
    note: str | None
    at: datetime
    at_text: str = Field(description="北京时间")
    photos: list[int]


class PhotoRead(BaseModel):
    id: int
    stage: str
    media_type: str
    width: int
    height: int
    url: str


class ClockRead(BaseModel):
    step: str
    limit: str
    due: str = Field(description="期限（北京时间）")
    level: str = Field(description="none | yellow | red")
    status: str


class CaseRead(BaseModel):
    number: str
    status: str
    status_label: str
    source: str
    source_label: str
    category_kind: str
    category_code: str
    category_name: str
    urgent: bool
    lon: float | None = Field(description="经度（WGS 84）；热线工单未说明地点时为空")
    lat: float | None = Field(description="纬度（WGS 84）")
    address: str | None
    description: str
    cell_code: str | None
    street_code: str | None
    department: str | None = Field(description="承办部门代码")
    department_name: str | None
    proposed_department: str | None
    proposed_department_name: str | None
    reporter_name: str | None
    duplicates: int
    returns: int = Field(description="退回次数")
    reworks: int = Field(description="返工次数")
    expected_at: datetime | None
    expected_text: str
    created_at: datetime
    created_text: str
    updated_at: datetime
    closed_at: datetime | None
    result: str | None
    version: int
    merged_into: str | None


class CaseDetail(CaseRead):
    trail: list[EventRead]
    photos: list[PhotoRead]
    clocks: list[ClockRead]
    possible_duplicates: list[str] = Field(description="附近同类未结案件（合并候选）")
    reporter_contact: str | None = Field(default=None, description="举报人联系方式（读取记入审计）")


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None


class MyReportRead(BaseModel):
    """A resident's own portal report (公众举报), as the reporter reads it."""

    number: str
    status: str
    status_label: str
    category_kind: str
    kind_label: str = Field(description="部件 | 事件")
    category_code: str
    category_name: str
    lon: float
    lat: float
    address: str | None
    description: str
    department_name: str | None = Field(description="承办部门（派遣后）")
    created_at: datetime
    created_text: str = Field(description="上报时间（北京时间）")
    closed_at: datetime | None
    closed_text: str = Field(description="办结时间（北京时间）")


class PublicStep(BaseModel):
    """A step of the public trail: what happened and which body did it; no staff names, no internal notes."""

    action: str
    label: str
    status: str
    status_label: str
    department: str | None = Field(description="办理部门名称")
    reply: str | None = Field(description="对上报人的答复（不予立案的理由）")
    at: datetime
    at_text: str = Field(description="北京时间")


class MyReportDetail(MyReportRead):
    steps: list[PublicStep]
    reply: str | None = Field(description="办结后的答复：处置结果，或不予立案的理由")
    photos: list[PhotoRead] = Field(description="本人上报时拍摄的照片")


class MyReportPage(BaseModel):
    items: list[MyReportRead]
    next_cursor: str | None


class StepIn(BaseModel):
    model_config = {"extra": "forbid"}
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="读取时的案件版本；他人先处理时返回 409")
    note: str | None = Field(default=None, max_length=1000)


class RejectIn(StepIn):
    reason: str = Field(min_length=2, max_length=1000)


class MergeIn(StepIn):
    into: str = Field(min_length=5, max_length=24, description="合并到的案件编号")


class DispatchIn(StepIn):
    department_code: str | None = Field(default=None, max_length=32, description="为空时派遣至系统建议的部门")


class ReturnIn(StepIn):
    reason: str = Field(min_length=2, max_length=1000)


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    bbox: list[float] | None = None


class EvaluationRow(BaseModel):
    key: str
    name: str
    figures: dict[str, float | int | None]


class Evaluation(BaseModel):
    start: str
    end: str
    formulas: dict[str, str]
    departments: list[EvaluationRow]
    streets: list[EvaluationRow]
    supervisors: list[EvaluationRow]


def beijing_text(moment: datetime | None) -> str:
    return wall.beijing_text(moment)


def crs_label(crs: str) -> str:
    return CRS_LABELS[Crs(crs)]
