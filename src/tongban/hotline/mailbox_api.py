"""/api/v1/mailbox: the leader's mailbox (领导信箱).

Public: write a letter (signed in or with a name and contact), look one up by its number and
query code, read the published letters (选登). A signed-in writer: 我的来信. Staff: the letters
office's queue and steps (``MAILBOX_HANDLE``), a department's letters assigned to it and its reply
(``MAILBOX_REPLY``). A letter that is not published is never read publicly: not in the list,
not by its number, not by a search.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from tongban.core import clock as wall, throttle
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.pagination import Cursor, Limit, paginate
from tongban.core.permissions import Permission
from tongban.grid.schemas import Action
from tongban.hotline import mailbox_service as service
from tongban.hotline.mailbox_models import ACTION_LABELS, STATUS_LABELS, WRITER_STATUS_LABELS, Letter, LetterAction, LetterStatus
from tongban.hotline.mailbox_service import LetterCase
from tongban.hotline.mailbox_schemas import (
    AnswerIn, AssignIn, ClockRead, EventRead, LeaderIn, LetterDetail, LetterIn, LetterPage, LetterRead, LetterWritten,
    LookupIn, PublishedLetter, PublishedPage, PublishIn, ReturnIn, SendIn, WriterLetter, WriterLetterPage,
)
from tongban.org import service as org
from tongban.supervision import service as supervision
from tongban.supervision.schemas import KIND_LABELS as CLOCK_LABELS

router = APIRouter(prefix="/api/v1/mailbox", tags=["领导信箱 mailbox"])
Public = Annotated[Principal | None, require(Permission.PUBLIC)]
Writer = Annotated[Principal, require(Permission.MAILBOX_WRITE)]
Office = Annotated[Principal, require(Permission.MAILBOX_HANDLE)]
Department = Annotated[Principal, require(Permission.MAILBOX_REPLY)]
Staff = Annotated[Principal, require(Permission.MAILBOX_HANDLE, Permission.MAILBOX_REPLY)]
Search = Annotated[str | None, Query(max_length=50, description="在选登信件的标题、内容和答复中查找")]


def written(filed: LetterCase, code: str) -> LetterWritten:
    letter = filed.letter
    return LetterWritten(number=filed.number, query_code=code, status=filed.status,
                         status_label=WRITER_STATUS_LABELS[filed.status], created_at=letter.created_at,
                         created_text=wall.beijing_text(letter.created_at))


def writer_letter(filed: LetterCase) -> WriterLetter:
    letter, status = filed.letter, filed.status
    answered = status in (LetterStatus.ANSWERED, LetterStatus.PUBLISHED)
    return WriterLetter(number=filed.number, subject=letter.subject, body=letter.body, consent=letter.consent,
                        status=status, status_label=WRITER_STATUS_LABELS[status],
                        created_at=letter.created_at, created_text=wall.beijing_text(letter.created_at),
                        reply=letter.reply if answered else None, replied_by=letter.replied_by if answered else None,
                        answered_text=wall.beijing_text(letter.answered_at), published=status == LetterStatus.PUBLISHED)


def published_letter(filed: LetterCase) -> PublishedLetter:
    letter = filed.letter
    return PublishedLetter(number=filed.number, subject=letter.public_subject or "", body=letter.public_body or "",
                           reply=letter.public_reply, replied_by=letter.replied_by,
                           created_text=wall.beijing_text(letter.created_at),
                           answered_text=wall.beijing_text(letter.answered_at), published_at=letter.published_at,
                           published_text=wall.beijing_text(letter.published_at))


def _names(db: Session, ids) -> dict[int, tuple[str, str]]:
    return dict(org.names_by_ids(db, [i for i in ids if i is not None]))


def letter_read(filed: LetterCase, names: dict[int, tuple[str, str]]) -> LetterRead:
    letter, status = filed.letter, filed.status
    department = names.get(filed.department_id) if filed.department_id else None
    return LetterRead(number=filed.number, subject=letter.subject, status=status, status_label=STATUS_LABELS[status],
                      for_leader=letter.for_leader, department=department[0] if department else None,
                      department_name=department[1] if department else None, limit_days=letter.limit_days,
                      consent=letter.consent, created_at=letter.created_at,
                      created_text=wall.beijing_text(letter.created_at), version=filed.version)


def letter_detail(db: Session, principal: Principal, filed: LetterCase) -> LetterDetail:
    letter = filed.letter
    events = service.trail(db, filed)
    clocks = service.clocks(db, filed)
    names = _names(db, [filed.department_id, *(e.department_id for e in events), *(c.department_id for c in clocks)])
    phone, email = service.writer_contact(db, principal, filed)
    trail, published = [], False
    for e in events:
        step = service.STEPS[Action(e.action)]
        published = published or step == LetterAction.PUBLISH  # closed is answered until then, published after
        status = LetterStatus.PUBLISHED if published else service.status_of(e.status, None)
        trail.append(EventRead(action=step.value, action_label=ACTION_LABELS[step], status=status,
                               status_label=STATUS_LABELS[status], actor_name=e.actor_name,
                               department=names[e.department_id][1] if e.department_id in names else None, note=e.note,
                               at=e.at, at_text=wall.beijing_text(e.at)))
    return LetterDetail(
        **letter_read(filed, names).model_dump(), body=letter.body, writer_name=letter.writer_name,
        writer_kind=letter.writer_kind, writer_phone=phone, writer_email=email, department_reply=filed.case.result,
        reply=letter.reply, replied_by=letter.replied_by, public_subject=letter.public_subject,
        public_body=letter.public_body, public_reply=letter.public_reply, trail=trail,
        clocks=[ClockRead(step=CLOCK_LABELS.get(c.kind, c.kind),
                          department=names[c.department_id][1] if c.department_id in names else "",
                          limit=supervision.clock_limit_text(c), due=supervision.clock_due_text(c), level=c.level,
                          status=c.status) for c in clocks])


# ---- the public and the writers -------------------------------------------------------------------------


@router.post("/letters", response_model=LetterWritten, status_code=201,
             summary="写信：给领导信箱写信（登录后以本人名义；未登录须留姓名和联系电话或电子邮箱）")
def write(body: LetterIn, db: DbSession, principal: Public):
    filed, code = service.write(db, principal, subject=body.subject, body=body.body, consent=body.consent,
                                 name=body.name, phone=body.phone, email=body.email)
    answer = written(filed, code)
    db.commit()
    return answer


@router.post("/lookup", response_model=WriterLetter, summary="来信查询：凭信件编号和查询码查看办理情况和答复",
             responses={429: {"description": "同一地址查询失败次数过多，请稍后再试"}})
def look_up(request: Request, body: LookupIn, db: DbSession, principal: Public):
    try:
        found = service.look_up(db, body.number, body.query_code, address=throttle.client_address(request))
    except Problem:
        db.commit()  # the failure counted against the address stays counted
        raise
    return writer_letter(found)


@router.get("/me/letters", response_model=WriterLetterPage, summary="我的来信（最新在前）")
def my_letters(db: DbSession, principal: Writer, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.own_letters(principal), Letter.id, cursor=cursor, limit=limit)
    return WriterLetterPage(items=[writer_letter(filed) for filed in service.with_cases(db, rows)], next_cursor=next_cursor)


@router.get("/me/letters/{number}", response_model=WriterLetter, summary="我的一封来信：办理情况和答复（他人的来信：404）")
def my_letter(number: str, db: DbSession, principal: Writer):
    return writer_letter(service.own_letter(db, principal, number))


@router.get("/published", response_model=PublishedPage, summary="信件选登：已公开的来信和答复（已隐去个人信息）")
def published(db: DbSession, principal: Public, q: Search = None, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.published(q=q), Letter.id, cursor=cursor, limit=limit)
    return PublishedPage(items=[published_letter(filed) for filed in service.with_cases(db, rows)], next_cursor=next_cursor)


@router.get("/published/{number}", response_model=PublishedLetter, summary="一封选登信件（未公开的信件：404）")
def published_one(number: str, db: DbSession, principal: Public):
    return published_letter(service.published_letter(db, number))


# ---- the letters office and the departments ----------------------------------------------------------------


@router.get("/letters", response_model=LetterPage,
            summary="来信列表：信访办为全部来信，部门为交办本部门的来信；可按状态、呈报领导筛选")
def letters(db: DbSession, principal: Staff,
            status: Annotated[LetterStatus | None, Query(description="状态")] = None,
            leader: Annotated[bool, Query(description="只看呈报领导的来信")] = False,
            cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.queue(principal, status=status.value if status else None, leader=leader),
                                 Letter.id, cursor=cursor, limit=limit)
    filed = service.with_cases(db, rows)
    names = _names(db, [f.department_id for f in filed])
    return LetterPage(items=[letter_read(f, names) for f in filed], next_cursor=next_cursor)


@router.get("/letters/{number}", response_model=LetterDetail, summary="一封来信：内容、来信人、办理过程和时限（查看来信人信息记入审计日志）")
def letter(number: str, db: DbSession, principal: Staff):
    found = service.readable(db, principal, number)
    answer = letter_detail(db, principal, found)
    db.commit()  # the audit line of the writer's contact read
    return answer


def _after(db: Session, principal: Principal, filed: LetterCase) -> LetterDetail:
    answer = letter_detail(db, principal, filed)
    db.commit()
    return answer


@router.post("/letters/{number}/answer", response_model=LetterDetail, summary="信访办直接答复来信")
def answer(number: str, body: AnswerIn, db: DbSession, principal: Office):
    return _after(db, principal, service.answer(db, principal, number, reply=body.reply, version=body.version))


@router.post("/letters/{number}/assign", response_model=LetterDetail, summary="交办部门，限期答复（通知该部门）")
def assign(number: str, body: AssignIn, db: DbSession, principal: Office):
    return _after(db, principal, service.assign(db, principal, number, department_code=body.department_code,
                                                limit_days=body.limit_days, note=body.note, version=body.version))


@router.post("/letters/{number}/reply", response_model=LetterDetail, summary="部门答复交办的来信（经信访办审核后发送）")
def reply(number: str, body: AnswerIn, db: DbSession, principal: Department):
    return _after(db, principal, service.reply(db, principal, number, reply=body.reply, version=body.version))


@router.post("/letters/{number}/send", response_model=LetterDetail, summary="审核部门答复并发送来信人")
def send(number: str, body: SendIn, db: DbSession, principal: Office):
    return _after(db, principal, service.send(db, principal, number, reply=body.reply, version=body.version))


@router.post("/letters/{number}/return", response_model=LetterDetail, summary="退回部门重新办理")
def return_reply(number: str, body: ReturnIn, db: DbSession, principal: Office):
    return _after(db, principal, service.return_reply(db, principal, number, reason=body.reason, version=body.version))


@router.post("/letters/{number}/leader", response_model=LetterDetail, summary="呈报领导")
def leader(number: str, body: LeaderIn, db: DbSession, principal: Office):
    return _after(db, principal, service.mark_for_leader(db, principal, number, note=body.note))


@router.post("/letters/{number}/publish", response_model=LetterDetail, summary="选登：公开来信和答复（须来信人同意，隐去个人信息）")
def publish(number: str, body: PublishIn, db: DbSession, principal: Office):
    return _after(db, principal, service.publish(db, principal, number, version=body.version))
