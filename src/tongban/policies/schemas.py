"""智能匹配: the facts a policy's conditions may name, the conditions themselves (data staff write,
never code), and what the policies API takes and gives.

A condition names a fact of the subject (an enterprise's registered capital, a resident's age), an
operator and a threshold. Conditions combine in ``all`` / ``any`` groups and may include a named
profile (``小微企业``) that is itself a group. Every fact comes from a source with an as-of date;
a fact that is missing, or older than its field allows, makes its condition *unknown*, never
silently false (three-valued logic: an ``all`` with a false item is false whatever else is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Union

from pydantic import BaseModel, Field


class Target(StrEnum):
    ENTERPRISE = "enterprise"  # 惠企政策: legal entities, by 统一社会信用代码
    RESIDENT = "resident"  # 惠民政策: persons, by 公民身份号码


TARGET_LABELS = {Target.ENTERPRISE: "企业（法人）", Target.RESIDENT: "居民（个人）"}


class FactKind(StrEnum):
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"  # one of a fixed list
    CODE = "code"  # a hierarchical code (GB/T 4754 行业代码): compared whole or by prefix
    FLAG = "flag"  # yes / no


@dataclass(frozen=True)
class FactField:
    """A fact a condition may name: where it comes from and how old it may be."""
    name: str
    label: str
    kind: FactKind
    target: Target
    source: str  # the registry (or indicator dataset) it is read from
    source_label: str  # as an explanation names it: 法人库（市场监管局）
    unit: str = ""
    choices: tuple[str, ...] = ()
    # Older than this many days (from its record's as-of date) the fact is stale, so unknown;
    # None: the registry keeps it current.
    max_age_days: int | None = None


_MR = "法人库（市场监管局）"
_ST = "法人库（统计局）"
_TX = "法人库（税务局）"
_PS = "人口库（公安局）"
_HR = "人口库（人社局）"
_CA = "人口库（民政局）"

FACTS: tuple[FactField, ...] = (
    FactField("entity_type", "市场主体类型", FactKind.CHOICE, Target.ENTERPRISE, "legal_entities", _MR, choices=(
        "有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "个体工商户", "农民专业合作社",
        "外商投资企业", "分公司", "事业单位", "社会团体", "民办非企业单位")),
    FactField("registered_capital", "注册资本", FactKind.NUMBER, Target.ENTERPRISE, "legal_entities", _MR, unit="万元"),
    FactField("established_years", "成立年限", FactKind.NUMBER, Target.ENTERPRISE, "legal_entities", _MR, unit="年"),
    FactField("industry_code", "行业代码（GB/T 4754）", FactKind.CODE, Target.ENTERPRISE, "legal_entities", _MR),
    FactField("status", "登记状态", FactKind.CHOICE, Target.ENTERPRISE, "legal_entities", _MR,
              choices=("存续", "在业", "注销", "吊销", "迁出")),
    FactField("tax_registration_status", "税务登记状态", FactKind.CHOICE, Target.ENTERPRISE, "legal_entities", _TX,
              choices=("正常", "非正常户", "注销", "未登记")),
    FactField("taxpayer_type", "纳税人资格", FactKind.CHOICE, Target.ENTERPRISE, "legal_entities", _TX,
              choices=("一般纳税人", "小规模纳税人")),
    FactField("social_insurance_registered", "已办理社会保险登记", FactKind.FLAG, Target.ENTERPRISE, "legal_entities",
              "法人库（人社局）"),
    # 从业人数 is reported to statistics once a year: a figure older than about 13 months is stale.
    FactField("employees", "从业人数", FactKind.NUMBER, Target.ENTERPRISE, "legal_entities", _ST, unit="人", max_age_days=400),
    FactField("age", "年龄", FactKind.NUMBER, Target.RESIDENT, "persons", _PS, unit="周岁"),
    FactField("gender", "性别", FactKind.CHOICE, Target.RESIDENT, "persons", _PS, choices=("男", "女")),
    FactField("residence_status", "居住状态", FactKind.CHOICE, Target.RESIDENT, "persons", _PS,
              choices=("户籍", "居住证", "来沪人员")),
    FactField("alive", "健在", FactKind.FLAG, Target.RESIDENT, "persons", _PS),
    FactField("marital_status", "婚姻状况", FactKind.CHOICE, Target.RESIDENT, "persons", _CA,
              choices=("未婚", "已婚", "离婚", "丧偶")),
    FactField("employment_status", "就业状态", FactKind.CHOICE, Target.RESIDENT, "persons", _HR,
              choices=("在职", "灵活就业", "登记失业", "退休", "无业", "在校学生")),
    FactField("social_insurance_status", "社会保险状态", FactKind.CHOICE, Target.RESIDENT, "persons", _HR,
              choices=("正常缴费", "暂停缴费", "已领取养老金", "终止", "未参保")),
)
FACTS_BY_NAME: dict[tuple[Target, str], FactField] = {(f.target, f.name): f for f in FACTS}


def facts_of(target: Target) -> list[FactField]:
    return [f for f in FACTS if f.target == target]


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    BETWEEN = "between"  # both ends included
    PREFIX = "prefix"  # a code beginning with any of the values
    EXISTS = "exists"  # the fact is known (never unknown itself)


OPERATOR_LABELS = {Operator.EQ: "等于", Operator.NE: "不等于", Operator.LT: "小于", Operator.LE: "不大于",
                   Operator.GT: "大于", Operator.GE: "不小于", Operator.IN: "属于", Operator.BETWEEN: "介于",
                   Operator.PREFIX: "开头为", Operator.EXISTS: "已有记录"}
# Which operators each kind of fact takes.
OPERATORS: dict[FactKind, tuple[Operator, ...]] = {
    FactKind.NUMBER: (Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE, Operator.IN,
                      Operator.BETWEEN, Operator.EXISTS),
    FactKind.DATE: (Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE, Operator.BETWEEN,
                    Operator.EXISTS),
    FactKind.CHOICE: (Operator.EQ, Operator.NE, Operator.IN, Operator.EXISTS),
    FactKind.CODE: (Operator.EQ, Operator.NE, Operator.IN, Operator.PREFIX, Operator.EXISTS),
    FactKind.FLAG: (Operator.EQ, Operator.EXISTS),
}

Scalar = Union[bool, int, float, str]  # noqa: UP007 (pydantic reads the union in this order)


class Condition(BaseModel):
    """One test of one fact: ``{"field": "registered_capital", "op": "le", "value": 1000}``."""
    model_config = {"extra": "forbid"}
    field: str = Field(min_length=1, max_length=64, description="事实字段名（见 GET /api/v1/policies/facts）")
    op: Operator = Field(description="eq | ne | lt | le | gt | ge | in | between | prefix | exists")
    value: Scalar | list[Scalar] | None = Field(default=None, description="阈值；in、prefix 为列表，between 为 [下限, 上限]，exists 不填")


class ProfileRef(BaseModel):
    """The conditions of a named profile (``{"profile": "small-micro"}``), as if written here."""
    model_config = {"extra": "forbid"}
    profile: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")


class Group(BaseModel):
    """``all`` (并且) or ``any`` (或者) of its items."""
    model_config = {"extra": "forbid"}
    mode: Literal["all", "any"] = Field(description="all 全部满足 | any 满足其一")
    items: list[Condition | ProfileRef | Group] = Field(max_length=50)


Node = Condition | ProfileRef | Group
MAX_DEPTH = 6  # groups within groups (profiles included)
MAX_CONDITIONS = 100  # leaves of a policy, its profiles unfolded


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


RESULT_LABELS = {Result.PASS: "符合", Result.FAIL: "不符合", Result.UNKNOWN: "信息不全"}


class Check(BaseModel):
    """One condition's test of one subject: the explanation a person reads."""
    field: str
    label: str
    op: Operator
    op_label: str
    threshold: str  # as written: "1000 万元", "C13, C14"
    value: str | None  # the subject's fact as shown; None: not known
    result: Result
    source: str
    as_of: date | None
    stale: bool = False


class Verdict(StrEnum):
    ELIGIBLE = "eligible"  # every condition met
    UNKNOWN = "unknown"  # nothing fails, something is not known: 可能符合
    NEAR = "near"  # one condition short (近似符合): listed apart
    INELIGIBLE = "ineligible"


VERDICT_LABELS = {Verdict.ELIGIBLE: "符合", Verdict.UNKNOWN: "可能符合（信息不全）", Verdict.NEAR: "差一项条件",
                  Verdict.INELIGIBLE: "不符合"}


# The API's documents.


class FactFieldRead(BaseModel):
    name: str
    label: str
    kind: FactKind
    target: Target
    source: str
    unit: str
    choices: list[str]
    operators: list[Operator]
    max_age_days: int | None


class ProfileIn(BaseModel):
    model_config = {"extra": "forbid"}
    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$", description="画像编码（小写字母、数字、连字符）")
    label: str = Field(min_length=2, max_length=100, description="名称，如 小微企业")
    target: Target
    conditions: Group


class ProfileRead(ProfileIn):
    updated_at: datetime


class PolicyIn(BaseModel):
    """A new policy's draft, or a draft's new content (the whole of it)."""
    model_config = {"extra": "forbid"}
    title: str = Field(min_length=4, max_length=200)
    target: Target
    legal_basis: str = Field(min_length=2, max_length=500, description="政策依据（文件名称、文号）")
    link: str | None = Field(default=None, max_length=500, pattern=r"^(https?://|/)", description="政策原文链接")
    valid_from: date
    valid_until: date | None = Field(default=None, description="有效期至；不填为长期")
    benefit: str = Field(min_length=2, max_length=1000, description="支持内容（金额、计算方式或服务）")
    amount: float | None = Field(default=None, ge=0, le=1e9, description="定额（万元），如有")
    claim_item: str | None = Field(default=None, pattern=r"^\d{12}$", description="申报所用的办事事项编码（一窗受理）")
    conditions: Group


class PolicyRead(BaseModel):
    code: str
    version: int
    status: Literal["draft", "published", "withdrawn"]
    status_label: str
    department_code: str
    department_name: str
    title: str
    target: Target
    legal_basis: str
    link: str | None
    valid_from: date
    valid_until: date | None
    benefit: str
    amount: float | None
    claim_item: str | None
    conditions: Group
    conditions_text: list[str]  # each condition in words, for people
    published_at: datetime | None
    eligible: int
    unknown: int
    near: int


class PolicyPage(BaseModel):
    items: list[PolicyRead]
    next_cursor: str | None


class ContactStatus(StrEnum):
    UNTOLD = "untold"  # 尚未告知
    NOTIFIED = "notified"  # 已告知
    APPLIED = "applied"  # 已申报
    AWARDED = "awarded"  # 已兑现


CONTACT_LABELS = {ContactStatus.UNTOLD: "尚未告知", ContactStatus.NOTIFIED: "已告知", ContactStatus.APPLIED: "已申报",
                  ContactStatus.AWARDED: "已兑现"}


class MatchRead(BaseModel):
    id: int
    policy_code: str
    policy_title: str
    subject_key: str  # 统一社会信用代码, or a resident's ID number masked
    subject_name: str | None
    verdict: Verdict
    verdict_label: str
    contact: ContactStatus
    contact_label: str
    checks: list[Check]
    evaluated_at: datetime


class MatchPage(BaseModel):
    items: list[MatchRead]
    next_cursor: str | None


class SelfCheckIn(BaseModel):
    """Facts a visitor states about themselves for a self-check; nothing is stored."""
    model_config = {"extra": "forbid"}
    target: Target
    facts: dict[str, Scalar | None] = Field(max_length=40)


class SelfCheckRead(BaseModel):
    policy_code: str
    title: str
    verdict: Verdict
    verdict_label: str
    checks: list[Check]
