"""What every step of a case shares: the engine's timing, one flush per step, the timeline's steps
and the applicant's notices."""

from __future__ import annotations

import functools
import time
from contextvars import ContextVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.cases.bpmn.model import Step
from tongban.cases.models import Application, ApplicationStatus, CaseStep, CaseTask
from tongban.core.errors import Problem
from tongban.notifications.service import notify
from tongban.core import clock as wall


# Milliseconds the engine took for this request's step; the API reports it as Server-Timing.
engine_ms: ContextVar[float | None] = ContextVar("engine_ms", default=None)


def _timed(run, *args, **kwargs) -> Step:
    started = time.perf_counter()
    try:
        return run(*args, **kwargs)
    finally:
        engine_ms.set((time.perf_counter() - started) * 1000)


def _flushed_once(work):
    """Run a step of a case without autoflush: its changes (the application's status, due date
    and state; the task, clocks, steps) reach the database in one flush where they are needed,
    not piecemeal before each of the step's queries. Queries in such a step must not depend on
    its unflushed changes (``_sync`` judges the rows it reads by their state in the session)."""

    @functools.wraps(work)
    def run(db: Session, *args, **kwargs):
        with db.no_autoflush:
            return work(db, *args, **kwargs)
    return run


def _step(db: Session, application: Application, actor, kind: str, text: str, department_code: str | None = None):
    db.add(CaseStep(application_id=application.id, at=wall.now(), actor=actor.actor_name, kind=kind, text=text[:2000],
                    department_code=department_code))


def _tell_applicant(db: Session, application: Application, title: str, body: str) -> None:
    if application.applicant_account:
        notify(db, department_id=None, account_id=application.applicant_account, kind="cases.progress",
               title=title, body=body, link=f"/applications/{application.number}")


def _label(application: Application) -> str:
    from tongban.cases.models import STATUS_LABELS

    return f"为「{STATUS_LABELS[ApplicationStatus(application.status)]}」"


def _code(task: CaseTask) -> str | None:
    return task.department.code if task.department else None


def _flush(db: Session, row) -> None:
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Problem("stale-version", "该办件刚被他人更新，请刷新后重试") from None
