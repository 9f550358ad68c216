"""The demo service-item knowledge base: valid, big enough, and the road-excavation case complete."""

from __future__ import annotations

import copy

import pytest

from tongban.demo.district import implementation_prefixes
from tongban.items import content

PREFIXES = implementation_prefixes()  # what the demo district's departments give the database

REQUIRED_NAMES = ["道路挖掘", "建设工程规划许可证", "掘路施工计划", "管线保护监护交底", "文明施工承诺", "企业设立登记",
                  "公章刻制备案", "新办纳税人", "社会保险登记", "公积金缴存登记", "食品经营许可", "公共场所卫生许可",
                  "最低生活保障", "廉租住房", "居住证", "结婚登记", "社会保障卡"]


@pytest.fixture(scope="module")
def document():
    return content.load()


def _by_name(document, fragment):
    matches = [item for item in document["items"] if fragment in item["name"]]
    assert matches, f"no item named like {fragment}"
    return matches[0]


def test_the_demo_content_validates(document):
    assert content.validate(document, PREFIXES) == []


def test_the_demo_content_is_big_enough(document):
    assert len(document["items"]) >= 40
    assert len({item["department"] for item in document["items"]}) >= 10


@pytest.mark.parametrize("fragment", REQUIRED_NAMES)
def test_every_required_item_exists(document, fragment):
    _by_name(document, fragment)


def test_road_excavation_has_sixteen_sub_cases_with_different_materials(document):
    item = _by_name(document, "道路挖掘")
    paths = content.leaf_paths(item)
    material_sets = {frozenset(m["id"] for m in content.materials_for(item, path)) for path in paths}
    assert len(paths) == 16  # the seed: 16 sub-cases (子类情形), each with its own material list
    assert len(material_sets) == len(paths)  # each sub-case gets a notice of its own


def test_road_excavation_prerequisites_come_in_a_valid_order(document):
    items = document["items"]
    item = _by_name(document, "道路挖掘")
    order = content.prerequisite_order(items, item["basic_code"])
    assert len(order) >= 3
    assert item["basic_code"] not in order
    by_code = {i["basic_code"]: i for i in items}
    position = {code: index for index, code in enumerate(order)}
    for code in order:
        for relation in by_code[code]["relations"]:
            if relation["type"] == "prerequisite":
                assert position[relation["item"]] < position[code]
    names = [by_code[code]["name"] for code in order]
    assert names.index("建设工程规划许可证核发") < names.index("城市道路管线工程掘路施工计划核准") \
        < names.index("地下管线保护监护交底") < names.index("掘路工程文明施工承诺确认")


def test_a_cycle_of_prerequisites_is_named(document):
    broken = copy.deepcopy(document)
    items = {item["name"]: item for item in broken["items"]}
    plan, guard = items["城市道路管线工程掘路施工计划核准"], items["地下管线保护监护交底"]
    plan["relations"].append({"type": "prerequisite", "item": guard["basic_code"]})
    problems = content.validate(broken, PREFIXES)
    cycles = [p for p in problems if p.startswith("前置事项形成循环：")]
    assert cycles == ["前置事项形成循环：城市道路管线工程掘路施工计划核准 → 地下管线保护监护交底 → 城市道路管线工程掘路施工计划核准"]
    with pytest.raises(ValueError, match="前置事项形成循环"):
        content.prerequisite_order(broken["items"], items["道路挖掘（占用）许可"]["basic_code"])


def test_a_two_item_cycle_message_reads_as_a_loop():
    def item(code, name, prerequisite):
        return {"basic_code": code, "name": name, "relations": [{"type": "prerequisite", "item": prerequisite}]}
    problems = content.validate({"format": "tongban-items", "version": 1,
                                 "items": [item("000000000001", "A", "000000000002"), item("000000000002", "B", "000000000001")]},
                                PREFIXES)
    assert "前置事项形成循环：A → B → A" in problems


def test_dangling_relation_and_next_are_reported(document):
    broken = copy.deepcopy(document)
    item = next(i for i in broken["items"] if "道路挖掘" in i["name"])
    item["relations"].append({"type": "prerequisite", "item": "999999999999"})
    item["situations"][0]["answers"][0]["next"] = "q99"
    problems = content.validate(broken, PREFIXES)
    assert any("道路挖掘" in p and "999999999999" in p for p in problems), problems
    assert any("道路挖掘" in p and "q99" in p for p in problems), problems


def test_other_field_problems_are_reported(document):
    broken = copy.deepcopy(document)
    first, second = broken["items"][0], broken["items"][1]
    second["basic_code"] = first["basic_code"]
    first["type"] = "行政审批"
    first["committed_days"], first["statutory_days"] = 9, 3
    material = first["materials"][0]
    material["source"], material["shared_resource"] = "shared_data", None
    del second["phone"]
    road = next(i for i in broken["items"] if "道路挖掘" in i["name"])
    road["materials"][-1]["when"] = ["q42x"]
    road["results"] = [{"name": None, "kind": "证照"}, {"name": "  ", "kind": "批文"}]
    problems = "\n".join(content.validate(broken, PREFIXES))
    assert "办理结果第 1 项需要写明结果名称" in problems and "办理结果第 2 项需要写明结果名称" in problems
    for expected in ("重复", "行政审批", "超过法定时限", "缺少字段 phone", "q42x", "共享数据来源"):
        assert expected in problems, expected


def test_the_department_and_implementation_code_are_the_districts(document):
    item = copy.deepcopy(_by_name(document, "食品经营许可"))
    item["relations"] = []  # alone, its related items are not there
    department, basic = item["department"], item["basic_code"]
    assert item["implementation_code"] == PREFIXES[department] + basic

    def problems(prefixes):
        return content.validate({"format": content.FORMAT, "version": content.VERSION, "items": [item]}, prefixes)

    assert problems(PREFIXES) == []
    # Another district's organisation: the same item is not one of its items.
    assert problems({"XH-SCJG": "11310104ABCD1234"}) == [f"事项「{item['name']}」：实施部门「{department}」不是本区的部门"]
    # The code follows what the organisation says: its district and the department's organ code.
    assert problems({department: "11310104ABCD1234"}) == [
        f"事项「{item['name']}」：实施编码应为「11310104ABCD1234{basic}」"]
    item["department"] = ["PD-SCJG"]  # not even a code
    assert problems(PREFIXES) == [f"事项「{item['name']}」：实施部门「['PD-SCJG']」不是本区的部门"]
