"""The service-item knowledge base (事项库) as content: loading, validation and graph helpers.

Pure functions over the JSON document, no database: the content is reviewed like code, and the
validator is what keeps 40+ hand-written items consistent before anything imports them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tongban.core.urls import url_problem

DEMO_PATH = Path(__file__).with_name("demo_items.json")

FORMAT = "tongban-items"
VERSION = 1
DISTRICT_PREFIX = "11310115"  # 11 = administrative organ, 310115 = 浦东新区

# Fixed 8-character department identifiers, so implementation codes are deterministic and can be
# recomputed (and checked) from department and basic code alone.
DEPARTMENT_IDS = {
    "PD-GA": "42500431",
    "PD-RS": "00250215",
    "PD-MZ": "00250302",
    "PD-SCJG": "MB2F1177",
    "PD-SW": "MB0Z2215",
    "PD-GHZY": "MB2F6520",
    "PD-STHJ": "MB2F4932",
    "PD-JSJT": "00250318",
    "PD-CGZF": "MB2F3306",
    "PD-WJW": "MB2F2284",
    "PD-YB": "MB2F8841",
    "PD-GJJ": "42500577",
    "PD-ZJ": "00250460",
    "PD-FGW": "00250107",
    "PD-JY": "00250123",
    "PD-KW": "00250131",
    "PD-TYJR": "MB2F9012",
    "PD-CL": "50250519",
    "PD-SF": "00250149",
    "PD-WTL": "MB2F5503",
}

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


def validate(document: Any) -> list[str]:
    """Every problem in the document, one Chinese message each; an empty list means valid."""
    if not isinstance(document, dict):
        return ["文档必须是 JSON 对象"]
    problems: list[str] = []
    if document.get("format") != FORMAT:
        problems.append(f"文档 format 必须为「{FORMAT}」")
    if document.get("version") != VERSION:
        problems.append(f"文档 version 必须为 {VERSION}")
    items = document.get("items")
    if not isinstance(items, list):
        return problems + ["文档缺少 items 列表"]

    seen_basic: dict[str, str] = {}
    seen_impl: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            problems.append("items 中的每一项必须是 JSON 对象")
            continue
        problems.extend(_validate_item(item))
        for field, seen in (("basic_code", seen_basic), ("implementation_code", seen_impl)):
            code = item.get(field)
            if code is None:
                continue
            if code in seen:
                problems.append(f"{item_label(item)}：{field}「{code}」与事项「{seen[code]}」重复")
            else:
                seen[code] = item.get("name", "?")

    names = {item.get("basic_code"): item.get("name", "?") for item in items if isinstance(item, dict)}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("relations"), list):
            continue
        for relation in item["relations"]:
            if not isinstance(relation, dict):
                problems.append(f"{item_label(item)}：relations 的每一项必须是对象")
                continue
            if relation.get("type") not in RELATION_TYPES:
                problems.append(f"{item_label(item)}：relations.type「{relation.get('type')}」不是有效取值")
            target = relation.get("item")
            if target not in names:
                problems.append(f"{item_label(item)}：relations 指向不存在的事项「{target}」")
            elif target == item.get("basic_code"):
                problems.append(f"{item_label(item)}：relations 不能指向事项自身")

    for cycle in _prerequisite_cycles(items):
        problems.append("前置事项形成循环：" + " → ".join(names.get(code, code) for code in cycle))
    return problems


def _validate_item(item: dict) -> list[str]:
    label = item_label(item)
    out = [f"{label}：缺少字段 {field}" for field in ITEM_FIELDS if field not in item]
    if out:
        return out  # the checks below assume every field is present

    basic = item["basic_code"]
    if not (isinstance(basic, str) and len(basic) == 12 and basic.isdigit()):
        out.append(f"{label}：basic_code 必须是 12 位数字")
    department = item["department"]
    if department not in DEPARTMENT_IDS:
        out.append(f"{label}：department「{department}」不是本区部门代码")
    elif item["implementation_code"] != DISTRICT_PREFIX + DEPARTMENT_IDS[department] + str(basic):
        out.append(f"{label}：implementation_code 应为「{DISTRICT_PREFIX + DEPARTMENT_IDS[department] + str(basic)}」")
    if not isinstance(item["name"], str) or not item["name"].strip():
        out.append(f"{label}：name 不能为空")
    if item["online_url"] is not None and (problem := url_problem(item["online_url"])):
        out.append(f"{label}：online_url {problem}")
    if item["type"] not in ITEM_TYPES:
        out.append(f"{label}：type「{item['type']}」不是有效的事项类型")
    if item["level"] != "区级":
        out.append(f"{label}：level 必须为「区级」")
    objects = item["service_objects"]
    if not objects or not set(objects) <= SERVICE_OBJECTS:
        out.append(f"{label}：service_objects 只能取「自然人」「法人」且不能为空")
    if not item["legal_basis"]:
        out.append(f"{label}：legal_basis 不能为空")
    for basis in item["legal_basis"]:
        if not all(basis.get(key) for key in ("law", "article", "text")):
            out.append(f"{label}：legal_basis 每一条都需要 law、article、text")
    themes = item.get("themes", [])
    if not isinstance(themes, list) or not all(theme in THEMES for theme in themes):
        out.append(f"{label}：themes 只能取 " + "、".join(THEMES))
    online_depth = item["online_depth"]
    if not (isinstance(online_depth, int) and 1 <= online_depth <= 4):
        out.append(f"{label}：online_depth 必须是 1 至 4 的整数")

    statutory, committed = item["statutory_days"], item["committed_days"]
    for field, value in (("statutory_days", statutory), ("committed_days", committed)):
        if value is not None and not (isinstance(value, int) and value >= 0):
            out.append(f"{label}：{field} 必须是非负整数或 null")
    if isinstance(statutory, int) and isinstance(committed, int) and committed > statutory:
        out.append(f"{label}：承诺时限 committed_days（{committed}）超过法定时限 statutory_days（{statutory}）")

    for result in item["results"]:
        if result.get("kind") not in RESULT_KINDS:
            out.append(f"{label}：results.kind「{result.get('kind')}」不是有效取值")
    for fee in item["fees"]:
        if not all(fee.get(key) for key in ("name", "amount", "basis")):
            out.append(f"{label}：fees 每一项都需要 name、amount、basis")

    answers = _validate_situations(item, out)
    _validate_materials(item, answers, out)
    return out


def _validate_situations(item: dict, out: list[str]) -> set[str]:
    label = item_label(item)
    questions = {}
    answers: set[str] = set()
    for question in item["situations"]:
        qid = question.get("id")
        if qid in questions:
            out.append(f"{label}：情形问题 id「{qid}」重复")
        questions[qid] = question
        if not question.get("question") or not question.get("answers"):
            out.append(f"{label}：情形问题「{qid}」缺少 question 或 answers")
        for answer in question.get("answers", []):
            if answer.get("id") in answers:
                out.append(f"{label}：情形答案 id「{answer.get('id')}」重复")
            answers.add(answer.get("id"))
    for question in item["situations"]:
        for answer in question.get("answers", []):
            target = answer.get("next")
            if target is not None and target not in questions:
                out.append(f"{label}：情形答案「{answer.get('id')}」的 next 指向不存在的问题「{target}」")
    if questions and not any(m.startswith(f"{label}：情形答案") for m in out):
        # A question nobody can reach is dead content; a loop would make the notice never end.
        reached, looped = _walk(item)
        for qid in questions:
            if qid not in reached:
                out.append(f"{label}：情形问题「{qid}」无法从第一个问题到达")
        if looped:
            out.append(f"{label}：情形问题之间形成循环")
    return answers


def _validate_materials(item: dict, answers: set[str], out: list[str]) -> None:
    label = item_label(item)
    ids = set()
    for material in item["materials"]:
        name = material.get("name") or material.get("id")
        where = f"{label} 材料「{name}」"
        missing = [field for field in MATERIAL_FIELDS if field not in material]
        if missing:
            out.append(f"{where}：缺少字段 {', '.join(missing)}")
            continue
        if material["id"] in ids:
            out.append(f"{where}：材料 id「{material['id']}」重复")
        ids.add(material["id"])
        if material["form"] not in MATERIAL_FORMS:
            out.append(f"{where}：form「{material['form']}」不是有效取值")
        if not (isinstance(material["copies"], int) and material["copies"] >= 0):
            out.append(f"{where}：copies 必须是非负整数")
        if material["required"] not in MATERIAL_REQUIRED:
            out.append(f"{where}：required「{material['required']}」不是有效取值")
        elif material["required"] == "conditional" and not material["when"]:
            out.append(f"{where}：容缺/情形材料（conditional）必须在 when 中列出触发的情形答案")
        elif material["required"] == "required" and material["when"]:
            out.append(f"{where}：必交材料（required）的 when 应为空，按情形提交的材料请标为 conditional")
        for answer in material["when"]:
            if answer not in answers:
                out.append(f"{where}：when 引用了不存在的情形答案「{answer}」")
        if material["source"] not in MATERIAL_SOURCES:
            out.append(f"{where}：source「{material['source']}」不是有效取值")
        elif material["source"] == "shared_data" and material["shared_resource"] not in SHARED_RESOURCES:
            out.append(f"{where}：来源为共享数据（免提交）时必须指明 shared_resource")
        elif material["source"] != "shared_data" and material["shared_resource"] is not None:
            out.append(f"{where}：只有来源为共享数据时才能填写 shared_resource")
        if material["source"] == "issuing_department" and not material["issuer"]:
            out.append(f"{where}：由其他部门出具的材料必须写明 issuer")


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
