"""Validation of an uploaded BPMN definition: its XML, the BPMN schema and this platform's
conventions and safety rules (see :mod:`tongban.cases.bpmn.model`).

Every check adds Chinese sentences to ``problems``, naming the line of the BPMN file."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from tongban.cases.bpmn.model import (
    BPMN_NS,
    MAX_SIZE,
    APPLICANT,
    ITEM_DEPARTMENT,
    ANY_ITEM,
    END_APPROVED,
    _REVIEW_ID,
    _SUPPLEMENT_ID,
    _DEPARTMENT,
    _PROCESS_ID,
    _CONDITION,
    _END_REFUSED_ID,
    _REMINDER_DURATION,
    ProcessError,
)

_validator: BpmnValidator | None = None
_validator_lock = threading.Lock()

_ALLOWED_PROCESS_CHILDREN = {
    "laneSet", "startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway",
    "boundaryEvent", "sequenceFlow", "documentation", "extensionElements", "textAnnotation", "association",
}
_FLOW_NODES = {"startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway"}
_ALLOWED_NODE_CHILDREN = {"incoming", "outgoing", "documentation", "extensionElements"}
_ALLOWED_FLOW_CHILDREN = {"documentation", "extensionElements", "conditionExpression"}
_ALLOWED_BOUNDARY_CHILDREN = {"outgoing", "documentation", "extensionElements", "timerEventDefinition"}
_ALLOWED_TIMER_CHILDREN = {"documentation", "extensionElements", "timeDuration"}
_ELEMENT_NAMES = {
    "startEvent": "开始事件", "endEvent": "结束事件", "userTask": "用户任务", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关",
}


def _at(line: int | None, column: int | None = None) -> str:
    line = line if line and line > 0 else 1
    if column and column > 0:
        return f"第 {line} 行第 {column} 列："
    return f"第 {line} 行："


def _local(tag: Any) -> str | None:
    if not isinstance(tag, str):
        return None  # comments, processing instructions
    if tag.startswith("{" + BPMN_NS + "}"):
        return tag[len(BPMN_NS) + 2:]
    return None


def _shorten(message: str) -> str:
    message = message.replace("{" + BPMN_NS + "}", "bpmn:")
    return re.sub(r"\{http://www\.omg\.org/spec/[^}]*\}", "", message).strip()


def _get_validator() -> BpmnValidator:
    global _validator
    if _validator is None:
        _validator = BpmnValidator()
    return _validator


def _syntax_problems(error: etree.XMLSyntaxError, log: Any) -> list[str]:
    problems = []
    for entry in log:
        if entry.level >= etree.ErrorLevels.ERROR:
            problems.append(f"{_at(entry.line, entry.column)}XML 格式错误（{entry.message.strip()}）")
    if not problems:
        line, column = error.position if error.position else (error.lineno, None)
        problems.append(f"{_at(line, column)}XML 格式错误（{error.msg}）")
    return list(dict.fromkeys(problems))[:20]


def _read_xml(bpmn: str | bytes) -> tuple[str, etree._Element]:
    """Returns the XML text and its parsed root, or raises ProcessError."""
    if isinstance(bpmn, str):
        data = bpmn.encode("utf-8")
        # the text is already decoded: a declared encoding must not decode it again
        data = re.sub(rb"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*([\"'])[^\"']*\2", rb"\1", data, count=1)
    elif isinstance(bpmn, (bytes, bytearray, memoryview)):
        data = bytes(bpmn)
    else:
        raise ProcessError("第 1 行：流程定义须为 BPMN 2.0 XML 文本")
    if len(data) > MAX_SIZE:
        raise ProcessError(f"第 1 行：流程文件大小为 {len(data) / 1024 / 1024:.1f} MB，超过上限 1 MB")
    if not data.strip():
        raise ProcessError("第 1 行：流程文件为空")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ProcessError(_syntax_problems(exc, parser.error_log)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ProcessError(f"{_at(1)}流程文件不得包含 DOCTYPE 声明")
    if isinstance(bpmn, str):
        text = bpmn
    else:
        try:
            text = data.decode(docinfo.encoding or "utf-8")
        except (LookupError, UnicodeDecodeError):
            raise ProcessError(f"{_at(1)}流程文件的字符编码无法识别，请使用 UTF-8") from None
        text = text.removeprefix("\ufeff")
    return text, root


def _schema_problems(root: etree._Element) -> list[str]:
    with _validator_lock:
        validator = _get_validator()
        validator.preprocess(root)
        if validator.validator.validate(root):
            return []
        entries = list(validator.validator.error_log)
    problems = [f"{_at(e.line, None)}不符合 BPMN 2.0 规范（{_shorten(e.message)}）" for e in entries]
    return list(dict.fromkeys(problems))[:50]


@dataclass
class _Checked:
    process: etree._Element | None = None
    item_codes: list[str] = field(default_factory=list)
    generic: bool = False
    placeholder: bool = False
    reminders: dict[str, int] = field(default_factory=dict)  # review task id -> working days
    reminder_parts: set[str] = field(default_factory=set)  # ids of reminder events, flows and ends


def _check_conventions(root: etree._Element, problems: list[str]) -> _Checked:
    result = _Checked()
    if _local(root.tag) != "definitions":
        problems.append(f"{_at(root.sourceline)}根元素须为 bpmn:definitions（命名空间 {BPMN_NS}）")
        return result
    processes = root.xpath(".//bpmn:process", namespaces={"bpmn": BPMN_NS})
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        problems.append(f"{_at(root.sourceline)}未找到可执行的流程（bpmn:process，isExecutable=\"true\"）")
        return result
    for extra in executable[1:]:
        problems.append(
            f"{_at(extra.sourceline)}一个文件只能包含一个可执行流程，此处又定义了流程“{extra.get('id', '')}”"
        )
    result.process = executable[0]
    for process in executable:
        _check_process(process, problems, result if process is executable[0] else _Checked())
    return result


def _check_process(process: etree._Element, problems: list[str], result: _Checked) -> None:
    """Checks the process's elements against the conventions (the checks below, in this order)."""
    _check_names(process, problems)
    nodes, kinds, flows, boundaries = _elements(process, problems)
    lanes = _lanes(process)
    outgoing = _outgoing(flows)
    _check_start(process, nodes, kinds, outgoing, problems)
    reviews = [n for n, k in kinds.items() if k == "userTask" and _REVIEW_ID.fullmatch(n)]
    review_set = set(reviews)
    supplements = {n for n, k in kinds.items() if k == "userTask" and _SUPPLEMENT_ID.fullmatch(n)}
    _check_user_tasks(nodes, kinds, lanes, review_set, supplements, problems, result)
    _check_conditions(flows, kinds, review_set, problems)
    # reminders: checked first, as their end events follow their own rules
    reminder_ends = _check_reminders(boundaries, nodes, kinds, flows, outgoing, review_set, problems, result)
    _check_end_events(process, nodes, kinds, reminder_ends, problems)
    _check_reviews(reviews, nodes, kinds, outgoing, problems, result)
    _check_supplements(supplements, nodes, kinds, outgoing, review_set, problems)


def _check_names(process: etree._Element, problems: list[str]) -> None:
    """The process's id and Chinese name."""
    pid, pname = process.get("id"), (process.get("name") or "").strip()
    if not pid or not _PROCESS_ID.fullmatch(pid):
        problems.append(f"{_at(process.sourceline)}流程 id 须以字母开头，由字母、数字和下划线组成（至多 64 个字符）")
    if not pname:
        problems.append(f"{_at(process.sourceline)}流程“{pid or ''}”缺少中文名称（name 属性）")


def _elements(
    process: etree._Element,
    problems: list[str],
) -> tuple[dict[str, etree._Element], dict[str, str], list[etree._Element], list[etree._Element]]:
    """The process's flow nodes (by id), their kinds, its sequence flows and boundary events; refuses any other element."""
    nodes: dict[str, etree._Element] = {}
    kinds: dict[str, str] = {}
    flows: list[etree._Element] = []
    boundaries: list[etree._Element] = []
    for child in process:
        kind = _local(child.tag)
        if kind is None:
            if isinstance(child.tag, str):
                problems.append(f"{_at(child.sourceline)}不支持的元素 {child.tag}")
            continue
        if kind not in _ALLOWED_PROCESS_CHILDREN:
            problems.append(
                f"{_at(child.sourceline)}不支持的元素 bpmn:{kind}；流程只能使用开始事件、用户任务、排他网关、"
                "并行网关、结束事件、顺序流和审查任务的催办提醒（非中断边界定时事件）"
            )
            continue
        if kind == "sequenceFlow":
            flows.append(child)
            for sub in child:
                sub_kind = _local(sub.tag)
                if isinstance(sub.tag, str) and sub_kind not in _ALLOWED_FLOW_CHILDREN:
                    problems.append(f"{_at(sub.sourceline)}顺序流中不支持元素 {_shorten(sub.tag)}")
        elif kind in _FLOW_NODES:
            node_id = child.get("id")
            if node_id:
                nodes[node_id] = child
                kinds[node_id] = kind
            for sub in child:
                sub_kind = _local(sub.tag)
                if not isinstance(sub.tag, str) or sub_kind in _ALLOWED_NODE_CHILDREN:
                    continue
                if kind == "endEvent" and sub_kind == "terminateEventDefinition":
                    continue
                problems.append(
                    f"{_at(sub.sourceline)}{_ELEMENT_NAMES[kind]}“{node_id or ''}”中不支持元素 "
                    f"{_shorten(sub.tag)}（不支持脚本、定时、消息、循环和数据关联；"
                    "定时只能用作审查任务的催办提醒）"
                )
        elif kind == "boundaryEvent":
            node_id = child.get("id")
            if node_id:
                nodes[node_id] = child
                kinds[node_id] = kind
            boundaries.append(child)
    return nodes, kinds, flows, boundaries


def _lanes(process: etree._Element) -> dict[str, etree._Element]:
    # lanes: the innermost lane that references a node, as SpiffWorkflow reads them
    lanes: dict[str, etree._Element] = {}
    for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces={"bpmn": BPMN_NS}):
        if ref.text and ref.text.strip():
            lanes[ref.text.strip()] = ref.getparent()
    return lanes


def _outgoing(flows: list[etree._Element]) -> dict[str, list[etree._Element]]:
    """The sequence flows leaving each node."""
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    return outgoing


def _check_start(
    process: etree._Element,
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    outgoing: dict[str, list[etree._Element]],
    problems: list[str],
) -> None:
    """One start event, with a flow out."""
    starts = [n for n, k in kinds.items() if k == "startEvent"]
    if len(starts) != 1:
        problems.append(f"{_at(process.sourceline)}流程须有且只有一个开始事件，现有 {len(starts)} 个")
    for node_id in starts:
        start = nodes[node_id]
        if not outgoing.get(node_id):
            problems.append(f"{_at(start.sourceline)}开始事件“{node_id}”没有后续顺序流")


def _check_user_tasks(
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    lanes: dict[str, etree._Element],
    review_set: set[str],
    supplements: set[str],
    problems: list[str],
    result: _Checked,
) -> None:
    # user tasks: id, name, lane
    for node_id, kind in kinds.items():
        if kind != "userTask":
            continue
        task = nodes[node_id]
        name = (task.get("name") or "").strip()
        label = f"用户任务“{node_id}”" + (f"（{name}）" if name else "")
        review = node_id in review_set
        if not review and node_id not in supplements:
            problems.append(
                f"{_at(task.sourceline)}{label}的 id 不符合约定：审查任务须为 item_<12 位基本编码>，"
                "补正任务须为 supplement_<12 位基本编码>"
            )
            continue
        if not name:
            problems.append(f"{_at(task.sourceline)}{label}缺少中文名称（name 属性）")
        lane = lanes.get(node_id)
        lane_name = (lane.get("name") or "").strip() if lane is not None else ""
        if lane is None:
            where = "以部门编码命名的泳道（如 PD-SCJG）或 ITEM_DEPARTMENT 泳道" if review else "APPLICANT 泳道"
            problems.append(f"{_at(task.sourceline)}{label}不在任何泳道中；须放在{where}中")
        elif review:
            if lane_name == ITEM_DEPARTMENT:
                result.placeholder = True
            elif not (_DEPARTMENT.fullmatch(lane_name) and len(lane_name) <= 32):
                problems.append(
                    f"{_at(lane.sourceline)}泳道“{lane_name}”不是部门编码（如 PD-SCJG）或 ITEM_DEPARTMENT，"
                    f"不能承办审查任务“{node_id}”"
                )
        elif lane_name != APPLICANT:
            problems.append(f"{_at(lane.sourceline)}补正任务“{node_id}”须放在名为 APPLICANT 的泳道中，现为“{lane_name}”")


def _check_conditions(
    flows: list[etree._Element],
    kinds: dict[str, str],
    review_set: set[str],
    problems: list[str],
) -> None:
    # conditions: only the decision of a review task of this process, only after exclusive gateways
    for flow in flows:
        condition = next(
            (c for c in flow if _local(c.tag) == "conditionExpression"), None
        )
        if condition is None:
            continue
        text = (condition.text or "").strip()
        match = _CONDITION.fullmatch(text)
        if match is None:
            problems.append(
                f"{_at(condition.sourceline)}条件“{text[:80]}”不受支持；条件只能写成 "
                'item_<基本编码>_decision == "approve"（或 "refuse"、"supplement"）'
            )
        elif match.group(1) not in review_set:
            problems.append(f"{_at(condition.sourceline)}条件引用的审查任务“{match.group(1)}”不存在")
        if kinds.get(flow.get("sourceRef", "")) != "exclusiveGateway":
            problems.append(f"{_at(flow.sourceline)}只有排他网关之后的顺序流可以带条件（顺序流“{flow.get('id', '')}”）")


def _is_terminate(nodes: dict[str, etree._Element], kinds: dict[str, str], node_id: str) -> bool:
    node = nodes.get(node_id)
    return node is not None and kinds[node_id] == "endEvent" and any(
        _local(c.tag) == "terminateEventDefinition" for c in node
    )


def _check_end_events(
    process: etree._Element,
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    reminder_ends: set[str],
    problems: list[str],
) -> None:
    # end events
    approved_ends = 0
    for node_id, kind in kinds.items():
        if kind != "endEvent":
            continue
        if node_id in reminder_ends and node_id != END_APPROVED and not _END_REFUSED_ID.fullmatch(node_id):
            continue  # a reminder's end event: checked with the reminders
        node = nodes[node_id]
        if _is_terminate(nodes, kinds, node_id):
            if not _END_REFUSED_ID.fullmatch(node_id):
                problems.append(f"{_at(node.sourceline)}终止结束事件的 id 须为 end_refused，现为“{node_id}”")
        elif node_id == END_APPROVED:
            approved_ends += 1
        elif _END_REFUSED_ID.fullmatch(node_id):
            problems.append(f"{_at(node.sourceline)}结束事件“{node_id}”须为终止结束事件（terminateEventDefinition）")
        else:
            problems.append(f"{_at(node.sourceline)}结束事件的 id 须为 end_approved（准予）或 end_refused（不予），现为“{node_id}”")
    if approved_ends == 0:
        problems.append(f"{_at(process.sourceline)}流程缺少 id 为 end_approved 的结束事件")


def _check_reviews(
    reviews: list[str],
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    outgoing: dict[str, list[etree._Element]],
    problems: list[str],
    result: _Checked,
) -> None:
    # each review task: one flow out, into a decision gateway routing the three decisions
    for node_id in reviews:
        task = nodes[node_id]
        code = node_id[len("item_"):]
        result.item_codes.append(code)
        if code == ANY_ITEM:
            result.generic = True
        outs = outgoing.get(node_id, [])
        gateway_id = outs[0].get("targetRef") if len(outs) == 1 else None
        if gateway_id is None or kinds.get(gateway_id) != "exclusiveGateway":
            problems.append(
                f"{_at(task.sourceline)}审查任务“{node_id}”之后须紧接一个排他网关（决定网关），"
                f"按 {node_id}_decision 分为准予、补正、不予三条路径"
            )
            continue
        gateway = nodes[gateway_id]
        routes: dict[str, list[etree._Element]] = {}
        for flow in outgoing.get(gateway_id, []):
            condition = next((c for c in flow if _local(c.tag) == "conditionExpression"), None)
            match = _CONDITION.fullmatch((condition.text or "") if condition is not None else "")
            if match is None or match.group(1) != node_id:
                problems.append(
                    f"{_at(flow.sourceline)}决定网关“{gateway_id}”的每条出口须按 {node_id}_decision 判断"
                    f"（顺序流“{flow.get('id', '')}”）"
                )
                continue
            routes.setdefault(match.group(3), []).append(flow)
        for decision, label in (("approve", "准予"), ("supplement", "补正"), ("refuse", "不予")):
            found = routes.get(decision, [])
            if len(found) != 1:
                problems.append(
                    f"{_at(gateway.sourceline)}决定网关“{gateway_id}”须有且只有一条 "
                    f'{node_id}_decision == "{decision}"（{label}）的出口，现有 {len(found)} 条'
                )
        for flow in routes.get("refuse", [])[:1]:
            if not _is_terminate(nodes, kinds, flow.get("targetRef", "")):
                problems.append(
                    f"{_at(flow.sourceline)}审查任务“{node_id}”的不予路径须直接进入终止结束事件 end_refused"
                )
        for flow in routes.get("supplement", [])[:1]:
            target = flow.get("targetRef", "")
            if target != f"supplement_{code}" or kinds.get(target) != "userTask":
                problems.append(
                    f"{_at(flow.sourceline)}审查任务“{node_id}”的补正路径须进入补正任务 supplement_{code}"
                )


def _check_supplements(
    supplements: set[str],
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    outgoing: dict[str, list[etree._Element]],
    review_set: set[str],
    problems: list[str],
) -> None:
    # each supplement task: belongs to a review task and leads back to it
    for node_id in sorted(supplements):
        task = nodes[node_id]
        review_id = "item_" + node_id[len("supplement_"):]
        if review_id not in review_set:
            problems.append(f"{_at(task.sourceline)}补正任务“{node_id}”没有对应的审查任务 {review_id}")
            continue
        seen, frontier, back = set(), [f.get("targetRef", "") for f in outgoing.get(node_id, [])], False
        while frontier:
            current = frontier.pop()
            if current in seen:
                continue
            seen.add(current)
            if current == review_id:
                back = True
                break
            if kinds.get(current) in ("exclusiveGateway", "parallelGateway"):
                frontier.extend(f.get("targetRef", "") for f in outgoing.get(current, []))
        if not back:
            problems.append(f"{_at(task.sourceline)}补正任务“{node_id}”完成后须回到审查任务 {review_id}")


def _reminder_days(expression: Any) -> int | None:
    match = _REMINDER_DURATION.fullmatch(expression) if isinstance(expression, str) else None
    return int(match.group(2)) if match else None


def _check_reminders(
    boundaries: list[etree._Element],
    nodes: dict[str, etree._Element],
    kinds: dict[str, str],
    flows: list[etree._Element],
    outgoing: dict[str, list[etree._Element]],
    review_set: set[str],
    problems: list[str],
    result: _Checked,
) -> set[str]:
    """Checks the reminders (boundary timers of review tasks); returns their end events' ids.

    Records each reminder's working days in ``result.reminders`` and the ids of its event,
    flow and end event in ``result.reminder_parts``."""
    reminded: dict[str, str] = {}  # review task id -> the id of its reminder
    ends: set[str] = set()
    for event in boundaries:
        node_id = event.get("id") or ""
        attached = (event.get("attachedToRef") or "").strip()
        at = _at(event.sourceline)

        # the event definition: one timer, with one duration of whole days
        timers = []
        for sub in event:
            if not isinstance(sub.tag, str):
                continue
            sub_kind = _local(sub.tag)
            if sub_kind not in _ALLOWED_BOUNDARY_CHILDREN:
                problems.append(
                    f"{_at(sub.sourceline)}边界事件“{node_id}”中不支持元素 {_shorten(sub.tag)}；"
                    "边界事件只能用作审查任务的催办提醒（定时器 timerEventDefinition）"
                )
            elif sub_kind == "timerEventDefinition":
                timers.append(sub)
        if not timers:
            problems.append(f"{at}边界事件“{node_id}”须为催办提醒，包含一个定时器（timerEventDefinition）")
        for timer in timers[1:]:
            problems.append(f"{_at(timer.sourceline)}催办提醒“{node_id}”只能有一个定时器")
        for timer in timers[:1]:
            durations, other = [], False
            for sub in timer:
                if not isinstance(sub.tag, str):
                    continue
                sub_kind = _local(sub.tag)
                if sub_kind in ("timeDate", "timeCycle"):
                    other = True
                    what = "固定时间（timeDate）" if sub_kind == "timeDate" else "循环定时（timeCycle）"
                    problems.append(
                        f"{_at(sub.sourceline)}催办提醒“{node_id}”不支持{what}；"
                        '须用 timeDuration 写明工作日数，如 "P1D"'
                    )
                elif sub_kind not in _ALLOWED_TIMER_CHILDREN:
                    problems.append(f"{_at(sub.sourceline)}催办提醒“{node_id}”的定时器中不支持元素 {_shorten(sub.tag)}")
                elif sub_kind == "timeDuration":
                    durations.append(sub)
            if not durations and not other:
                problems.append(f'{_at(timer.sourceline)}催办提醒“{node_id}”缺少期限（timeDuration），如 "P1D"')
            for duration in durations[1:]:
                problems.append(f"{_at(duration.sourceline)}催办提醒“{node_id}”只能有一个期限（timeDuration）")
            for duration in durations[:1]:
                text = "".join(duration.itertext())
                days = _reminder_days(text)
                if days is not None and attached in review_set:
                    result.reminders.setdefault(attached, days)
                if any(isinstance(c.tag, str) for c in duration) or days is None:
                    problems.append(
                        f"{_at(duration.sourceline)}催办提醒“{node_id}”的期限“{text.strip()[:80]}”不受支持；"
                        '期限只能是整数个工作日（1 至 999），写成 "P1D" 或 P1D，不能写表达式、小时、周或月'
                    )

        # attached to a review task without interrupting it, named after it, one per task
        if attached not in review_set:
            what = "补正任务" if _SUPPLEMENT_ID.fullmatch(attached) else "元素"
            problems.append(
                f"{at}催办提醒只能附加在审查任务（item_<基本编码>）上，边界事件“{node_id}”附加在{what}“{attached}”上"
            )
        else:
            code = attached[len("item_"):]
            if node_id != f"remind_{code}":
                problems.append(f"{at}审查任务“{attached}”的催办提醒 id 须为 remind_{code}，现为“{node_id}”")
            if attached in reminded:
                problems.append(
                    f"{at}审查任务“{attached}”只能有一个催办提醒，已有“{reminded[attached]}”，此处又定义了“{node_id}”"
                )
            else:
                reminded[attached] = node_id
        if (event.get("cancelActivity") or "true").strip() != "false":
            problems.append(f'{at}催办提醒“{node_id}”须为非中断边界事件（cancelActivity="false"），不能中断审查任务')

        # one flow out, into a plain end event of its own
        outs = outgoing.get(node_id, [])
        if len(outs) != 1:
            problems.append(
                f"{at}催办提醒“{node_id}”须有且只有一条顺序流，进入一个普通结束事件（如 reminded_…），现有 {len(outs)} 条"
            )
            continue
        target = outs[0].get("targetRef", "")
        node = nodes.get(target)
        if node is None or kinds[target] != "endEvent":
            problems.append(
                f"{_at(outs[0].sourceline)}催办提醒“{node_id}”之后须直接进入一个普通结束事件（如 reminded_…）"
            )
            continue
        ends.add(target)
        result.reminder_parts.update((node_id, outs[0].get("id", ""), target))
        if any(_local(c.tag) == "terminateEventDefinition" for c in node):
            problems.append(
                f"{_at(node.sourceline)}催办提醒的结束事件“{target}”不能是终止结束事件，否则催办会结束整个办件"
            )
        elif target == END_APPROVED or _END_REFUSED_ID.fullmatch(target):
            problems.append(
                f"{_at(outs[0].sourceline)}催办提醒不能进入结束事件“{target}”，须另设普通结束事件（如 reminded_…）"
            )

    for flow in flows:
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if kinds.get(target) == "boundaryEvent":
            problems.append(f"{_at(flow.sourceline)}顺序流不能进入边界事件“{target}”（顺序流“{flow.get('id', '')}”）")
        elif (
            target in ends
            and kinds.get(source) != "boundaryEvent"
            and target != END_APPROVED
            and not _END_REFUSED_ID.fullmatch(target)
        ):
            problems.append(
                f"{_at(flow.sourceline)}结束事件“{target}”属于催办提醒，只能由催办提醒到达（顺序流“{flow.get('id', '')}”）"
            )
    return ends
