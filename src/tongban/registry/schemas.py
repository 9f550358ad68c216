"""The three base registries and, for every field, its one authoritative source (一数一源).

A field names the *duty* (职能) of the department that is its source, not a department code:
in any district the department that holds that duty is the source. Only that department's
data stewards and systems write the field; everyone else reads it and proposes corrections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict
from pydantic import Field as Described  # `Field` here is a registry's field
from stdnum import numdb

from tongban.core.idnumbers import InvalidNumber, birth_date_of, check_credit_code, check_resident_id, gender_of
from tongban.core.inputs import InvalidNumberText, normalise_code, parse_number, refused_character
from tongban.core import clock


class Duty(StrEnum):
    """What a department is the authority for; ``Department.duty`` holds one of these."""

    PUBLIC_SECURITY = "public_security"
    CIVIL_AFFAIRS = "civil_affairs"
    HUMAN_RESOURCES = "human_resources"
    MARKET_REGULATION = "market_regulation"
    TAXATION = "taxation"
    PLANNING_RESOURCES = "planning_resources"
    EDUCATION = "education"
    HOUSING_FUND = "housing_fund"
    STATISTICS = "statistics"
    HEALTH = "health"


DUTY_LABELS = {
    Duty.PUBLIC_SECURITY: "公安", Duty.CIVIL_AFFAIRS: "民政", Duty.HUMAN_RESOURCES: "人社",
    Duty.MARKET_REGULATION: "市场监管", Duty.TAXATION: "税务", Duty.PLANNING_RESOURCES: "规划资源",
    Duty.EDUCATION: "教育", Duty.HOUSING_FUND: "公积金", Duty.STATISTICS: "统计", Duty.HEALTH: "卫生健康",
}

ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 "
    "傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 "
    "仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
    "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()

# GB/T 4754-2017: sections and the divisions (两位数大类) each holds.
INDUSTRY_SECTIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52), "G": (53, 60),
    "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79),
    "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 97), "T": (98, 98),
}


class FieldError(ValueError):
    """A value a field does not accept; the message is Chinese, for people."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | date | choice | decimal | int | float | resident_id | credit_code | code
    duty: Duty
    personal: bool = False
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, raw: str | None):
        """The typed value from text (CSV cell, JSON string), or FieldError in Chinese."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise FieldError(f"{self.label}不能为空")
            return None
        value = raw.strip() if isinstance(raw, str) else raw
        if self.kind == "text":
            value = str(value)
            if len(value) > self.max_length:
                raise FieldError(f"{self.label}超过 {self.max_length} 个字符")
            if reason := refused_character(value):  # an imported cell meets the API's edge too
                raise FieldError(f"{self.label}{reason}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise FieldError(f"{self.label}应为以下之一：{'、'.join(self.choices[:12])}{'……' if len(self.choices) > 12 else ''}")
            return value
        if self.kind == "date":
            try:
                parsed = value if isinstance(value, date) else date.fromisoformat(str(value))
            except ValueError:
                raise FieldError(f"{self.label}应为日期 YYYY-MM-DD") from None
            if parsed > clock.today() and self.name not in ("business_term_end",):
                raise FieldError(f"{self.label}不能晚于今天")
            if parsed.year < 1900:
                raise FieldError(f"{self.label}早于 1900 年")
            return parsed
        if self.kind in ("decimal", "int", "float"):
            try:  # the one reading of a number: NFKC, finite, in range (application forms read the same)
                number = parse_number(value, integer=self.kind == "int", minimum=self.minimum, maximum=self.maximum)
            except InvalidNumberText as error:
                raise FieldError(f"{self.label}{error}") from None
            return {"decimal": number, "int": int(number), "float": float(number)}[self.kind]
        if self.kind == "resident_id":
            try:
                return check_resident_id(str(value))
            except InvalidNumber as error:
                raise FieldError(f"{self.label}：{error.message}") from None
        if self.kind == "credit_code":
            try:
                return check_credit_code(str(value))
            except InvalidNumber as error:
                raise FieldError(f"{self.label}：{error.message}") from None
        if self.kind == "code":
            value = normalise_code(value)  # "１３９…" is the same phone number; \d alone would keep it
            if not re.fullmatch(self.pattern or r".+", value):
                raise FieldError(f"{self.label}格式不正确")
            return value
        raise AssertionError(self.kind)

    @property
    def stored_as_text(self) -> bool:
        """Its column holds text: ``to_text`` would hand a value back unchanged."""
        return self.kind in ("text", "choice", "resident_id", "credit_code", "code")

    def to_text(self, value) -> str | None:
        """The stored value as text (history snapshots, events, CSV)."""
        if value is None:
            return None
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value == value.to_integral() else str(value)
        return str(value)


@dataclass(frozen=True)
class Registry:
    name: str  # persons | legal_entities | addresses
    label: str
    key: str
    owner: Duty  # who may register a new record (and owns the key)
    fields: tuple[Field, ...]
    event_prefix: str  # PersonRegistered / PersonChanged ...
    checks: tuple = field(default=())
    derivations: tuple = field(default=())  # fill values implied by others (birth date from the ID)
    # The fields holding each record's position (longitude, latitude; WGS 84), for a registry whose
    # records are points on the map: it is read by bounding box too, as a GeoJSON layer.
    point: tuple[str, str] | None = None

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field_for(self, name_or_label: str) -> Field | None:
        """A field by its name or its Chinese label (import headers may use either)."""
        for f in self.fields:
            if name_or_label in (f.name, f.label):
                return f
        return None

    def derive(self, values: dict) -> None:
        """Fill, where empty, what the record's own values imply; for the key's owner creating it."""
        for derivation in self.derivations:
            derivation(values)

    def check_record(self, values: dict) -> None:
        """Cross-field rules (ID number vs birth date and gender, ...)."""
        for check in self.checks:
            check(values)


def _person_consistency(values: dict) -> None:
    number = values.get("id_number")
    if not number:
        return
    if values.get("birth_date") is not None and values["birth_date"] != birth_date_of(number):
        raise FieldError(f"出生日期 {values['birth_date']} 与公民身份号码中的 {birth_date_of(number)} 不一致")
    if values.get("gender") is not None and values["gender"] != gender_of(number):
        raise FieldError(f"性别“{values['gender']}”与公民身份号码（第 17 位）不一致")
    death = values.get("date_of_death")
    if death is not None and death < birth_date_of(number):
        raise FieldError("死亡日期早于出生日期")


def _person_from_id(values: dict) -> None:
    number = values.get("id_number")
    if number:
        if values.get("birth_date") is None:
            values["birth_date"] = birth_date_of(number)
        if values.get("gender") is None:
            values["gender"] = gender_of(number)


def _address_consistency(values: dict) -> None:
    division = values.get("division_code")
    if division and not any(info for _part, info in numdb.get("cn/loc").info(division)):
        raise FieldError(f"行政区划代码 {division} 不在 GB/T 2260 中")
    for code_field in ("town_code", "community_code"):
        code = values.get(code_field)
        if code and division and not code.startswith(division):
            raise FieldError(f"{'街镇' if code_field == 'town_code' else '居村'}代码 {code} 不属于行政区划 {division}")
    if values.get("community_code") and values.get("town_code") and not values["community_code"].startswith(values["town_code"]):
        raise FieldError("居村代码不属于所填街镇")


def _entity_consistency(values: dict) -> None:
    code = values.get("industry_code")
    if code:
        section, division = code[0], int(code[1:3])
        low, high = INDUSTRY_SECTIONS[section]
        if not low <= division <= high:
            raise FieldError(f"行业代码 {code}：门类 {section} 下没有大类 {division:02d}（GB/T 4754-2017）")
    term_end, established = values.get("business_term_end"), values.get("established_on")
    if term_end and established and term_end < established:
        raise FieldError("营业期限早于成立日期")


PS, CA, HR, MR, TX, PL, ED, HF, ST = (Duty.PUBLIC_SECURITY, Duty.CIVIL_AFFAIRS, Duty.HUMAN_RESOURCES,
                                      Duty.MARKET_REGULATION, Duty.TAXATION, Duty.PLANNING_RESOURCES,
                                      Duty.EDUCATION, Duty.HOUSING_FUND, Duty.STATISTICS)

PERSONS = Registry(
    name="persons", label="人口", key="id_number", owner=PS, event_prefix="Person",
    checks=(_person_consistency,), derivations=(_person_from_id,),
    fields=(
        Field("id_number", "公民身份号码", "resident_id", PS, personal=True, required=True),
        Field("name", "姓名", "text", PS, personal=True, required=True, max_length=50),
        Field("gender", "性别", "choice", PS, choices=("男", "女")),
        Field("birth_date", "出生日期", "date", PS, personal=True),
        Field("ethnicity", "民族", "choice", PS, choices=tuple(ETHNIC_GROUPS)),
        Field("household_address", "户籍地址", "text", PS, personal=True),
        Field("residence_address", "居住地址", "text", PS, personal=True),
        Field("residence_status", "居住状态", "choice", PS, choices=("户籍", "居住证", "来沪人员")),
        Field("phone", "联系电话", "code", PS, personal=True, pattern=r"1\d{10}|0\d{2,3}-?\d{7,8}"),
        Field("date_of_death", "死亡日期", "date", PS),
        Field("marital_status", "婚姻状况", "choice", CA, choices=("未婚", "已婚", "离婚", "丧偶")),
        Field("education", "学历", "choice", ED,
              choices=("研究生", "大学本科", "大学专科", "高中/中专", "初中", "小学", "文盲或半文盲")),
        Field("employment_status", "就业状态", "choice", HR, choices=("在职", "灵活就业", "登记失业", "退休", "无业", "在校学生")),
        Field("social_insurance_status", "社会保险状态", "choice", HR, choices=("正常缴费", "暂停缴费", "已领取养老金", "终止", "未参保")),
    ),
)

LEGAL_ENTITIES = Registry(
    name="legal_entities", label="法人", key="credit_code", owner=MR, event_prefix="LegalEntity",
    checks=(_entity_consistency,),
    fields=(
        Field("credit_code", "统一社会信用代码", "credit_code", MR, required=True),
        Field("name", "名称", "text", MR, required=True, max_length=150),
        Field("entity_type", "市场主体类型", "choice", MR, choices=(
            "有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "个体工商户", "农民专业合作社",
            "外商投资企业", "分公司", "事业单位", "社会团体", "民办非企业单位")),
        Field("legal_representative_id", "法定代表人身份号码", "resident_id", MR, personal=True),
        Field("legal_representative_name", "法定代表人姓名", "text", MR, personal=True, max_length=50),
        Field("registered_capital", "注册资本（万元）", "decimal", MR, minimum=0, maximum=1e9),
        Field("currency", "币种", "choice", MR, choices=("人民币", "美元", "欧元", "港元", "日元", "英镑")),
        Field("established_on", "成立日期", "date", MR),
        Field("approved_on", "核准日期", "date", MR),
        Field("business_term_end", "营业期限至", "date", MR),
        Field("registered_address", "住所", "text", MR, max_length=200),
        Field("business_scope", "经营范围", "text", MR, max_length=2000),
        Field("industry_code", "行业代码", "code", MR, pattern=r"[A-T]\d{2,4}"),
        Field("registration_authority", "登记机关", "text", MR, max_length=100),
        Field("status", "登记状态", "choice", MR, choices=("存续", "在业", "注销", "吊销", "迁出")),
        Field("phone", "联系电话", "code", MR, pattern=r"1\d{10}|0\d{2,3}-?\d{7,8}"),
        Field("tax_registration_status", "税务登记状态", "choice", TX, choices=("正常", "非正常户", "注销", "未登记")),
        Field("taxpayer_type", "纳税人资格", "choice", TX, choices=("一般纳税人", "小规模纳税人")),
        Field("social_insurance_registered", "社会保险登记", "choice", HR, choices=("已登记", "未登记")),
        Field("housing_fund_registered", "公积金缴存登记", "choice", HF, choices=("已登记", "未登记")),
        Field("employees", "从业人数", "int", ST, minimum=0, maximum=2_000_000),
    ),
)

ADDRESSES = Registry(
    name="addresses", label="标准地址", key="address_code", owner=PL, event_prefix="Address",
    checks=(_address_consistency,), point=("longitude", "latitude"),
    fields=(
        Field("address_code", "地址编码", "code", PL, required=True, pattern=r"\d{12}\d{6}"),
        Field("division_code", "行政区划代码", "code", PL, required=True, pattern=r"\d{6}"),
        Field("town_code", "街镇代码", "code", PL, pattern=r"\d{9}"),
        Field("town_name", "街镇", "text", PL, max_length=50),
        Field("community_code", "居村代码", "code", PL, pattern=r"\d{12}"),
        Field("community_name", "居村委会", "text", PL, max_length=50),
        Field("road", "路（街、巷）", "text", PL, max_length=50),
        Field("house_number", "门牌号", "text", PL, max_length=20),
        Field("building", "楼（幢）号", "text", PL, max_length=20),
        Field("full_address", "标准地址", "text", PL, required=True, max_length=200),
        Field("longitude", "经度", "float", PL, minimum=-180, maximum=180),
        Field("latitude", "纬度", "float", PL, minimum=-90, maximum=90),
    ),
)

REGISTRIES = {r.name: r for r in (PERSONS, LEGAL_ENTITIES, ADDRESSES)}


# The API's documents.


class RegistrySlug(StrEnum):
    PERSONS = "persons"
    LEGAL_ENTITIES = "legal-entities"
    ADDRESSES = "addresses"

    @property
    def registry_name(self) -> str:
        return self.value.replace("-", "_")


class RecordRead(BaseModel):
    registry: str
    key: str = Described(description="主键；属个人信息（身份证号）时按脱敏规则显示")
    ref: str = Described(description="记录的不透明引用：可代替主键用于查阅、历史和纠错，不含明文主键，8 小时内有效")
    version: int
    updated_at: datetime
    updated_by: str
    values: dict[str, str | None]
    masked_fields: list[str] = Described(description="这些个人信息字段已脱敏；具备权限并说明用途（purpose）可查看明文")
    as_of: datetime | None = None


class ClearRead(BaseModel):
    """A clear read: the purpose comes in a POST body (CSRF-checked for browser sessions), never in a link."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Described(min_length=2, max_length=200, description="查阅用途，记入审计日志")
    as_of: AwareDatetime | None = Described(default=None, description="查看某一时刻的记录")


class SearchRequest(BaseModel):
    """Search with a purpose in the body: the POST form of ``GET /{registry}``."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Described(min_length=2, max_length=200, description="查阅用途，记入审计日志")
    name: str | None = Described(default=None, min_length=1, max_length=50, description="名称/姓名，前缀匹配")
    filters: dict[str, str] = Described(default_factory=dict, max_length=20, description="字段名 → 值（精确匹配）")
    cursor: str | None = Described(default=None, max_length=200, description="上一页返回的 next_cursor")
    limit: int = Described(default=20, ge=1, le=500, description="每页条数，1–500")


class RecordWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Described(min_length=1, max_length=40, description="字段名 → 值（文本或 JSON 值）")
    reason: str = Described(min_length=2, max_length=500, description="变更原因")


class WriteRead(BaseModel):
    key: str
    version: int
    created: bool
    changed_fields: list[str]


class VersionRead(BaseModel):
    version: int
    changed_at: datetime
    department_code: str
    actor_name: str
    reason: str
    changed_fields: list[str]
    values: dict[str, str | None]
    masked_fields: list[str]


class CorrectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Described(min_length=1, max_length=40)
    proposed_value: str | None = Described(max_length=2000)
    reason: str = Described(min_length=2, max_length=500)
    evidence: str | None = Described(default=None, max_length=500, description="依据，如证明材料编号")


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    registry: str = Described(validation_alias=AliasChoices("registry_name", "registry"))
    record_key: str = Described(description="主键；属个人信息时按脱敏规则显示")
    record_ref: str = Described(description="记录的不透明引用，可代替主键打开记录")
    field: str
    current_value: str | None = Described(description="申请时的现值；个人信息字段按脱敏规则显示")
    proposed_value: str | None = Described(description="建议值；个人信息字段按脱敏规则显示")
    reason: str
    evidence: str | None
    requester_name: str
    requester_department: str | None
    source_department: str
    status: str
    due_on: date
    due_provisional: bool
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    masked: bool = Described(description="是否有个人信息已脱敏；具备权限并说明用途（POST）可查看明文")


class CorrectionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reason: str = Described(min_length=2, max_length=500)


class ImportJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    registry: str = Described(validation_alias=AliasChoices("registry_name", "registry"))
    source_department: str
    file_name: str
    file_size: int
    status: str
    progress: float = Described(description="已读取字节占文件大小的比例，0–1")
    committed_line: int
    rows_accepted: int
    rows_unchanged: int
    rows_rejected: int
    message: str | None
    started_at: datetime
    finished_at: datetime | None
