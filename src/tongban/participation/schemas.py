"""What the participation API takes and gives (and what other domains may read of it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from tongban.participation.models import Decision, Kind, QuestionKind, Status

KIND_LABELS = {Kind.SURVEY: "网上调查", Kind.SOLICITATION: "网上征求意见", Kind.INTERVIEW: "在线访谈"}
QUESTION_KIND_LABELS = {QuestionKind.SINGLE: "单选", QuestionKind.MULTIPLE: "多选", QuestionKind.TEXT: "填空"}
DECISION_LABELS = {Decision.ADOPTED: "采纳", Decision.PARTLY: "部分采纳", Decision.NOT_ADOPTED: "未采纳"}
# Where a topic stands, as the portal says it: computed from the status, the period and the clock.
PHASE_LABELS = {"draft": "草稿", "upcoming": "未开始", "open": "进行中", "closed": "已结束", "results": "已公布结果"}
RESULT_WORDS = {Kind.SURVEY: "调查结果", Kind.SOLICITATION: "意见采纳情况", Kind.INTERVIEW: "访谈实录"}

MAX_QUESTIONS, MAX_OPTIONS = 30, 12
MAX_BODY = 50_000  # characters of a draft policy's text
MAX_COMMENT = 2_000

KindName = Literal["survey", "solicitation", "interview"]


class QuestionIn(BaseModel):
    model_config = {"extra": "forbid"}
    kind: Literal["single", "multiple", "text"] = Field(description="single 单选 | multiple 多选 | text 填空")
    text: str = Field(min_length=2, max_length=300, description="问题")
    required: bool = True
    options: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS,
                               description="选项（单选、多选至少 2 个；填空不填）")


class TopicIn(BaseModel):
    """A new topic, or a draft's new content (the whole of it)."""

    model_config = {"extra": "forbid"}
    kind: KindName = Field(description="survey 网上调查 | solicitation 网上征求意见 | interview 在线访谈")
    title: str = Field(min_length=2, max_length=200)
    body: str = Field(min_length=2, max_length=MAX_BODY, description="调查说明、征求意见稿正文或访谈主题介绍")
    opens_at: AwareDatetime = Field(description="开始时间（带时区，如 2026-12-08T09:00:00+08:00）")
    closes_at: AwareDatetime = Field(description="截止时间（访谈：征集问题的截止时间）")
    event_at: AwareDatetime | None = Field(default=None, description="访谈时间（仅在线访谈）")
    guests: str | None = Field(default=None, max_length=500, description="访谈嘉宾（仅在线访谈）")
    questions: list[QuestionIn] = Field(default_factory=list, max_length=MAX_QUESTIONS, description="调查问题（仅网上调查，至少 1 个）")


class OptionRead(BaseModel):
    id: int
    label: str


class QuestionRead(BaseModel):
    id: int
    kind: str
    kind_label: str
    text: str
    required: bool
    options: list[OptionRead]


class TopicRead(BaseModel):
    id: int
    kind: str
    kind_label: str
    department: str
    department_name: str
    title: str
    phase: str = Field(description="draft | upcoming | open | closed | results")
    phase_label: str
    opens_at: datetime
    closes_at: datetime
    period_text: str = Field(description="期间（北京时间）")
    event_at: datetime | None
    event_text: str
    guests: str | None
    results_published: bool


class AdoptionRead(BaseModel):
    id: int
    subject: str
    decision: str
    decision_label: str
    reason: str
    comments: int = Field(description="归入该组的意见条数")


class InterviewAnswerRead(BaseModel):
    question: str = Field(description="网民提问（已去除个人信息）")
    answer: str
    answered_text: str


class OptionResult(BaseModel):
    id: int
    label: str
    count: int
    percent: float = Field(description="占本题作答人数的百分比")


class QuestionResult(BaseModel):
    id: int
    kind: str
    kind_label: str
    text: str
    answered: int = Field(description="作答人数")
    options: list[OptionResult]
    texts: list[str] | None = Field(default=None, description="填空答案（仅工作人员可见）")


class Results(BaseModel):
    responses: int
    questions: list[QuestionResult]


class TopicDetail(TopicRead):
    body: str
    questions: list[QuestionRead]
    attachment_url: str | None
    attachment_name: str | None
    summary: str | None = Field(description="采纳情况说明或访谈实录（公布后）")
    adoptions: list[AdoptionRead] = Field(description="意见采纳情况（公布后）")
    answers: list[InterviewAnswerRead] = Field(description="访谈答问（公布后）")
    results: Results | None = Field(description="调查结果（公布后；工作人员随时可见）")
    comments: int = Field(description="收到的意见或问题条数")
    my_response: bool = Field(description="本人是否已作答")


class AnswerIn(BaseModel):
    model_config = {"extra": "forbid"}
    question_id: int = Field(ge=1, le=2**31 - 1)
    option_ids: list[int] = Field(default_factory=list, max_length=MAX_OPTIONS)
    text: str | None = Field(default=None, max_length=MAX_COMMENT)


class ResponseIn(BaseModel):
    model_config = {"extra": "forbid"}
    answers: list[AnswerIn] = Field(min_length=1, max_length=MAX_QUESTIONS)


class ResponseRead(BaseModel):
    topic_id: int
    created_at: datetime
    created_text: str


class CommentIn(BaseModel):
    """A comment (征求意见) or a question in advance (在线访谈). Signed in: the account's name is
    used; otherwise name and contact are required."""

    model_config = {"extra": "forbid"}
    body: str = Field(min_length=2, max_length=MAX_COMMENT)
    name: str | None = Field(default=None, max_length=64)
    contact: str | None = Field(default=None, max_length=100, description="电话或电子邮箱（不公开）")


class CommentRead(BaseModel):
    id: int
    topic_id: int
    name: str
    contact: str | None = Field(description="联系方式（仅工作人员可见）")
    body: str
    created_text: str
    group_id: int | None
    selected: bool
    answer: str | None
    answered_text: str


class AdoptionIn(BaseModel):
    model_config = {"extra": "forbid"}
    subject: str = Field(min_length=2, max_length=200, description="该组意见的内容概要")
    decision: Literal["adopted", "partly", "not_adopted"] = Field(description="adopted 采纳 | partly 部分采纳 | not_adopted 未采纳")
    reason: str = Field(min_length=2, max_length=MAX_COMMENT, description="采纳情况或不采纳的理由")
    comment_ids: list[int] = Field(default_factory=list, max_length=500, description="归入该组的意见")


class SummaryIn(BaseModel):
    """The adoption summary (征求意见) or the transcript (在线访谈), published with the topic."""

    model_config = {"extra": "forbid"}
    summary: str = Field(min_length=2, max_length=MAX_BODY)
    adoptions: list[AdoptionIn] = Field(default_factory=list, max_length=100)


class AnswerQuestionIn(BaseModel):
    model_config = {"extra": "forbid"}
    answer: str = Field(min_length=2, max_length=MAX_BODY)


__all__ = ["Decision", "Kind", "QuestionKind", "Status"]
