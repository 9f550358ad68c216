"""Guided navigation (智能导航) and the tailored notice (智能告知单) it ends in.

Pure functions over published item documents. Navigation follows the item's question graph from
its first question, taking the applicant's answers; it asks only what still matters: a question
whose answers all lead to the same next question and change no material is passed over, and
answers to questions off the applicant's path are ignored. The notice then lists exactly the
materials of that sub-case, marks the ones the platform fetches from shared data (免提交), and
orders the prerequisite items the way they must be done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tongban.core.errors import Problem
from tongban.items import content

# What replaces a 免提交 material: the base registry the platform reads it from.
SHARED_DATA_LABELS = {
    "persons": "人口综合库（身份、户籍信息）",
    "legal-entities": "法人综合库（营业执照等登记信息）",
    "addresses": "标准地址库（地址、房屋信息）",
}
FORM_NOTES = {"原件": "原件", "复印件": "复印件", "电子件": "电子件", "原件及复印件": "原件及复印件"}


@dataclass
class Navigation:
    """Where an applicant stands: the questions answered so far, and the next one or the sub-case."""

    asked: list[dict[str, str]] = field(default_factory=list)  # {question_id, question, answer_id, answer}
    next_question: dict[str, Any] | None = None
    path: list[str] = field(default_factory=list)  # answer ids on the path, in the order asked

    @property
    def done(self) -> bool:
        return self.next_question is None


def _materials_differ(item: dict, answers: list[dict]) -> bool:
    triggered = [{m["id"] for m in item["materials"] if answer["id"] in (m.get("when") or [])} for answer in answers]
    return any(t != triggered[0] for t in triggered)


def _matters(item: dict, question: dict) -> bool:
    answers = question["answers"]
    return len({a.get("next") for a in answers}) > 1 or _materials_differ(item, answers)


def navigate(item: dict, answers: dict[str, str]) -> Navigation:
    """Follow the item's questions with the given answers (question id → answer id)."""
    questions = {q["id"]: q for q in item.get("situations") or []}
    state = Navigation()
    if not questions:
        return state
    current: str | None = item["situations"][0]["id"]
    seen: set[str] = set()
    while current is not None:
        if current not in questions:
            # Published content is validated; this guards drafts and hand-made documents.
            raise Problem("situation-dead-end", f"事项「{item['name']}」的情形问题指向不存在的问题「{current}」，无法继续导航",
                          errors=[{"field": "answers", "code": "dead-end", "message": f"问题「{current}」不存在"}])
        if current in seen:
            raise Problem("situation-dead-end", f"事项「{item['name']}」的情形问题形成循环，无法继续导航")
        seen.add(current)
        question = questions[current]
        if not _matters(item, question):
            current = question["answers"][0].get("next")
            continue
        chosen = answers.get(current)
        if chosen is None:
            state.next_question = {"id": question["id"], "question": question["question"],
                                   "answers": [{"id": a["id"], "label": a["label"]} for a in question["answers"]]}
            return state
        answer = next((a for a in question["answers"] if a["id"] == chosen), None)
        if answer is None:
            labels = "、".join(f"{a['id']}（{a['label']}）" for a in question["answers"])
            raise Problem("answer-invalid", f"「{chosen}」不是问题「{question['question']}」的选项；可选：{labels}",
                          errors=[{"field": f"answers.{current}", "code": "unknown-answer",
                                   "message": f"可选：{labels}"}])
        state.asked.append({"question_id": question["id"], "question": question["question"],
                            "answer_id": answer["id"], "answer": answer["label"]})
        state.path.append(answer["id"])
        current = answer.get("next")
    return state


def _days(days: int | None) -> str | None:
    return None if days is None else ("即办" if days == 0 else f"{days}个工作日")


def item_summary(item: dict, department_names: dict[str, str]) -> dict[str, Any]:
    """Where, when and how to do an item: what a notice says of a prerequisite or related item."""
    return {
        "code": item["basic_code"], "name": item["name"], "department": item["department"],
        "department_name": department_names.get(item["department"], item["department"]),
        "address": item["address"], "hours": item["hours"], "phone": item["phone"],
        "online_url": item["online_url"], "channels": item["channels"],
        "committed_days": _days(item["committed_days"]), "statutory_days": _days(item["statutory_days"]),
    }


def material_view(material: dict) -> dict[str, Any]:
    exempt = material["source"] == "shared_data"
    return {
        "id": material["id"], "name": material["name"], "form": material["form"], "copies": material["copies"],
        "required": material["required"] == "required",
        "source": material["source"], "issuer": material["issuer"],
        "exempt": exempt, "shared_data": SHARED_DATA_LABELS.get(material["shared_resource"]) if exempt else None,
        "blank_form": material["blank_form"], "sample": material["sample"], "notes": material["notes"],
    }


def tailored_notice(item: dict, version: int, navigation: Navigation, items_by_code: dict[str, dict],
                    department_names: dict[str, str]) -> dict[str, Any]:
    """The notice of one finished navigation: exactly this sub-case's materials and the way to the result."""
    question = navigation.next_question
    if question is not None:  # not done
        raise Problem("navigation-incomplete", f"还有问题未回答：{question['question']}",
                      errors=[{"field": f"answers.{question['id']}", "code": "missing",
                               "message": "请先回答此问题"}])
    materials = [material_view(m) for m in content.materials_for(item, navigation.path)]
    try:
        order = content.prerequisite_order(list(items_by_code.values()), item["basic_code"])
    except ValueError as error:  # a cycle: refused at publication, so only a broken store gets here
        raise Problem("prerequisite-cycle", str(error)) from None
    related = {kind: [items_by_code[r["item"]] for r in item["relations"]
                      if r["type"] == kind and r["item"] in items_by_code] for kind in ("parallel", "follow_up")}
    return {
        "item": {**item_summary(item, department_names), "implementation_code": item["implementation_code"],
                 "version": version, "type": item["type"], "service_objects": item["service_objects"],
                 "online_depth": item["online_depth"]},
        "situation": navigation.asked,
        "materials": materials,
        "exempt_count": sum(1 for m in materials if m["exempt"]),
        "prerequisites": [item_summary(items_by_code[code], department_names) for code in order],
        "parallel": [item_summary(other, department_names) for other in related["parallel"]],
        "follow_up": [item_summary(other, department_names) for other in related["follow_up"]],
        "conditions": item["conditions"],
        "legal_basis": item["legal_basis"],
        "steps": item["steps"],
        "committed_days": _days(item["committed_days"]),
        "statutory_days": _days(item["statutory_days"]),
        "fees": item["fees"],
        "results": item["results"],
    }
