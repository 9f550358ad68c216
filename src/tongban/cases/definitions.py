"""Process definitions (BPMN): the demo processes, uploaded versions and the version a case runs."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.cases.bpmn import parse as bpmn_parse
from tongban.cases.bpmn.model import ProcessDefinition, ProcessError
from tongban.cases.models import Application, ProcessDefinitionRow
from tongban.core import audit
from tongban.core.errors import Problem
from tongban.core import clock as wall


SINGLE_ITEM_PROCESS = "single_item"


def load_demo_definitions(db: Session, *, actor) -> int:
    """The demo processes, as version 1 of their keys, unless the key exists already."""
    added = 0
    for definition in bpmn_parse.load_demo_definitions():
        if db.scalar(select(ProcessDefinitionRow.id).where(ProcessDefinitionRow.key == definition.key)) is None:
            _store_definition(db, definition, actor=actor)
            added += 1
    return added


def _store_definition(db: Session, definition: ProcessDefinition, *, actor) -> ProcessDefinitionRow:
    version = (db.scalar(select(func.max(ProcessDefinitionRow.version))
                         .where(ProcessDefinitionRow.key == definition.key)) or 0) + 1
    row = ProcessDefinitionRow(key=definition.key, version=version, name=definition.name, bpmn=definition.bpmn,
                               item_codes=json.dumps(list(definition.item_codes)), uploaded_by=actor.actor_name,
                               uploaded_at=wall.now())
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="process.upload", object_type="process_definition",
                 object_id=f"{definition.key}:{version}", details={"name": definition.name})
    return row


def upload_definition(db: Session, bpmn: bytes | str, *, actor) -> ProcessDefinitionRow:
    try:
        definition = bpmn_parse.parse_definition(bpmn)
    except ProcessError as error:
        raise Problem("process-invalid", f"流程定义有 {len(error.problems)} 处问题，未上传：" + "；".join(error.problems[:3]),
                      errors=[{"field": "file", "code": "bpmn", "message": p} for p in error.problems[:100]]) from None
    return _store_definition(db, definition, actor=actor)


def definitions(db: Session) -> list[ProcessDefinitionRow]:
    return list(db.scalars(select(ProcessDefinitionRow).order_by(ProcessDefinitionRow.key,
                                                                 ProcessDefinitionRow.version.desc())))


def _current_definition(db: Session, key: str) -> ProcessDefinitionRow:
    row = db.scalar(select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == key)
                    .order_by(ProcessDefinitionRow.version.desc()).limit(1))
    if row is None:
        raise Problem("service-unavailable", f"流程「{key}」尚未配置，请联系电子政务办")
    return row


def _parsed(row: ProcessDefinitionRow) -> ProcessDefinition:
    """The stored definition, parsed. A stored version never changes, so its parsed form is kept
    by (key, version, upload time), which also tells apart the same version in two databases:
    its text (tens of kilobytes, deferred) is read only the first time."""
    identity = (row.key, row.version, row.uploaded_at)
    parsed = _PARSED.get(identity)
    if parsed is None:
        if len(_PARSED) >= 256:  # versions are few; a process that saw this many starts over
            _PARSED.clear()
        parsed = _PARSED[identity] = bpmn_parse.parse_definition(row.bpmn)  # the engine caches by the text's hash
    return parsed

_PARSED: dict[tuple, ProcessDefinition] = {}


def _process_of(application: Application):
    """The BPMN text of the version a case started with, read only if the engine asks for it."""
    return lambda: _parsed(application.definition).bpmn
