"""Acceptance (受理): the window accepts, asks to complete or refuses; acceptance starts the process."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases.applications import request_materials
from tongban.cases.bpmn import run as bpmn_run
from tongban.cases.models import Application, ApplicationStatus
from tongban.cases.common import _flush, _flushed_once, _label, _step, _tell_applicant, _timed
from tongban.cases.deadlines import _lead_department_id
from tongban.cases.definitions import _parsed
from tongban.cases.tasks import _sync
from tongban.core import audit
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.items import service as items
from tongban.supervision import service as supervision
from tongban.supervision.service import ClockKind
from tongban.core import clock as wall


@_flushed_once
def accept(db: Session, application: Application, actor: Principal, *, decision: str, reason: str | None,
           missing: list[str]) -> Application:
    """受理: accept (the clock starts), refuse with a reason, or ask once for a complete supplement list."""
    if application.status != ApplicationStatus.SUBMITTED:
        raise Problem("already-decided", f"办件 {application.number} 当前{_label(application)}，不能再作受理决定")
    reason = (reason or "").strip()
    if decision == "refuse":
        if not reason:
            raise Problem("validation-error", "不予受理须说明理由",
                          errors=[{"field": "body.reason", "code": "required", "message": "请填写不予受理的理由"}])
        application.status, application.status_reason, application.finished_at = ApplicationStatus.NOT_ACCEPTED, reason, wall.now()
        supervision.close_clock(db, ClockKind.ACCEPTANCE, application.number, on=wall.today(), outcome="not_accepted")
        _step(db, application, actor, "not_accepted", f"不予受理：{reason}", actor.department_code)
        _tell_applicant(db, application, f"办件 {application.number} 不予受理", reason)
    elif decision == "supplement":
        # Names from the items' own lists only, marked as requested: the applicant's page then asks
        # for exactly these uploads (as after a department's supplement request).
        wanted = request_materials(db, application, missing)
        if not wanted:
            raise Problem("validation-error", "一次性告知补正须列出全部需补正的材料",
                          errors=[{"field": "body.missing", "code": "required", "message": "请列出需补正的材料"}])
        application.status = ApplicationStatus.RETURNED
        application.status_reason = "请一次性补正：" + "；".join(wanted) + (f"（{reason}）" if reason else "")
        # The applicant completes the materials: the window's clock waits for them.
        supervision.pause_clock(db, ClockKind.ACCEPTANCE, application.number, on=wall.today(), note="一次性告知补正")
        _step(db, application, actor, "returned", application.status_reason)
        _tell_applicant(db, application, f"办件 {application.number} 需补正材料", application.status_reason)
    else:
        start_processing(db, application, actor)
    audit.record(db, actor=actor, action="cases.accept", object_type="application", object_id=application.number,
                 details={"decision": decision})
    _flush(db, application)
    return application


@_flushed_once
def start_processing(db: Session, application: Application, actor: Principal) -> None:
    """The work an acceptance starts, on the clock's today: the process's first department tasks
    (each on its department's queue, with its clock), the application's clock and the applicant
    told. ``accept`` calls it; so does the demo's history, replaying past acceptances."""
    definition = _parsed(application.definition)
    department = None
    if application.subject_kind == "item":
        department = items.published_document(db, application.subject_code).department
    step = _timed(bpmn_run.start, definition, item_department=department,
                  item_code=application.subject_code if application.subject_kind == "item" else None,
                  data={"application": application.number})
    today = wall.today()
    application.accepted_on, application.status = today, ApplicationStatus.PROCESSING
    window = supervision.close_clock(db, ClockKind.ACCEPTANCE, application.number, on=today, outcome="accepted")
    due_on = None
    if application.limit_days is not None:  # accepted once (it was submitted): its clock starts now
        due_on = supervision.start_clock(
            db, kind=ClockKind.APPLICATION, subject=application.number,
            title=f"办结「{application.name}」（办件 {application.number}）",
            department_id=window.department_id if window else _lead_department_id(db, application),
            limit_days=application.limit_days, started_on=today, link=f"/applications/{application.number}",
            new_subject=True).due_on
    _step(db, application, actor, "accepted", f"已受理，承诺 {application.limit_days} 个工作日内办结（至 {due_on}）"
          if application.limit_days is not None else "已受理", actor.department_code)  # the window: on the receipt
    _sync(db, application, step, actor)
    _tell_applicant(db, application, f"办件 {application.number} 已受理", f"预计 {due_on} 前办结。")
