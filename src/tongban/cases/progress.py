"""办件进度查询: anyone holding an application's number and its applicant's ID number (or credit
code) reads its progress without signing in — the receipt carries the number, the applicant
carries the ID. Both must match; failed lookups are counted per client address, so numbers
cannot be tried out by the thousand."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases.deadlines import deadline, remaining_days
from tongban.cases.models import ApplicationStatus, STATUS_LABELS
from tongban.cases.reading import select_by_number, timeline
from tongban.cases.schemas import PublicStatus, PublicStep
from tongban.core import throttle
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code

MAX_FAILURES = 10  # mismatches from one address within the window before it waits
WINDOW_MINUTES, LOCK_MINUTES = 60, 15


def _key(address: str) -> str:
    return f"progress@{throttle.counted(address)}"


def progress(db: Session, *, number: str, applicant_id: str, address: str) -> PublicStatus:
    """The application's public progress, or a Problem that says nothing about which of the two
    did not match. A mismatch is counted (the caller commits it before answering)."""
    throttle.check(db, [_key(address)], detail="查询失败次数过多，请 {minutes} 分钟后再试")
    number, applicant_id = normalise_code(number)[:32], normalise_code(applicant_id)[:18]
    application = db.scalar(select_by_number(number)) if number and applicant_id else None
    if application is None or application.applicant_id != applicant_id:
        throttle.fail(db, _key(address), limit=MAX_FAILURES, window_minutes=WINDOW_MINUTES, lock_minutes=LOCK_MINUTES)
        raise Problem("not-found", "办件编号与申请人证件号码不匹配，请核对后重试")
    due = deadline(db, application)
    return PublicStatus(number=application.number, name=application.name, status=application.status,
                        status_label=STATUS_LABELS[ApplicationStatus(application.status)],
                        status_reason=application.status_reason, due_on=due.due_on if due else None,
                        remaining_days=remaining_days(application, due),
                        timeline=[PublicStep(at=s.at, text=s.text) for s in timeline(db, application)])
