"""The workflow engine of applications (办件): BPMN 2.0 processes executed by SpiffWorkflow.

This module is pure: it parses and validates process definitions, starts and advances
workflows, and hands back the serialized state. Storing that state, and the table of open
tasks that department queues read, is the database layer's job.

Conventions (the contract with the database layer)
==================================================

* A **review task** is a ``bpmn:userTask`` with id ``item_<basic code>`` (the 12-digit
  basic code of a service item, e.g. ``item_000121004000``) and a Chinese name. It sits in
  a ``bpmn:lane`` whose name is the code of the department that reviews it (``PD-SCJG``),
  or the placeholder ``ITEM_DEPARTMENT``, which :func:`start` resolves from its
  ``item_department`` argument.
* Completing a review task sets the task data ``decision`` and ``<task id>_decision``
  (``"approve"``, ``"refuse"`` or ``"supplement"``) and ``opinion`` and
  ``<task id>_opinion``. Right after each review task an exclusive gateway routes on
  ``<task id>_decision``: approve → onwards; supplement → the **supplement task**
  ``supplement_<basic code>`` (a userTask named "补正材料" in the lane ``APPLICANT``) → back
  to the same review task; refuse → the terminate end event ``end_refused``, which ends
  the whole process and cancels every other open branch.
* Normal completion ends at the end event ``end_approved``. Parallel approval uses
  parallel gateways.

Reminders (催办提醒)
-------------------
A review task may carry one **reminder**: a non-interrupting boundary timer event meaning
"remind the department when this task has been open for N working days"::

    <bpmn:boundaryEvent id="remind_000121004000" name="催办提醒"
                        attachedToRef="item_000121004000" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="flow_remind_000121004000" sourceRef="remind_000121004000"
                       targetRef="reminded_000121004000"/>
    <bpmn:endEvent id="reminded_000121004000" name="已催办"/>

* Its id is ``remind_<basic code>`` of the review task ``item_<basic code>`` it is attached
  to (``remind_ANY`` for ``item_ANY``), with ``cancelActivity="false"``; at most one per
  review task; none on supplement tasks.
* The duration is a literal ISO 8601 duration of whole days, ``P<n>D`` with 1 ≤ n ≤ 999,
  written as a Python string literal (``"P1D"``, as SpiffWorkflow expects) or bare
  (``P1D``). Expressions, hours (``PT4H``), weeks, months, ``timeDate`` and ``timeCycle``
  are refused.
* Its one outgoing flow leads to a plain (not terminate) end event of its own, such as
  ``reminded_<basic code>``, that only reminders lead to; it may not be ``end_approved``
  or ``end_refused``.
* The platform counts the N days as **working days** and sends the reminder itself, from
  :attr:`OpenTask.reminder_days` of each open review task and the time the task opened.
  SpiffWorkflow never runs the reminders: the process it executes is the definition
  without them (events, flows, end events, lane references and diagram shapes removed from
  a copy of the document; :attr:`ProcessDefinition.bpmn` keeps the full text). Left in,
  SpiffWorkflow 3.2 would wrap every review task in a boundary split and join (about twice
  the CPU time per :func:`advance`), and ``do_engine_steps`` itself (through
  ``refresh_timers``, not only ``refresh_waiting_tasks``) would fire a timer once its
  *calendar* duration had passed. So a reminder can never cancel, end or delay anything:
  completing the task, a supplement round, a refusal's terminate end event,
  :attr:`Step.finished` and :attr:`Step.outcome` behave exactly as without it. The working
  days of each review task are kept in the state's metadata (``reminders``), so a running
  case keeps those of the version it started with.

The generic single-item process
-------------------------------
``single_item.bpmn`` serves every service item that has no process of its own. Its review
task is ``item_ANY`` in the lane ``ITEM_DEPARTMENT`` (its supplement task is
``supplement_ANY``). The application's item is given when the case starts:
``start(definition, item_code="000121004000", item_department="PD-SCJG")``. Both are kept in
the serialized state (not in the task data), so every :class:`OpenTask` of such a case
carries the real ``item_code`` and ``department``; its ``key`` stays the BPMN id
(``item_ANY``), and so do the entries of :attr:`Step.completed`. In
:attr:`ProcessDefinition.item_codes` the generic review task appears as ``"ANY"``.

Safety of uploaded definitions
------------------------------
SpiffWorkflow evaluates conditions and scripts as Python. A definition may therefore use
only start events, user tasks, exclusive and parallel gateways, end events (plain or
terminate), the reminder boundary timers above and sequence flows, and every condition
must have the form ``item_<code>_decision == "approve"`` (or ``"refuse"``,
``"supplement"``), naming a review task of the same process. Scripts, service tasks, other
timers, messages, loops, data associations and call activities are refused. A reminder's
duration is checked against a strict pattern and never evaluated (SpiffWorkflow would
evaluate it as Python).

State
=====
:attr:`Step.state` is SpiffWorkflow's own JSON serialization of the case (its tasks and their
data) plus one key ``tongban`` holding this module's metadata: the SHA-256 digest of the BPMN
text, the process key, the resolved item code and department, the review tasks completed so far
and the reminders' working days by review task. The process itself is not copied into every
state: the digest names the version the case started with, which is stored once and never
changes, so a running case keeps following it. Loading a state takes the parsed process from
the cache by its digest; when it is not there (after a restart), the caller gives the version's
text (``process``), which must have that digest. A state written with the process inside it
(SpiffWorkflow's own form) still loads. :attr:`Step.completed` lists every completion of a
review task in order, so a review that asked for supplements appears once per round.

Speed
=====
Parsing is the slow part (a few milliseconds plus the first load of the BPMN schema);
parsed specs are cached by the digest of the XML. A state without the process is half the size
(about 14 KB for a bundle instead of 28), and it is read, written and stored at every step;
:func:`advance` costs about 2 ms for the bundle processes (restoring the state about a third of
it, SpiffWorkflow's own step most of the rest).
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default import BpmnProcessSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

__all__ = [
    "DECISIONS",
    "OpenTask",
    "ProcessDefinition",
    "ProcessError",
    "Step",
    "advance",
    "load_demo_definitions",
    "open_tasks",
    "parse_definition",
    "start",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_SIZE = 1024 * 1024
DECISIONS = ("approve", "refuse", "supplement")
APPLICANT = "APPLICANT"
ITEM_DEPARTMENT = "ITEM_DEPARTMENT"
ANY_ITEM = "ANY"
END_APPROVED = "end_approved"
END_REFUSED = "end_refused"
PROCESSES_DIR = Path(__file__).resolve().parent / "processes"

_REVIEW_ID = re.compile(r"item_(\d{12}|ANY)")
_SUPPLEMENT_ID = re.compile(r"supplement_(\d{12}|ANY)")
_BASIC_CODE = re.compile(r"\d{12}")
_DEPARTMENT = re.compile(r"[A-Z]{2,}(?:-[A-Z0-9]+)+")
_PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CONDITION = re.compile(r"\s*(item_(?:\d{12}|ANY))_decision\s*==\s*([\"'])(approve|refuse|supplement)\2\s*")
_END_REFUSED_ID = re.compile(r"end_refused(?:_[A-Za-z0-9_]+)?")
# a whole number of days, as a Python string literal ("P1D", 'P1D') or bare (P1D)
_REMINDER_DURATION = re.compile(r"\s*([\"']?)P([1-9][0-9]{0,2})D\1\s*")

_STATE_KEY = "tongban"
_STATE_FORMAT = "tongban-case/1"


# --------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------


class ProcessError(ValueError):
    """A process definition, a state or a request to advance a case is not acceptable.

    ``problems`` are Chinese sentences; those about a BPMN file name its line ("第 12 行：……"),
    and its column when known.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class OpenTask:
    id: str  # the SpiffWorkflow task uuid, as str
    key: str  # BPMN id, e.g. "item_000121004000" or "supplement_000121004000"
    name: str  # Chinese task name
    kind: str  # "review" | "supplement"
    item_code: str  # basic code parsed from the key ("ANY" resolved to the case's item)
    department: str  # lane name, placeholder resolved; "APPLICANT" for supplement tasks
    reminder_days: int | None = None  # review task: working days before its reminder; else None


@dataclass(frozen=True)
class Step:
    """The result of starting or advancing a workflow."""

    state: str  # serialized workflow JSON (the process named by its digest, not included)
    open_tasks: list[OpenTask]
    finished: bool
    outcome: str | None  # "approved" | "refused" | None while running
    completed: list[str]  # keys of review tasks completed so far, in order (all time)
    open_before: tuple[str, ...] = ()  # ids of the other tasks open before this step (not the one it completed)


@dataclass(frozen=True)
class ProcessDefinition:
    key: str  # process id
    name: str  # process name
    bpmn: str  # the XML text
    item_codes: tuple[str, ...]  # review tasks' item codes in document order ("ANY": generic)

    @property
    def digest(self) -> str:
        """SHA-256 of the XML text: identifies this version of the process."""
        return _digest(self.bpmn)


# --------------------------------------------------------------------------------------
# Spec cache and serialization
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Compiled:
    """A parsed (or restored) process spec, shared by every workflow of one XML version."""

    digest: str
    spec: BpmnProcessSpec
    subprocess_specs: dict
    definition: ProcessDefinition | None = None
    generic: bool = False  # has the review task item_ANY
    placeholder: bool = False  # has a lane ITEM_DEPARTMENT
    reminders: dict[str, int] = field(default_factory=dict)  # review task id -> working days

    @property
    def parsed(self) -> ProcessDefinition:
        """The definition: every spec compiled from its XML has one (one restored from a state has not)."""
        if self.definition is None:
            raise RuntimeError(f"process spec {self.digest} was restored from a state, not compiled from its XML")
        return self.definition


_CACHE_SIZE = 128
_cache: OrderedDict[str, _Compiled] = OrderedDict()
_cache_lock = threading.Lock()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_get(digest: str) -> _Compiled | None:
    with _cache_lock:
        compiled = _cache.get(digest)
        if compiled is not None:
            _cache.move_to_end(digest)
        return compiled


def _cache_put(compiled: _Compiled) -> _Compiled:
    with _cache_lock:
        existing = _cache.get(compiled.digest)
        if existing is not None:
            if existing.definition is None and compiled.definition is not None:
                existing.definition = compiled.definition
                existing.generic, existing.placeholder = compiled.generic, compiled.placeholder
                existing.reminders = compiled.reminders
            _cache.move_to_end(compiled.digest)
            return existing
        _cache[compiled.digest] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return compiled


class _ProcessByDigest(BpmnProcessSpecConverter):
    """Leaves the process out of a saved state (the state names it by its digest); restoring a
    state that holds one, written before, is SpiffWorkflow's as usual."""

    def to_dict(self, spec):
        return {}  # SpiffWorkflow adds the type name to it; _dump drops it


_serializer = BpmnWorkflowSerializer(
    BpmnWorkflowSerializer.configure({**DEFAULT_CONFIG, BpmnProcessSpec: _ProcessByDigest})
)


def _dump(workflow: BpmnWorkflow, meta: dict) -> str:
    dct = _serializer.to_dict(workflow)
    del dct["spec"], dct["subprocess_specs"]  # named by meta["spec_hash"]; call activities are refused
    dct[BpmnWorkflowSerializer.VERSION_KEY] = SERIALIZER_VERSION
    dct[_STATE_KEY] = meta
    try:
        return orjson.dumps(dct).decode("utf-8")
    except TypeError as exc:
        raise ProcessError(f"办件数据无法保存为 JSON：{exc}") from None


def _load(state: str, process: Callable[[], str] | None = None) -> tuple[BpmnWorkflow, dict]:
    try:
        dct = orjson.loads(state)
        meta = dct.pop(_STATE_KEY)
        if not isinstance(meta, dict) or meta.get("format") != _STATE_FORMAT:
            raise ValueError("unknown format")
        digest = meta["spec_hash"]
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError):
        raise ProcessError("办件流程状态无法读取：不是本系统保存的流程状态") from None
    compiled = _cache_get(digest)
    if compiled is None and "spec" not in dct:
        if process is None:
            raise ProcessError("办件流程状态无法读取：未给出办件所用的流程版本")
        compiled = _compile(process())
        if compiled.digest != digest:
            raise ProcessError("办件流程状态无法读取：给出的流程版本不是办件开始时的版本")
    try:
        _serializer.migrate(dct)
        if compiled is not None:
            dct["spec"] = compiled.spec
            dct["subprocess_specs"] = dict(compiled.subprocess_specs)
            workflow = _serializer.from_dict(dct)
        else:  # a state written with its process inside
            workflow = _serializer.from_dict(dct)
            _cache_put(_Compiled(digest, workflow.spec, dict(workflow.subprocess_specs)))
    except (SpiffWorkflowException, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProcessError(f"办件流程状态无法读取：{exc}") from None
    return workflow, meta


# --------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------

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
    pid, pname = process.get("id"), (process.get("name") or "").strip()
    if not pid or not _PROCESS_ID.fullmatch(pid):
        problems.append(f"{_at(process.sourceline)}流程 id 须以字母开头，由字母、数字和下划线组成（至多 64 个字符）")
    if not pname:
        problems.append(f"{_at(process.sourceline)}流程“{pid or ''}”缺少中文名称（name 属性）")

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

    # lanes: the innermost lane that references a node, as SpiffWorkflow reads them
    lanes: dict[str, etree._Element] = {}
    for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces={"bpmn": BPMN_NS}):
        if ref.text and ref.text.strip():
            lanes[ref.text.strip()] = ref.getparent()

    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)

    starts = [n for n, k in kinds.items() if k == "startEvent"]
    if len(starts) != 1:
        problems.append(f"{_at(process.sourceline)}流程须有且只有一个开始事件，现有 {len(starts)} 个")
    for node_id in starts:
        start = nodes[node_id]
        if not outgoing.get(node_id):
            problems.append(f"{_at(start.sourceline)}开始事件“{node_id}”没有后续顺序流")

    reviews = [n for n, k in kinds.items() if k == "userTask" and _REVIEW_ID.fullmatch(n)]
    review_set = set(reviews)
    supplements = {n for n, k in kinds.items() if k == "userTask" and _SUPPLEMENT_ID.fullmatch(n)}

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

    def is_terminate(node_id: str) -> bool:
        node = nodes.get(node_id)
        return node is not None and kinds[node_id] == "endEvent" and any(
            _local(c.tag) == "terminateEventDefinition" for c in node
        )

    # reminders: checked first, as their end events follow their own rules
    reminder_ends = _check_reminders(boundaries, nodes, kinds, flows, outgoing, review_set, problems, result)

    # end events
    approved_ends = 0
    for node_id, kind in kinds.items():
        if kind != "endEvent":
            continue
        if node_id in reminder_ends and node_id != END_APPROVED and not _END_REFUSED_ID.fullmatch(node_id):
            continue  # a reminder's end event: checked with the reminders
        node = nodes[node_id]
        if is_terminate(node_id):
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
            if not is_terminate(flow.get("targetRef", "")):
                problems.append(
                    f"{_at(flow.sourceline)}审查任务“{node_id}”的不予路径须直接进入终止结束事件 end_refused"
                )
        for flow in routes.get("supplement", [])[:1]:
            target = flow.get("targetRef", "")
            if target != f"supplement_{code}" or kinds.get(target) != "userTask":
                problems.append(
                    f"{_at(flow.sourceline)}审查任务“{node_id}”的补正路径须进入补正任务 supplement_{code}"
                )

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


def _without_reminders(root: etree._Element, parts: set[str]) -> etree._Element:
    """A copy of the document without its reminders (events, flows, end events, their lane
    references and diagram shapes): the process SpiffWorkflow runs. ``root`` is left as is."""
    parts = parts - {""}
    if not parts:
        return root
    executed = copy.deepcopy(root)  # keeps the source lines, for SpiffWorkflow's messages
    doomed = [
        element
        for element in executed.iter()
        if isinstance(element.tag, str)
        and (
            element.get("id") in parts
            or element.get("bpmnElement") in parts
            or (_local(element.tag) in ("flowNodeRef", "incoming", "outgoing") and (element.text or "").strip() in parts)
        )
    ]
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    return executed


def _spiff_problems(root: etree._Element, process_id: str) -> tuple[list[str], Any, Any]:
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(root)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        line = getattr(exc, "line_number", None)
        if not isinstance(line, int):
            line = None
            node_id = getattr(exc, "id", None)
            if node_id:
                found = root.xpath("//*[@id=$i]", i=node_id)
                line = found[0].sourceline if found else None
        message = getattr(exc, "error", None) or str(exc)
        return [f"{_at(line)}流程引擎无法解析该流程（{_shorten(str(message))}）"], None, None
    except Exception as exc:
        return [f"{_at(None)}流程引擎无法解析该流程（{type(exc).__name__}: {_shorten(str(exc))}）"], None, None
    return [], spec, subprocess_specs


def _line_of(problem: str) -> int:
    match = re.match(r"第 (\d+) 行", problem)
    return int(match.group(1)) if match else 0


def _compile(bpmn: str | bytes) -> _Compiled:
    if isinstance(bpmn, str):
        compiled = _cache_get(_digest(bpmn))
        if compiled is not None and compiled.definition is not None:
            return compiled
    text, root = _read_xml(bpmn)
    digest = _digest(text)
    compiled = _cache_get(digest)
    if compiled is not None and compiled.definition is not None:
        return compiled

    problems = _schema_problems(root)
    checked = _check_conventions(root, problems)
    spec = subprocess_specs = None
    if not problems and checked.process is not None:
        executed = _without_reminders(root, checked.reminder_parts)
        spiff, spec, subprocess_specs = _spiff_problems(executed, checked.process.get("id"))
        problems.extend(spiff)
    if problems:
        problems = sorted(dict.fromkeys(problems), key=_line_of)
        raise ProcessError(problems)
    process = checked.process
    if process is None or spec is None:  # no problems means the conventions found it, and Spiff parsed it
        raise ProcessError(["未找到可执行的流程（bpmn:process）"])
    definition = ProcessDefinition(
        key=process.get("id", ""),
        name=(process.get("name") or "").strip(),
        bpmn=text,
        item_codes=tuple(checked.item_codes),
    )
    return _cache_put(
        _Compiled(
            digest,
            spec,
            subprocess_specs or {},
            definition=definition,
            generic=checked.generic,
            placeholder=checked.placeholder,
            reminders=dict(checked.reminders),
        )
    )


def parse_definition(bpmn: str | bytes) -> ProcessDefinition:
    """Parses and validates a BPMN 2.0 process; raises ProcessError listing every problem."""
    return _compile(bpmn).parsed


def load_demo_definitions() -> list[ProcessDefinition]:
    """The demo processes shipped in ``processes/``, in file-name order."""
    return [parse_definition(path.read_bytes()) for path in sorted(PROCESSES_DIR.glob("*.bpmn"))]


# --------------------------------------------------------------------------------------
# Running cases
# --------------------------------------------------------------------------------------


def _check_data(data: dict | None) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ProcessError("附加数据须为以字符串为键的字典")
    reserved = [k for k in data if k == "decision" or k.endswith("_decision")]
    if reserved:
        raise ProcessError(f"附加数据不得包含审查结论字段：{'、'.join(reserved)}")
    try:
        return orjson.loads(orjson.dumps(data))  # a private, JSON-only copy
    except TypeError as exc:
        raise ProcessError(f"附加数据无法保存为 JSON：{exc}") from None


def _open(workflow: BpmnWorkflow, meta: dict) -> list[OpenTask]:
    result = []
    reminders = meta.get("reminders") or {}
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        key = task.task_spec.bpmn_id or ""
        review = key.startswith("item_")
        code = key.split("_", 1)[1] if "_" in key else ""
        if code == ANY_ITEM:
            code = meta.get("item_code") or ANY_ITEM
        if review:
            department = task.task_spec.lane or ""
            if department == ITEM_DEPARTMENT:
                department = meta.get("item_department") or ITEM_DEPARTMENT
        else:
            department = APPLICANT
        result.append(
            OpenTask(
                id=str(task.id),
                key=key,
                name=task.task_spec.bpmn_name or key,
                kind="review" if review else "supplement",
                item_code=code,
                department=department,
                reminder_days=reminders.get(key) if review else None,
            )
        )
    return result


def _outcome(workflow: BpmnWorkflow) -> str | None:
    if not workflow.is_completed():
        return None
    ended = {
        t.task_spec.bpmn_id
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id and t.task_spec.bpmn_id.startswith("end_")
    }
    if any(_END_REFUSED_ID.fullmatch(e) for e in ended):
        return "refused"
    if END_APPROVED in ended:
        return "approved"
    return None


def _step(workflow: BpmnWorkflow, meta: dict, open_before: tuple[str, ...] = ()) -> Step:
    finished = workflow.is_completed()
    return Step(
        state=_dump(workflow, meta),
        open_tasks=[] if finished else _open(workflow, meta),
        finished=finished,
        outcome=_outcome(workflow),
        completed=list(meta["completed"]),
        open_before=open_before,
    )


def start(
    definition: ProcessDefinition,
    *,
    item_department: str | None = None,
    item_code: str | None = None,
    data: dict | None = None,
) -> Step:
    """Starts a case of ``definition`` and runs it up to its first open tasks.

    ``item_code`` is required by a generic process (review task ``item_ANY``); when it is
    not given, ``data["item_code"]`` is used. ``item_department`` is required by a process
    with a lane ``ITEM_DEPARTMENT``. ``data`` becomes the initial task data.
    """
    compiled = _compile(definition.bpmn)
    if item_department is not None:
        if not isinstance(item_department, str) or not (
            _DEPARTMENT.fullmatch(item_department) and len(item_department) <= 32
        ):
            raise ProcessError(f"部门编码“{item_department}”无效")
    elif compiled.placeholder:
        raise ProcessError(f"流程“{compiled.parsed.name}”的审查部门由事项决定，启动时须指定事项所属部门")
    initial = _check_data(data)
    if item_code is None and compiled.generic:
        item_code = initial.get("item_code")  # the application's item, given as task data
    if item_code is not None:
        if not isinstance(item_code, str) or not _BASIC_CODE.fullmatch(item_code):
            raise ProcessError(f"事项基本编码“{item_code}”无效：须为 12 位数字")
        if not compiled.generic and item_code not in compiled.parsed.item_codes:
            raise ProcessError(f"流程“{compiled.parsed.name}”不办理事项 {item_code}")
    elif compiled.generic:
        raise ProcessError(f"流程“{compiled.parsed.name}”为通用流程，启动时须指定事项基本编码")

    workflow = BpmnWorkflow(compiled.spec, dict(compiled.subprocess_specs))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(initial)
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise ProcessError(f"流程运行出错：{exc}") from None
    meta: dict[str, Any] = {
        "format": _STATE_FORMAT,
        "spec_hash": compiled.digest,
        "process": compiled.parsed.key,
        "item_code": item_code,
        "item_department": item_department,
        "completed": [],
        "reminders": dict(compiled.reminders),
    }
    return _step(workflow, meta)


def advance(
    state: str,
    task_id: str,
    *,
    decision: str | None = None,
    opinion: str = "",
    data: dict | None = None,
    process: Callable[[], str] | None = None,
) -> Step:
    """Completes the open task ``task_id`` of the case in ``state`` and runs the engine on.

    A review task needs a ``decision`` (approve, refuse or supplement); a supplement task
    takes none. ``opinion`` is kept as ``opinion`` and ``<task key>_opinion``; ``data`` is
    merged into the task data. ``state`` itself is left as it is: the new state is returned.
    ``process`` gives the BPMN text of the version the case started with; it is called only
    when that version is not in the cache (see State).
    """
    if not isinstance(state, str):
        raise ProcessError("办件流程状态须为 JSON 文本")
    if not isinstance(opinion, str):
        raise ProcessError("审查意见须为文本")
    extra = _check_data(data)
    workflow, meta = _load(state, process)
    if workflow.is_completed():
        raise ProcessError("办件流程已结束，不能再办理任务")
    try:
        task = workflow.get_task_from_id(uuid.UUID(str(task_id)))
    except (ValueError, TypeError, AttributeError, SpiffWorkflowException):
        task = None
    if task is None:
        raise ProcessError(f"任务“{task_id}”不存在")
    key = task.task_spec.bpmn_id or ""
    if not task.task_spec.manual or task.state != TaskState.READY:
        raise ProcessError(f"任务“{task.task_spec.bpmn_name or key}”（{task_id}）当前不在办理中")
    review = key.startswith("item_")
    if review:
        if decision not in DECISIONS:
            raise ProcessError("审查任务须给出审查结论：approve（准予）、refuse（不予）或 supplement（补正）")
    elif decision is not None:
        raise ProcessError("补正任务不需要审查结论")

    open_before = tuple(str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t is not task)
    task.data.update(extra)
    task.data["opinion"] = opinion
    task.data[f"{key}_opinion"] = opinion
    if review:
        task.data["decision"] = decision
        task.data[f"{key}_decision"] = decision
    try:
        task.run()
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise ProcessError(f"流程运行出错：{exc}") from None
    if review:
        meta = {**meta, "completed": [*meta.get("completed", []), key]}
    return _step(workflow, meta, open_before)


def open_tasks(state: str, process: Callable[[], str] | None = None) -> list[OpenTask]:
    """The open tasks of the case in ``state`` (``process`` as for :func:`advance`)."""
    workflow, meta = _load(state, process)
    if workflow.is_completed():
        return []
    return _open(workflow, meta)
