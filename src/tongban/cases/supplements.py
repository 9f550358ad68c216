"""Supplements (补正): the applicant answers a department's request, the review reopens."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, undefer

from tongban.cases.bpmn import run as bpmn_run
from tongban.cases.models import Application, CaseTask, TaskStatus
from tongban.cases.common import _flush, _label, _step, _timed
from tongban.cases.definitions import _process_of
from tongban.cases.tasks import _sync
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core import clock as wall


def supply(db: Session, application: Application, principal: Principal, *, note: str, provided: list[str]) -> Application:
    """The applicant answers a department's supplement request: the review reopens, the clock resumes."""
    task = db.scalar(select(CaseTask).where(CaseTask.application_id == application.id, CaseTask.kind == "supplement",
                                            CaseTask.status == TaskStatus.OPEN).order_by(CaseTask.id).limit(1))
    if task is None:
        raise Problem("conflict", f"办件 {application.number} 当前{_label(application)}，没有待补正的内容")
    application = _locked(db, application.id)
    db.refresh(task)
    if task.status != TaskStatus.OPEN:
        raise Problem("task-finished", "补正已提交，请勿重复提交")
    record = json.loads(application.materials)
    still = [m["name"] for m in record if m.get("requested") and m.get("how") == "requested"]
    if still:
        raise Problem("validation-error", f"请先上传要求补正的材料：{'、'.join(still)}",
                      errors=[{"field": "materials", "code": "required", "message": f"请上传「{n}」"} for n in still])
    for m in record:
        m.pop("requested", None)
    application.materials = json.dumps(record, ensure_ascii=False)
    step = _timed(bpmn_run.advance, application.workflow, task.engine_task_id, data={"supplement": note},
                  process=_process_of(application))
    task.status, task.decision, task.decided_by, task.decided_at = TaskStatus.DONE, "supplied", principal.actor_name, wall.now()
    task.opinion = (note or "").strip()[:2000] or None
    _step(db, application, principal, "supplied", "申请人已补正" + (f"：{task.opinion}" if task.opinion else "")
          + (f"（补交：{'、'.join(provided)}）" if provided else ""))
    _sync(db, application, step, principal)
    _flush(db, application)
    return application


def _locked(db: Session, application_id: int) -> Application:
    """The application with its process state, its row locked for this transaction and read as the
    lock found it: writers of one case take turns (one statement: the row, not its joined
    definition, locked)."""
    return db.execute(_LOCKED, {"id": application_id}).scalar_one()

_LOCKED = (select(Application).where(Application.id == bindparam("id")).options(undefer(Application.workflow))
           .with_for_update(of=Application).execution_options(populate_existing=True))
