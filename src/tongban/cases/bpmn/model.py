"""The workflow engine of applications (办件): BPMN 2.0 processes executed by SpiffWorkflow.

This package is pure: it parses and validates process definitions, starts and advances
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

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec


__all__ = [
    "APPLICANT",
    "DECISIONS",
    "OpenTask",
    "PROCESSES_DIR",
    "ProcessDefinition",
    "ProcessError",
    "Step",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_SIZE = 1024 * 1024
DECISIONS = ("approve", "refuse", "supplement")
APPLICANT = "APPLICANT"
ITEM_DEPARTMENT = "ITEM_DEPARTMENT"
ANY_ITEM = "ANY"
END_APPROVED = "end_approved"
END_REFUSED = "end_refused"
PROCESSES_DIR = Path(__file__).resolve().parent.parent / "processes"

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

