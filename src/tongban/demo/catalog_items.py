"""The rest of the demo district's catalogue: the items of the national basic catalogue
(政务服务事项基本目录) a district runs besides the hand-written demo items, read from
``district_catalog.csv`` (one item a row) and ``district_windows.csv`` (each department's window).

A row names what differs between items (name, type, department, applicant, time limits, life-event
themes, keywords, everyday phrasings, materials, result, legal basis); what a department's items
share (address, phone, hours) comes from its window. The documents pass ``content.validate``.

Materials are written ``名称`` (the applicant brings it), ``名称@persons`` (fetched from a base
registry: 免提交) or ``名称#出具单位`` (issued by another body); the result ``名称/种类``.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["CATALOG_PATH", "WINDOWS_PATH", "catalog_items"]

CATALOG_PATH = Path(__file__).with_name("district_catalog.csv")
WINDOWS_PATH = Path(__file__).with_name("district_windows.csv")
_LIST = "、"
_MATERIALS = "；"
_SHARED_NOTES = {"persons": "通过人口库共享获取，免提交", "legal-entities": "通过法人库共享获取，免提交",
                 "addresses": "通过地址库共享获取，免提交"}


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split(_LIST) if word.strip()]


def _days(text: str) -> int | None:
    return int(text) if text.strip() else None


def _material(number: int, spec: str) -> dict:
    name, shared, issuer = spec.strip(), None, None
    if "@" in name:
        name, shared = name.split("@", 1)
    elif "#" in name:
        name, issuer = name.split("#", 1)
    source = "shared_data" if shared else "issuing_department" if issuer else "applicant"
    return {"id": f"m{number}", "name": name, "form": "电子件" if shared else "原件", "copies": 0 if shared else 1,
            "required": "required", "when": [], "source": source, "issuer": issuer, "shared_resource": shared,
            "blank_form": number == 1 and name.endswith(("申请书", "申请表", "登记表", "审核表", "备案表")),
            "sample": number == 1 and name.endswith(("申请书", "申请表")),
            "notes": _SHARED_NOTES[shared] if shared else f"由{issuer}出具" if issuer else "提交原件，窗口核验后退还"}


def catalog_items() -> list[dict]:
    """Every row of the district catalogue as an item document (national item elements)."""
    from tongban.demo.district import implementation_prefixes

    prefixes = implementation_prefixes()

    with open(WINDOWS_PATH, encoding="utf-8", newline="") as handle:
        windows = {row["department"]: row for row in csv.DictReader(handle)}
    items = []
    with open(CATALOG_PATH, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            window = windows[row["department"]]
            result_name, result_kind = row["result"].rsplit("/", 1)
            statutory, committed = _days(row["statutory_days"]), _days(row["committed_days"])
            objects = _words(row["service_objects"])
            online = int(row["online_depth"])
            items.append({
                "basic_code": row["basic_code"],
                "implementation_code": prefixes[row["department"]] + row["basic_code"],
                "name": row["name"],
                "type": row["type"],
                "department": row["department"],
                "level": "区级",
                "service_objects": objects,
                "legal_basis": [{"law": row["law"], "article": row["article"],
                                 "text": f"{row['name']}依照{row['law']}{row['article']}的规定办理"}],
                "conditions": [("申请人" if "自然人" in objects else "申请单位") + f"符合{row['law']}规定的{row['name']}条件",
                               "提交的材料齐全、真实，符合法定形式"],
                "situations": [],
                "materials": [_material(number, spec) for number, spec in
                              enumerate((s for s in row["materials"].split(_MATERIALS) if s.strip()), start=1)],
                "steps": ["申请", "受理", "审查", "决定", "送达"] if committed != 0 else ["申请", "当场办结"],
                "statutory_days": statutory,
                "committed_days": committed,
                "fees": [],
                "results": [{"name": result_name, "kind": result_kind, "licence": result_kind == "证照"}],
                "channels": ["网上", "窗口"] if online >= 3 else ["窗口"],
                "online_url": None,
                "address": window["address"],
                "hours": window["hours"],
                "phone": window["phone"],
                "online_depth": online,
                "relations": [],
                "keywords": _words(row["keywords"]),
                "colloquial": _words(row["colloquial"]),
                "themes": _words(row["themes"]),
            })
    return items
