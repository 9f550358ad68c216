"""好差评 and 整改: the applicant rates a finished application once; a poor rating opens a
rectification for the department whose service it was, with a deadline in working days and a
clock of its own, so the rectification is supervised like any other work. The department's head
records what was done (follow-ups) and closes it with a result, which closes its clock.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.auth import Principal, deny, ensure_department
from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Role, Scope
from tongban.core.workdays import WorkingCalendar
from tongban.notifications.service import notify
from tongban.org import service as org
from tongban.supervision import clocks
from tongban.supervision.evaluation import POOR_SCORE
from tongban.supervision.models import (
    ClockKind, Rectification, RectificationFollowUp, RectificationStatus, ServiceRating,
)
from tongban.supervision.read_models import ApplicationRow, applications, case_tasks
from tongban.supervision.schemas import GOOD_REASONS, POOR_REASONS, REASON_LABELS, SCORE_LABELS, reason_labels
from tongban.core import clock as wall

# 办结: what an applicant can rate (cases' ApplicationStatus.APPROVED and REFUSED).
RATED = ("approved", "refused")
# cases' labels of an application's status (tongban.cases.models.STATUS_LABELS), as supervision
# shows them when an application is not finished yet: cases offers them in no public module.
APPLICATION_STATUS_LABELS = {"submitted": "待受理", "returned": "待补正（受理前）", "not_accepted": "不予受理",
                             "processing": "办理中", "supplement": "待补正（办理中，时限暂停）",
                             "approved": "已办结（准予）", "refused": "已办结（不予许可）"}
MAX_COMMENT = 500
RECTIFIED = "rectified"  # the outcome of a rectification's clock
AUTOMATIC = "好差评（平台自动）"


def _invalid(field: str, code: str, message: str) -> Problem:
    return Problem("validation-error", message, errors=[{"field": field, "code": code, "message": message}])


def _checked(score: int, reasons: list[str], comment: str | None) -> tuple[list[str], str | None]:
    """The reasons (known, each once, fitting the score) and the comment, or a 422 naming the field."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise _invalid("body.score", "score_range", "评分应为 1 至 5 的整数")
    unknown = [r for r in reasons if r not in REASON_LABELS]
    if unknown:
        raise _invalid("body.reasons", "unknown_reason", f"未知的评价原因：{'、'.join(map(str, unknown))}；"
                       f"可选：{'、'.join(f'{code}（{label}）' for code, label in REASON_LABELS.items())}")
    reasons = list(dict.fromkeys(reasons))
    if score < 3 and any(r in GOOD_REASONS for r in reasons):
        raise _invalid("body.reasons", "reason_mismatch", "评分为不满意时不能选择好评原因")
    if score > 3 and any(r in POOR_REASONS for r in reasons):
        raise _invalid("body.reasons", "reason_mismatch", "评分为满意时不能选择差评原因")
    if score <= POOR_SCORE and not reasons:
        raise _invalid("body.reasons", "required", "差评请至少选择一项不满意的原因，以便部门整改")
    comment = " ".join((comment or "").split()) or None
    if comment and len(comment) > MAX_COMMENT:
        raise _invalid("body.comment", "string_too_long", f"评价内容不能超过 {MAX_COMMENT} 个字")
    return reasons, comment


def rating_of(db: Session, application_id: int) -> ServiceRating | None:
    return db.scalar(select(ServiceRating).where(ServiceRating.application_id == application_id))


def application_by_number(db: Session, number: str) -> ApplicationRow | None:
    """The application of this number as supervision reads it (cases' table), or None."""
    row = db.execute(select(applications.c.id, applications.c.number, applications.c.name,
                            applications.c.applicant_account, applications.c.status)
                     .where(applications.c.number == number)).one_or_none()
    return ApplicationRow(*row) if row is not None else None


def _application(db: Session, number: str) -> ApplicationRow:
    application = application_by_number(db, number)
    if application is None:
        raise Problem("not-found", f"没有编号为「{number}」的办件")
    return application


def rate(db: Session, settings: Settings, number: str, principal: Principal, *, score: int, reasons: list[str],
         comment: str | None, now: datetime | None = None) -> tuple[ServiceRating, Rectification | None]:
    """The applicant's rating of a finished application; a poor one opens a rectification."""
    application = _application(db, number)
    if principal.actor_type != "user" or application.applicant_account != str(principal.actor_id):
        raise deny(db, principal, slug="permission-denied", detail="只有网上申请该办件的申请人本人可以评价",
                   action="supervision.rate", object_type="application", object_id=application.number)
    if application.status not in RATED:
        raise Problem("not-finished", f"办件 {number} 尚未办结（当前：{APPLICATION_STATUS_LABELS[application.status]}），"
                                      "办结后才能评价")
    earlier = rating_of(db, application.id)
    if earlier is not None:
        raise _already_rated(number, earlier)
    reasons, comment = _checked(score, reasons, comment)
    now = now or wall.now()
    rating = ServiceRating(application_id=application.id, applicant_account=application.applicant_account, score=score,
                           reasons=json.dumps(reasons), comment=comment, rated_at=now)
    try:
        with db.begin_nested():  # a savepoint: a rating made at once by another request undoes this one only
            db.add(rating)
    except IntegrityError:  # rated twice at once: the first one stands
        raise _already_rated(number, rating_of(db, application.id)) from None
    rectification = None
    if score <= POOR_SCORE:
        rectification = _open_rectification(db, settings, rating, application, now.astimezone(wall.BEIJING).date())
    audit.record(db, actor=principal, action="supervision.rate", object_type="application", object_id=application.number,
                 details={"score": score, "reasons": reasons,
                          "rectification": rectification.id if rectification else None})
    return rating, rectification


def _already_rated(number: str, earlier: ServiceRating | None) -> Problem:
    when = f"已于 {earlier.rated_at.astimezone(wall.BEIJING):%Y-%m-%d %H:%M} 评价（{earlier.score} 分）" if earlier else "已评价"
    return Problem("already-rated", f"办件 {number} {when}；每个办件只能评价一次")


def _responsible_department(db: Session, application: ApplicationRow) -> int:
    """Whose service it was: the department of the application's clock (the case's lead department),
    else of its first review task (a case finished before supervision began)."""
    clock = clocks.find(db, ClockKind.APPLICATION, application.number)
    if clock is not None:
        return clock.department_id
    tasks = case_tasks.c
    found = db.scalar(select(tasks.department_id).where(tasks.application_id == application.id,
                                                        tasks.department_id.is_not(None)).order_by(tasks.id))
    if found is None:
        raise Problem("conflict", f"办件 {application.number} 无法确定办理部门，差评未能转为整改")
    return found


def _open_rectification(db: Session, settings: Settings, rating: ServiceRating, application: ApplicationRow,
                        today: date) -> Rectification:
    department_id = _responsible_department(db, application)
    calendar = WorkingCalendar.load(db)
    labels = "、".join(reason_labels(rating))
    reason = (f"办件 {application.number}「{application.name}」获差评（{rating.score} 分，{SCORE_LABELS[rating.score]}）："
              f"{labels}。" + (f"申请人意见：{rating.comment}" if rating.comment else ""))
    rectification = Rectification(rating_id=rating.id, department_id=department_id, status=RectificationStatus.OPEN,
                                  reason=reason[:2000], deadline=calendar.add_working_days(today, settings.rectification_days).due,
                                  created_by=AUTOMATIC, created_at=wall.now())
    db.add(rectification)
    db.flush()
    link = f"/supervision/rectifications/{rectification.id}"
    clock = clocks.start(db, kind=ClockKind.RECTIFICATION, subject=rectification.id,
                         title=f"差评整改：「{application.name}」（办件 {application.number}）", department_id=department_id,
                         limit_days=settings.rectification_days, started_on=today, link=link, calendar=calendar)
    db.flush()
    rectification.clock_id, rectification.deadline = clock.id, clock.due_on
    notify(db, department_id=department_id, role=Role.DEPARTMENT_HEAD.value, kind="supervision.rectification", link=link,
           title=f"差评整改：办件 {application.number}",
           body=f"{reason[:300]} 请于 {clock.due_on} 前完成整改并记录整改情况。")
    return rectification


# ---- rectifications -----------------------------------------------------------------------------


def rectifications_query(db: Session, principal: Principal, *, status: str | None = None,
                         department: str | None = None) -> Select:
    """Inspectors and the e-government office see every department's; a head, the department's."""
    query = select(Rectification)
    if department:
        found = org.get_by_code_or_404(db, department)
        ensure_department(db, principal, Permission.EVALUATION_READ, found, action="supervision.rectifications")
        query = query.where(Rectification.department_id == found.id)
    elif principal.scope_for(Permission.EVALUATION_READ) != Scope.ALL:
        query = query.where(Rectification.department_id == principal.department_id)
    if status:
        query = query.where(Rectification.status == status)
    return query


def rectification_or_404(db: Session, principal: Principal, rectification_id: int, *, lock: bool = False) -> Rectification:
    found = db.get(Rectification, rectification_id, with_for_update=lock or None)
    if found is None:
        raise Problem("not-found", f"没有编号为 {rectification_id} 的整改")
    if not principal.can_for_department(Permission.EVALUATION_READ, found.department_id):
        raise deny(db, principal, slug="department-scope", detail="无权查看其他部门的整改",
                   action="supervision.rectification", object_type="rectification", object_id=str(rectification_id))
    return found


def _handled(db: Session, principal: Principal, rectification_id: int, action: str) -> Rectification:
    """The rectification, locked, for its own department's head; refused once closed."""
    rectification = rectification_or_404(db, principal, rectification_id, lock=True)
    if not principal.can_for_department(Permission.RECTIFICATION_HANDLE, rectification.department_id):
        raise deny(db, principal, slug="permission-denied", detail="只有本部门负责人可以办理该整改",
                   action=action, object_type="rectification", object_id=str(rectification_id))
    if rectification.status == RectificationStatus.CLOSED:
        closed = rectification.closed_at
        when = f"已于 {closed.astimezone(wall.BEIJING):%Y-%m-%d} " if closed else "已"
        raise Problem("rectification-closed", f"整改 #{rectification_id} {when}结束，不能再修改")
    return rectification


def _text(value: str | None, field: str, label: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise _invalid(field, "required", f"请填写{label}")
    if len(text) > 2000:
        raise _invalid(field, "string_too_long", f"{label}不能超过 2000 个字")
    return text


def follow_up(db: Session, rectification_id: int, principal: Principal, *, text: str) -> RectificationFollowUp:
    """Record what the department has done so far."""
    rectification = _handled(db, principal, rectification_id, "supervision.follow_up")
    entry = RectificationFollowUp(rectification_id=rectification.id, text=_text(text, "body.text", "整改情况"),
                                  by=principal.actor_name, at=wall.now())
    rectification.follow_ups.append(entry)
    audit.record(db, actor=principal, action="supervision.follow_up", object_type="rectification",
                 object_id=str(rectification.id))
    db.flush()
    return entry


def close(db: Session, rectification_id: int, principal: Principal, *, result: str,
          today: date | None = None) -> Rectification:
    """The rectification is done: its result recorded and its clock closed (on time or late)."""
    rectification = _handled(db, principal, rectification_id, "supervision.close_rectification")
    rectification.result = _text(result, "body.result", "整改结果")
    rectification.status, rectification.closed_at = RectificationStatus.CLOSED, wall.now()
    clock = clocks.close(db, ClockKind.RECTIFICATION, rectification.id, on=today or wall.today(), outcome=RECTIFIED)
    rating = db.get(ServiceRating, rectification.rating_id) if rectification.rating_id else None
    if rating is not None and rating.applicant_account:  # the applicant hears what became of the complaint
        number = db.scalar(select(applications.c.number).where(applications.c.id == rating.application_id))
        notify(db, department_id=None, account_id=rating.applicant_account, kind="supervision.rectified",
               link=f"/applications/{number}", title=f"您对办件 {number} 的评价已整改",
               body=f"整改结果：{rectification.result}")
    audit.record(db, actor=principal, action="supervision.close_rectification", object_type="rectification",
                 object_id=str(rectification.id), details={"on_time": clock.on_time if clock else None})
    db.flush()
    return rectification
