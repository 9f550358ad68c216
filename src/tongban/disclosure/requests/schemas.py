"""API shapes of requests for disclosure, their letters and the annual report."""

from __future__ import annotations

import json
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from tongban.disclosure.requests.models import (
    CATEGORY_LABELS, CHANNEL_LABELS, DELIVERY_LABELS, EVENT_LABELS, GROUND_LABELS, LETTER_TITLES, NOT_PROCESSED_LABELS,
    REMEDY_LABELS, REPLY_LABELS, RESULT_LABELS, STATUS_LABELS, DisclosureEvent, DisclosureRemedy, DisclosureRequest,
)
from tongban.supervision.service import Deadline

_TEXT = 4000


class RequestIn(BaseModel):
    """A request (条例第二十九条). Online: the applicant is the signed-in account. Recorded by staff
    from a letter or a visit: ``channel``, the applicant's name, category and ID number too."""

    model_config = ConfigDict(extra="forbid")

    department: str = Field(max_length=32, description="受理申请的行政机关（部门代码）")
    description: str = Field(default="", max_length=_TEXT, description="所需政府信息的名称、文号或便于查询的特征性描述（必填）")
    purpose: str | None = Field(default=None, max_length=1000, description="申请用途（选填）")
    delivery: str = Field(default="online", max_length=8, description="获取方式：online 网上获取 | email 电子邮件 | post 邮寄 | pickup 当面领取")
    applicant_category: str | None = Field(default=None, max_length=16, description="申请人类别：natural 自然人 | commercial 商业企业 | research 科研机构 | public_interest 社会公益组织 | legal_service 法律服务机构 | other 其他")
    contact_phone: str | None = Field(default=None, max_length=32)
    contact_address: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=120)
    channel: str = Field(default="online", max_length=8, description="online 网上 | letter 信函 | visit 当面（后两者由工作人员登记）")
    applicant_name: str | None = Field(default=None, max_length=128, description="工作人员登记时：申请人姓名或名称")
    applicant_id: str | None = Field(default=None, max_length=40, description="工作人员登记时：身份证号或统一社会信用代码")


class CorrectionNoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: str = Field(default="", max_length=2000, description="需要补正的事项")
    days: int = Field(default=15, ge=1, le=30, description="补正期限（工作日）")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000, description="补正的内容")


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=20, ge=1, le=20, description="延长的工作日数（最长 20）")
    reason: str = Field(default="", max_length=1000, description="延长理由")


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    third_party: str = Field(default="", max_length=200, description="第三方名称")
    matter: str = Field(default="", max_length=2000, description="征求意见的事项")


class ConsultationAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opinion: str = Field(max_length=8, description="agree 同意公开 | object 不同意公开 | none 逾期未提出意见")
    note: str | None = Field(default=None, max_length=1000)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(max_length=32, description="负责公开该信息的行政机关（部门代码）")
    note: str = Field(default="", max_length=1000, description="转送理由")


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply_type: str = Field(max_length=16, description="答复类型：" + "；".join(f"{k} {v}" for k, v in REPLY_LABELS.items()))
    content: str | None = Field(default=None, max_length=_TEXT, description="公开的内容，或获取的方式、途径")
    withheld: str | None = Field(default=None, max_length=_TEXT, description="部分公开：不予公开的部分")
    ground: str | None = Field(default=None, max_length=24, description="不予公开的理由，或不予处理的情形")
    reason: str | None = Field(default=None, max_length=2000, description="说明")
    organ_name: str | None = Field(default=None, max_length=200, description="非本机关负责公开：负责的行政机关")
    organ_contact: str | None = Field(default=None, max_length=300, description="该机关的联系方式")
    repeat_of: str | None = Field(default=None, max_length=32, description="重复申请：此前已答复的申请编号")


class FeeWaiverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500, description="减免理由")


class RemedyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=24, description="review 行政复议 | lawsuit 直接起诉 | lawsuit_after_review 复议后起诉")
    result: str = Field(max_length=12, description="upheld 维持 | corrected 纠正 | other 其他 | pending 尚未审结")
    filed_on: date


class FeePreview(BaseModel):
    ordinal: int = Field(description="本自然月内第几件申请")
    yuan: int
    text: str


class DeadlineRead(BaseModel):
    started_on: date
    due_on: date
    limit_days: int
    remaining_days: int | None = Field(description="剩余工作日（负数为已逾期）")
    paused: bool


class LetterRead(BaseModel):
    id: int
    kind: str
    title: str
    issued_at: datetime
    url: str


class EventRead(BaseModel):
    action: str
    label: str
    day: date
    at: datetime
    actor: str
    details: dict


class RemedyRead(BaseModel):
    kind: str
    kind_label: str
    result: str
    result_label: str
    filed_on: date


class RequestRead(BaseModel):
    number: str
    department: str
    department_name: str
    channel: str
    channel_label: str
    applicant_name: str
    applicant_category: str
    applicant_category_label: str
    description: str
    purpose: str | None
    delivery: str
    delivery_label: str
    status: str
    status_label: str
    filed_on: date
    filed_at: datetime
    received_on: date
    correction_due_on: date | None
    consultation_due_on: date | None
    extended_days: int
    fee_ordinal: int
    fee_yuan: int
    fee_waived: bool
    fee_waiver_reason: str | None
    repeat_of: str | None
    reply_type: str | None
    reply_label: str | None
    reply_ground: str | None
    reply_ground_label: str | None
    concluded_on: date | None
    deadline: DeadlineRead | None


class RequestDetail(RequestRead):
    events: list[EventRead]
    letters: list[LetterRead]
    remedies: list[RemedyRead]


def deadline_read(deadline: Deadline | None) -> DeadlineRead | None:
    if deadline is None or deadline.closed:
        return None
    return DeadlineRead(started_on=deadline.started_on, due_on=deadline.due_on, limit_days=deadline.limit_days,
                        remaining_days=deadline.remaining_days, paused=deadline.paused)


def ground_label(code: str | None) -> str | None:
    return None if code is None else GROUND_LABELS.get(code) or NOT_PROCESSED_LABELS.get(code, code)


def request_read(request: DisclosureRequest, deadline: Deadline | None) -> RequestRead:
    return RequestRead(
        number=request.number, department=request.department.code, department_name=request.department.name,
        channel=request.channel, channel_label=CHANNEL_LABELS[request.channel], applicant_name=request.applicant_name,
        applicant_category=request.applicant_category, applicant_category_label=CATEGORY_LABELS[request.applicant_category],
        description=request.description, purpose=request.purpose, delivery=request.delivery,
        delivery_label=DELIVERY_LABELS[request.delivery], status=request.status, status_label=STATUS_LABELS[request.status],
        filed_on=request.filed_on, filed_at=request.filed_at, received_on=request.received_on,
        correction_due_on=request.correction_due_on, consultation_due_on=request.consultation_due_on,
        extended_days=request.extended_days, fee_ordinal=request.fee_ordinal, fee_yuan=request.fee_yuan,
        fee_waived=request.fee_waived, fee_waiver_reason=request.fee_waiver_reason, repeat_of=request.repeat_of,
        reply_type=request.reply_type, reply_label=REPLY_LABELS.get(request.reply_type or ""),
        reply_ground=request.reply_ground, reply_ground_label=ground_label(request.reply_ground),
        concluded_on=request.concluded_on, deadline=deadline_read(deadline))


def letter_url(request: DisclosureRequest, event: DisclosureEvent) -> str:
    return f"/api/v1/disclosure/requests/{request.number}/letters/{event.id}"


def request_detail(request: DisclosureRequest, deadline: Deadline | None, events: list[DisclosureEvent],
                   remedies: list[DisclosureRemedy]) -> RequestDetail:
    return RequestDetail(
        **request_read(request, deadline).model_dump(),
        events=[EventRead(action=e.action, label=EVENT_LABELS.get(e.action, e.action), day=e.day, at=e.at, actor=e.actor,
                          details=json.loads(e.details or "{}")) for e in events],
        letters=[LetterRead(id=e.id, kind=e.action, title=LETTER_TITLES[e.action], issued_at=e.at, url=letter_url(request, e))
                 for e in events if e.action in LETTER_TITLES],
        remedies=[RemedyRead(kind=r.kind, kind_label=REMEDY_LABELS[r.kind], result=r.result,
                             result_label=RESULT_LABELS[r.result], filed_on=r.filed_on) for r in remedies])


class QueueItem(BaseModel):
    number: str
    applicant_name: str
    description: str
    status: str
    status_label: str
    filed_on: date
    due_on: date | None
    remaining_days: int | None
    paused: bool


# ---- the annual report ---------------------------------------------------------------------------


class ReportRow(BaseModel):
    label: str
    values: list[int]
    level: int = Field(default=0, description="缩进层级：0 大项，1 小项，2 细项")


class ReportTable(BaseModel):
    title: str
    columns: list[str]
    rows: list[ReportRow]


class AnnualReport(BaseModel):
    year: int
    scope: str = Field(description="部门代码；全区为 district")
    scope_name: str
    due_on: date = Field(description="应当公布的日期（次年 1 月 31 日前）")
    generated_at: datetime
    tables: list[ReportTable]
