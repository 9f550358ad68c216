"""Requests for disclosure under the 《政府信息公开条例》(2019): filing, the one 补正 notice, the
extension, the third-party consultation, transfer, the reply, fees and the remedies recorded.

Two supervised clocks time each request, counted in working days on ``core.workdays``:
- ``DISCLOSURE_NOTICE``: 第三十条, an unclear request is told what to correct within 7 working days
  of receipt; closed by the notice, or by the first step that treats the request as clear.
- ``DISCLOSURE_REPLY``: 第三十三条, the reply within 20 working days of receipt; one extension of at
  most 20 more (the head of the disclosure office); stands still while a third party is consulted
  (第三十二条, 15 working days for them to answer).
A 补正 restarts the reply's count from the corrected request, and a transfer from the day the
receiving organ gets it: each restart is a new *round*, whose clocks have the subject
``<number>#<round>`` (a clock's subject is unique; the earlier round's clock keeps its history).
Every step runs in the caller's transaction, locks the request first, and changes nothing when refused.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, clock as wall
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.idnumbers import check_credit_code, check_resident_id
from tongban.core.numbers import mint
from tongban.core.permissions import Permission, Role
from tongban.core.workdays import WorkingCalendar
from tongban.disclosure.requests.fees import Fee, fee_for
from tongban.disclosure.requests.models import (
    CATEGORY_LABELS, OPEN_STATUSES, ApplicantCategory, Channel, Delivery, DisclosureEvent, DisclosureRemedy,
    DisclosureRequest, NotProcessedReason, RemedyKind, RemedyResult, ReplyType, RequestStatus, WithholdingGround,
)
from tongban.notifications import service as notifications
from tongban.org import service as org
from tongban.supervision import service as supervision
from tongban.supervision.service import ClockKind, Deadline

NOTICE_DAYS = 7  # 第三十条
REPLY_DAYS = 20  # 第三十三条第二款
MAX_EXTENSION_DAYS = 20  # 第三十三条第二款
THIRD_PARTY_DAYS = 15  # 第三十二条
DEFAULT_CORRECTION_DAYS = 15  # "合理的补正期限": the common practice
MAX_CORRECTION_DAYS = 30
REPEAT_SIMILARITY = 0.85  # descriptions this alike (after normalising) ask for the same information
DESCRIPTION_MAX = 4000
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


# ---- helpers ------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """A description as compared for repeats: NFKC (full width → half), lower case, no spaces or punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).lower())


def similarity(a: str, b: str) -> float:
    """How alike two normalised descriptions are (0–1)."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _required(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Problem("validation-error", message, errors=[{"field": f"body.{field}", "code": "required", "message": message}])
    return text


def _invalid(field: str, message: str) -> Problem:
    return Problem("validation-error", message, errors=[{"field": f"body.{field}", "code": "invalid", "message": message}])


def subject(request: DisclosureRequest) -> str:
    """The clocks' subject of the request's current round."""
    return f"{request.number}#{request.clock_round}"


def _link(request: DisclosureRequest) -> str:
    return f"/staff/disclosure/requests/{request.number}"


def _event(db: Session, request: DisclosureRequest, action: str, actor: str, **details: Any) -> DisclosureEvent:
    if request.id is None:
        db.flush()
    event = DisclosureEvent(request_id=request.id, action=action, day=wall.today(), at=wall.now(), actor=actor[:128],
                            department_id=request.department_id,
                            details=json.dumps(details, ensure_ascii=False, default=str))
    db.add(event)
    return event


def _audit(db: Session, principal: Principal | audit.Actor, action: str, request: DisclosureRequest, **details: Any) -> None:
    audit.record(db, actor=principal, action=f"disclosure.request.{action}", object_type="disclosure_request",
                 object_id=request.number, details=details or None)


def _tell_applicant(db: Session, request: DisclosureRequest, title: str, body: str) -> None:
    """Online applicants are told in their notifications (a letter's applicant gets the letter)."""
    if request.applicant_account:
        notifications.notify(db, department_id=None, account_id=request.applicant_account, title=title, body=body,
                             kind="disclosure.request", link=f"/disclosure/requests/{request.number}")


def _start_clocks(db: Session, request: DisclosureRequest, *, new_subject: bool, notice: bool = True) -> None:
    calendar = WorkingCalendar.load(db)
    title = f"政府信息公开申请 {request.number}"
    if notice:
        supervision.start_clock(db, kind=ClockKind.DISCLOSURE_NOTICE, subject=subject(request),
                                title=f"补正告知：{title}", department_id=request.department_id, limit_days=NOTICE_DAYS,
                                started_on=request.received_on, link=_link(request), calendar=calendar,
                                new_subject=new_subject)
    supervision.start_clock(db, kind=ClockKind.DISCLOSURE_REPLY, subject=subject(request), title=f"答复：{title}",
                            department_id=request.department_id, limit_days=REPLY_DAYS, started_on=request.received_on,
                            link=_link(request), calendar=calendar, new_subject=new_subject)


def _notice_clear(db: Session, request: DisclosureRequest) -> None:
    """The request was treated as clear: the 补正 notice's clock ends (once; later calls do nothing)."""
    supervision.close_clock(db, ClockKind.DISCLOSURE_NOTICE, subject(request), on=wall.today(), outcome="clear")


def deadline(db: Session, request: DisclosureRequest) -> Deadline | None:
    """The reply's deadline as its clock keeps it (the current round)."""
    return supervision.deadline_of(db, ClockKind.DISCLOSURE_REPLY, subject(request))


def deadlines(db: Session, requests: Sequence[DisclosureRequest]) -> dict[str, Deadline]:
    found = supervision.deadlines_of(db, ClockKind.DISCLOSURE_REPLY, [subject(r) for r in requests])
    return {r.number: found[subject(r)] for r in requests if subject(r) in found}


def notice_deadline(db: Session, request: DisclosureRequest) -> Deadline | None:
    return supervision.deadline_of(db, ClockKind.DISCLOSURE_NOTICE, subject(request))


# ---- fees ---------------------------------------------------------------------------------------


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def fee_preview(db: Session, applicant_key: str, on: date | None = None) -> Fee:
    """The fee the applicant's next request of the month would carry (shown before it is filed)."""
    day = on or wall.today()
    first, following = _month(day)
    filed = db.scalar(select(func.count()).select_from(DisclosureRequest).where(
        DisclosureRequest.applicant_key == applicant_key, DisclosureRequest.filed_on >= first,
        DisclosureRequest.filed_on < following)) or 0
    return fee_for(filed + 1)


def own_key(db: Session, principal: Principal) -> tuple[str, str, bool]:
    """A signed-in applicant's (ID number or credit code, name, is a person); refused unless verified."""
    identity = accounts.applicant_identity(db, principal)
    if identity is None:
        raise Problem("permission-denied", "只有个人或法人用户可以在网上提出政府信息公开申请")
    accounts.ensure_verified(identity)
    key = identity.resident_id or identity.credit_code
    if key is None:
        raise Problem("identity-not-verified", "账户没有登记身份证号或统一社会信用代码")
    return key, identity.display_name, identity.resident_id is not None


# ---- filing -------------------------------------------------------------------------------------


@dataclass
class Filing:
    """What a request says (条例第二十九条), whoever writes it down."""

    department: str
    description: str
    purpose: str | None = None
    delivery: str = Delivery.ONLINE
    applicant_category: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None
    contact_email: str | None = None
    # Recorded by staff from a letter or a visit:
    channel: str = Channel.ONLINE
    applicant_name: str | None = None
    applicant_id: str | None = None


def _repeat_of(db: Session, applicant_key: str, normalised: str) -> str | None:
    """The applicant's earlier answered request for the same information (第三十六条第（六）项), if any."""
    best, best_score = None, REPEAT_SIMILARITY
    for number, earlier in db.execute(select(DisclosureRequest.number, DisclosureRequest.normalised).where(
            DisclosureRequest.applicant_key == applicant_key, DisclosureRequest.status == RequestStatus.ANSWERED)
            .order_by(DisclosureRequest.id)):
        score = similarity(normalised, earlier)
        if score >= best_score:
            best, best_score = number, score
    return best


def file(db: Session, principal: Principal, filing: Filing) -> DisclosureRequest:
    """A request received: online from the signed-in applicant, or recorded by the disclosure office."""
    description = _required(filing.description, "description", "请填写所需政府信息的名称、文号或者便于查询的其他特征性描述")
    if len(description) > DESCRIPTION_MAX:
        raise _invalid("description", f"内容描述不能超过 {DESCRIPTION_MAX} 字")
    department = org.get_by_code(db, (filing.department or "").strip())
    if department is None:
        raise _invalid("department", "请选择受理申请的行政机关")
    if filing.delivery not in set(Delivery):
        raise _invalid("delivery", "请选择获取信息的方式")
    if filing.channel == Channel.ONLINE:
        key, name, person = own_key(db, principal)
        category = ApplicantCategory.NATURAL if person else (filing.applicant_category or ApplicantCategory.COMMERCIAL)
        if not person and category == ApplicantCategory.NATURAL:
            raise _invalid("applicant_category", "法人或其他组织请选择申请人类别")
        account: str | None = principal.actor_id
    else:
        if filing.channel not in set(Channel):
            raise _invalid("channel", "申请方式应为信函或当面")
        if not principal.can_for_department(Permission.DISCLOSURE_HANDLE, department.id):
            raise deny(db, principal, slug="department-scope", detail=f"只有{department.name}的政府信息公开工作人员可以登记向其提出的申请",
                       action="disclosure.request.file", object_type="department", object_id=department.code)
        name = _required(filing.applicant_name, "applicant_name", "请填写申请人姓名或名称")[:128]
        category = filing.applicant_category or ""
        if category not in set(ApplicantCategory):
            raise _invalid("applicant_category", "请选择申请人类别")
        typed = _required(filing.applicant_id, "applicant_id", "请填写申请人的身份证号或统一社会信用代码")
        try:
            key = check_resident_id(typed) if category == ApplicantCategory.NATURAL else check_credit_code(typed)
        except ValueError as error:
            raise _invalid("applicant_id", str(error)) from None
        account = None
    if category not in set(ApplicantCategory):
        raise _invalid("applicant_category", "请选择申请人类别")
    today = wall.today()
    fee = fee_preview(db, key, today)
    normalised = normalise(description)[:2000]
    request = DisclosureRequest(
        number=mint(db, DisclosureRequest.number, "GK"), department_id=department.id, channel=filing.channel,
        applicant_category=category, applicant_name=name, applicant_key=key, applicant_account=account,
        contact_phone=(filing.contact_phone or "").strip()[:32] or None,
        contact_address=(filing.contact_address or "").strip()[:200] or None,
        contact_email=(filing.contact_email or "").strip()[:120] or None, description=description,
        purpose=(filing.purpose or "").strip()[:1000] or None, delivery=filing.delivery, normalised=normalised,
        repeat_of=_repeat_of(db, key, normalised), status=RequestStatus.PROCESSING, filed_on=today, filed_at=wall.now(),
        received_on=today, clock_round=1, extended_days=0, fee_ordinal=fee.ordinal, fee_yuan=fee.yuan,
        fee_waived=False, recorded_by=principal.actor_id)
    request.department = department
    db.add(request)
    db.flush()
    _start_clocks(db, request, new_subject=True)
    _event(db, request, "filed", principal.actor_name, channel=filing.channel, fee=fee.text, repeat_of=request.repeat_of)
    _audit(db, principal, "file", request, department=department.code, channel=filing.channel, fee_yuan=fee.yuan)
    notifications.notify(db, department_id=department.id, role=Role.DISCLOSURE_OFFICER.value,
                         title=f"新的政府信息公开申请 {request.number}",
                         body=f"{CATEGORY_LABELS[category]}申请：{description[:80]}", kind="disclosure.request",
                         link=_link(request))
    return request


# ---- reading ------------------------------------------------------------------------------------


def by_number(db: Session, number: str, *, lock: bool = False) -> DisclosureRequest:
    query = select(DisclosureRequest).where(DisclosureRequest.number == number.strip())
    if lock:
        query = query.with_for_update(of=DisclosureRequest)
    found = db.scalar(query)
    if found is None:
        raise Problem("not-found", f"没有编号为 {number} 的政府信息公开申请")
    return found


def is_applicant(db: Session, principal: Principal, request: DisclosureRequest) -> bool:
    if principal.actor_type != "user":
        return False
    if request.applicant_account == principal.actor_id:
        return True
    identity = accounts.applicant_identity(db, principal)
    key = identity and identity.verified and (identity.resident_id or identity.credit_code)
    return bool(key) and key == request.applicant_key


def readable(db: Session, principal: Principal, number: str, *, action: str = "disclosure.request.read") -> DisclosureRequest:
    """The request for its applicant, or for the disclosure office of its department (audited: it
    holds the applicant's personal data)."""
    request = by_number(db, number)
    if is_applicant(db, principal, request):
        return request
    if principal.can_for_department(Permission.DISCLOSURE_HANDLE, request.department_id) or (
            principal.can_for_department(Permission.DISCLOSURE_REPORT, request.department_id)):
        _audit(db, principal, "read", request)
        return request
    raise deny(db, principal, slug="department-scope" if principal.kind == "staff" else "permission-denied",
               detail="该申请不是您提出的，也不属于您所在部门办理" if principal.kind == "staff" else "只能查看本人提出的申请",
               action=action, object_type="disclosure_request", object_id=number)


def mine(db: Session, principal: Principal) -> list[DisclosureRequest]:
    identity = accounts.applicant_identity(db, principal)
    key = identity.resident_id or identity.credit_code if identity is not None and identity.verified else None
    mine_ = DisclosureRequest.applicant_account == principal.actor_id
    condition = mine_ if key is None else (mine_ | (DisclosureRequest.applicant_key == key))
    return list(db.scalars(select(DisclosureRequest).where(condition).order_by(DisclosureRequest.id.desc()).limit(200)))


def queue(db: Session, principal: Principal) -> list[tuple[DisclosureRequest, Deadline | None]]:
    """The department's open requests, the least working days left first (paused ones by their standing)."""
    if principal.department_id is None or not principal.can(Permission.DISCLOSURE_HANDLE):
        raise Problem("permission-denied", "只有部门的政府信息公开工作人员可以查看申请办理队列")
    rows = list(db.scalars(select(DisclosureRequest).where(
        DisclosureRequest.department_id == principal.department_id, DisclosureRequest.status.in_(OPEN_STATUSES))
        .order_by(DisclosureRequest.id)))
    found = deadlines(db, rows)
    far = 10**6
    pairs = [(r, found.get(r.number)) for r in rows]

    def left(pair: tuple[DisclosureRequest, Deadline | None]) -> tuple[int, int]:
        remaining = pair[1].remaining_days if pair[1] is not None else None
        if pair[0].status == RequestStatus.CORRECTING:
            return far, pair[0].id  # the applicant's turn: nothing runs for the office
        return (far - 1 if remaining is None else remaining), pair[0].id

    pairs.sort(key=left)
    return pairs


def events(db: Session, request: DisclosureRequest) -> list[DisclosureEvent]:
    return list(db.scalars(select(DisclosureEvent).where(DisclosureEvent.request_id == request.id)
                           .order_by(DisclosureEvent.id)))


def remedies(db: Session, request: DisclosureRequest) -> list[DisclosureRemedy]:
    return list(db.scalars(select(DisclosureRemedy).where(DisclosureRemedy.request_id == request.id)
                           .order_by(DisclosureRemedy.id)))


# ---- the office's steps --------------------------------------------------------------------------


def _for_office(db: Session, principal: Principal, number: str, action: str,
                permission: Permission = Permission.DISCLOSURE_HANDLE) -> DisclosureRequest:
    """The request, locked, for a step of its own department's disclosure office; refused otherwise."""
    request = by_number(db, number, lock=True)
    if not principal.can_for_department(permission, request.department_id):
        other = principal.department_id != request.department_id
        if other:
            detail = f"该申请由{request.department.name}办理，只有该机关的政府信息公开工作人员可以处理"
        elif permission == Permission.DISCLOSURE_EXTEND:
            detail = "延长答复期限须经政府信息公开工作机构负责人同意"
        else:
            detail = "只有政府信息公开工作人员可以处理申请"
        raise deny(db, principal, slug="department-scope" if other else "permission-denied", detail=detail,
                   action=f"disclosure.request.{action}", object_type="disclosure_request", object_id=number)
    return request


def _expect(request: DisclosureRequest, *statuses: RequestStatus, doing: str) -> None:
    if request.status in statuses:
        return
    if request.status == RequestStatus.ANSWERED:
        raise Problem("already-decided", f"申请 {request.number} 已于 {request.concluded_on} 作出答复，不能再{doing}")
    if request.status == RequestStatus.ABANDONED:
        raise Problem("already-decided", f"申请 {request.number} 已因逾期未补正视为放弃，不能再{doing}")
    if request.status == RequestStatus.CORRECTING:
        raise Problem("conflict", f"申请 {request.number} 正在等待申请人补正（补正期限 {request.correction_due_on}），不能{doing}")
    raise Problem("conflict", f"申请 {request.number} 正在征求第三方意见（答复期限 {request.consultation_due_on}），"
                  f"请先记录第三方意见再{doing}")


def ask_correction(db: Session, principal: Principal, number: str, *, items: str,
                   days: int = DEFAULT_CORRECTION_DAYS) -> DisclosureRequest:
    """第三十条: the one notice to correct an unclear request, with what and by when."""
    request = _for_office(db, principal, number, "correction_notice")
    _expect(request, RequestStatus.PROCESSING, doing="告知补正")
    if any(e.action == "correction_notice" for e in events(db, request)):
        raise Problem("conflict", f"申请 {request.number} 已告知过补正；补正须一次性告知，不能再次要求补正")
    what = _required(items, "items", "请写明需要补正的事项")[:2000]
    if not 1 <= days <= MAX_CORRECTION_DAYS:
        raise _invalid("days", f"补正期限应为 1 至 {MAX_CORRECTION_DAYS} 个工作日")
    today = wall.today()
    calendar = WorkingCalendar.load(db)
    request.correction_due_on = calendar.add_working_days(today, days).due
    request.status = RequestStatus.CORRECTING
    supervision.close_clock(db, ClockKind.DISCLOSURE_NOTICE, subject(request), on=today, outcome="supplement")
    supervision.close_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), on=today, outcome="supplement")
    _event(db, request, "correction_notice", principal.actor_name, items=what, days=days,
           due_on=request.correction_due_on.isoformat())
    _audit(db, principal, "correction_notice", request, due_on=request.correction_due_on.isoformat())
    _tell_applicant(db, request, f"请补正政府信息公开申请 {request.number}",
                    f"请于 {request.correction_due_on} 前补正：{what[:200]}。逾期不补正视为放弃申请。")
    return request


def correct(db: Session, principal: Principal, number: str, *, text: str) -> DisclosureRequest:
    """The corrected request received (from the applicant online, or recorded by the office): the
    reply's 20 working days count from today (第三十条), a new round."""
    request = by_number(db, number, lock=True)
    if not is_applicant(db, principal, request) and not principal.can_for_department(
            Permission.DISCLOSURE_HANDLE, request.department_id):
        raise deny(db, principal, slug="permission-denied", detail="只有申请人本人或受理机关可以提交补正",
                   action="disclosure.request.correct", object_type="disclosure_request", object_id=number)
    if request.status != RequestStatus.CORRECTING:
        raise Problem("conflict", f"申请 {request.number} 不在待补正状态，无需补正")
    today = wall.today()
    if request.correction_due_on is not None and today > request.correction_due_on:
        raise Problem("conflict", f"补正期限已于 {request.correction_due_on} 届满，申请视为放弃；如仍需要该信息，请重新提出申请")
    added = _required(text, "text", "请填写补正的内容")[:2000]
    request.description = f"{request.description}\n【补正 {today.isoformat()}】{added}"[:DESCRIPTION_MAX + 2100]
    request.normalised = normalise(request.description)[:2000]
    request.status, request.received_on = RequestStatus.PROCESSING, today
    request.clock_round += 1
    db.flush()
    _start_clocks(db, request, new_subject=True, notice=False)  # the notice was given once: none again
    _event(db, request, "corrected", principal.actor_name, text=added)
    _audit(db, principal, "correct", request)
    return request


def abandon(db: Session, principal: Principal | audit.Actor, request: DisclosureRequest) -> DisclosureRequest:
    """第三十条: no correction in time, without good reason — the request counts as given up."""
    today = wall.today()
    if request.status != RequestStatus.CORRECTING:
        _expect(request, RequestStatus.CORRECTING, doing="视为放弃")
    if request.correction_due_on is None or today <= request.correction_due_on:
        raise Problem("conflict", f"补正期限 {request.correction_due_on} 尚未届满，不能视为放弃申请")
    request.status, request.concluded_on = RequestStatus.ABANDONED, today
    _event(db, request, "abandoned", principal.actor_name or "系统", due_on=str(request.correction_due_on))
    _audit(db, principal, "abandon", request)
    _tell_applicant(db, request, f"政府信息公开申请 {request.number} 视为放弃",
                    f"补正期限 {request.correction_due_on} 已届满未收到补正，依照条例第三十条视为放弃申请。")
    return request


def abandon_by_office(db: Session, principal: Principal, number: str) -> DisclosureRequest:
    return abandon(db, principal, _for_office(db, principal, number, "abandon"))


def expire_corrections(db: Session) -> int:
    """Every request whose correction period has passed counts as given up (the periodic sweep)."""
    overdue = list(db.scalars(select(DisclosureRequest).where(
        DisclosureRequest.status == RequestStatus.CORRECTING, DisclosureRequest.correction_due_on < wall.today())
        .with_for_update(of=DisclosureRequest)))
    for request in overdue:
        abandon(db, audit.SYSTEM, request)
    return len(overdue)


def expire_corrections_job(sessions) -> int:
    """The scheduled sweep: its own transaction, committed."""
    with sessions() as db:
        given_up = expire_corrections(db)
        db.commit()
        return given_up


def extend(db: Session, principal: Principal, number: str, *, days: int, reason: str) -> DisclosureRequest:
    """第三十三条第二款: one extension of at most 20 working days, approved by the head of the office."""
    request = _for_office(db, principal, number, "extension", Permission.DISCLOSURE_EXTEND)
    _expect(request, RequestStatus.PROCESSING, RequestStatus.CONSULTING, doing="延长答复期限")
    if request.extended_days:
        raise Problem("conflict", f"申请 {request.number} 的答复期限已延长过 {request.extended_days} 个工作日，只能延长一次")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise _invalid("days", f"延长的期限应为 1 至 {MAX_EXTENSION_DAYS} 个工作日")
    why = _required(reason, "reason", "请说明延长答复期限的理由")[:1000]
    current = deadline(db, request)
    today = wall.today()
    if current is not None and current.remaining_days is not None and current.remaining_days < 0:
        raise Problem("conflict", f"答复期限已于 {current.due_on} 届满，不能再延长")
    _notice_clear(db, request)
    clock = supervision.extend_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), days=days, on=today, note=why)
    request.extended_days = days
    due_on = clock.due_on if clock is not None else None
    _event(db, request, "extension", principal.actor_name, days=days, reason=why, due_on=str(due_on),
           approved_by=principal.actor_name)
    _audit(db, principal, "extension", request, days=days, due_on=str(due_on))
    _tell_applicant(db, request, f"政府信息公开申请 {request.number} 延期答复",
                    f"经政府信息公开工作机构负责人同意，答复期限延长 {days} 个工作日，至 {due_on}。理由：{why[:200]}")
    return request


def consult(db: Session, principal: Principal, number: str, *, third_party: str, matter: str) -> DisclosureRequest:
    """第三十二条: a third party asked in writing; the reply's clock stands still until they answer."""
    request = _for_office(db, principal, number, "consultation")
    _expect(request, RequestStatus.PROCESSING, doing="征求第三方意见")
    party = _required(third_party, "third_party", "请填写第三方的名称")[:200]
    what = _required(matter, "matter", "请写明征求意见的事项")[:2000]
    today = wall.today()
    request.consultation_due_on = WorkingCalendar.load(db).add_working_days(today, THIRD_PARTY_DAYS).due
    request.status = RequestStatus.CONSULTING
    _notice_clear(db, request)
    supervision.pause_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), on=today, note=f"征求第三方（{party}）意见")
    _event(db, request, "consultation", principal.actor_name, third_party=party, matter=what,
           due_on=request.consultation_due_on.isoformat())
    _audit(db, principal, "consultation", request, third_party=party)
    return request


THIRD_PARTY_OPINIONS = {"agree": "同意公开", "object": "不同意公开", "none": "逾期未提出意见"}


def consultation_answered(db: Session, principal: Principal, number: str, *, opinion: str,
                          note: str | None = None) -> DisclosureRequest:
    """The third party's answer (or its silence after 15 working days): the reply's clock runs again."""
    request = _for_office(db, principal, number, "consultation_answered")
    _expect(request, RequestStatus.CONSULTING, doing="记录第三方意见")
    if opinion not in THIRD_PARTY_OPINIONS:
        raise _invalid("opinion", "第三方意见应为：同意公开、不同意公开或逾期未提出意见")
    today = wall.today()
    if opinion == "none" and request.consultation_due_on is not None and today <= request.consultation_due_on:
        raise Problem("conflict", f"第三方提出意见的期限 {request.consultation_due_on} 尚未届满")
    request.status = RequestStatus.PROCESSING
    supervision.resume_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), on=today,
                             note=f"第三方{THIRD_PARTY_OPINIONS[opinion]}")
    _event(db, request, "consultation_answered", principal.actor_name, opinion=THIRD_PARTY_OPINIONS[opinion],
           note=(note or "").strip()[:1000] or None)
    _audit(db, principal, "consultation_answered", request, opinion=opinion)
    return request


def _organ_contact(department) -> str:
    parts = [f"电话 {department.phone}" if department.phone else "", f"地址 {department.address}" if department.address else ""]
    return "，".join(p for p in parts if p) or "请通过其门户网站政府信息公开专栏联系"


def transfer(db: Session, principal: Principal, number: str, *, department: str, note: str) -> DisclosureRequest:
    """The information is another organ's of this platform to disclose: the request goes to it, the
    applicant is told its name and contact, and its count starts on the day it receives it."""
    request = _for_office(db, principal, number, "transfer")
    _expect(request, RequestStatus.PROCESSING, doing="转送")
    target = org.get_by_code(db, (department or "").strip())
    if target is None:
        raise _invalid("department", "请选择负责公开该信息的行政机关")
    if target.id == request.department_id:
        raise _invalid("department", "不能转送给本机关")
    why = _required(note, "note", "请说明转送的理由")[:1000]
    today = wall.today()
    _notice_clear(db, request)
    supervision.close_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), on=today, outcome="transferred")
    source = request.department
    _event(db, request, "transfer", principal.actor_name, from_department=source.name, to_department=target.name,
           to_contact=_organ_contact(target), note=why)
    request.department_id, request.department = target.id, target
    request.received_on = today
    request.clock_round += 1
    db.flush()
    _start_clocks(db, request, new_subject=True)
    _event(db, request, "transferred_in", principal.actor_name, from_department=source.name)
    _audit(db, principal, "transfer", request, to=target.code)
    notifications.notify(db, department_id=target.id, role=Role.DISCLOSURE_OFFICER.value,
                         title=f"转送的政府信息公开申请 {request.number}", body=f"{source.name}转送：{why[:100]}",
                         kind="disclosure.request", link=_link(request))
    _tell_applicant(db, request, f"政府信息公开申请 {request.number} 已转送{target.name}",
                    f"该信息由{target.name}负责公开（{_organ_contact(target)}），申请已转送，答复期限自其收到之日起计算。")
    return request


@dataclass
class Reply:
    """A reply under 第三十六条 (and 第三十七条 to 第三十九条); which fields each type needs is checked."""

    reply_type: str
    content: str | None = None  # the information provided, or how, where and when to obtain it
    withheld: str | None = None  # PARTIAL: the parts withheld
    ground: str | None = None  # PARTIAL / WITHHELD: WithholdingGround; NOT_PROCESSED: NotProcessedReason
    reason: str | None = None  # the explanation of the ground
    organ_name: str | None = None  # NOT_OURS
    organ_contact: str | None = None  # NOT_OURS
    repeat_of: str | None = None  # REPEAT


def _reply_details(db: Session, request: DisclosureRequest, reply: Reply) -> dict[str, Any]:
    kind = reply.reply_type
    if kind not in set(ReplyType):
        raise _invalid("reply_type", "请选择答复类型")
    details: dict[str, Any] = {"reply_type": kind, "reason": (reply.reason or "").strip()[:2000] or None}
    if kind == ReplyType.ALREADY_PUBLIC:
        details["content"] = _required(reply.content, "content", "请告知获取该信息的方式和途径（如公开的网址、栏目）")
    elif kind in (ReplyType.DISCLOSED, ReplyType.SPECIAL_LAW):
        message = ("请填写公开的信息内容，或获取的方式、途径和时间" if kind == ReplyType.DISCLOSED
                   else "请写明应依照的法律、行政法规及办理途径")
        details["content"] = _required(reply.content, "content", message)
    elif kind == ReplyType.PARTIAL:
        details["content"] = _required(reply.content, "content", "请填写可以公开的信息内容")
        details["withheld"] = _required(reply.withheld, "withheld", "请写明不予公开的部分")
        if reply.ground not in set(WithholdingGround):
            raise _invalid("ground", "请选择不予公开部分的理由")
        details["ground"] = reply.ground
    elif kind == ReplyType.WITHHELD:
        if reply.ground not in set(WithholdingGround):
            raise _invalid("ground", "请选择不予公开的理由")
        details["ground"] = reply.ground
    elif kind == ReplyType.NOT_OURS:
        details["organ_name"] = _required(reply.organ_name, "organ_name", "请填写负责公开该信息的行政机关名称")[:200]
        details["organ_contact"] = _required(reply.organ_contact, "organ_contact", "请填写该行政机关的联系方式")[:300]
    elif kind == ReplyType.REPEAT:
        earlier_number = (reply.repeat_of or request.repeat_of or "").strip()
        earlier = db.scalar(select(DisclosureRequest).where(DisclosureRequest.number == earlier_number))
        if earlier is None or earlier.id == request.id or earlier.applicant_key != request.applicant_key \
                or earlier.status != RequestStatus.ANSWERED:
            raise _invalid("repeat_of", "重复申请须指明同一申请人此前已经答复的申请编号")
        details["repeat_of"], details["repeat_answered_on"] = earlier.number, str(earlier.concluded_on)
    elif kind == ReplyType.NOT_PROCESSED:
        if reply.ground not in set(NotProcessedReason):
            raise _invalid("ground", "请选择不作为政府信息公开申请处理的情形")
        details["ground"] = reply.ground
        details["content"] = (reply.content or "").strip()[:2000] or None
    elif kind == ReplyType.STILL_UNCLEAR:
        corrected = db.scalar(select(DisclosureEvent.day).where(DisclosureEvent.request_id == request.id,
                                                               DisclosureEvent.action == "corrected").limit(1))
        if corrected is None:
            raise _invalid("reply_type", "只有经一次性告知补正、申请人补正后内容仍不明确的申请，才能以此答复；"
                                         "内容不明确的申请请先告知补正（第三十条）")
        details["corrected_on"] = str(corrected)
        details["content"] = _required(reply.content, "content", "请写明补正后仍不明确之处")
    else:  # NOT_EXIST, NEEDS_CREATION: an explanation may be given
        details["content"] = (reply.content or "").strip()[:2000] or None
    for key in ("content", "withheld"):
        if isinstance(details.get(key), str):
            details[key] = details[key][:4000]
    return details


def answer(db: Session, principal: Principal, number: str, reply: Reply) -> DisclosureRequest:
    """The reply: the request is concluded, its clocks closed, the applicant told; once only."""
    request = _for_office(db, principal, number, "reply")
    _expect(request, RequestStatus.PROCESSING, doing="作出答复")
    details = _reply_details(db, request, reply)
    today = wall.today()
    request.reply_type, request.reply_ground = reply.reply_type, details.get("ground")
    request.status, request.concluded_on = RequestStatus.ANSWERED, today
    _notice_clear(db, request)
    supervision.close_clock(db, ClockKind.DISCLOSURE_REPLY, subject(request), on=today, outcome="answered")
    _event(db, request, "reply", principal.actor_name, **details)
    _audit(db, principal, "reply", request, reply_type=reply.reply_type, ground=details.get("ground"))
    _tell_applicant(db, request, f"政府信息公开申请 {request.number} 已答复",
                    "答复告知书已可在“我的申请”中下载。")
    return request


def waive_fee(db: Session, principal: Principal, number: str, *, reason: str) -> DisclosureRequest:
    """The fee is waived, with the reason (办法第七条: 减免), recorded and audited."""
    request = _for_office(db, principal, number, "fee_waive")
    if request.fee_yuan == 0:
        raise Problem("conflict", f"申请 {request.number} 不收取信息处理费，无需减免")
    if request.fee_waived:
        raise Problem("conflict", f"申请 {request.number} 的信息处理费已减免")
    why = _required(reason, "reason", "请说明减免信息处理费的理由")[:500]
    request.fee_waived, request.fee_waiver_reason = True, why
    _event(db, request, "fee_waived", principal.actor_name, yuan=request.fee_yuan, reason=why)
    _audit(db, principal, "fee_waive", request, yuan=request.fee_yuan, reason=why)
    return request


def record_remedy(db: Session, principal: Principal, number: str, *, kind: str, result: str,
                  filed_on: date) -> DisclosureRemedy:
    """A 行政复议 or 行政诉讼 against the reply, or its result as it becomes known (one row per kind)."""
    request = _for_office(db, principal, number, "remedy")
    if request.status != RequestStatus.ANSWERED:
        raise Problem("conflict", f"申请 {request.number} 尚未答复，没有可复议或起诉的答复")
    if kind not in set(RemedyKind):
        raise _invalid("kind", "请选择行政复议或行政诉讼")
    if result not in set(RemedyResult):
        raise _invalid("result", "请选择结果：维持、纠正、其他或尚未审结")
    if request.concluded_on is not None and filed_on < request.concluded_on or filed_on > wall.today():
        raise _invalid("filed_on", "提起日期应在答复之后、今天及以前")
    row = db.scalar(select(DisclosureRemedy).where(DisclosureRemedy.request_id == request.id, DisclosureRemedy.kind == kind))
    if row is None:
        row = DisclosureRemedy(request_id=request.id, kind=kind)
        db.add(row)
    row.filed_on, row.result, row.recorded_by, row.recorded_at = filed_on, result, principal.actor_name, wall.now()
    _event(db, request, "remedy", principal.actor_name, kind=kind, result=result, filed_on=filed_on.isoformat())
    _audit(db, principal, "remedy", request, kind=kind, result=result)
    db.flush()
    return row
