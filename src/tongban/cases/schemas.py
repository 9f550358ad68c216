"""API shapes of applications (办件), department tasks and process definitions.

The answers are built as plain JSON values by ``cases.api`` (several are written straight by
orjson, for speed); these models say what they hold, for the OpenAPI document and for FastAPI,
which checks an answer returned as a dict against them. Times are written as ``isoformat()``
writes them (``+00:00``), as these answers always have been.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, JsonValue

# A moment, written as before: ISO 8601 with its offset ("2026-03-02T01:02:03+00:00", not "…Z").
from tongban.core.responses import Instant


class SubjectRef(BaseModel):
    kind: str = Field(description="bundle（一件事）或 item（单一事项）")
    code: str


class ProcessRef(BaseModel):
    key: str
    version: int


class TaskView(BaseModel):
    id: int
    version: int = Field(description="待办的版本号：办理决定时带上，防止覆盖他人的更新")
    application: str
    application_name: str
    key: str
    name: str
    kind: str = Field(description="review（部门审查）或 supplement（申请人补正）")
    item: str | None
    department: str | None = Field(description="部门编码；申请人的补正待办为 null")
    status: str
    status_label: str
    claimed_by: str | None
    decision: str | None
    decision_label: str | None
    opinion: str | None
    decided_by: str | None
    opened_at: Instant
    decided_at: Instant | None


class TimelineEntry(BaseModel):
    at: Instant
    actor: str
    department: str | None
    kind: str
    text: str


class LicenceView(BaseModel):
    number: str
    name: str
    item: str
    issued_by: str
    issued_at: Instant


class ApplicationView(BaseModel):
    number: str
    name: str
    subject: SubjectRef
    channel: str
    applicant_type: str
    applicant_name: str
    status: str
    status_label: str
    status_reason: str | None
    accepted_on: date | None
    due_on: date | None
    limit_days: int | None
    paused_days: int
    paused: bool
    remaining_days: int | None = Field(description="剩余工作日（负数为已超期）")
    process: ProcessRef
    created_at: Instant
    finished_at: Instant | None
    form: dict[str, JsonValue] = Field(description="一张表：字段 → 值")
    materials: list[dict[str, JsonValue]] = Field(description="材料清单：每项材料及其提交方式（how）")
    tasks: list[TaskView]
    timeline: list[TimelineEntry]
    licences: list[LicenceView]
    applicant_id: str


class SharedData(BaseModel):
    """What the base registries hold of the applicant; empty when they hold nothing."""

    registry: str | None = None
    masked: bool | None = None
    values: dict[str, str] | None = None


class TaskDetail(TaskView):
    application_detail: ApplicationView
    shared_data: SharedData


class FormSubject(BaseModel):
    kind: str
    code: str
    name: str
    applicant_type: str
    items: list[str]


class FormFieldView(BaseModel):
    key: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    value: str | None = Field(description="预填的值（登录后取自基础库）")
    source: str | None = Field(description="预填值的来源")
    max_length: int


class RequiredMaterial(BaseModel):
    item: str
    item_name: str
    name: str
    exempt: bool
    shared_resource: str | None
    from_item: str | None


class SituationAnswer(BaseModel):
    id: str
    label: str


class Situation(BaseModel):
    key: str = Field(description="「事项编码.问题编号」：上传申请时 answers 的键")
    item: str
    item_name: str
    question: str
    answers: list[SituationAnswer]


class ListedMaterial(BaseModel):
    key: str = Field(description="「事项编码-材料编号」：上传申请时文件字段为 material:<key>")
    item: str
    item_name: str
    id: str
    name: str
    form: str
    copies: int
    notes: str | None
    issuer: str | None
    needed: bool | None = Field(description="必交 true；视情形提交而情形未定 null")
    condition: str | None = Field(description="视情形提交：在哪些情形下需要")
    exempt: bool
    exempt_source: str | None = Field(description="免提交时，平台从哪里获取")
    licence: str | None = Field(default=None, description="免提交：申请人已有的电子证照编号")
    shared_resource: str | None
    from_item: str | None
    blank_form_url: str | None
    sample_url: str | None


class ApplicationForm(BaseModel):
    subject: FormSubject
    fields: list[FormFieldView]
    materials: list[RequiredMaterial]
    situations: list[Situation] = Field(default_factory=list)
    material_list: list[ListedMaterial] = Field(default_factory=list, description="全部材料及说明、是否必交、免提交来源、空白表格和样表")


class ApplicationBrief(BaseModel):
    number: str
    name: str
    status: str
    status_label: str
    created_at: Instant
    due_on: date | None
    remaining_days: int | None


class ApplicationBriefs(BaseModel):
    items: list[ApplicationBrief]


class WindowEntry(BaseModel):
    number: str
    name: str
    channel: str
    applicant_name: str
    created_at: Instant
    materials: list[dict[str, JsonValue]]


class WindowQueue(BaseModel):
    items: list[WindowEntry]


class PublicStep(BaseModel):
    at: Instant
    text: str


class PublicStatus(BaseModel):
    number: str
    name: str
    status: str
    status_label: str
    status_reason: str | None
    due_on: date | None
    remaining_days: int | None
    timeline: list[PublicStep]


class Attachments(BaseModel):
    materials: list[dict[str, JsonValue]] = Field(description="办件的材料清单，含已上传的文件")


class TaskQueue(BaseModel):
    items: list[TaskView]
    next_cursor: str | None


class ProcessView(BaseModel):
    key: str
    version: int
    name: str
    items: list[str]


class ProcessListed(ProcessView):
    uploaded_by: str
    uploaded_at: Instant


class Processes(BaseModel):
    items: list[ProcessListed]


class LicenceCheck(BaseModel):
    """What anyone may learn of a licence by its number: whether it is valid, and who issued it."""

    number: str
    name: str
    item_name: str
    status: str = Field(description="valid（有效）、expired（已过期）或 revoked（已撤销）")
    status_label: str
    holder_name: str = Field(description="持证人（自然人脱敏显示）")
    holder_id: str = Field(description="持证人证件号码（自然人脱敏显示）")
    issued_by: str
    issued_at: Instant
    valid_until: date | None = Field(description="有效期至（北京时间日期）；null 为长期有效")
    revoked_at: Instant | None
    revoked_reason: str | None


class RevocationIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="撤销理由（公开于核验页）")
