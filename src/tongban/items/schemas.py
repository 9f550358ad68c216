"""API shapes of items (search, navigation, notices, authoring, synonyms) and consultations.

An item's content and a notice are documents in the national item elements (``content.py``),
answered as stored: their models name what every one of them has and keep the rest as it is.
Times are written as ``isoformat()`` writes them (``+00:00``), as these answers always have been.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

# A moment, written as before: ISO 8601 with its offset ("2026-03-02T01:02:03+00:00", not "…Z").
from tongban.core.pagination import Page
from tongban.core.responses import Instant


class SearchHitView(BaseModel):
    code: str
    name: str
    department: str
    department_name: str
    score: float
    why: list[str] = Field(description="命中的原因")


class BundleHitView(BaseModel):
    code: str = Field(description="一件事编码，在线申请：/apply/{code}")
    name: str
    score: float
    why: list[str] = Field(description="命中的原因")


class SearchAnswer(BaseModel):
    query: str = Field(description="规范化后的查询")
    items: list[SearchHitView]
    bundles: list[BundleHitView] = Field(default_factory=list, description="相关的「一件事」（多个事项一表申请）")


class CatalogItem(BaseModel):
    """A published item as the catalogue lists it (the whole document: /published/{code})."""

    code: str = Field(description="事项基本编码")
    name: str
    type: str = Field(description="事项类型，如行政许可、公共服务")
    department: str
    department_name: str
    service_objects: list[str] = Field(description="申请人类型：自然人、法人")
    themes: list[str] = Field(description="所属主题（人生事件、企业经营事件）")
    statutory_days: int | None = Field(description="法定办结时限（工作日）")
    committed_days: int | None = Field(description="承诺办结时限（工作日）")
    online_depth: int = Field(description="网上办理深度 1–4")
    version: int


class CatalogPage(Page[CatalogItem]):
    total: int = Field(description="符合条件的事项总数")


class PublishedItem(BaseModel):
    """The published item's whole document (the national item elements), with its version."""

    model_config = ConfigDict(extra="allow")

    basic_code: str
    name: str
    department: str
    version: int
    department_name: str


class Choice(BaseModel):
    id: str
    label: str


class Question(BaseModel):
    id: str
    question: str
    answers: list[Choice]


class MaterialView(BaseModel):
    id: str
    name: str
    form: JsonValue
    copies: JsonValue
    required: bool
    source: str
    issuer: JsonValue
    exempt: bool = Field(description="免提交（通过数据共享获取）")
    shared_data: str | None
    blank_form: JsonValue
    sample: JsonValue
    notes: JsonValue


class NavigationAnswer(BaseModel):
    item: str
    version: int
    asked: list[dict[str, str]] = Field(description="已回答的问题：question_id, question, answer_id, answer")
    done: bool
    question: Question | None = Field(description="下一个问题；已到具体情形为 null")
    materials: list[MaterialView] | None = Field(default=None, description="本情形的材料（仅 done 时给出）")


class Notice(BaseModel):
    """A tailored notice as issued: what one applicant in one situation must bring, and the way to the result."""

    model_config = ConfigDict(extra="allow")

    number: str
    issued_at: str
    item: dict[str, JsonValue]
    situation: list[dict[str, str]]
    materials: list[dict[str, JsonValue]]


class FaqView(BaseModel):
    id: int
    question: str
    answer: str
    origin: str


class FaqList(BaseModel):
    items: list[FaqView]


class ItemListed(BaseModel):
    code: str
    name: str
    department: str
    published_version: int | None
    latest_version: int
    latest_status: str
    updated_at: Instant


class ItemList(BaseModel):
    items: list[ItemListed]


class VersionView(BaseModel):
    version: int
    status: str
    status_label: str
    author: str
    created_at: Instant
    updated_at: Instant
    submitted_at: Instant | None
    reviewer: str | None
    reviewed_at: Instant | None
    review_comment: str | None


class VersionList(BaseModel):
    code: str
    name: str
    items: list[VersionView]


class VersionContent(VersionView):
    content: dict[str, JsonValue] = Field(description="该版本的事项内容")


class ItemsDocument(BaseModel):
    format: str
    version: int
    items: list[dict[str, JsonValue]]


class ImportCounts(BaseModel):
    created: int
    revised: int
    unchanged: int


class SynonymView(BaseModel):
    phrase: str
    expansions: list[str]


class SynonymListed(SynonymView):
    updated_by: str
    updated_at: Instant


class SynonymList(BaseModel):
    items: list[SynonymListed]


class ConsultationView(BaseModel):
    number: str
    item: str | None
    department: str
    department_name: str
    question: str
    status: str
    confidence: float = Field(description="常见问题自动答复的置信度")
    due_on: date | None = Field(description="人工答复的期限")
    answer: str | None
    answered_by: str | None
    answered_at: Instant | None
    created_at: Instant


class SuggestionView(BaseModel):
    faq_id: int
    item: str
    question: str
    answer: str
    confidence: float


class Asked(ConsultationView):
    handed_over: bool = Field(description="已转人工答复")
    suggestions: list[SuggestionView]


class ConsultationList(BaseModel):
    items: list[ConsultationView]


class PromotedFaq(BaseModel):
    id: int
    item: str
    question: str
    answer: str
    status: str = Field(description="draft 待审核（不公开）、published 已公开、rejected 未采用")


# ------------------------------------------------------------------ the item document, typed

class SituationAnswer(BaseModel):
    """One answer to a situation's question; ``next``: the question it leads to (None: the end)."""
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    label: str
    next: str | None = None


class Situation(BaseModel):
    """情形: a question whose answer decides which materials the applicant needs."""
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    question: str
    answers: tuple[SituationAnswer, ...]


class Material(BaseModel):
    """申请材料, as the national item elements describe one (``content.MATERIAL_FIELDS``)."""
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    name: str
    form: str  # 原件 | 复印件 | 电子件 | 原件及复印件
    copies: int
    required: str  # required | conditional
    when: tuple[str, ...] = ()  # the answers (ids) under which a conditional material is needed
    source: str  # applicant | issuing_department | shared_data
    issuer: str | None = None
    shared_resource: str | None = None
    blank_form: bool = False
    sample: bool = False
    notes: str | None = None


class ItemResult(BaseModel):
    """办理结果: what the applicant obtains (``content.RESULT_KINDS``: 证照, 批文, 登记, 其他);
    ``licence``: an electronic licence is issued for it (the editor and the demo always say,
    an imported workbook may leave it empty)."""
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    kind: str
    licence: bool | None = None


class LegalBasis(BaseModel):
    """设定依据: the law, its article and the article's text (``content.validate`` requires all three)."""
    model_config = ConfigDict(extra="allow", frozen=True)

    law: str
    article: str
    text: str


class ItemRelation(BaseModel):
    """关联事项: an item to do before (prerequisite), beside (parallel) or after (follow_up) this one."""
    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    item: str


class ServiceItemDocument(BaseModel):
    """A published service item's document (事项要素), read from its stored JSON as it was
    validated (``content.validate``): the parts other domains read are typed, the rest is kept
    as stored (``extra``). Read only: the stored JSON is the document's one form."""
    model_config = ConfigDict(extra="allow", frozen=True)

    basic_code: str
    implementation_code: str
    name: str
    type: str
    department: str
    service_objects: tuple[str, ...]
    situations: tuple[Situation, ...] = ()
    materials: tuple[Material, ...] = ()
    relations: tuple[ItemRelation, ...] = ()
    results: tuple[ItemResult, ...] = ()
    legal_basis: tuple[LegalBasis, ...] = ()
    statutory_days: int | None = None
    committed_days: int | None = None

    @field_validator("results", mode="before")
    @classmethod
    def _no_results(cls, value: object) -> object:
        """``content.validate`` lets an item's results be null (none): read as none."""
        return () if value is None else value
