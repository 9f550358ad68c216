"""The statutory clocks of an application: acceptance, each department's review, and the due date."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from tongban.cases.bundles import BUNDLES
from tongban.cases.models import FINISHED, Application, CaseTask
from tongban.core.db.cache import per_generation_lookup
from tongban.core.workdays import WorkingCalendar
from tongban.items import service as items
from tongban.supervision import service as supervision
from tongban.supervision.service import ClockKind, Deadline
from tongban.core import clock as wall


# 行政许可法第三十二条、第八十二条: incomplete materials are told within five working days; the
# acceptance decision is timed against the same limit.
ACCEPTANCE_DAYS = 5


def _lead_department_id(db: Session, application: Application) -> int:
    """The department of the bundle's first item (or of the item): whose service the case is."""
    code = BUNDLES[application.subject_code].items[0] if application.subject_kind == "bundle" else application.subject_code
    found = per_generation_lookup(db, "item-departments", [code],  # every submission asks
                                  lambda missing: [(c, items.department_id_of(db, c)) for c in missing])
    return found[code]


def _time_acceptance(db: Session, application: Application, *, new_subject: bool = False) -> None:
    """受理 is timed from the (re)submission to the window's decision; a resubmission resumes it.
    ``new_subject``: the application was filed in this transaction."""
    supervision.start_clock(db, kind=ClockKind.ACCEPTANCE, subject=application.number,
                            title=f"受理「{application.name}」（办件 {application.number}）",
                            department_id=_lead_department_id(db, application), limit_days=ACCEPTANCE_DAYS,
                            started_on=wall.today(), link="/staff/window", new_subject=new_subject)


def _time_task(db: Session, application: Application, task: CaseTask, calendar: WorkingCalendar) -> None:
    """A department's review is timed by its item's committed working days (else the case's)."""
    document = items.published_document(db, task.item_code)
    limit = next((days for days in (document.committed_days, document.statutory_days,
                                    application.limit_days) if days is not None), None)
    if limit is not None and task.department_id is not None:  # (an applicant's task is not timed: it has no department)
        supervision.start_clock(db, kind=ClockKind.TASK, subject=task.id, title=f"「{task.name}」（办件 {application.number}）",
                                department_id=task.department_id, limit_days=limit, started_on=wall.today(),
                                link=f"/staff/tasks/{task.id}", calendar=calendar, new_subject=True)


def deadline(db: Session, application: Application) -> Deadline | None:
    """The application's deadline: its clock's (supervision keeps it); None before acceptance or
    when the case has no committed limit."""
    return supervision.deadline_of(db, ClockKind.APPLICATION, application.number)


def deadlines(db: Session, applications: Iterable[Application]) -> dict[str, Deadline]:
    """``deadline`` for a list of applications, by number, in one statement."""
    return supervision.deadlines_of(db, ClockKind.APPLICATION, [a.number for a in applications])


def task_deadlines(db: Session, tasks: Iterable[CaseTask]) -> dict[int, Deadline]:
    """Each task's own deadline (its department's time for the step), by task id, in one statement."""
    return {int(subject): found for subject, found in supervision.deadlines_of(db, ClockKind.TASK, [t.id for t in tasks]).items()}


def remaining_days(application: Application, deadline: Deadline | None) -> int | None:
    """Working days left on the clock (negative when overdue); None before acceptance or after the end."""
    if deadline is None or application.status in FINISHED:
        return None
    return deadline.remaining_days
