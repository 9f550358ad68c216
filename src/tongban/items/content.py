"""The service-item knowledge base (事项库) as content: loading, validation and graph helpers.

Pure functions over the JSON document, no database: the content is reviewed like code, and the
validator is what keeps 40+ hand-written items consistent before anything imports them. What the
district decides — which departments implement items, and the start of their 实施编码 — is the
organisation's data, not this file's: callers pass it in (``prefixes``, from
``org.service.implementation_prefixes``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tongban.core.urls import url_problem

DEMO_PATH = Path(__file__).with_name("demo_items.json")

FORMAT = "tongban-items"
VERSION = 1
# Life-event themes (主题) an item may carry, as the portal groups them: a citizen's life and an
# enterprise's. Optional on an item ("themes"); when given, only these.
PERSON_THEMES = ("出生", "入学", "就业", "婚育", "住房", "迁移", "证件", "社保", "医疗", "退休", "养老", "救助",
                 "残疾人", "退役军人", "身后事")
ENTERPRISE_THEMES = ("开办", "经营许可", "变更", "纳税", "用工", "注销", "工程建设", "投资")
THEMES = PERSON_THEMES + ENTERPRISE_THEMES

ITEM_TYPES = {"行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政检查", "其他行政权力", "公共服务"}
SERVICE_OBJECTS = {"自然人", "法人"}
MATERIAL_FORMS = {"原件", "复印件", "电子件", "原件及复印件"}
MATERIAL_REQUIRED = {"required", "conditional"}
MATERIAL_SOURCES = {"applicant", "issuing_department", "shared_data"}
SHARED_RESOURCES = {"persons", "legal-entities", "addresses"}
RESULT_KINDS = {"证照", "批文", "登记", "其他"}
RELATION_TYPES = {"prerequisite", "parallel", "follow_up"}

ITEM_FIELDS = (
    "basic_code", "implementation_code", "name", "type", "department", "level", "service_objects",
    "legal_basis", "conditions", "situations", "materials", "steps", "statutory_days", "committed_days",
    "fees", "results", "channels", "online_url", "address", "hours", "phone", "online_depth",
    "relations", "keywords", "colloquial",
)
OPTIONAL_ITEM_FIELDS = ("themes",)  # older documents have none: an item without themes is in no 主题
MATERIAL_FIELDS = ("id", "name", "form", "copies", "required", "when", "source", "issuer", "shared_resource",
                   "blank_form", "sample", "notes")


FIELD_LABELS = {
    "basic_code": "基本编码", "implementation_code": "实施编码", "name": "事项名称", "type": "事项类型",
    "department": "实施部门", "level": "行使层级", "service_objects": "服务对象", "legal_basis": "设定依据",
    "conditions": "受理条件", "situations": "情形", "materials": "申请材料", "steps": "办理流程",
    "statutory_days": "法定办结时限", "committed_days": "承诺办结时限", "fees": "收费", "results": "办理结果",
    "channels": "办理渠道", "online_url": "网上办理地址", "address": "办理地点", "hours": "办公时间",
    "phone": "咨询电话", "online_depth": "网办深度", "relations": "关联事项", "keywords": "关键词",
    "colloquial": "群众说法",
}
MATERIAL_LABELS = {
    "id": "材料编号", "name": "材料名称", "form": "材料形式", "copies": "份数", "required": "是否必交",
    "when": "适用情形", "source": "材料来源", "issuer": "出具部门", "shared_resource": "共享数据来源",
    "blank_form": "空白表格", "sample": "示例样表", "notes": "填写说明",
}


class Issue(str):
    """One validation problem: the Chinese message (prefixed with the item it concerns, as lists of
    problems read it) that also knows the field it is about (``materials.2.when``) and its bare
    wording, so a form can show it next to that field."""

    field: str
    detail: str

    def __new__(cls, label: str, detail: str, field: str = "") -> Issue:
        issue = super().__new__(cls, f"{label}：{detail}" if label else detail)
        issue.field, issue.detail = field, detail
        return issue


def load(path: str | Path | None = None) -> dict:
    """Read an items document; the demo file when no path is given."""
    with open(path or DEMO_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def item_label(item: dict) -> str:
    return f"事项「{item.get('name') or item.get('basic_code') or '?'}」"


def readable(item: dict) -> dict:
    """A published document as pages, forms and notices read it. Names were not always checked on
    publication: such an item gets a stand-in name rather than failing every page that shows it."""
    if not isinstance(item.get("name"), str) or not item["name"].strip():
        item["name"] = f"未命名事项（{item.get('basic_code') or '?'}）"
    return item


def validate(document: Any, prefixes: Mapping[str, str]) -> list[str]:
    """Every problem in the document, one Chinese message each (an ``Issue``); empty means valid.
    ``prefixes`` maps each of the district's departments that implement items to the start of their
    items' 实施编码 (``org.service.implementation_prefixes``): an item of any other department is refused."""
    if not isinstance(document, dict):
        return [Issue("", "文档必须是 JSON 对象")]
    problems: list[str] = []
    if document.get("format") != FORMAT:
        problems.append(Issue("", f"文档格式（format）必须为「{FORMAT}」"))
    if document.get("version") != VERSION:
        problems.append(Issue("", f"文档版本（version）必须为 {VERSION}"))
    items = document.get("items")
    if not isinstance(items, list):
        return problems + [Issue("", "文档缺少事项列表（items）")]

    seen_basic: dict[str, str] = {}
    seen_impl: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            problems.append(Issue("", "事项列表中的每一项必须是 JSON 对象"))
            continue
        problems.extend(_validate_item(item, prefixes))
        for field, seen in (("basic_code", seen_basic), ("implementation_code", seen_impl)):
            code = item.get(field)
            if code is None:
                continue
            if code in seen:
                problems.append(Issue(item_label(item), f"{FIELD_LABELS[field]}「{code}」与事项「{seen[code]}」重复", field))
            else:
                seen[code] = item.get("name", "?")

    names = {item.get("basic_code"): item.get("name", "?") for item in items if isinstance(item, dict)}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("relations"), list):
            continue
        label = item_label(item)
        for index, relation in enumerate(item["relations"]):
            where = f"relations.{index}"
            if not isinstance(relation, dict):
                problems.append(Issue(label, f"关联事项第 {index + 1} 项必须是对象", where))
                continue
            if relation.get("type") not in RELATION_TYPES:
                problems.append(Issue(label, f"关联类型「{relation.get('type')}」不是有效取值", f"{where}.type"))
            target = relation.get("item")
            if not target:
                problems.append(Issue(label, f"关联事项第 {index + 1} 项未选择事项", f"{where}.item"))
            elif target not in names:
                problems.append(Issue(label, f"关联事项「{target}」不存在", f"{where}.item"))
            elif target == item.get("basic_code"):
                problems.append(Issue(label, "关联事项不能是本事项自身", f"{where}.item"))

    for cycle in _prerequisite_cycles(items):
        problems.append(Issue("", "前置事项形成循环：" + " → ".join(names.get(code, code) for code in cycle), "relations"))
    return problems


def _validate_item(item: dict, prefixes: Mapping[str, str]) -> list[Issue]:
    label = item_label(item)
    out = [Issue(label, f"缺少字段 {field}（{FIELD_LABELS[field]}）", field) for field in ITEM_FIELDS if field not in item]
    if out:
        return out  # the checks below assume every field is present

    def problem(field: str, detail: str) -> None:
        out.append(Issue(label, detail, field))

    basic = item["basic_code"]
    if not (isinstance(basic, str) and len(basic) == 12 and basic.isdigit()):
        problem("basic_code", "基本编码必须是 12 位数字")
    department = item["department"]
    if not isinstance(department, str) or department not in prefixes:
        problem("department", f"实施部门「{department}」不是本区的部门")
    elif item["implementation_code"] != prefixes[department] + str(basic):
        problem("implementation_code", f"实施编码应为「{prefixes[department] + str(basic)}」")
    if not isinstance(item["name"], str) or not item["name"].strip():
        problem("name", "事项名称不能为空")
    if item["online_url"] is not None and (url := url_problem(item["online_url"])):
        problem("online_url", f"网上办理地址有误：{url}")
    if item["type"] not in ITEM_TYPES:
        problem("type", f"事项类型「{item['type']}」不是有效的事项类型")
    if item["level"] != "区级":
        problem("level", "行使层级必须为「区级」")
    objects = item["service_objects"]
    if not objects or not isinstance(objects, list) or not set(objects) <= SERVICE_OBJECTS:
        problem("service_objects", "服务对象只能选「自然人」「法人」，且至少选一项")
    if not item["legal_basis"]:
        problem("legal_basis", "设定依据至少要有一条")
    for index, basis in enumerate(item["legal_basis"] or []):
        if not isinstance(basis, dict) or not all(basis.get(key) for key in ("law", "article", "text")):
            problem(f"legal_basis.{index}", f"设定依据第 {index + 1} 条需要写明法律法规名称、条款和条文内容")
    themes = item.get("themes", [])
    unknown = [str(t) for t in themes if t not in THEMES] if isinstance(themes, list) else [str(themes)]
    if unknown:
        problem("themes", f"主题「{'」「'.join(unknown)}」不在主题表中；可选：" + "、".join(THEMES))
    online_depth = item["online_depth"]
    if not (isinstance(online_depth, int) and 1 <= online_depth <= 4):
        problem("online_depth", "网办深度必须是 1 至 4 的整数")

    statutory, committed = item["statutory_days"], item["committed_days"]
    for field, value in (("statutory_days", statutory), ("committed_days", committed)):
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            problem(field, f"{FIELD_LABELS[field]}必须是不小于 0 的整数（工作日），无时限的留空")
    if isinstance(statutory, int) and isinstance(committed, int) and committed > statutory:
        problem("committed_days", f"承诺时限（{committed} 个工作日）超过法定时限（{statutory} 个工作日）")

    for index, result in enumerate(item["results"] or []):
        if not isinstance(result, dict) or result.get("kind") not in RESULT_KINDS:
            kind = result.get("kind") if isinstance(result, dict) else None
            problem(f"results.{index}.kind", f"办理结果第 {index + 1} 项的结果类型「{kind}」不是有效取值")
        # Other domains read a result by its name (the licence issued, the notice printed).
        if isinstance(result, dict) and not (isinstance(result.get("name"), str) and result["name"].strip()):
            problem(f"results.{index}.name", f"办理结果第 {index + 1} 项需要写明结果名称")
    for index, fee in enumerate(item["fees"] or []):
        if not isinstance(fee, dict) or not all(fee.get(key) for key in ("name", "amount", "basis")):
            problem(f"fees.{index}", f"收费第 {index + 1} 项需要写明收费项目、金额和收费依据")

    answers = _validate_situations(item, out)
    _validate_materials(item, answers, out)
    return out


def _validate_situations(item: dict, out: list[Issue]) -> set[str]:
    label = item_label(item)
    questions: dict = {}
    answers: set[str] = set()
    broken = False
    for index, question in enumerate(item["situations"]):
        qid = question.get("id")
        where = f"situations.{index}"
        if not qid:
            out.append(Issue(label, f"情形问题第 {index + 1} 个缺少编号", f"{where}.id"))
        elif qid in questions:
            out.append(Issue(label, f"情形问题编号「{qid}」重复", f"{where}.id"))
        questions[qid] = question
        if not question.get("question"):
            out.append(Issue(label, f"情形问题「{qid}」没有填写问题", f"{where}.question"))
        if not question.get("answers"):
            out.append(Issue(label, f"情形问题「{question.get('question') or qid}」至少要有一个答案", f"{where}.answers"))
        for number, answer in enumerate(question.get("answers", [])):
            if not answer.get("id"):
                out.append(Issue(label, "情形答案缺少编号", f"{where}.answers.{number}.id"))
            elif answer.get("id") in answers:
                out.append(Issue(label, f"情形答案编号「{answer.get('id')}」重复", f"{where}.answers.{number}.id"))
            if not answer.get("label"):
                out.append(Issue(label, f"情形答案「{answer.get('id')}」没有填写答案文字", f"{where}.answers.{number}.label"))
            answers.add(answer.get("id"))
    for index, question in enumerate(item["situations"]):
        for number, answer in enumerate(question.get("answers", [])):
            target = answer.get("next")
            if target is not None and target not in questions:
                broken = True
                out.append(Issue(label, f"情形答案「{answer.get('label') or answer.get('id')}」之后的问题「{target}」不存在",
                                 f"situations.{index}.answers.{number}.next"))
    if questions and not broken:
        # A question nobody can reach is dead content; a loop would make the notice never end.
        reached, looped = _walk(item)
        positions = {q.get("id"): index for index, q in reversed(list(enumerate(item["situations"])))}
        for qid, question in questions.items():
            if qid not in reached:
                out.append(Issue(label, f"情形问题「{question.get('question') or qid}」无法从第一个问题到达",
                                 f"situations.{positions[qid]}"))
        if looped:
            out.append(Issue(label, "情形问题之间形成循环", "situations"))
    return answers


def _validate_materials(item: dict, answers: set[str], out: list[Issue]) -> None:
    label = item_label(item)
    ids = set()
    for index, material in enumerate(item["materials"]):
        name = material.get("name") or material.get("id")
        where = f"{label} 材料「{name}」"
        path = f"materials.{index}"

        def problem(field: str, detail: str, where: str = where, path: str = path) -> None:
            out.append(Issue(where, detail, f"{path}.{field}" if field else path))

        missing = [field for field in MATERIAL_FIELDS if field not in material]
        if missing:
            problem("", "缺少字段 " + ", ".join(f"{field}（{MATERIAL_LABELS[field]}）" for field in missing))
            continue
        if not material["name"] or not str(material["name"]).strip():
            problem("name", "材料名称不能为空")
        if material["id"] in ids:
            problem("id", f"材料编号「{material['id']}」重复")
        ids.add(material["id"])
        if material["form"] not in MATERIAL_FORMS:
            problem("form", f"材料形式「{material['form']}」不是有效取值")
        if not (isinstance(material["copies"], int) and not isinstance(material["copies"], bool) and material["copies"] >= 0):
            problem("copies", "份数必须是不小于 0 的整数")
        if material["required"] not in MATERIAL_REQUIRED:
            problem("required", f"是否必交的取值「{material['required']}」无效")
        elif material["required"] == "conditional" and not material["when"]:
            problem("when", "按情形提交的材料必须勾选触发它的情形答案")
        elif material["required"] == "required" and material["when"]:
            problem("when", "必交材料不应勾选适用情形；只在某些情形下提交的，请把是否必交改为「按情形提交」")
        for answer in material["when"] or []:
            if answer not in answers:
                problem("when", f"适用情形引用了不存在的情形答案「{answer}」")
        if material["source"] not in MATERIAL_SOURCES:
            problem("source", f"材料来源「{material['source']}」不是有效取值")
        elif material["source"] == "shared_data" and material["shared_resource"] not in SHARED_RESOURCES:
            problem("shared_resource", "材料来源为共享获取（免提交）时必须选择共享数据来源")
        elif material["source"] != "shared_data" and material["shared_resource"] is not None:
            problem("shared_resource", "只有材料来源为共享获取（免提交）时才能选择共享数据来源")
        if material["source"] == "issuing_department" and not material["issuer"]:
            problem("issuer", "由其他部门出具的材料必须写明出具部门")


def _walk(item: dict) -> tuple[set[str], bool]:
    """Questions reachable from the first one, and whether any path loops."""
    questions = {q["id"]: q for q in item["situations"]}
    reached: set[str] = set()
    looped = False

    def visit(qid: str, stack: tuple[str, ...]) -> None:
        nonlocal looped
        if qid in stack:
            looped = True
            return
        reached.add(qid)
        for answer in questions[qid]["answers"]:
            if answer.get("next") in questions:
                visit(answer["next"], stack + (qid,))

    visit(item["situations"][0]["id"], ())
    return reached, looped


def leaf_paths(item: dict) -> list[list[str]]:
    """Answer-id paths from the first question to an answer that ends the questioning.

    Each path is one sub-case (子类情形) of the item: the tailored notice for it lists the materials
    whose ``when`` is empty or names an answer on the path. An item without questions has one
    empty path (a single case). Loops are cut rather than followed forever.
    """
    situations = item.get("situations") or []
    if not situations:
        return [[]]
    questions = {q["id"]: q for q in situations}
    paths: list[list[str]] = []

    def walk(qid: str, path: list[str], seen: tuple[str, ...]) -> None:
        for answer in questions[qid]["answers"]:
            target = answer.get("next")
            if target in questions and target not in seen:
                walk(target, path + [answer["id"]], seen + (target,))
            else:
                paths.append(path + [answer["id"]])

    walk(situations[0]["id"], [], (situations[0]["id"],))
    return paths


def materials_for(item: dict, path: list[str]) -> list[dict]:
    """The materials of one sub-case: unconditional ones plus those triggered by an answer on the path."""
    chosen = set(path)
    return [m for m in item.get("materials", []) if not m.get("when") or chosen & set(m["when"])]


def _prerequisites(items: list[dict]) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for item in items:
        if isinstance(item, dict) and "basic_code" in item:
            graph[item["basic_code"]] = [r["item"] for r in item.get("relations") or []
                                         if isinstance(r, dict) and r.get("type") == "prerequisite" and r.get("item") is not None]
    return graph


def _prerequisite_cycles(items: list[dict]) -> list[list[str]]:
    """Each distinct cycle among prerequisite relations, as codes with the first repeated at the end."""
    graph = _prerequisites(items)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()

    def visit(code: str, path: list[str]) -> None:
        state[code] = 1
        path.append(code)
        for target in graph.get(code, []):
            if target not in graph:
                continue  # dangling relations are reported separately
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                if frozenset(cycle) not in seen_sets:
                    seen_sets.add(frozenset(cycle))
                    cycles.append(cycle)
            elif state.get(target) is None:
                visit(target, path)
        path.pop()
        state[code] = 2

    for code in graph:
        if code not in state:
            visit(code, [])
    return cycles


def prerequisite_order(items: list[dict], code: str) -> list[str]:
    """Basic codes of every item that must be done before ``code``, in an order that can be followed.

    Transitive, topological (each item comes after its own prerequisites), the item itself
    excluded; ties follow the order the relations are listed in, so the answer is stable.
    Raises ``KeyError`` for an unknown code and ``ValueError`` naming the cycle when there is one.
    """
    graph = _prerequisites(items)
    names = {item.get("basic_code"): item.get("name", "?") for item in items}
    if code not in graph:
        raise KeyError(code)
    order: list[str] = []
    done: set[str] = set()

    def visit(current: str, path: list[str]) -> None:
        if current in path:
            cycle = path[path.index(current):] + [current]
            raise ValueError("前置事项形成循环：" + " → ".join(names.get(c, c) for c in cycle))
        if current in done:
            return
        for target in graph.get(current, []):
            if target in graph:
                visit(target, path + [current])
        done.add(current)
        order.append(current)

    visit(code, [])
    return order[:-1]
