"""一件事 / 一表制: bundles of items applied for with one form, and the form of a single item.

Each form field says where its value can come from (a base-registry field of the signed-in
applicant, shown with its source) and which items' forms it fills, so the applicant types each
fact once and every department gets what its own form needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    kind: str = "text"  # text | number | choice | date
    required: bool = True
    prefill: str | None = None  # "persons.name", "legal_entities.credit_code", ...: the registry field that fills it
    items: tuple[str, ...] = ()  # the items whose forms it fills; empty: all of the bundle's items
    choices: tuple[str, ...] = ()
    max_length: int = 200
    # numbers only: the range a value must fall in (core.inputs.parse_number); whole numbers only
    minimum: float | None = 0
    maximum: float | None = 1e9
    integer: bool = False


@dataclass(frozen=True)
class Bundle:
    code: str
    name: str
    process_key: str
    applicant_type: str  # 自然人 | 法人: who applies
    summary: str
    items: tuple[str, ...]
    limit_days: int  # the committed working days of the whole bundle
    fields: tuple[FormField, ...] = field(default_factory=tuple)


ENTERPRISE_SETUP = Bundle(
    code="enterprise-setup", name="企业开办一件事", process_key="enterprise_setup", applicant_type="自然人",
    summary="营业执照、公章刻制、涉税事项、社会保险登记、住房公积金缴存登记，一表申请、一窗受理、并联办理。",
    items=("000121004000", "000107004000", "000123004000", "000112004000", "000117004000"),
    limit_days=4,
    fields=(
        FormField("applicant_name", "申请人（拟任法定代表人）姓名", prefill="persons.name", max_length=50),
        FormField("applicant_id", "申请人身份证号", prefill="persons.id_number", max_length=18),
        FormField("phone", "联系电话", prefill="persons.phone", max_length=20),
        FormField("enterprise_name", "拟设立企业名称", max_length=150),
        FormField("entity_type", "企业类型", kind="choice", choices=("有限责任公司", "个人独资企业", "合伙企业"),
                  items=("000121004000", "000123004000")),
        FormField("registered_capital", "注册资本（万元）", kind="number", items=("000121004000",), maximum=1e9),
        # The enterprise's own 住所, not the applicant's home: nothing in the registries knows it yet.
        FormField("registered_address", "住所", max_length=200),
        FormField("business_scope", "经营范围", max_length=2000, items=("000121004000", "000123004000")),
        FormField("seal_count", "刻制印章枚数", kind="number", items=("000107004000",), integer=True, maximum=100),
        FormField("employees", "参保职工人数", kind="number", items=("000112004000", "000117004000"), integer=True,
                  maximum=2_000_000),
        FormField("housing_fund_rate", "公积金缴存比例（%）", kind="number", items=("000117004000",), maximum=100),
    ),
)

ROAD_EXCAVATION = Bundle(
    code="road-excavation", name="道路挖掘一件事", process_key="road_excavation", applicant_type="法人",
    summary="建设工程规划许可、掘路施工计划核准、管线监护交底、文明施工承诺和道路挖掘许可，按前置顺序自动流转，可并联的同时办理。",
    items=("000113007000", "000115004000", "000115007000", "000116004000", "000115010000"),
    limit_days=30,
    fields=(
        FormField("entity_name", "建设单位名称", prefill="legal_entities.name", max_length=150),
        FormField("credit_code", "统一社会信用代码", prefill="legal_entities.credit_code", max_length=18),
        FormField("legal_representative", "法定代表人", prefill="legal_entities.legal_representative_name", max_length=50),
        FormField("phone", "联系电话", prefill="legal_entities.phone", max_length=20),
        FormField("project_name", "工程名称", max_length=200),
        FormField("location", "挖掘地点（道路及起止点）", max_length=200),
        FormField("length_m", "挖掘长度（米）", kind="number", items=("000115004000", "000115010000"), maximum=100_000),
        FormField("method", "施工方式", kind="choice", choices=("开挖施工", "非开挖施工"),
                  items=("000115004000", "000115007000", "000115010000")),
        FormField("period", "计划施工期限", max_length=100, items=("000115004000", "000116004000", "000115010000")),
    ),
)

BUNDLES = {bundle.code: bundle for bundle in (ENTERPRISE_SETUP, ROAD_EXCAVATION)}

# One item applied for alone: who applies and why; the item's own materials come from its notice.
SINGLE_ITEM_FIELDS = {
    "自然人": (
        FormField("applicant_name", "申请人姓名", prefill="persons.name", max_length=50),
        FormField("applicant_id", "申请人身份证号", prefill="persons.id_number", max_length=18),
        FormField("phone", "联系电话", prefill="persons.phone", max_length=20),
        FormField("address", "联系地址", prefill="persons.residence_address", required=False, max_length=200),
        FormField("request", "申请事项说明", max_length=1000),
    ),
    "法人": (
        FormField("entity_name", "单位名称", prefill="legal_entities.name", max_length=150),
        FormField("credit_code", "统一社会信用代码", prefill="legal_entities.credit_code", max_length=18),
        FormField("legal_representative", "法定代表人", prefill="legal_entities.legal_representative_name", max_length=50),
        FormField("phone", "联系电话", prefill="legal_entities.phone", max_length=20),
        FormField("request", "申请事项说明", max_length=1000),
    ),
}
