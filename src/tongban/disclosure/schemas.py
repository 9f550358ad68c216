"""What the disclosure catalog says: the catalog's classifications with their Chinese labels, the
API's documents, and the typed values other domains read (``ProactiveFigures``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Theme(StrEnum):
    """主题分类: the subject a document is catalogued under (the codes are the feeds' URLs)."""

    GENERAL = "general"
    ECONOMY = "economy"
    FINANCE = "finance"
    CONSTRUCTION = "construction"
    ENVIRONMENT = "environment"
    JUSTICE = "justice"
    CIVIL = "civil"
    LABOUR = "labour"
    HEALTH = "health"
    EDUCATION = "education"
    SCIENCE = "science"
    CULTURE = "culture"
    MARKET = "market"
    TRANSPORT = "transport"
    PLANNING = "planning"
    HOUSING = "housing"
    OTHER = "other"


THEME_LABELS: dict[str, str] = {
    Theme.GENERAL: "综合政务", Theme.ECONOMY: "国民经济管理", Theme.FINANCE: "财政、金融、审计",
    Theme.CONSTRUCTION: "城乡建设", Theme.ENVIRONMENT: "生态环境", Theme.JUSTICE: "公安、安全、司法",
    Theme.CIVIL: "民政、扶贫、救灾", Theme.LABOUR: "劳动、人事、监察", Theme.HEALTH: "卫生、体育",
    Theme.EDUCATION: "教育", Theme.SCIENCE: "科技", Theme.CULTURE: "文化、广电、新闻出版",
    Theme.MARKET: "市场监管、安全生产监管", Theme.TRANSPORT: "交通", Theme.PLANNING: "国土资源、能源",
    Theme.HOUSING: "住房保障", Theme.OTHER: "其他",
}


class Genre(StrEnum):
    """体裁分类: what kind of document it is."""

    REGULATION = "regulation"
    NORMATIVE = "normative"
    NOTICE = "notice"
    PLAN = "plan"
    STATISTICS = "statistics"
    PERSONNEL = "personnel"
    BUDGET = "budget"
    INTERPRETATION = "interpretation"
    NEWS = "news"
    PROCUREMENT = "procurement"
    LICENSING = "licensing"
    PENALTY = "penalty"
    OTHER = "other"


GENRE_LABELS: dict[str, str] = {
    Genre.REGULATION: "规章", Genre.NORMATIVE: "规范性文件", Genre.NOTICE: "通知公告", Genre.PLAN: "计划总结",
    Genre.STATISTICS: "统计信息", Genre.PERSONNEL: "人事信息", Genre.BUDGET: "财政预决算",
    Genre.INTERPRETATION: "政策解读", Genre.NEWS: "工作动态", Genre.PROCUREMENT: "招标采购", Genre.LICENSING: "行政许可",
    Genre.PENALTY: "行政处罚", Genre.OTHER: "其他",
}


class Openness(StrEnum):
    """公开方式. 依申请公开: the catalog lists the document, its text is given on request only;
    不予公开: recorded with its legal ground, never published."""

    PROACTIVE = "proactive"
    ON_REQUEST = "on_request"
    WITHHELD = "withheld"


OPENNESS_LABELS: dict[str, str] = {Openness.PROACTIVE: "主动公开", Openness.ON_REQUEST: "依申请公开",
                                   Openness.WITHHELD: "不予公开"}


class Validity(StrEnum):
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    REPEALED = "repealed"


VALIDITY_LABELS: dict[str, str] = {Validity.IN_FORCE: "有效", Validity.EXPIRED: "失效", Validity.REPEALED: "废止"}


class DocumentStatus(StrEnum):
    DRAFT = "draft"  # the drafter is writing it
    IN_REVIEW = "in_review"  # waiting for 保密审查
    RETURNED = "returned"  # the reviewer sent it back, with the ground
    APPROVED = "approved"  # passed 保密审查, waiting to be published
    PUBLISHED = "published"  # in the public catalog
    WITHDRAWN = "withdrawn"  # taken out of the catalog, with the reason


STATUS_LABELS: dict[str, str] = {
    DocumentStatus.DRAFT: "草稿", DocumentStatus.IN_REVIEW: "待保密审查", DocumentStatus.RETURNED: "审查退回",
    DocumentStatus.APPROVED: "审查通过待发布", DocumentStatus.PUBLISHED: "已公开", DocumentStatus.WITHDRAWN: "已撤回",
}

# A document's history, as its version list says it.
VERSION_ACTION_LABELS: dict[str, str] = {
    "drafted": "起草", "edited": "修改草稿", "attached": "上传附件", "submitted": "提交保密审查",
    "approved": "保密审查通过", "returned": "保密审查退回", "published": "发布", "changed": "变更已公开内容",
    "validity": "变更有效性", "withdrawn": "撤回",
}
# The fields as pages and version notes name them.
FIELD_LABELS: dict[str, str] = {"title": "标题", "document_number": "文号", "issued_on": "成文日期", "theme": "主题分类",
                                "genre": "体裁分类", "openness": "公开方式", "withheld_ground": "不予公开依据",
                                "body": "正文", "department": "发布机构", "reason": "变更理由"}
# Attachments the catalog takes, by the declared suffix (the file's own bytes must agree).
ATTACHMENT_KIND_LABELS: dict[str, str] = {"pdf": "PDF", "docx": "Word 文档", "xlsx": "Excel 表格", "xls": "Excel 97–2003 表格",
                                          "ofd": "OFD 版式文件"}


class DocumentFields(BaseModel):
    """What a drafter writes: the catalog fields and the full text."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300, description="标题")
    document_number: str | None = Field(default=None, max_length=60, description="文号，如 浦府〔2026〕12号")
    issued_on: date = Field(description="成文日期")
    theme: Theme = Field(description="主题分类")
    genre: Genre = Field(description="体裁分类")
    openness: Openness = Field(description="公开方式")
    withheld_ground: str | None = Field(default=None, max_length=500, description="不予公开的法定依据（不予公开时必填）")
    body: str = Field(default="", max_length=200_000, description="正文")


class DocumentCreate(DocumentFields):
    department: str | None = Field(default=None, max_length=32,
                                   description="发布机构的部门代码；默认为本人所在部门")


class DocumentChange(BaseModel):
    """A change to a draft, or (by a publisher, with a reason) to a published document."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=2, max_length=300)
    document_number: str | None = Field(default=None, max_length=60)
    issued_on: date | None = None
    theme: Theme | None = None
    genre: Genre | None = None
    openness: Openness | None = None
    withheld_ground: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=200_000)
    reason: str | None = Field(default=None, max_length=500, description="变更理由（变更已公开文件时必填）")


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision = Field(description="approve 通过 / return 退回")
    ground: str = Field(min_length=2, max_length=2000, description="审查意见及依据（必填）")


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500)


class ValidityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    validity: Validity
    replaced_by: str | None = Field(default=None, max_length=40, description="替代文件的索引号（废止时可填）")
    note: str | None = Field(default=None, max_length=500)


class SubscriptionKind(StrEnum):
    DEPARTMENT = "department"
    THEME = "theme"


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SubscriptionKind
    target: str = Field(min_length=1, max_length=32, description="部门代码或主题分类代码")


class SubscriptionRead(BaseModel):
    id: int
    kind: SubscriptionKind
    target: str
    target_name: str
    created_at: datetime


class AttachmentRead(BaseModel):
    id: int
    filename: str
    kind: str
    kind_label: str
    bytes: int
    sha256: str
    url: str


class VersionRead(BaseModel):
    version: int
    action: str
    action_label: str
    actor_name: str
    note: str | None
    at: datetime


class DocumentRead(BaseModel):
    """A document as the API shows it. For the public, ``body`` and attachments are there only
    when it is 主动公开; staff of its department see drafts, review and history too."""

    index_number: str
    title: str
    document_number: str | None
    department_code: str
    department_name: str
    issued_on: date
    published_on: date | None
    theme: Theme
    theme_label: str
    genre: Genre
    genre_label: str
    openness: Openness
    openness_label: str
    withheld_ground: str | None
    validity: Validity
    validity_label: str
    replaced_by: str | None
    status: DocumentStatus
    status_label: str
    body: str | None
    attachments: list[AttachmentRead]
    url: str
    drafted_by: str | None = None
    reviewed_by: str | None = None
    review_ground: str | None = None
    publish_due_on: date | None = None


class DocumentSummary(BaseModel):
    index_number: str
    title: str
    document_number: str | None
    department_name: str
    issued_on: date
    published_on: date | None
    theme_label: str
    genre_label: str
    validity_label: str
    status_label: str
    url: str


class ProactiveFigures(BaseModel):
    """主动公开情况 of a year (the annual report's first table): documents published in the year,
    by 体裁 (Chinese labels), and how many 主动公开 documents are in force at the year's end."""

    published_total: int
    by_genre: dict[str, int]
    in_force_total: int
