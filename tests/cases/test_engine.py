"""The workflow engine of applications: demo bundle processes, validation and versions."""

from __future__ import annotations

import json
import uuid

import pytest

from SpiffWorkflow.util.task import TaskState

from tongban.cases.bpmn import model, parse
from tongban.cases.bpmn import run as bpmn_run
from tongban.cases.bpmn.model import ProcessError
from tongban.cases.bpmn.parse import parse_definition
from tongban.cases.bpmn.run import advance, open_tasks, start

LICENCE = "item_000121004000"
SEAL, TAX, SOCIAL, FUND = "item_000107004000", "item_000123004000", "item_000112004000", "item_000117004000"
PLANNING, DIGGING, PIPES, CIVILISED, OCCUPATION = (
    "item_000113007000",
    "item_000115004000",
    "item_000115007000",
    "item_000116004000",
    "item_000115010000",
)


@pytest.fixture(scope="module")
def demos() -> dict[str, model.ProcessDefinition]:
    return {d.key: d for d in parse.load_demo_definitions()}


def task(step: model.Step, key: str) -> model.OpenTask:
    found = [t for t in step.open_tasks if t.key == key]
    assert len(found) == 1, (key, step.open_tasks)
    return found[0]


def act(step: model.Step, key: str, decision: str | None = "approve", **kwargs) -> model.Step:
    return advance(step.state, task(step, key).id, decision=decision, **kwargs)


def keys(step: model.Step) -> set[str]:
    return {t.key for t in step.open_tasks}


# --- small BPMN documents for validation and versions --------------------------------------

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="https://tongban.example/test">
"""


def chain(reviews: list[tuple[str, str]], pid: str = "test_chain", name: str = "测试流程") -> str:
    """A process reviewing (code, department) pairs one after another, by the conventions."""
    lanes: dict[str, list[str]] = {"APPLICANT": ["start", "end_approved", "end_refused"]}
    body, prev, cond = [], "start", None
    for code, department in reviews:
        lanes.setdefault(department, []).extend([f"merge_{code}", f"item_{code}", f"gw_{code}"])
        lanes["APPLICANT"].append(f"supplement_{code}")
        body += [
            f'<bpmn:exclusiveGateway id="merge_{code}" />',
            f'<bpmn:userTask id="item_{code}" name="审查{code}" />',
            f'<bpmn:exclusiveGateway id="gw_{code}" />',
            f'<bpmn:userTask id="supplement_{code}" name="补正材料" />',
            flow(prev, f"merge_{code}", cond),
            flow(f"merge_{code}", f"item_{code}"),
            flow(f"item_{code}", f"gw_{code}"),
            flow(f"gw_{code}", f"supplement_{code}", f'item_{code}_decision == "supplement"'),
            flow(f"supplement_{code}", f"merge_{code}"),
            flow(f"gw_{code}", "end_refused", f'item_{code}_decision == "refuse"'),
        ]
        prev, cond = f"gw_{code}", f'item_{code}_decision == "approve"'
    body += [
        '<bpmn:startEvent id="start" />',
        '<bpmn:endEvent id="end_approved" />',
        '<bpmn:endEvent id="end_refused"><bpmn:terminateEventDefinition /></bpmn:endEvent>',
        flow(prev, "end_approved", cond),
    ]
    lane_xml = "\n".join(
        f'      <bpmn:lane id="lane_{i}" name="{lane}">\n'
        + "\n".join(f"        <bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
        + "\n      </bpmn:lane>"
        for i, (lane, nodes) in enumerate(lanes.items())
    )
    return (
        HEADER
        + f'  <bpmn:process id="{pid}" name="{name}" isExecutable="true">\n'
        + '    <bpmn:laneSet id="lanes">\n'
        + lane_xml
        + "\n    </bpmn:laneSet>\n"
        + "\n".join("    " + line for line in body)
        + "\n  </bpmn:process>\n</bpmn:definitions>\n"
    )


def flow(source: str, target: str, condition: str | None = None) -> str:
    fid = f"flow_{source}_{target}"
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}" />'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition.replace(chr(34), "&quot;")}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def problems_of(bpmn: str | bytes) -> list[str]:
    with pytest.raises(ProcessError) as caught:
        parse_definition(bpmn)
    assert caught.value.problems
    return caught.value.problems


# --- the demo processes ------------------------------------------------------------------------


def test_demo_definitions(demos):
    assert set(demos) == {"enterprise_setup", "road_excavation", "single_item"}
    assert demos["enterprise_setup"].name == "企业开办一件事"
    assert demos["enterprise_setup"].item_codes == (
        "000121004000", "000107004000", "000123004000", "000112004000", "000117004000",
    )
    assert demos["road_excavation"].name == "道路挖掘一件事"
    assert demos["road_excavation"].item_codes == (
        "000113007000", "000115004000", "000115007000", "000116004000", "000115010000",
    )
    assert demos["single_item"].item_codes == ("ANY",)
    # the demo items exist, and each review lane is the item's department
    items = {i["basic_code"]: i for i in json.loads(
        (model.PROCESSES_DIR.parent.parent / "items" / "demo_items.json").read_text("utf-8"))["items"]}
    for definition in (demos["enterprise_setup"], demos["road_excavation"]):
        for code in definition.item_codes:
            assert f'name="{items[code]["department"]}"' in definition.bpmn


def test_enterprise_licence_then_four_departments_at_once(demos):
    step = start(demos["enterprise_setup"], data={"applicant": "上海某某科技有限公司"})
    assert [(t.key, t.kind, t.department, t.name) for t in step.open_tasks] == [
        (LICENCE, "review", "PD-SCJG", "营业执照核发审查")
    ]
    assert not step.finished and step.outcome is None and step.completed == []

    step = act(step, LICENCE, opinion="材料齐全，准予登记")
    assert {(t.key, t.department) for t in step.open_tasks} == {
        (SEAL, "PD-GA"), (TAX, "PD-SW"), (SOCIAL, "PD-RS"), (FUND, "PD-GJJ"),
    }
    assert {t.item_code for t in step.open_tasks} == {"000107004000", "000123004000", "000112004000", "000117004000"}
    assert step.completed == [LICENCE]

    # the join waits for every branch
    for key in (TAX, FUND, SEAL):
        step = act(step, key)
    assert keys(step) == {SOCIAL} and not step.finished and step.outcome is None
    step = act(step, SOCIAL)
    assert step.finished and step.outcome == "approved" and step.open_tasks == []
    assert step.completed == [LICENCE, TAX, FUND, SEAL, SOCIAL]

    data = json.loads(step.state)["data"]
    assert data["applicant"] == "上海某某科技有限公司"
    assert data[f"{LICENCE}_decision"] == "approve"
    assert data[f"{LICENCE}_opinion"] == "材料齐全，准予登记"


def test_refusal_in_one_branch_ends_the_whole_case(demos):
    step = act(start(demos["enterprise_setup"]), LICENCE)
    step = act(step, SEAL)
    step = act(step, TAX, "refuse", opinion="纳税人信息不一致")
    assert step.finished and step.outcome == "refused" and step.open_tasks == []
    assert open_tasks(step.state) == []
    assert step.completed == [LICENCE, SEAL, TAX]
    with pytest.raises(ProcessError, match="已结束"):
        advance(step.state, str(uuid.uuid4()), decision="approve")


def test_refusal_of_the_licence_ends_before_the_branches(demos):
    step = act(start(demos["enterprise_setup"]), LICENCE, "refuse")
    assert step.finished and step.outcome == "refused" and step.completed == [LICENCE]


def test_supplement_loops_back_to_the_same_review(demos):
    step = act(start(demos["enterprise_setup"]), LICENCE)
    before = task(step, SOCIAL)
    step = act(step, SOCIAL, "supplement", opinion="请补充参保人员名单")
    supplement = task(step, "supplement_000112004000")
    assert (supplement.kind, supplement.department, supplement.name, supplement.item_code) == (
        "supplement", "APPLICANT", "补正材料", "000112004000",
    )
    assert SOCIAL not in keys(step) and {SEAL, TAX, FUND} <= keys(step)

    with pytest.raises(ProcessError, match="不需要审查结论"):
        advance(step.state, supplement.id, decision="approve")
    step = advance(step.state, supplement.id, data={"materials": ["参保人员名单.pdf"]})
    again = task(step, SOCIAL)
    assert again.id != before.id and again.department == "PD-RS"
    assert "supplement_000112004000" not in keys(step)
    for key in (SOCIAL, SEAL, TAX, FUND):
        step = act(step, key)
    assert step.outcome == "approved"
    assert step.completed == [LICENCE, SOCIAL, SOCIAL, SEAL, TAX, FUND]


def test_road_excavation_parallel_then_final_permit(demos):
    step = start(demos["road_excavation"])
    assert keys(step) == {PLANNING} and task(step, PLANNING).department == "PD-GHZY"
    step = act(step, PLANNING)
    assert {(t.key, t.department) for t in step.open_tasks} == {
        (DIGGING, "PD-JSJT"), (PIPES, "PD-JSJT"), (CIVILISED, "PD-CGZF"),
    }
    step = act(step, DIGGING)
    step = act(step, CIVILISED)
    assert keys(step) == {PIPES}
    step = act(step, PIPES)
    assert keys(step) == {OCCUPATION} and task(step, OCCUPATION).department == "PD-JSJT"
    step = act(step, OCCUPATION)
    assert step.outcome == "approved"
    assert step.completed == [PLANNING, DIGGING, CIVILISED, PIPES, OCCUPATION]


def test_single_item_process_takes_the_item_from_the_application(demos):
    single = demos["single_item"]
    with pytest.raises(ProcessError, match="事项基本编码"):
        start(single, item_department="PD-GA")
    with pytest.raises(ProcessError, match="所属部门"):
        start(single, item_code="000107004000")
    with pytest.raises(ProcessError, match="部门编码"):
        start(single, item_code="000107004000", item_department="公安")
    step = start(single, item_code="000107004000", item_department="PD-GA")
    (review,) = step.open_tasks
    assert (review.key, review.item_code, review.department) == ("item_ANY", "000107004000", "PD-GA")
    step = act(step, "item_ANY", "supplement")
    (supplement,) = step.open_tasks
    assert (supplement.key, supplement.item_code, supplement.department) == (
        "supplement_ANY", "000107004000", "APPLICANT",
    )
    step = advance(step.state, supplement.id)
    assert open_tasks(step.state)[0].department == "PD-GA"
    step = act(step, "item_ANY")
    assert step.outcome == "approved" and step.completed == ["item_ANY", "item_ANY"]

    # the item may also come as task data
    step = start(single, item_department="PD-SW", data={"item_code": "000123004000", "application": "A1"})
    assert [(t.item_code, t.department) for t in step.open_tasks] == [("000123004000", "PD-SW")]


# --- state ---------------------------------------------------------------------------------------


def test_state_round_trips_and_is_never_changed(demos):
    step = act(start(demos["enterprise_setup"]), LICENCE)
    state = step.state
    copy = str(state)
    assert open_tasks(state) == step.open_tasks
    workflow, meta = bpmn_run._load(state)
    assert json.loads(bpmn_run._dump(workflow, meta)) == json.loads(state)

    # two different continuations of one state do not affect each other
    refused = act(step, SEAL, "refuse")
    approved = act(step, SEAL)
    assert state == copy
    assert refused.outcome == "refused" and keys(approved) == {TAX, SOCIAL, FUND}

    # SpiffWorkflow's own serializer reads the state too, given the process it names
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

    plain = json.loads(state)
    assert "spec" not in plain and plain["tongban"]["spec_hash"] == demos["enterprise_setup"].digest
    del plain["tongban"]
    plain["spec"] = BpmnWorkflowSerializer().to_dict(parse._compile(demos["enterprise_setup"].bpmn).spec)
    workflow = BpmnWorkflowSerializer().deserialize_json(json.dumps(plain))
    assert {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)} == {
        SEAL, TAX, SOCIAL, FUND,
    }


def test_the_state_names_its_process_instead_of_holding_it(demos):
    step = act(start(demos["enterprise_setup"]), LICENCE)
    assert len(step.state) < len(demos["enterprise_setup"].bpmn) / 2  # the process is not in every state
    assert demos["enterprise_setup"].name not in step.state


def empty_cache() -> None:
    """The spec cache as a new process (a restart, another worker) finds it."""
    with model._cache_lock:
        model._cache.clear()


def test_state_survives_an_empty_spec_cache(demos):
    definition = demos["road_excavation"]
    step = act(start(definition), PLANNING)
    empty_cache()
    asked = []

    def process() -> str:
        asked.append(1)
        return definition.bpmn

    assert open_tasks(step.state, process) == step.open_tasks and asked == [1]
    step = act(act(act(step, DIGGING, process=process), PIPES, process=process), CIVILISED, process=process)
    assert keys(step) == {OCCUPATION} and asked == [1]  # parsed once, then cached

    empty_cache()
    with pytest.raises(ProcessError, match="未给出办件所用的流程版本"):
        act(step, OCCUPATION)
    with pytest.raises(ProcessError, match="不是办件开始时的版本"):
        act(step, OCCUPATION, process=lambda: demos["enterprise_setup"].bpmn)
    assert act(step, OCCUPATION, process=process).outcome == "approved"


def test_a_state_holding_its_process_still_loads(demos):
    """States written before the process was left out carry it, in SpiffWorkflow's own form."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

    step = act(start(demos["enterprise_setup"]), LICENCE)
    workflow, meta = bpmn_run._load(step.state)
    old = json.loads(BpmnWorkflowSerializer().serialize_json(workflow))
    old["tongban"] = meta
    empty_cache()
    assert keys(act(model.Step(json.dumps(old), step.open_tasks, False, None, []), SEAL)) == {TAX, SOCIAL, FUND}


def test_tasks_that_are_not_open_are_refused(demos):
    first = start(demos["enterprise_setup"])
    licence = task(first, LICENCE)
    step = act(first, LICENCE)
    for bad in (licence.id, str(uuid.uuid4()), "not-a-task"):
        with pytest.raises(ProcessError) as caught:
            advance(step.state, bad, decision="approve")
        assert "任务" in str(caught.value)
    with pytest.raises(ProcessError, match="审查结论"):
        advance(step.state, task(step, SEAL).id)
    with pytest.raises(ProcessError, match="审查结论"):
        advance(step.state, task(step, SEAL).id, decision="yes")
    with pytest.raises(ProcessError, match="审查结论字段"):
        advance(step.state, task(step, SEAL).id, decision="approve", data={f"{TAX}_decision": "refuse"})
    with pytest.raises(ProcessError, match="无法读取"):
        open_tasks("{}")
    with pytest.raises(ProcessError, match="无法读取"):
        advance("not json", task(step, SEAL).id, decision="approve")


def test_a_running_case_keeps_its_version():
    v1 = parse_definition(chain([("000121004000", "PD-SCJG")], pid="versioned"))
    v2 = parse_definition(chain([("000121004000", "PD-SCJG"), ("000107004000", "PD-GA")], pid="versioned"))
    assert v1.key == v2.key and v1.digest != v2.digest
    running = start(v1)
    assert v2.item_codes == ("000121004000", "000107004000")

    done = act(running, LICENCE)
    assert done.finished and done.outcome == "approved"  # v1: one review only
    newer = act(start(v2), LICENCE)
    assert keys(newer) == {SEAL}  # v2: a second review

    empty_cache()  # e.g. after a restart: the version the case started with, not the newest
    assert act(running, LICENCE, process=lambda: v1.bpmn).outcome == "approved"
    empty_cache()
    with pytest.raises(ProcessError, match="不是办件开始时的版本"):
        act(running, LICENCE, process=lambda: v2.bpmn)


# --- validation --------------------------------------------------------------------------------


def test_valid_small_process_and_bytes_input():
    text = chain([("000121004000", "PD-SCJG")])
    definition = parse_definition(text.encode("utf-8"))
    assert (definition.key, definition.name, definition.item_codes) == ("test_chain", "测试流程", ("000121004000",))
    assert definition.bpmn == text
    assert parse_definition(text) == definition


def test_not_xml_names_the_line():
    problems = problems_of("<bpmn:definitions>\n  <oops>\n</bpmn:definitions>\n")
    assert any(p.startswith("第 ") and "XML 格式错误" in p for p in problems)
    (problem,) = problems_of("这不是 XML")
    assert problem.startswith("第 1 行") and "XML 格式错误" in problem
    text = chain([("000121004000", "PD-SCJG")]).replace('<bpmn:exclusiveGateway id="gw_000121004000" />',
                                                          '<bpmn:exclusiveGateway id="gw_000121004000">')
    problems = problems_of(text)
    assert all("XML 格式错误" in p for p in problems)
    assert any(p.startswith(f"第 {text.count(chr(10))} 行") or "行第" in p for p in problems)
    assert problems_of("")[0].startswith("第 1 行")
    assert "超过上限" in problems_of("<a>" + "x" * (1024 * 1024) + "</a>")[0]


def test_user_task_without_lane():
    text = chain([("000121004000", "PD-SCJG")])
    text = text.replace("        <bpmn:flowNodeRef>item_000121004000</bpmn:flowNodeRef>\n", "")
    (problem,) = problems_of(text)
    line = line_of(text, '<bpmn:userTask id="item_000121004000"')
    assert problem.startswith(f"第 {line} 行：")
    assert "不在任何泳道中" in problem


def test_lane_names_and_task_ids_follow_the_convention():
    text = chain([("000121004000", "市场监管局")]).replace('id="supplement_000121004000"', 'id="supplement_12"')
    text = text.replace(">supplement_000121004000<", ">supplement_12<").replace(
        'targetRef="supplement_000121004000"', 'targetRef="supplement_12"').replace(
        'sourceRef="supplement_000121004000"', 'sourceRef="supplement_12"')
    problems = problems_of(text)
    assert any("泳道“市场监管局”不是部门编码" in p for p in problems)
    assert any("supplement_12" in p and "id 不符合约定" in p for p in problems)
    assert all(p.startswith("第 ") for p in problems)


def test_review_task_without_decision_gateway():
    text = chain([("000121004000", "PD-SCJG")])
    # the review leads straight to the end: no decision gateway after it
    text = text.replace(
        '<bpmn:sequenceFlow id="flow_item_000121004000_gw_000121004000" sourceRef="item_000121004000" '
        'targetRef="gw_000121004000" />',
        '<bpmn:sequenceFlow id="flow_item_000121004000_end" sourceRef="item_000121004000" targetRef="end_approved" />',
    )
    problems = problems_of(text)
    line = line_of(text, '<bpmn:userTask id="item_000121004000"')
    assert any(p.startswith(f"第 {line} 行：") and "排他网关" in p and "决定网关" in p for p in problems)


def test_refusal_must_terminate_and_approval_must_end():
    text = chain([("000121004000", "PD-SCJG")]).replace(
        '<bpmn:endEvent id="end_refused"><bpmn:terminateEventDefinition /></bpmn:endEvent>',
        '<bpmn:endEvent id="end_refused" />',
    )
    problems = problems_of(text)
    assert any("终止结束事件" in p for p in problems)
    text = chain([("000121004000", "PD-SCJG")]).replace('"end_approved"', '"done"').replace(
        ">end_approved<", ">done<")
    assert any("end_approved" in p for p in problems_of(text))


def test_two_processes():
    text = chain([("000121004000", "PD-SCJG")])
    second = chain([("000107004000", "PD-GA")], pid="second").split("<bpmn:process", 1)[1].split("</bpmn:process>")[0]
    second = second.replace('id="', 'id="x_').replace('id="x_second"', 'id="second"')
    text = text.replace("</bpmn:definitions>", "  <bpmn:process" + second + "</bpmn:process>\n</bpmn:definitions>")
    problems = problems_of(text)
    line = line_of(text, '<bpmn:process id="second"')
    assert any(p.startswith(f"第 {line} 行：") and "只能包含一个可执行流程" in p for p in problems)


def test_scripts_and_free_conditions_are_refused():
    text = chain([("000121004000", "PD-SCJG")])
    scripted = text.replace(
        '<bpmn:startEvent id="start" />',
        '<bpmn:startEvent id="start" />\n<bpmn:scriptTask id="script"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
    )
    assert any("不支持的元素 bpmn:scriptTask" in p for p in problems_of(scripted))
    evil = text.replace('item_000121004000_decision == &quot;approve&quot;', '__import__(&quot;os&quot;).getcwd()')
    problems = problems_of(evil)
    assert any("条件" in p and "不受支持" in p and p.startswith("第 ") for p in problems)


def test_schema_errors_name_lines():
    text = chain([("000121004000", "PD-SCJG")]).replace(
        '<bpmn:userTask id="item_000121004000" name="审查000121004000" />',
        '<bpmn:userTask id="item_000121004000" name="审查000121004000" colour="red" />',
    )
    problems = problems_of(text)
    line = line_of(text, 'colour="red"')
    assert any(p.startswith(f"第 {line} 行：") and "BPMN 2.0" in p for p in problems)


def test_definitions_are_cached_by_their_text(demos):
    text = demos["road_excavation"].bpmn
    assert parse_definition(text) is parse_definition(text) == demos["road_excavation"]


# --- reminders (催办提醒): non-interrupting boundary timers on review tasks ------------------------

REMINDER_DAYS = {"enterprise_setup": 1, "road_excavation": 3, "single_item": 2}


def remind(
    text: str,
    code: str = "000121004000",
    duration: str = '"P1D"',
    *,
    rid: str | None = None,
    attached: str | None = None,
    cancel: str | None = 'cancelActivity="false"',
    timer: str | None = None,
    end: str | None = None,
) -> str:
    """``text`` with a reminder on a task, one element per line (for line numbers)."""
    rid = rid or f"remind_{code}"
    attached = attached or f"item_{code}"
    timer = timer or f"<bpmn:timeDuration>{duration}</bpmn:timeDuration>"
    end = end or f'<bpmn:endEvent id="reminded_{rid}" />'
    end_id = end.split('id="', 1)[1].split('"', 1)[0]
    xml = (
        f'<bpmn:boundaryEvent id="{rid}" name="催办提醒" attachedToRef="{attached}"{" " + cancel if cancel else ""}>\n'
        "      <bpmn:timerEventDefinition>\n"
        f"        {timer}\n"
        "      </bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        f'    <bpmn:sequenceFlow id="flow_{rid}" sourceRef="{rid}" targetRef="{end_id}" />\n'
    )
    if end_id not in ("end_approved", "end_refused"):
        xml += f"    {end}\n"
    return text.replace("  </bpmn:process>", "    " + xml + "  </bpmn:process>")


def spiff_ids(state: str) -> set[str]:
    """The BPMN ids of every task spec and task of the workflow in ``state``."""
    workflow, _ = bpmn_run._load(state)
    return {s.bpmn_id for s in workflow.spec.task_specs.values() if s.bpmn_id} | {
        t.task_spec.bpmn_id for t in workflow.get_tasks() if t.task_spec.bpmn_id
    }


def test_open_review_tasks_carry_their_reminder_days(demos):
    for key, definition in demos.items():
        assert definition.bpmn.count("<bpmn:boundaryEvent ") == len(definition.item_codes)
        kwargs = {"item_code": "000107004000", "item_department": "PD-GA"} if key == "single_item" else {}
        (review,) = start(definition, **kwargs).open_tasks
        assert review.reminder_days == REMINDER_DAYS[key]

    step = act(start(demos["enterprise_setup"]), LICENCE)
    assert {(t.key, t.reminder_days) for t in step.open_tasks} == {(k, 1) for k in (SEAL, TAX, SOCIAL, FUND)}
    step = act(step, TAX, "supplement")
    supplement = task(step, "supplement_000123004000")
    assert supplement.reminder_days is None
    again = task(advance(step.state, supplement.id), TAX)
    assert again.reminder_days == 1

    # a process without reminders; and the default of OpenTask
    assert start(parse_definition(chain([("000121004000", "PD-SCJG")]))).open_tasks[0].reminder_days is None
    assert model.OpenTask("id", LICENCE, "审查", "review", "000121004000", "PD-SCJG").reminder_days is None


def test_reminders_are_not_run_by_the_engine(demos):
    # the workflow runs the process without its reminders: nothing waits, fires or ends there
    step = start(demos["enterprise_setup"])
    assert not {i for i in spiff_ids(step.state) if i.startswith("remind")}
    assert json.loads(step.state)["tongban"]["reminders"] == {f"item_{c}": 1 for c in demos["enterprise_setup"].item_codes}
    workflow, _ = bpmn_run._load(step.state)
    assert workflow.get_tasks(state=TaskState.WAITING) == []
    assert "boundaryEvent" in demos["enterprise_setup"].bpmn  # the definition keeps them, diagram and all

    step = act(step, LICENCE, "supplement")
    step = advance(step.state, task(step, "supplement_000121004000").id)
    assert task(step, LICENCE).reminder_days == 1
    for key in (LICENCE, SEAL, TAX, FUND, SOCIAL):
        assert not step.finished and step.outcome is None
        step = act(step, key)
    assert step.finished and step.outcome == "approved" and step.open_tasks == []
    assert step.completed == [LICENCE, LICENCE, SEAL, TAX, FUND, SOCIAL]
    workflow, _ = bpmn_run._load(step.state)
    assert workflow.is_completed() and workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK) == []

    step = act(act(act(start(demos["enterprise_setup"]), LICENCE), SEAL), SOCIAL, "refuse")
    assert step.finished and step.outcome == "refused" and step.open_tasks == []
    workflow, _ = bpmn_run._load(step.state)
    assert workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK) == []


def test_why_spiffworkflow_does_not_run_the_reminders(demos):
    """SpiffWorkflow 3.2 with the reminders left in: what the engine avoids by removing them."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    parser = BpmnParser()
    parser.add_bpmn_str(demos["enterprise_setup"].bpmn.encode("utf-8"))

    def run(expire: bool):
        workflow = BpmnWorkflow(parser.get_spec("enterprise_setup"))
        workflow.do_engine_steps()
        while not workflow.is_completed():
            if expire:  # SpiffWorkflow's own clock: each timer's due time, long past
                for waiting in workflow.get_tasks(state=TaskState.WAITING):
                    if (waiting.task_spec.bpmn_id or "").startswith("remind_"):
                        waiting.internal_data["event_value"] = "2000-01-03T00:00:00+00:00"
                workflow.do_engine_steps()
            (review, *_) = workflow.get_tasks(state=TaskState.READY, manual=True)
            waiting = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.WAITING)}
            assert expire or f"remind_{review.task_spec.bpmn_id[5:]}" in waiting  # waits while its task is open
            review.data[f"{review.task_spec.bpmn_id}_decision"] = "approve"
            review.run()
            workflow.do_engine_steps()
        return {t.task_spec.bpmn_id: t.state for t in workflow.get_tasks() if t.task_spec.bpmn_id}, workflow

    # completing a review cancels its timer; the workflow finishes
    states, workflow = run(expire=False)
    assert {i: s for i, s in states.items() if i.startswith("remind")} == {
        f"remind_{c}": TaskState.CANCELLED for c in demos["enterprise_setup"].item_codes
    }
    assert bpmn_run._outcome(workflow) == "approved"
    # but do_engine_steps fires a timer by the calendar (refresh_timers), whatever the working days;
    # its end event counts neither as approval nor as refusal
    states, workflow = run(expire=True)
    assert states["reminded_000121004000"] == TaskState.COMPLETED
    assert bpmn_run._outcome(workflow) == "approved"


def test_reminders_survive_an_empty_spec_cache(demos):
    step = act(start(demos["road_excavation"]), PLANNING)
    empty_cache()
    assert open_tasks(step.state, lambda: demos["road_excavation"].bpmn) == step.open_tasks
    assert {t.reminder_days for t in step.open_tasks} == {3}
    step = act(act(act(step, DIGGING), PIPES), CIVILISED)
    assert [(t.key, t.reminder_days) for t in step.open_tasks] == [(OCCUPATION, 3)]
    assert act(step, OCCUPATION).outcome == "approved"


def test_reminder_durations_quoted_or_bare():
    base = chain([("000121004000", "PD-SCJG"), ("000107004000", "PD-GA")])
    text = remind(remind(base, duration="P5D"), "000107004000", duration="'P12D'")
    definition = parse_definition(text)
    step = start(definition)
    assert [(t.key, t.reminder_days) for t in step.open_tasks] == [(LICENCE, 5)]
    step = act(step, LICENCE)
    assert [(t.key, t.reminder_days) for t in step.open_tasks] == [(SEAL, 12)]
    assert json.loads(step.state)["tongban"]["reminders"] == {LICENCE: 5, SEAL: 12}
    assert act(step, SEAL).outcome == "approved"


@pytest.mark.parametrize(
    ("change", "fragment", "message"),
    [
        ({"timer": "<bpmn:timeDate>2030-01-01T09:00:00</bpmn:timeDate>"}, "<bpmn:timeDate>", "timeDate"),
        ({"timer": "<bpmn:timeCycle>R3/P1D</bpmn:timeCycle>"}, "<bpmn:timeCycle>", "timeCycle"),
        ({"duration": '"PT4H"'}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": "PT4H"}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": "P1W"}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": '"P0D"'}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": "\"P1D'"}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": '"P" + str(days) + "D"'}, "<bpmn:timeDuration>", "不受支持"),
        ({"duration": '__import__("os").getcwd()'}, "<bpmn:timeDuration>", "不受支持"),
        ({"cancel": 'cancelActivity="true"'}, "<bpmn:boundaryEvent", "非中断"),
        ({"cancel": None}, "<bpmn:boundaryEvent", "非中断"),
        ({"attached": "supplement_000121004000", "rid": "remind_000121004000"}, "<bpmn:boundaryEvent", "补正任务"),
        ({"attached": "gw_000121004000"}, "<bpmn:boundaryEvent", "审查任务"),
        ({"rid": "reminder_1"}, "<bpmn:boundaryEvent", "remind_000121004000"),
        ({"end": '<bpmn:endEvent id="reminded"><bpmn:terminateEventDefinition /></bpmn:endEvent>'},
         '<bpmn:endEvent id="reminded">', "终止结束事件"),
        ({"end": '<bpmn:endEvent id="end_approved" />'}, '<bpmn:sequenceFlow id="flow_remind_', "end_approved"),
        ({"end": '<bpmn:userTask id="reminded" name="催办" />'}, '<bpmn:sequenceFlow id="flow_remind_', "结束事件"),
    ],
)
def test_bad_reminders_are_refused_with_their_line(change, fragment, message):
    text = remind(chain([("000121004000", "PD-SCJG")]), **change)
    problems = problems_of(text)
    line = line_of(text, fragment)
    assert any(p.startswith(f"第 {line} 行：") and message in p for p in problems), (line, problems)
    assert all(p.startswith("第 ") for p in problems)


def test_two_reminders_on_one_task_are_refused():
    text = remind(remind(chain([("000121004000", "PD-SCJG")])), rid="remind_000121004000_again")
    problems = problems_of(text)
    line = line_of(text, '<bpmn:boundaryEvent id="remind_000121004000_again"')
    assert any(p.startswith(f"第 {line} 行：") and "只能有一个催办提醒" in p for p in problems), problems


def test_other_timers_and_boundary_events_are_still_refused():
    text = chain([("000121004000", "PD-SCJG")])
    timer_start = text.replace(
        '<bpmn:startEvent id="start" />',
        '<bpmn:startEvent id="start">\n<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:startEvent>",
    )
    line = line_of(timer_start, "<bpmn:timerEventDefinition>")
    assert any(p.startswith(f"第 {line} 行：") and "timerEventDefinition" in p for p in problems_of(timer_start))
    message = remind(text, timer="<bpmn:timeDuration>\"P1D\"</bpmn:timeDuration>").replace(
        "<bpmn:timerEventDefinition>", "<bpmn:messageEventDefinition>").replace(
        "</bpmn:timerEventDefinition>", "</bpmn:messageEventDefinition>")
    problems = problems_of(message)
    line = line_of(message, "<bpmn:messageEventDefinition>")
    assert any(p.startswith(f"第 {line} 行：") and "messageEventDefinition" in p for p in problems), problems
    # a plain end event that a normal path reaches is not a reminder's end event
    shared = remind(text, end='<bpmn:endEvent id="reminded" />').replace(
        'targetRef="end_approved"', 'targetRef="reminded"')
    assert any("只能由催办提醒到达" in p for p in problems_of(shared))
