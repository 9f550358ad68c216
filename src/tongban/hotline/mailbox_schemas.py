"""API shapes of the leader's mailbox (领导信箱): what a writer sends and reads, what staff read
and send, and the published letters (选登) the public reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tongban.core.inputs import INTEGER_MAX
from tongban.hotline.mailbox_service import DEFAULT_REPLY_DAYS, MAX_BODY, MAX_REPLY, MAX_REPLY_DAYS, MAX_SUBJECT

Version = Field(default=None, ge=1, le=INTEGER_MAX, description="读取时的版本号（防止覆盖他人的操作）")


class LetterIn(BaseModel):
    subject: str = Field(max_length=MAX_SUBJECT, description="信件标题")
    body: str = Field(max_length=MAX_BODY, description="信件内容")
    consent: bool = Field(default=False, description="是否同意公开：来信和答复可在「信件选登」中公开（隐去个人信息）")
    name: str | None = Field(default=None, max_length=64, description="姓名（未登录时必填）")
    phone: str | None = Field(default=None, max_length=32, description="联系电话（未登录时与电子邮箱至少填一项）")
    email: str | None = Field(default=None, max_length=120, description="电子邮箱")


class LetterWritten(BaseModel):
    number: str = Field(description="信件编号")
    query_code: str = Field(description="查询码：凭信件编号和查询码查询办理情况，只显示这一次")
    status: str
    status_label: str
    created_at: datetime
    created_text: str = Field(description="来信时间（北京时间）")


class LookupIn(BaseModel):
    number: str = Field(max_length=24, description="信件编号")
    query_code: str = Field(max_length=16, description="查询码")


class WriterLetter(BaseModel):
    """A letter as its writer reads it: the letter, where it is, the reply once answered."""

    number: str
    subject: str
    body: str
    consent: bool
    status: str
    status_label: str
    created_at: datetime
    created_text: str
    reply: str | None = Field(description="答复内容（已答复后）")
    replied_by: str | None = Field(description="答复单位")
    answered_text: str
    published: bool = Field(description="是否已在「信件选登」中公开")


class WriterLetterPage(BaseModel):
    items: list[WriterLetter]
    next_cursor: str | None


class PublishedLetter(BaseModel):
    """A published letter (选登): its texts with personal data removed, and no writer."""

    number: str
    subject: str
    body: str
    reply: str | None
    replied_by: str | None
    created_text: str
    answered_text: str
    published_at: datetime | None
    published_text: str


class PublishedPage(BaseModel):
    items: list[PublishedLetter]
    next_cursor: str | None


class LetterRead(BaseModel):
    number: str
    subject: str
    status: str
    status_label: str
    for_leader: bool = Field(description="已呈报领导")
    department: str | None = Field(description="交办部门编码")
    department_name: str | None
    limit_days: int | None = Field(description="部门办理期限（工作日）")
    consent: bool
    created_at: datetime
    created_text: str
    version: int


class LetterPage(BaseModel):
    items: list[LetterRead]
    next_cursor: str | None


class EventRead(BaseModel):
    action: str
    action_label: str
    status: str
    status_label: str
    actor_name: str
    department: str | None
    note: str | None
    at: datetime
    at_text: str


class ClockRead(BaseModel):
    step: str
    department: str
    limit: str
    due: str
    level: str
    status: str


class LetterDetail(LetterRead):
    body: str
    writer_name: str
    writer_kind: str
    writer_phone: str | None = Field(description="联系电话（查看即记入审计日志）")
    writer_email: str | None
    department_reply: str | None = Field(description="部门答复（待审核）")
    reply: str | None = Field(description="发送来信人的答复")
    replied_by: str | None
    public_subject: str | None
    public_body: str | None
    public_reply: str | None
    trail: list[EventRead]
    clocks: list[ClockRead]


class AnswerIn(BaseModel):
    reply: str = Field(max_length=MAX_REPLY, description="答复内容")
    version: int | None = Version


class AssignIn(BaseModel):
    department_code: str = Field(max_length=32, description="交办部门编码")
    limit_days: int = Field(default=DEFAULT_REPLY_DAYS, ge=1, le=MAX_REPLY_DAYS, description="办理期限（工作日）")
    note: str | None = Field(default=None, max_length=1000, description="交办意见")
    version: int | None = Version


class SendIn(BaseModel):
    reply: str | None = Field(default=None, max_length=MAX_REPLY, description="审核后发送的答复（不填：按部门答复发送）")
    version: int | None = Version


class ReturnIn(BaseModel):
    reason: str = Field(max_length=1000, description="退回理由")
    version: int | None = Version


class LeaderIn(BaseModel):
    note: str | None = Field(default=None, max_length=1000, description="呈报说明")


class PublishIn(BaseModel):
    version: int | None = Version
