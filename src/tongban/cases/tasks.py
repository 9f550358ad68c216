"""Department tasks: the open tasks of a case's workflow as queue rows, claims and decisions."""

from __future__ import annotations

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import Session, lazyload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from tongban.cases.bpmn import run as bpmn_run
from tongban.cases.bpmn.model import ProcessError, Step
from tongban.cases.models import DECISION_LABELS, Application, ApplicationStatus, CaseTask, TaskStatus
from tongban.cases.common import _code, _flush, _flushed_once, _step, _tell_applicant, _timed
from tongban.cases.deadlines import _time_task
from tongban.cases.definitions import _process_of
from tongban.cases.applications import request_materials
from tongban.cases.licences import _results
from tongban.core import audit
from tongban.policies import service as policies
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.core.workdays import WorkingCalendar
from tongban.items import service as items
from tongban.notifications.service import notify
from tongban.org import service as org
from tongban.supervision import service as supervision
from tongban.supervision.service import ClockKind
from tongban.core import clock as wall


def _sync(db: Session, application: Application, step: Step, actor) -> None:
    """Make the task rows, the status and the clock agree with the engine's state."""
    application.workflow = step.state
    now = wall.now()
    # Every task open in the engine has its row: the rows to touch are those of the tasks the
    # step ended without their being done (a refusal ends the other branches), and new ones.
    open_ids = {task.id for task in step.open_tasks}
    ended = [task_id for task_id in step.open_before if task_id not in open_ids]
    if ended:
        for row in db.scalars(select(CaseTask).where(CaseTask.application_id == application.id,
                                                     CaseTask.engine_task_id.in_(ended))):
            if row.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
                row.status = TaskStatus.CANCELLED
                supervision.cancel_clock(db, ClockKind.TASK, row.id, on=wall.today())
                _step(db, application, audit.SYSTEM, "cancelled", f"「{row.name}」因办件终止而结束", _code(row))
    new_tasks = [task for task in step.open_tasks if task.id not in step.open_before]
    # What the new tasks name, each read once for all of them: their departments and items.
    departments = org.ids_by_codes(db, [task.department for task in new_tasks if task.department != "APPLICANT"])
    items.published_rows(db, [task.item_code for task in new_tasks if task.item_code])
    calendar = None
    opened: list[CaseTask] = []
    for task in new_tasks:
        department_id = None
        if task.department != "APPLICANT":
            department_id = departments.get(task.department) or org.get_by_code_or_404(db, task.department).id
        remind_on = None
        reminder_days = getattr(task, "reminder_days", None)
        if reminder_days:  # the process's reminder timer, counted in working days
            calendar = calendar or WorkingCalendar.load(db)
            remind_on = calendar.add_working_days(wall.today(), reminder_days).due
        row = CaseTask(application_id=application.id, engine_task_id=task.id, key=task.key, name=task.name,
                       kind=task.kind, item_code=task.item_code, department_id=department_id,
                       status=TaskStatus.OPEN, opened_at=now, remind_on=remind_on)
        db.add(row)
        if department_id is not None:
            opened.append(row)
    if opened:
        db.flush()  # the tasks' ids name their clocks: one flush for all the departments a step opens
        calendar = calendar or WorkingCalendar.load(db)
        for row in opened:
            _time_task(db, application, row, calendar)
            notify(db, department_id=row.department_id, role="reviewer", kind="cases.task",
                   link="/staff/tasks", title=f"新的待办：{row.name}",
                   body=f"办件 {application.number}（{application.name}，{application.applicant_name}）")
    supplementing = any(t.kind == "supplement" for t in step.open_tasks)
    paused = application.status == ApplicationStatus.SUPPLEMENT  # the application's clock stands still
    if supplementing and not paused:
        application.status = ApplicationStatus.SUPPLEMENT
        supervision.pause_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), note="申请人补正")
    elif not supplementing and paused:
        application.status = ApplicationStatus.PROCESSING
        supervision.resume_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), calendar=calendar)
    if step.finished:
        application.status = ApplicationStatus.APPROVED if step.outcome == "approved" else ApplicationStatus.REFUSED
        application.finished_at = now
        supervision.close_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), outcome=application.status)
        if step.outcome == "approved":  # a policy claimed through this item: 已兑现
            policies.claimed(db, application.subject_code, application.applicant_id, awarded=True)
        verdict = "准予" if step.outcome == "approved" else "不予许可"
        _step(db, application, actor, "finished", f"办结：{verdict}")
        _tell_applicant(db, application, f"办件 {application.number} 已办结（{verdict}）", "请在「我的办件」查看结果。")


def task_or_404(db: Session, task_id: int, *, lock: bool = False) -> CaseTask:
    query = select(CaseTask).where(CaseTask.id == task_id)
    task = db.scalar(query.with_for_update() if lock else query)
    if task is None:
        raise _no_task(task_id)
    return task


def _no_task(task_id: int) -> Problem:
    return Problem("not-found", f"没有编号为 {task_id} 的待办")

# A task alone: the caller sets its application, read under the lock already.
_TASK = select(CaseTask).where(CaseTask.id == bindparam("id")).options(lazyload(CaseTask.application))


def check_task_department(db: Session, principal: Principal, task: CaseTask, action: str) -> None:
    if task.department is None or not principal.can_for_department(Permission.CASES_REVIEW, task.department_id):
        from tongban.core.auth import deny

        raise deny(db, principal, slug="department-scope", action=action,
                   detail=f"该待办属于{task.department.name if task.department else '申请人'}，不是本部门的待办")


def _queue_query(principal: Principal, status: str | None = None, due: str | None = None):
    query = select(CaseTask)
    if due:  # the tasks whose own clock (the department's time for its step) is red, or yellow
        query = query.where(cast(CaseTask.id, String).in_(supervision.due_subjects(ClockKind.TASK, due)))
    if not principal.can_for_department(Permission.CASES_REVIEW, None):
        query = query.where(CaseTask.department_id == principal.department_id)
    if status:
        query = query.where(CaseTask.status == status)
    else:
        query = query.where(CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED)))
    return query


def queue(db: Session, principal: Principal, *, status: str | None = None, due: str | None = None,
          cursor: str | None = None, limit: int = 200) -> tuple[list[CaseTask], str | None]:
    """The department's tasks, oldest first (ids follow the order tasks open in); the next cursor.
    ``due``: only those overdue or due soon (``supervision.DUE_FILTERS``)."""
    return paginate(db, _queue_query(principal, status, due), CaseTask.id, cursor=cursor, limit=limit, descending=False)


def count_queue(db: Session, principal: Principal, *, due: str | None = None) -> int:
    """How many tasks wait in the reader's queue (open or claimed: ``queue``'s rows), ``due`` as there."""
    return db.scalar(select(func.count()).select_from(_queue_query(principal, due=due).subquery())) or 0


def claim(db: Session, task: CaseTask, principal: Principal) -> CaseTask:
    check_task_department(db, principal, task, "cases.claim")
    if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        raise _decided(task)
    if task.status == TaskStatus.CLAIMED and task.claimed_by != principal.actor_name:
        raise Problem("conflict", f"该待办已由{task.claimed_by}认领")
    task.status, task.claimed_by = TaskStatus.CLAIMED, principal.actor_name
    supervision.assign_clock(db, ClockKind.TASK, task.id, principal.actor_id if principal.actor_type == "user" else None,
                             on=wall.today(), name=principal.actor_name)
    _flush(db, task)
    return task


def _decided(task: CaseTask) -> Problem:
    if task.status == TaskStatus.CANCELLED:
        return Problem("task-finished", f"「{task.name}」已因办件终止而结束")
    return Problem("task-finished", f"「{task.name}」已由{task.decided_by}办理：{DECISION_LABELS.get(task.decision or '') or task.decision}"
                   + (f"（{task.opinion}）" if task.opinion else ""))


@_flushed_once
def decide(db: Session, task_id: int, principal: Principal, *, decision: str, opinion: str,
           version: int | None, materials: list[str] | None = None) -> CaseTask:
    """A reviewer's decision on a task; of two reviewers deciding the same task, one wins."""
    # The task's application (and its process state, the biggest row of a case) is read once,
    # under its lock; then the task as the last writer left it (a loser is told the winner's
    # decision), and only then whose it is: a refusal rolls back, which releases the lock.
    application = db.scalar(_LOCKED_BY_TASK, {"id": task_id})
    task = db.scalar(_TASK, {"id": task_id}) if application is not None else None
    if application is None or task is None:
        raise _no_task(task_id)
    if task.department_id is None or not principal.can_for_department(Permission.CASES_REVIEW, task.department_id):
        check_task_department(db, principal, task, "cases.decide")  # refused (and audited) here
    set_committed_value(task, "application", application)
    if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        raise _decided(task)
    if version is not None and version != task.row_version:
        raise Problem("stale-version", f"「{task.name}」已被他人更新（当前版本 {task.row_version}，您提交的是 {version}），请刷新后再办理")
    if task.status == TaskStatus.CLAIMED and task.claimed_by != principal.actor_name:
        raise Problem("conflict", f"该待办已由{task.claimed_by}认领")
    opinion = (opinion or "").strip()
    if decision in ("refuse", "supplement") and not opinion:
        raise Problem("validation-error", "不予许可或退回补正须填写意见",
                      errors=[{"field": "body.opinion", "code": "required", "message": "请填写意见"}])
    try:
        step = _timed(bpmn_run.advance, application.workflow, task.engine_task_id, decision=decision, opinion=opinion,
                      process=_process_of(application))
    except ProcessError as error:
        raise Problem("task-finished", "；".join(error.problems)) from None
    task.status, task.decision, task.opinion = TaskStatus.DONE, decision, opinion or None
    task.decided_by, task.decided_at = principal.actor_name, wall.now()
    supervision.close_clock(db, ClockKind.TASK, task.id, on=wall.today(), outcome=decision)
    _step(db, application, principal, "decided", f"{task.name}：{DECISION_LABELS[decision]}" + (f"。意见：{opinion}" if opinion else ""),
          _code(task))
    if decision == "approve":
        _results(db, application, task, principal)
    elif decision == "supplement":
        named = request_materials(db, application, materials or [])
        _tell_applicant(db, application, f"办件 {application.number} 需补正",
                        f"{task.name}：{opinion}" + (f"。请上传：{'、'.join(named)}" if named else "") + "（补正期间办理时限暂停）")
    _sync(db, application, step, principal)
    audit.record(db, actor=principal, action="cases.decide", object_type="application", object_id=application.number,
                 details={"task": task.key, "decision": decision})
    _flush(db, task)
    return task

# The same, found by one of its tasks (a decision names the task only).
_LOCKED_BY_TASK = (select(Application)
                   .where(Application.id == select(CaseTask.application_id).where(CaseTask.id == bindparam("id")).scalar_subquery())
                   .options(undefer(Application.workflow)).with_for_update(of=Application)
                   .execution_options(populate_existing=True))
