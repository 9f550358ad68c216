"""Running cases: starting and advancing workflows, and their serialized state
(see :mod:`tongban.cases.bpmn.model` for the conventions and the state)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default import BpmnProcessSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from tongban.cases.bpmn.model import (
    DECISIONS,
    APPLICANT,
    ITEM_DEPARTMENT,
    ANY_ITEM,
    END_APPROVED,
    _BASIC_CODE,
    _DEPARTMENT,
    _END_REFUSED_ID,
    _STATE_KEY,
    _STATE_FORMAT,
    ProcessError,
    OpenTask,
    Step,
    ProcessDefinition,
    _Compiled,
    _cache_get,
    _cache_put,
)
from tongban.cases.bpmn.parse import (
    _compile,
)

__all__ = [
    "advance",
    "open_tasks",
    "start",
]


# --------------------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------------------


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
