"""The item editor as forms: an item document to and from the fields of a plain HTML form, the row
operations of that form (添加一行, 删除, 上移, 下移 as submit buttons, so no script is needed),
validation problems placed next to their fields, and the field-by-field difference between two
versions that a reviewer reads.

Pure functions over the document (``content.py``), no database. A form field is named by the
document path with dashes: ``materials-2-when`` is ``item["materials"][2]["when"]``; a validation
``Issue`` names its field with dots (``materials.2.when``), so one is turned into the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tongban.items.content import FIELD_LABELS, ITEM_FIELDS, MATERIAL_FIELDS, MATERIAL_LABELS

# Stored codes of enumerations, as the form and the diff show them.
REQUIRED_LABELS: dict[Any, str] = {"required": "必交", "conditional": "按情形提交"}
SOURCE_LABELS: dict[Any, str] = {"applicant": "申请人提交", "issuing_department": "其他部门出具", "shared_data": "共享获取（免提交）"}
SHARED_LABELS: dict[Any, str] = {"persons": "人口库", "legal-entities": "法人库", "addresses": "地址库"}
RELATION_LABELS: dict[Any, str] = {"prerequisite": "前置事项", "parallel": "并联事项", "follow_up": "后续事项"}
ONLINE_DEPTH_LABELS = {1: "一级：网上咨询", 2: "二级：网上预审", 3: "三级：网上受理", 4: "四级：全程网办"}

LINE_FIELDS = ("conditions", "steps", "channels", "keywords", "colloquial")  # one entry per line
TEXT_FIELDS = ("name", "type", "address", "hours", "phone")
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "legal_basis": ("law", "article", "text"),
    "fees": ("name", "amount", "basis"),
    "results": ("name", "kind", "licence"),
    "materials": MATERIAL_FIELDS,
    "situations": ("id", "question"),
    "relations": ("type", "item"),
}
ROW_LABELS = {"legal_basis": "设定依据", "fees": "收费", "results": "办理结果", "materials": "申请材料",
              "situations": "情形问题", "relations": "关联事项", "answers": "答案"}
LEGAL_LABELS = {"law": "法律法规名称", "article": "条款", "text": "条文内容"}
FEE_LABELS = {"name": "收费项目", "amount": "金额", "basis": "收费依据"}
RESULT_LABELS = {"name": "结果名称", "kind": "结果类型", "licence": "是否证照"}
ANSWER_LABELS = {"id": "答案编号", "label": "答案", "next": "接着问"}
MAX_ROWS = 200  # rows of one list a form may carry


class FormError(ValueError):
    """The form itself is malformed (not a person's mistake in a field): answered as a Problem."""


def _text(form: Mapping[str, Sequence[str]], key: str) -> str:
    values = form.get(key) or [""]
    return " ".join(str(values[-1]).split()) if key not in ("notes",) else str(values[-1]).strip()


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.replace("\r", "\n").split("\n") if line.strip()]


def _number(raw: str) -> int | str | None:
    """A whole number typed in a field; what is not one is kept as typed, for the validator to name."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def _indices(form: Mapping[str, Sequence[str]], prefix: str) -> list[int]:
    found = set()
    for key in form:
        if key.startswith(prefix):
            head = key[len(prefix):].split("-", 1)[0]
            if head.isdigit():
                found.add(int(head))
    if len(found) > MAX_ROWS:
        raise FormError(f"一张表单最多 {MAX_ROWS} 行")
    return sorted(found)


def from_form(form: Mapping[str, Sequence[str]], base: dict, prefixes: Mapping[str, str]) -> dict:
    """The document a submitted form describes. ``base`` is the version being edited: fields the
    form does not carry (and unknown extensions) are kept from it. ``form`` maps each field name to
    its values (``request.form()`` as lists); ``prefixes`` each department's start of 实施编码
    (``org.service.implementation_prefixes``)."""
    item: dict[str, Any] = {key: base.get(key) for key in ITEM_FIELDS}
    item.update({key: value for key, value in base.items() if key not in item})
    if not base.get("basic_code"):
        item["basic_code"] = _text(form, "basic_code")
    item["level"] = base.get("level") or "区级"
    for key in TEXT_FIELDS:
        item[key] = _text(form, key)
    item["department"] = _text(form, "department") or base.get("department")
    if item["department"] in prefixes and isinstance(item["basic_code"], str):
        # Derived, never typed: the district, the department's organ code and the basic code.
        item["implementation_code"] = prefixes[item["department"]] + item["basic_code"]
    item["service_objects"] = [v for v in form.get("service_objects", []) if v]
    item["online_url"] = _text(form, "online_url") or None
    for key in ("statutory_days", "committed_days", "online_depth"):
        item[key] = _number(_text(form, key))
    for key in LINE_FIELDS:
        item[key] = _lines((form.get(key) or [""])[-1])
    item["legal_basis"] = [{k: _text(form, f"legal_basis-{i}-{k}") for k in ROW_FIELDS["legal_basis"]}
                           for i in _indices(form, "legal_basis-")]
    item["fees"] = [{k: _text(form, f"fees-{i}-{k}") for k in ROW_FIELDS["fees"]} for i in _indices(form, "fees-")]
    item["results"] = [{"name": _text(form, f"results-{i}-name"), "kind": _text(form, f"results-{i}-kind"),
                        "licence": bool(_text(form, f"results-{i}-licence"))} for i in _indices(form, "results-")]
    item["materials"] = [_material(form, i) for i in _indices(form, "materials-")]
    item["situations"] = [_situation(form, i) for i in _indices(form, "situations-")]
    item["relations"] = [{"type": _text(form, f"relations-{i}-type"), "item": _text(form, f"relations-{i}-item")}
                         for i in _indices(form, "relations-")]
    return item


def _material(form: Mapping[str, Sequence[str]], index: int) -> dict:
    key = f"materials-{index}-"
    material: dict[str, Any] = {name: _text(form, key + name) for name in MATERIAL_FIELDS}
    material["copies"] = _number(material["copies"])
    material["when"] = [v for v in form.get(key + "when", []) if v]
    material["issuer"] = material["issuer"] or None
    material["shared_resource"] = material["shared_resource"] or None
    material["blank_form"] = bool(material["blank_form"])
    material["sample"] = bool(material["sample"])
    material["notes"] = material["notes"] or None
    return material


def _situation(form: Mapping[str, Sequence[str]], index: int) -> dict:
    key = f"situations-{index}-"
    return {"id": _text(form, key + "id"), "question": _text(form, key + "question"),
            "answers": [{"id": _text(form, f"{key}answers-{j}-id"), "label": _text(form, f"{key}answers-{j}-label"),
                         "next": _text(form, f"{key}answers-{j}-next") or None}
                        for j in _indices(form, f"{key}answers-")]}


def blank_item() -> dict:
    """A new item before anything is typed: every field present, as the validator expects."""
    item: dict[str, Any] = {key: [] for key in ITEM_FIELDS}
    item.update({"basic_code": "", "implementation_code": "", "name": "", "type": "行政许可", "department": "",
                 "level": "区级", "statutory_days": None, "committed_days": None, "online_url": None, "address": "",
                 "hours": "周一至周五 9:00-17:00（法定节假日除外）", "phone": "", "online_depth": 3})
    return item


def to_form(item: dict) -> dict[str, list[str]]:
    """The fields a browser sends for this document when nothing is changed (the inverse of ``from_form``)."""
    def text(value: Any) -> str:
        return "" if value is None else str(value)

    form: dict[str, list[str]] = {"basic_code": [text(item.get("basic_code"))], "department": [text(item.get("department"))],
                                  "service_objects": list(item.get("service_objects") or []),
                                  "online_url": [text(item.get("online_url"))]}
    for key in TEXT_FIELDS + ("statutory_days", "committed_days", "online_depth"):
        form[key] = [text(item.get(key))]
    for key in LINE_FIELDS:
        form[key] = ["\n".join(item.get(key) or [])]
    for kind in ("legal_basis", "fees", "results", "relations"):
        for i, row in enumerate(item.get(kind) or []):
            for key in ROW_FIELDS[kind]:
                if key == "licence":
                    if row.get(key):
                        form[f"{kind}-{i}-{key}"] = ["1"]
                else:
                    form[f"{kind}-{i}-{key}"] = [text(row.get(key))]
    for i, material in enumerate(item.get("materials") or []):
        for key in MATERIAL_FIELDS:
            value = material.get(key)
            if key == "when":
                form[f"materials-{i}-when"] = list(value or [])
            elif key in ("blank_form", "sample"):
                if value:
                    form[f"materials-{i}-{key}"] = ["1"]
            else:
                form[f"materials-{i}-{key}"] = [text(value)]
    for i, question in enumerate(item.get("situations") or []):
        form[f"situations-{i}-id"] = [text(question.get("id"))]
        form[f"situations-{i}-question"] = [text(question.get("question"))]
        for j, answer in enumerate(question.get("answers") or []):
            for key in ("id", "label", "next"):
                form[f"situations-{i}-answers-{j}-{key}"] = [text(answer.get(key))]
    return form


# ---------------------------------------------------------------- row operations

def _fresh_id(taken: set[str], prefix: str) -> str:
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _new_row(item: dict, path: list[str | int]) -> dict:
    kind = path[-1]
    if kind == "materials":
        return {"id": _fresh_id({str(m.get("id")) for m in item["materials"]}, "m"), "name": "", "form": "复印件",
                "copies": 1, "required": "required", "when": [], "source": "applicant", "issuer": None,
                "shared_resource": None, "blank_form": False, "sample": False, "notes": None}
    if kind == "situations":
        qid = _fresh_id({str(q.get("id")) for q in item["situations"]}, "q")
        return {"id": qid, "question": "", "answers": [{"id": f"{qid}a", "label": "", "next": None},
                                                       {"id": f"{qid}b", "label": "", "next": None}]}
    if kind == "answers":
        question = item["situations"][int(path[1])]
        taken = {str(a.get("id")) for q in item["situations"] for a in q.get("answers", [])}
        letter = next(c for c in "abcdefghijklmnopqrstuvwxyz" + "0123456789" if f"{question['id']}{c}" not in taken) \
            if len(taken) < 36 else _fresh_id(taken, f"{question['id']}x")
        return {"id": f"{question['id']}{letter}", "label": "", "next": None}
    if kind == "relations":
        return {"type": "prerequisite", "item": ""}
    if kind == "results":
        return {"name": "", "kind": "证照", "licence": False}
    return {key: "" for key in ROW_FIELDS[str(kind)]}


def apply_operation(item: dict, operation: str) -> dict:
    """One row operation named by the button pressed: ``add:materials``,
    ``add:situations-0-answers``, ``remove:materials-2``, ``up:fees-1``, ``down:relations-0``."""
    verb, _, target = operation.partition(":")
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in target.split("-") if p]
    if verb not in ("add", "remove", "up", "down") or not parts:
        raise FormError("未知的表单操作")
    row_list_path = parts if verb == "add" else parts[:-1]
    if not row_list_path or row_list_path[-1] not in ROW_LABELS:
        raise FormError("未知的表单操作")
    rows: Any = item
    try:
        for step in row_list_path:
            rows = rows[step]
    except (KeyError, IndexError, TypeError):
        raise FormError("表单操作指向不存在的一行") from None
    if not isinstance(rows, list):
        raise FormError("未知的表单操作")
    if verb == "add":
        if len(rows) >= MAX_ROWS:
            raise FormError(f"一张表单最多 {MAX_ROWS} 行")
        rows.append(_new_row(item, row_list_path))
        return item
    index = parts[-1]
    if not isinstance(index, int) or not 0 <= index < len(rows):
        raise FormError("表单操作指向不存在的一行")
    if verb == "remove":
        removed = rows.pop(index)
        kind = row_list_path[-1]
        if kind == "answers":
            gone, gone_question = {removed.get("id")}, None
        elif kind == "situations":
            gone, gone_question = {a.get("id") for a in removed.get("answers", [])}, removed.get("id")
        else:
            return item
        # Answers that are gone trigger no material; a question that is gone is asked after no answer.
        for material in item["materials"]:
            material["when"] = [a for a in material.get("when") or [] if a not in gone]
        for question in item["situations"]:
            for answer in question.get("answers", []):
                if gone_question is not None and answer.get("next") == gone_question:
                    answer["next"] = None
        return item
    other = index - 1 if verb == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    return item


# ---------------------------------------------------------------- problems next to fields

def field_name(path: str) -> str:
    """The form field an issue's path names: ``materials.2.when`` → ``materials-2-when``."""
    return path.replace(".", "-")


def errors_by_field(problems: Sequence[str]) -> dict[str, list[str]]:
    """The problems by the form field they are shown beside (``""`` for the item as a whole)."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        path = getattr(problem, "field", "")
        if path == "implementation_code":
            path = "basic_code"  # derived from it: the field a person can change
        detail = getattr(problem, "detail", str(problem))
        out.setdefault(field_name(path), []).append(detail)
    return out


def json_problem(text: str) -> str | None:
    """Where a JSON text is broken, in Chinese with line and column; None when it parses."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"JSON 格式有误：第 {error.lineno} 行第 {error.colno} 列，{_json_reason(error.msg)}"
    return None


def _json_reason(message: str) -> str:
    reasons = {"Expecting value": "此处应为一个值", "Expecting ',' delimiter": "此处缺少逗号",
               "Expecting ':' delimiter": "此处缺少冒号", "Expecting property name enclosed in double quotes":
               "此处应为双引号括起的字段名（可能多了一个逗号）", "Unterminated string starting at": "字符串缺少结尾的引号",
               "Extra data": "对象结束后还有多余内容", "Invalid control character at": "字符串中有不允许的控制字符"}
    return reasons.get(message, "无法解析")


# ---------------------------------------------------------------- the diff a reviewer reads

@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class RowChange:
    kind: str  # added, removed, changed, same
    label: str
    before: list[tuple[str, str]] = field(default_factory=list)  # (field label, value)
    after: list[tuple[str, str]] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改", "same": "未变"}[self.kind]


@dataclass(frozen=True)
class ItemDiff:
    fields: list[FieldChange]
    situations: list[RowChange]
    materials: list[RowChange]
    relations: list[RowChange]

    @property
    def summary(self) -> list[str]:
        """What changed, one phrase each: 「承诺办结时限」, 新增材料「…」."""
        out = [f"修改「{f.label}」" for f in self.fields if f.changed]
        for what, rows in (("情形", self.situations), ("材料", self.materials), ("关联事项", self.relations)):
            out += [f"{row.kind_label}{what}「{row.label}」" for row in rows if row.kind != "same"]
        return out


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "\n".join(_show(v) for v in value)
    if isinstance(value, dict):
        return "；".join(_show(v) for v in value.values() if v not in (None, ""))
    return str(value)


def _field_text(item: dict, key: str, names: Mapping[str, str]) -> str:
    value = item.get(key)
    if key == "department":
        return names.get(value, value) if isinstance(value, str) else _show(value)
    if key in ("statutory_days", "committed_days"):
        return f"{value} 个工作日" if isinstance(value, int) else _show(value)
    if key == "online_depth":
        return ONLINE_DEPTH_LABELS.get(value, _show(value)) if isinstance(value, int) else _show(value)
    if key == "legal_basis":
        return "\n".join(f"{b.get('law', '')}{b.get('article', '')}：{b.get('text', '')}" for b in value or []
                         if isinstance(b, dict)) or "—"
    if key == "fees":
        return "\n".join(f"{f.get('name', '')} {f.get('amount', '')}（依据：{f.get('basis', '')}）" for f in value or []
                         if isinstance(f, dict)) or "—"
    if key == "results":
        return "\n".join(f"{r.get('name', '')}（{r.get('kind', '')}{'，证照' if r.get('licence') else ''}）"
                         for r in value or [] if isinstance(r, dict)) or "—"
    return _show(value)


DIFF_FIELDS = ("name", "type", "department", "service_objects", "legal_basis", "conditions", "statutory_days",
               "committed_days", "fees", "results", "steps", "channels", "online_url", "online_depth", "address",
               "hours", "phone", "keywords", "colloquial")


def _material_rows(material: dict, answers: Mapping[Any, Any]) -> list[tuple[str, str]]:
    out = []
    for key in MATERIAL_FIELDS:
        if key == "id":
            continue
        value = material.get(key)
        if key == "required":
            value = REQUIRED_LABELS.get(value, value)
        elif key == "source":
            value = SOURCE_LABELS.get(value, value)
        elif key == "shared_resource":
            value = SHARED_LABELS.get(value, value)
        elif key == "when":
            value = [answers.get(a, a) for a in value or []]
        out.append((MATERIAL_LABELS[key], _show(value)))
    return out


def _question_rows(question: dict, questions: Mapping[Any, Any]) -> list[tuple[str, str]]:
    out = [("问题", _show(question.get("question")))]
    for answer in question.get("answers", []):
        then = f"（接着问：{questions.get(answer['next'], answer['next'])}）" if answer.get("next") else ""
        out.append(("答案", f"{_show(answer.get('label'))}{then}"))
    return out


def _answers(item: dict) -> dict[Any, Any]:
    return {a.get("id"): a.get("label") or a.get("id") for q in item.get("situations") or []
            for a in q.get("answers", []) if isinstance(a, dict)}


def _rows(before: list[dict], after: list[dict], key, label, show) -> list[RowChange]:
    old = {key(row): row for row in before}
    new = {key(row): row for row in after}
    out = []
    for k, row in new.items():
        if k not in old:
            out.append(RowChange("added", label(row), [], show(row, after=True)))
            continue
        a, b = show(old[k], after=False), show(row, after=True)
        changed = [name for (name, x), (_n, y) in zip(a, b) if x != y] + (["项数"] if len(a) != len(b) else [])
        out.append(RowChange("changed" if a != b else "same", label(row), a, b, changed))
    out += [RowChange("removed", label(row), show(row, after=False), []) for k, row in old.items() if k not in new]
    return out


def diff(before: dict | None, after: dict, names: Mapping[Any, str] | None = None,
         items: Mapping[Any, str] | None = None) -> ItemDiff:
    """Field by field, what ``after`` changes in ``before`` (None: a new item, everything added).
    ``names`` are department names by code, ``items`` item names by basic code."""
    names, items = names or {}, items or {}
    old = before or {}
    fields = [FieldChange(FIELD_LABELS[k], _field_text(old, k, names) if before else "—", _field_text(after, k, names))
              for k in DIFF_FIELDS]
    old_answers, new_answers = _answers(old), _answers(after)
    old_questions = {q.get("id"): q.get("question") for q in old.get("situations") or []}
    new_questions = {q.get("id"): q.get("question") for q in after.get("situations") or []}
    situations = _rows(old.get("situations") or [], after.get("situations") or [], lambda q: q.get("id"),
                       lambda q: q.get("question") or q.get("id"),
                       lambda q, after: _question_rows(q, new_questions if after else old_questions))
    materials = _rows(old.get("materials") or [], after.get("materials") or [], lambda m: m.get("id"),
                      lambda m: m.get("name") or m.get("id"),
                      lambda m, after: _material_rows(m, new_answers if after else old_answers))

    def relation_label(r: dict) -> str:
        return f"{RELATION_LABELS.get(r.get('type'), r.get('type'))}：{items.get(r.get('item'), r.get('item'))}"

    relations = _rows(old.get("relations") or [], after.get("relations") or [],
                      lambda r: (r.get("type"), r.get("item")), relation_label,
                      lambda r, after: [("关联", relation_label(r))])
    return ItemDiff(fields, situations, materials, relations)
