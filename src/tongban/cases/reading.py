"""Reading applications: by number, who may read them, their timeline, tasks and licences, queues."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.cases.models import Application, ApplicationStatus, CaseStep, CaseTask, Licence
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code
from tongban.core.permissions import Permission
from tongban.registry import service as registry
from tongban.registry.schemas import REGISTRIES


def select_by_number(number: str):
    return select(Application).where(Application.number == normalise_code(number)[:32])


def application_or_404(db: Session, number: str, *, lock: bool = False) -> Application:
    """``lock``: for a decision on the application itself (受理): held until commit, so clerks
    deciding at once take turns and the later ones are told it is decided (409), not a stale 500."""
    query = select_by_number(number)
    if lock:
        query = query.with_for_update(of=Application).execution_options(populate_existing=True)
    row = db.scalar(query)
    if row is None:
        raise Problem("not-found", f"没有编号为「{number}」的办件")
    return row


def own_key(db: Session, principal: Principal) -> str | None:
    """The verified ID number or credit code of a signed-in applicant: what a clerk filed at the
    window for them is theirs too."""
    user = accounts.applicant_identity(db, principal)
    return (user.resident_id or user.credit_code) if user is not None and user.verified else None


def is_applicant(db: Session, principal: Principal, application: Application) -> bool:
    if principal.actor_type != "user":
        return False
    if application.applicant_account == str(principal.actor_id):
        return True
    key = own_key(db, principal) if application.channel == "window" else None
    return key is not None and application.applicant_id == key


def may_read(db: Session, principal: Principal, application: Application) -> bool:
    if is_applicant(db, principal, application):
        return True
    if principal.can_for_department(Permission.CASES_READ, None):
        return True
    if principal.can(Permission.CASES_READ) and principal.department_id is not None:
        return db.scalar(select(CaseTask.id).where(CaseTask.application_id == application.id,
                                                   CaseTask.department_id == principal.department_id).limit(1)) is not None
    return False


def shared_data(db: Session, principal: Principal, application: Application) -> dict[str, Any]:
    """What the base registries hold of the applicant, for the reviewer: read with the case as purpose, audited."""
    registry_def = REGISTRIES["persons" if application.applicant_type == "自然人" else "legal_entities"]
    row = registry.current_row(db, registry_def, application.applicant_id)
    if row is None:
        return {}
    # The purpose is the case the reviewer works on, set here, not by the request: a link cannot
    # choose it. Clear only for a role with the right to personal data, like any registry read.
    clear = registry.reveal(db, principal, registry_def, application.applicant_id, f"审查办件 {application.number}",
                            application=application.number)
    values, masked = registry.present(registry_def, row, clear=clear)
    return {"registry": registry_def.label, "masked": bool(masked),
            "values": {registry_def.by_name[k].label: v for k, v in values.items()
                       if v not in (None, "") and k in registry_def.by_name}}


def timeline(db: Session, application: Application) -> list[CaseStep]:
    return list(db.scalars(_TIMELINE, {"application": application.id}))


def tasks_of(db: Session, application: Application) -> list[CaseTask]:
    return list(db.scalars(_TASKS_OF, {"application": application.id}))


def licences_of(db: Session, application: Application) -> list[Licence]:
    return list(db.scalars(_LICENCES_OF, {"application": application.id}))

# Built once: every answer about a case shows its steps, tasks and licences.
_TIMELINE = select(CaseStep).where(CaseStep.application_id == bindparam("application")).order_by(CaseStep.id)

_TASKS_OF = select(CaseTask).where(CaseTask.application_id == bindparam("application")).order_by(CaseTask.id)

_LICENCES_OF = select(Licence).where(Licence.application_id == bindparam("application")).order_by(Licence.id)


def mine(db: Session, principal: Principal, limit: int = 100) -> list[Application]:
    own = Application.applicant_account == str(principal.actor_id)
    key = own_key(db, principal)
    if key is not None:  # and what the window filed for this applicant
        own = or_(own, (Application.applicant_id == key) & (Application.channel == "window"))
    return list(db.scalars(select(Application).where(own).order_by(Application.id.desc()).limit(limit)))


_WAITING_AT_WINDOW = Application.status == ApplicationStatus.SUBMITTED


def window_queue(db: Session, limit: int = 200) -> list[Application]:
    return list(db.scalars(select(Application).where(_WAITING_AT_WINDOW).order_by(Application.id).limit(limit)))


def count_window_queue(db: Session) -> int:
    """How many applications wait at the one window for acceptance (``window_queue``'s rows)."""
    return db.scalar(select(func.count()).select_from(Application).where(_WAITING_AT_WINDOW)) or 0
