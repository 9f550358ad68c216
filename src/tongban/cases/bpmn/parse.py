"""Parsing a BPMN definition into a cached SpiffWorkflow spec: validation first
(:mod:`tongban.cases.bpmn.validate`), then SpiffWorkflow's own parser."""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from tongban.cases.bpmn.model import (
    PROCESSES_DIR,
    ProcessError,
    ProcessDefinition,
    _Compiled,
    _digest,
    _cache_get,
    _cache_put,
)
from tongban.cases.bpmn.validate import (
    _at,
    _local,
    _shorten,
    _read_xml,
    _schema_problems,
    _check_conventions,
)

__all__ = [
    "load_demo_definitions",
    "parse_definition",
]


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

