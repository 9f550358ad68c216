"""The item editor without a database: form ↔ document, row operations, problems by field, the diff."""

from __future__ import annotations

import copy

import pytest

from tongban.demo.district import implementation_prefixes
from tongban.items import content, editor

PREFIXES = implementation_prefixes()  # what the demo district's departments give the database


@pytest.fixture(scope="module")
def document() -> dict:
    return content.load()


def _item(document: dict, code: str) -> dict:
    return copy.deepcopy(next(i for i in document["items"] if i["basic_code"] == code))


def test_every_demo_item_survives_the_form_unchanged(document):
    for item in document["items"]:
        assert editor.from_form(editor.to_form(item), item, PREFIXES) == item, item["name"]


def test_a_form_edit_becomes_the_document(document):
    item = _item(document, "000102004000")
    form = editor.to_form(item)
    form["committed_days"] = [" 2 "]
    form["conditions"] = ["第一条\r\n\r\n  第二条  "]
    form["service_objects"] = ["法人", "自然人"]
    form["department"] = ["PD-SCJG"]
    form["materials-1-source"] = ["issuing_department"]
    form["materials-1-issuer"] = ["区市场监管局"]
    form["materials-1-shared_resource"] = [""]
    form["materials-2-when"] = ["q1a", "q1b"]
    del form["materials-0-blank_form"]  # an unticked box is not sent
    form["situations-0-answers-1-label"] = ["  不涉及  "]
    changed = editor.from_form(form, item, PREFIXES)
    assert changed["committed_days"] == 2
    assert changed["conditions"] == ["第一条", "第二条"]
    assert changed["service_objects"] == ["法人", "自然人"]
    # The implementation code follows the department: nobody types it.
    assert changed["implementation_code"] == "11310115MB2F1177000102004000"
    assert changed["materials"][1]["source"] == "issuing_department" and changed["materials"][1]["issuer"] == "区市场监管局"
    assert changed["materials"][1]["shared_resource"] is None
    assert changed["materials"][2]["when"] == ["q1a", "q1b"]
    assert changed["materials"][0]["blank_form"] is False
    assert changed["situations"][0]["answers"][1]["label"] == "不涉及"
    # What is not a whole number is kept as typed, for the validator to name.
    form["statutory_days"] = ["十天"]
    assert editor.from_form(form, item, PREFIXES)["statutory_days"] == "十天"


def test_rows_are_added_removed_and_moved(document):
    item = _item(document, "000102004000")
    editor.apply_operation(item, "add:materials")
    new = item["materials"][-1]
    assert new["id"] == "m5" and new["required"] == "required" and set(new) == set(content.MATERIAL_FIELDS)
    editor.apply_operation(item, "up:materials-4")
    assert item["materials"][3]["id"] == "m5" and item["materials"][4]["id"] == "m4"
    editor.apply_operation(item, "down:materials-0")
    assert [m["id"] for m in item["materials"][:2]] == ["m2", "m1"]
    editor.apply_operation(item, "up:materials-0")  # the first row cannot go higher: nothing changes
    assert item["materials"][0]["id"] == "m2"
    editor.apply_operation(item, "add:situations")
    assert item["situations"][-1]["id"] == "q2" and [a["id"] for a in item["situations"][-1]["answers"]] == ["q2a", "q2b"]
    editor.apply_operation(item, "add:situations-0-answers")
    assert item["situations"][0]["answers"][-1]["id"] == "q1c"
    # A removed answer no longer triggers materials; a removed question is asked after no answer.
    item["situations"][0]["answers"][0]["next"] = "q2"
    editor.apply_operation(item, "remove:situations-0-answers-1")
    assert all("q1b" not in m["when"] for m in item["materials"])
    editor.apply_operation(item, "remove:situations-1")
    assert item["situations"][0]["answers"][0]["next"] is None
    for bad in ("drop:materials-0", "add:name", "remove:materials-99", "remove:materials", "up:", "add:materials-0-when"):
        with pytest.raises(editor.FormError):
            editor.apply_operation(item, bad)


def _errors(item: dict) -> dict[str, list[str]]:
    others = [i for i in content.load()["items"] if i["basic_code"] != item["basic_code"]]
    problems = content.validate({"format": content.FORMAT, "version": content.VERSION, "items": others + [item]}, PREFIXES)
    return editor.errors_by_field([p for p in problems if p.startswith(content.item_label(item))])


def test_each_problem_is_placed_next_to_its_field_in_chinese(document):
    item = _item(document, "000102004000")
    item["name"] = "企业投资项目备案"
    item["statutory_days"], item["committed_days"] = 3, 5
    item["service_objects"] = []
    item["materials"][2]["when"] = []  # conditional without a situation
    item["materials"][1]["shared_resource"] = None  # 免提交 without its source
    item["materials"][3]["issuer"] = None
    item["materials"][0]["name"] = " "
    item["situations"][0]["answers"][0]["next"] = "q9"
    item["relations"] = [{"type": "prerequisite", "item": "000000000404"}, {"type": "prerequisite", "item": ""}]
    item["fees"] = [{"name": "工本费", "amount": "", "basis": ""}]
    errors = _errors(item)
    assert errors["committed_days"] == ["承诺时限（5 个工作日）超过法定时限（3 个工作日）"]
    assert errors["service_objects"] == ["服务对象只能选「自然人」「法人」，且至少选一项"]
    assert errors["materials-2-when"] == ["按情形提交的材料必须勾选触发它的情形答案"]
    assert errors["materials-1-shared_resource"] == ["材料来源为共享获取（免提交）时必须选择共享数据来源"]
    assert errors["materials-3-issuer"] == ["由其他部门出具的材料必须写明出具部门"]
    assert errors["materials-0-name"] == ["材料名称不能为空"]
    assert errors["situations-0-answers-0-next"] == ["情形答案「涉及，需办理土地和规划手续」之后的问题「q9」不存在"]
    assert errors["relations-0-item"] == ["关联事项「000000000404」不存在"]
    assert errors["relations-1-item"] == ["关联事项第 2 项未选择事项"]
    assert errors["fees-0"] == ["收费第 1 项需要写明收费项目、金额和收费依据"]
    # No message on a page names a field by its key.
    for messages in errors.values():
        for message in messages:
            assert not any(key in message for key in ("relations", "committed_days", "shared_resource", "when", "issuer"))


def test_a_broken_json_text_is_answered_with_its_line_and_column():
    assert editor.json_problem('{"a": 1}') is None
    assert editor.json_problem('{\n  "a": 1,\n  "b": \n}') == "JSON 格式有误：第 4 行第 1 列，此处应为一个值"
    assert editor.json_problem('{\n "a": 1,\n}').startswith("JSON 格式有误：第 3 行第 1 列")
    assert "第 1 行第 6 列" in editor.json_problem('{"a" 1}')


def test_the_diff_names_each_change(document):
    before = _item(document, "000102004000")
    after = copy.deepcopy(before)
    after["committed_days"] = 3
    after["materials"].append({**before["materials"][0], "id": "m5", "name": "项目建议书"})
    after["materials"][2]["notes"] = "另附说明"
    del after["materials"][1]
    after["situations"][0]["question"] = "项目是否新增建设用地？"
    after["relations"] = [{"type": "follow_up", "item": "000115010000"}]
    changes = editor.diff(before, after, {"PD-FGW": "区发展改革委"}, {"000115010000": "道路挖掘"})
    changed = {f.label: (f.before, f.after) for f in changes.fields if f.changed}
    assert changed == {"承诺办结时限": ("1 个工作日", "3 个工作日")}
    assert next(f for f in changes.fields if f.label == "实施部门").after == "区发展改革委"
    kinds = {m.label: m.kind for m in changes.materials}
    assert kinds["项目建议书"] == "added" and kinds["项目单位营业执照"] == "removed"
    assert kinds["建设用地的权属证明或土地出让合同"] == "changed" and kinds["上海市企业投资项目备案信息表"] == "same"
    assert next(m for m in changes.materials if m.kind == "changed").changed_fields == ["填写说明"]
    assert [s.kind for s in changes.situations] == ["changed"]
    assert [(r.kind, r.label) for r in changes.relations] == [("added", "后续事项：道路挖掘")]
    assert changes.summary == ["修改「承诺办结时限」", "修改情形「项目是否新增建设用地？」", "修改材料「建设用地的权属证明或土地出让合同」",
                               "新增材料「项目建议书」", "删除材料「项目单位营业执照」", "新增关联事项「后续事项：道路挖掘」"]
    # A new item: everything is added, nothing compared with a version that does not exist.
    first = editor.diff(None, before)
    assert all(m.kind == "added" for m in first.materials) and all(f.before == "—" for f in first.fields)
