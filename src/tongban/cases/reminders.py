"""Reminders (催办提醒): tasks whose reminder working days have passed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases.models import CaseTask, TaskStatus
from tongban.cases.common import _code, _step
from tongban.cases.deadlines import deadlines
from tongban.core import audit
from tongban.notifications.service import notify
from tongban.core import clock as wall


def send_reminders(db: Session, *, today: date | None = None) -> int:
    """催办: every task still open on or after its reminder day is reminded to its department, once."""
    today = today or wall.today()
    due = list(db.scalars(select(CaseTask).where(CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED)),
                                                 CaseTask.remind_on <= today, CaseTask.reminded_at.is_(None))
                          .order_by(CaseTask.remind_on, CaseTask.id).limit(1000)))
    clocks = deadlines(db, [task.application for task in due])
    for task in due:
        application = task.application
        clock = clocks.get(application.number)
        notify(db, department_id=task.department_id, role="reviewer", kind="cases.reminder", link=f"/staff/tasks/{task.id}",
               title=f"催办：{task.name}",
               body=f"办件 {application.number}（{application.name}）的「{task.name}」自 {task.opened_at:%Y-%m-%d} 起未办理，"
                    f"办件办结期限 {clock.due_on if clock else None}。")
        _step(db, application, audit.SYSTEM, "reminder", f"「{task.name}」催办提醒已发送", _code(task))
        task.reminded_at = wall.now()
    db.flush()
    return len(due)


def send_reminders_job(sessions) -> int:
    """The periodic scan of the server: reminders go out without anyone opening a page."""
    with sessions() as db:
        # Begin first (on SQLite: wait for the write lock), then ask the date: a scan that waited
        # behind a long write must not use the day it started waiting on.
        db.connection()
        sent = send_reminders(db)
        db.commit()
        return sent
