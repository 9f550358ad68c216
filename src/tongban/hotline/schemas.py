"""The hotline's API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from tongban.core.idnumbers import ResidentId
from tongban.hotline.classify import MAX_TEXT


class ProposalIn(BaseModel):
    """What the caller says, as the agent has typed it so far."""

    model_config = {"extra": "forbid"}
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="来电内容（坐席已记录的文字，最多 2000 字）")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank_text", "来电内容不能只有空白")
        return value


class ProposalRead(BaseModel):
    category: str = Field(description="分类编码（G- 开头为城市网格化管理的部件、事件分类）")
    category_name: str = Field(description="分类名称")
    major: str = Field(description="大类")
    department: str = Field(description="承办部门编码")
    department_name: str = Field(description="承办部门名称")
    transfer_line: str | None = Field(description="应转接的专线号码（12319、12333、12315），无则为空")
    transfer_line_name: str | None = Field(description="专线名称")
    confidence: float = Field(ge=0, le=1, description="承办部门的置信度（0–1）")


class ProposalsRead(BaseModel):
    proposals: list[ProposalRead] = Field(description="最可能的承办部门（至多 3 个），每个带其最可能的分类")
    must_choose: bool = Field(description="首选的置信度低于阈值：须由坐席选择")
    threshold: float = Field(description="置信度阈值")


class ClassifierRead(BaseModel):
    """The classifier in use and what a retraining would add."""

    description: str = Field(description="在用模型的说明")
    version: int | None = Field(description="最近一次重新训练的版本号；为空即演示模型")
    trained_at: datetime | None = Field(description="训练时间")
    trained_text: str | None = Field(description="训练时间（北京时间）")
    trained_by: str | None = Field(description="训练人")
    examples: int | None = Field(description="训练样本数（演示工单训练部分、纠正和回访确认的工单）")
    corrections: int | None = Field(description="其中热线中心的纠正数")
    confirmed: int | None = Field(description="其中回访确认已解决的工单数")
    accuracy: float | None = Field(description="在演示工单留出部分（训练从未见过）上按承办部门的首选准确率（0–1）")
    corrections_since: int = Field(description="上次训练以来新增的纠正数")
    confirmed_since: int = Field(description="上次训练以来回访确认已解决的工单数")
    process_version: int | None = Field(description="本服务进程正在使用的版本号（为空即演示模型）")


class CategoryRead(BaseModel):
    code: str
    major: str
    name: str
    department: str = Field(description="承办部门编码")
    transfer_line: str | None = Field(description="应转接的专线号码")
    source: str = Field(description="grid 城市网格化管理分类 | hotline 热线特有分类")


# ---- 12345 工单 -------------------------------------------------------------------------------------

PHONE_PATTERN = r"^\+?[0-9][0-9-]{4,19}$"


def _blank_refused(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise PydanticCustomError("blank_text", "不能只有空白")
    return value


class TicketIn(BaseModel):
    """A call as the agent records it, with the outcome chosen."""

    model_config = {"extra": "forbid"}
    caller_phone: str = Field(pattern=PHONE_PATTERN, max_length=20, description="来电号码")
    caller_name: str | None = Field(default=None, max_length=64, description="来电人称呼")
    caller_id_number: ResidentId | None = Field(default=None, description="来电人身份证号（可选）")
    said: str = Field(min_length=1, max_length=MAX_TEXT, description="来电内容（最多 2000 字）")
    summary: str = Field(min_length=1, max_length=500, description="坐席摘要（最多 500 字）")
    category: str = Field(min_length=6, max_length=16, pattern=r"^(G-[CE]\d{4}|H-[A-Z]{2}\d{2})$", description="热线分类编码")
    outcome: Literal["answered", "dispatched", "transferred", "merged"] = Field(
        description="answered 直接办结 | dispatched 派单 | transferred 转专线 | merged 合并")
    department_code: str | None = Field(default=None, max_length=32, description="派单部门（为空时按分类的承办部门）")
    knowledge_ref: str | None = Field(default=None, max_length=64, description="所用知识：事项编码或常见问题编号")
    knowledge_text: str | None = Field(default=None, max_length=2000, description="直接办结时答复来电人的内容")
    transfer_line: str | None = Field(default=None, max_length=8, description="转接专线（12319、12333、12315）")
    merge_into: str | None = Field(default=None, max_length=24, description="合并到的未办结工单编号")
    lon: float | None = Field(default=None, ge=-180, le=180, description="地点经度（WGS 84，可选）")
    lat: float | None = Field(default=None, ge=-90, le=90, description="地点纬度（WGS 84，可选）")
    address: str | None = Field(default=None, max_length=200, description="地点描述（可选）")
    proposed_category: str | None = Field(default=None, min_length=6, max_length=16, pattern=r"^(G-[CE]\d{4}|H-[A-Z]{2}\d{2})$",
                                          description="受理页面当时建议的首选分类；与所选分类不同即记为一次纠正（服务端复核）")

    @field_validator("said", "summary")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        _blank_refused(value)
        return value


class TicketStepIn(BaseModel):
    model_config = {"extra": "forbid"}
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="读取时的工单版本；他人先处理时返回 409")


class ReplyIn(TicketStepIn):
    reply: str = Field(min_length=2, max_length=2000, description="办理结果和给来电人的答复")


class ReasonIn(TicketStepIn):
    reason: str = Field(min_length=2, max_length=1000, description="理由")


class ExtensionIn(ReasonIn):
    days: int = Field(ge=1, le=30, description="申请延长的工作日数")


class ExtensionDecisionIn(TicketStepIn):
    approve: bool
    note: str | None = Field(default=None, max_length=500)


class RerouteIn(TicketStepIn):
    department_code: str | None = Field(default=None, max_length=32, description="改派部门；为空时按分类的承办部门（未改分类即原分类的）")
    category: str | None = Field(default=None, min_length=6, max_length=16, pattern=r"^(G-[CE]\d{4}|H-[A-Z]{2}\d{2})$",
                                 description="改正后的热线分类（可选）；与原分类不同即记为一次纠正")
    note: str | None = Field(default=None, max_length=500, description="派单说明（裁定意见）")


class UrgeIn(TicketStepIn):
    note: str | None = Field(default=None, max_length=500, description="督办意见")


class FollowUpIn(TicketStepIn):
    satisfaction: Literal["very_satisfied", "satisfied", "basically", "dissatisfied", "very_dissatisfied"] = Field(
        description="好差评五级：非常满意、满意、基本满意、不满意、非常不满意")
    solved: bool = Field(description="问题是否解决；未解决则重新交办原承办部门")
    note: str | None = Field(default=None, max_length=500)


class PurposeIn(BaseModel):
    model_config = {"extra": "forbid"}
    purpose: str = Field(min_length=2, max_length=200, description="查看完整号码的用途（记入审计日志）")


class ContactRead(BaseModel):
    caller_phone: str
    caller_id_number: str | None


class CallerLookupIn(BaseModel):
    """A caller's resident ID looked up in the population registry, with the purpose (audited)."""

    model_config = {"extra": "forbid"}
    id_number: ResidentId = Field(description="来电人身份证号")
    purpose: str = Field(min_length=2, max_length=200, description="查询用途（记入审计日志）")


class CallerRead(BaseModel):
    found: bool = Field(description="人口库中是否有此人")
    masked: bool = Field(description="个人信息是否已脱敏（无查看明文权限时脱敏）")
    name: str | None
    residence_status: str | None
    residence_address: str | None


class ContextIn(BaseModel):
    """What the call page asks while the agent types: the caller's earlier tickets, open tickets
    at the same place, and the service items and FAQ answers that match."""

    model_config = {"extra": "forbid"}
    caller_phone: str | None = Field(default=None, pattern=PHONE_PATTERN, max_length=20)
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class TicketRead(BaseModel):
    number: str
    status: str
    status_label: str
    outcome: str
    outcome_label: str
    category: str
    category_name: str
    department: str | None
    department_name: str | None
    caller_phone: str = Field(description="来电号码（已脱敏）")
    caller_name: str | None
    caller_id_number: str | None = Field(description="身份证号（已脱敏）")
    said: str
    summary: str
    address: str | None
    lon: float | None
    lat: float | None
    knowledge_ref: str | None
    knowledge_text: str | None
    transfer_line: str | None
    signed_at: datetime | None
    extension_days: int | None
    extension_reason: str | None
    extension_state: str | None
    extension_label: str | None
    urges: int
    satisfaction: str | None
    satisfaction_label: str | None
    solved: bool | None
    reopens: int
    reply: str | None
    expected_at: datetime | None
    expected_text: str
    created_at: datetime
    created_text: str
    version: int


class TicketEventRead(BaseModel):
    action: str
    action_label: str
    actor_name: str
    department: str | None
    note: str | None
    at: datetime
    at_text: str


class TicketClockRead(BaseModel):
    step: str
    limit: str
    due: str
    level: str
    status: str


class TicketDetail(TicketRead):
    trail: list[TicketEventRead]
    clocks: list[TicketClockRead]
    actions: list[str] = Field(description="本人现在可做的操作")


class ItemHit(BaseModel):
    code: str
    name: str
    department_name: str


class TicketContext(BaseModel):
    earlier: list[TicketRead] = Field(description="同一来电号码的历史工单")
    nearby: list[TicketRead] = Field(description="同一地点附近的未办结工单")
    items: list[ItemHit] = Field(description="匹配的办事事项（其常见问题见 /api/v1/items/published/{code}/faq）")


class CallerStepRead(BaseModel):
    label: str
    department: str | None
    at: datetime
    at_text: str


class CallerTicketRead(BaseModel):
    """A ticket as its caller reads it (我的 12345 诉求): what they said, where it is, who handles it and
    the reply; nothing of the centre's inner notes, the agent or other people."""

    number: str
    status: str
    status_label: str = Field(description="办理进度（来电人所见的说法）")
    category_name: str
    said: str
    department_name: str | None = Field(description="承办部门（派单后）")
    answer: str | None = Field(description="坐席直接答复的内容")
    transfer_line: str | None = Field(description="已转接的专线")
    reply: str | None = Field(description="承办部门的答复")
    satisfaction_label: str | None
    solved: bool | None
    created_at: datetime
    created_text: str
    steps: list[CallerStepRead] = Field(default_factory=list, description="办理过程（详情时）")


class CallerTicketsRead(BaseModel):
    verified: bool = Field(description="账户是否已实名核验（未核验时不显示按身份证号关联的工单）")
    items: list[CallerTicketRead]
