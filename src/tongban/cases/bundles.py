"""一件事 / 一表制: bundles of items applied for with one form, and the form of a single item.
The district's bundles are data (``bundles.json``), read once by ``load_bundles``.

Each form field says where its value can come from (a base-registry field of the signed-in
applicant, shown with its source) and which items' forms it fills, so the applicant types each
fact once and every department gets what its own form needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


BUNDLES_FILE = Path(__file__).with_name("bundles.json")


def load_bundles(path: Path = BUNDLES_FILE) -> dict[str, Bundle]:
    """The bundles a file defines (``bundles.json``: the district's 一件事, each with its BPMN
    process in ``processes/``), by code. A key the types do not know is an error, not ignored:
    a misspelt ``requried`` would silently make a field required."""
    bundles = {}
    for entry in json.loads(path.read_text(encoding="utf-8")):
        fields = tuple(FormField(**_frozen(spec)) for spec in entry.pop("fields", []))
        bundle = Bundle(**{**entry, "items": tuple(entry["items"])}, fields=fields)
        bundles[bundle.code] = bundle
    return bundles


def _frozen(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in spec.items()}


BUNDLES = load_bundles()

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
