"""The pages of the leader's mailbox (领导信箱): the portal's 写信, 我的来信, 来信查询 and 信件选登,
and the staff's 领导信箱 (the letters office's queue, a department's letters assigned to it) with
a letter's steps. The routes are thin: each step is ``mailbox_service``'s, the facts of a letter
the API's; a refused step shows its reason on the page it came from, the form as it was sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import throttle
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import INTEGER_MAX
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.hotline import mailbox_api as api, mailbox_service as service
from tongban.hotline.mailbox_models import STATUS_LABELS, Letter, LetterStatus
from tongban.hotline.mailbox_service import LetterCase
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
Public = Annotated[Principal | None, require(Permission.PUBLIC)]
Writer = Annotated[Principal, require(Permission.MAILBOX_WRITE)]
Office = Annotated[Principal, require(Permission.MAILBOX_HANDLE)]
Department = Annotated[Principal, require(Permission.MAILBOX_REPLY)]
Staff = Annotated[Principal, require(Permission.MAILBOX_HANDLE, Permission.MAILBOX_REPLY)]
Version = Annotated[int | None, Form(ge=1, le=INTEGER_MAX)]
Reply = Annotated[str, Form(max_length=service.MAX_REPLY)]
Note = Annotated[str, Form(max_length=1000)]
MAX_ROWS = 200
CONFLICT = "已被他人处理，请刷新"


# ---- the portal ------------------------------------------------------------------------------------------


def _write_page(request: Request, principal: Principal | None, *, form: dict | None = None, error: str | None = None,
                status_code: int = 200):
    writer = principal if principal is not None and principal.kind in ("citizen", "enterprise") else None
    return render(request, "mailbox/write.html", status_code=status_code, principal=principal, writer=writer,
                  form=form or {}, error=error, max_subject=service.MAX_SUBJECT, max_body=service.MAX_BODY)


@router.get("/mailbox", summary="领导信箱：写信")
def write_page(request: Request, principal: Public):
    return _write_page(request, principal)


@router.post("/mailbox", summary="领导信箱：提交来信")
def write(request: Request, db: DbSession, principal: Public,
          subject: Annotated[str, Form(max_length=service.MAX_SUBJECT + 100)] = "",
          body: Annotated[str, Form(max_length=service.MAX_BODY + 1000)] = "",
          consent: Annotated[str, Form(max_length=8)] = "", name: Annotated[str, Form(max_length=64)] = "",
          phone: Annotated[str, Form(max_length=32)] = "", email: Annotated[str, Form(max_length=120)] = "",
          csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    form = {"subject": subject, "body": body, "consent": consent, "name": name, "phone": phone, "email": email}
    try:
        filed, code = service.write(db, principal, subject=subject, body=body, consent=consent == "yes", name=name,
                                    phone=phone, email=email)
        answer = api.written(filed, code)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _write_page(request, principal, form=form, error=problem.detail, status_code=problem.status)
    signed_in = principal is not None and principal.kind in ("citizen", "enterprise")
    return render(request, "mailbox/written.html", status_code=201, principal=principal, letter=answer,
                  signed_in=signed_in)


@router.get("/mailbox/mine", summary="我的来信")
def my_letters(request: Request, db: DbSession, principal: Writer):
    rows = list(db.scalars(service.own_letters(principal).order_by(Letter.id.desc()).limit(MAX_ROWS + 1)))
    return render(request, "mailbox/mine.html", principal=principal,
                  items=[api.writer_letter(f) for f in service.with_cases(db, rows[:MAX_ROWS])],
                  more=len(rows) > MAX_ROWS, max_rows=MAX_ROWS)


@router.get("/mailbox/mine/{number}", summary="我的来信：办理情况和答复")
def my_letter(request: Request, number: str, db: DbSession, principal: Writer):
    letter = api.writer_letter(service.own_letter(db, principal, number))
    return render(request, "mailbox/letter.html", principal=principal, letter=letter, mine=True)


@router.get("/mailbox/lookup", summary="来信查询")
def lookup_page(request: Request, principal: Public):
    return render(request, "mailbox/lookup.html", principal=principal, number="", error=None)


@router.post("/mailbox/lookup", summary="来信查询：结果")
def look_up(request: Request, db: DbSession, principal: Public, number: Annotated[str, Form(max_length=24)] = "",
            query_code: Annotated[str, Form(max_length=16)] = "", csrf_token: Csrf = ""):
    # A form post: the query code stays out of addresses, histories and logs.
    check_csrf(request, csrf_token)
    try:
        letter = api.writer_letter(service.look_up(db, number, query_code, address=throttle.client_address(request)))
    except Problem as problem:
        db.commit()  # the failure counted against the address stays counted
        return render(request, "mailbox/lookup.html", status_code=problem.status, principal=principal, number=number,
                      error=problem.detail)
    return render(request, "mailbox/letter.html", principal=principal, letter=letter, mine=False)


@router.get("/mailbox/published", summary="信件选登")
def published(request: Request, db: DbSession, principal: Public,
              q: Annotated[str | None, Query(max_length=50)] = None):
    rows = list(db.scalars(service.published(q=q).order_by(Letter.published_at.desc(), Letter.id.desc()).limit(MAX_ROWS)))
    return render(request, "mailbox/published.html", principal=principal,
                  items=[api.published_letter(f) for f in service.with_cases(db, rows)],
                  q=q or "")


@router.get("/mailbox/published/{number}", summary="信件选登：一封来信和答复")
def published_one(request: Request, number: str, db: DbSession, principal: Public):
    return render(request, "mailbox/published_letter.html", principal=principal,
                  letter=api.published_letter(service.published_letter(db, number)))


# ---- the letters office and the departments ----------------------------------------------------------------

TABS = [("", "全部"), (LetterStatus.RECEIVED.value, "待处理"), (LetterStatus.ASSIGNED.value, "部门办理中"),
        (LetterStatus.REPLIED.value, "待审核"), (LetterStatus.ANSWERED.value, "已答复"), (LetterStatus.PUBLISHED.value, "已选登")]


@router.get("/staff/mailbox", summary="领导信箱：来信列表")
def queue(request: Request, db: DbSession, principal: Staff,
          status: Annotated[LetterStatus | None, Query()] = None, leader: Annotated[bool, Query()] = False):
    query = service.queue(principal, status=status.value if status else None, leader=leader)
    rows = list(db.scalars(query.order_by(Letter.id.desc()).limit(MAX_ROWS + 1)))
    filed = service.with_cases(db, rows[:MAX_ROWS])
    names = api._names(db, [f.department_id for f in filed])
    return render(request, "mailbox/queue.html", principal=principal, items=[api.letter_read(f, names) for f in filed],
                  more=len(rows) > MAX_ROWS, max_rows=MAX_ROWS, tabs=TABS, status=status.value if status else "",
                  leader=leader, office=principal.can(Permission.MAILBOX_HANDLE))


def _forms(principal: Principal, filed: LetterCase) -> list[str]:
    forms = []
    status = filed.status
    if principal.can(Permission.MAILBOX_HANDLE):
        if status == LetterStatus.RECEIVED:
            forms += ["assign", "answer"]
        if status == LetterStatus.REPLIED:
            forms += ["send", "return"]
        if status == LetterStatus.ANSWERED:
            forms.append("publish")
        if not filed.letter.for_leader:
            forms.append("leader")
    if status == LetterStatus.ASSIGNED and principal.can_for_department(Permission.MAILBOX_REPLY, filed.department_id):
        forms.append("reply")
    return forms


def _letter_page(request: Request, db: Session, principal: Principal, number: str, *, error: str | None = None,
                 failed: str | None = None, form: dict | None = None, status_code: int = 200):
    filed = service.readable(db, principal, number)
    forms = _forms(principal, filed)
    detail = api.letter_detail(db, principal, filed)
    db.commit()  # the audit line of the writer's contact read
    departments = org.list_all(db) if "assign" in forms else []
    return render(request, "mailbox/staff_letter.html", status_code=status_code, principal=principal, letter=detail,
                  forms=forms, departments=departments, error=error, failed=failed, form=form or {},
                  default_days=service.DEFAULT_REPLY_DAYS, max_days=service.MAX_REPLY_DAYS,
                  preview=service.public_texts(db, filed.letter) if "publish" in forms and filed.letter.consent else None,
                  statuses=STATUS_LABELS)


@router.get("/staff/mailbox/{number}", summary="领导信箱：一封来信")
def letter_page(request: Request, number: str, db: DbSession, principal: Staff):
    return _letter_page(request, db, principal, number)


def _step(request: Request, db: Session, principal: Principal, number: str, step: str, csrf_token: str,
          version: int | None, done: str, form: dict, act):
    check_csrf(request, csrf_token)
    try:
        act()
        db.commit()
    except StaleDataError:
        db.rollback()
        return _letter_page(request, db, principal, number, error=CONFLICT, failed=step, form=form, status_code=409)
    except Problem as problem:
        if problem.status >= 500 or problem.status in (403, 404):
            raise
        db.rollback()
        moved = problem.slug == "conflict"
        message = f"{CONFLICT}（{problem.detail}）" if moved else problem.detail
        return _letter_page(request, db, principal, number, error=message, failed=step, form=form, status_code=problem.status)
    flash(request, done)
    return RedirectResponse(f"/staff/mailbox/{number}", status_code=303)


@router.post("/staff/mailbox/{number}/assign", summary="交办部门")
def assign(request: Request, number: str, db: DbSession, principal: Office,
           department: Annotated[str, Form(max_length=32)] = "",
           limit_days: Annotated[int, Form(ge=1, le=service.MAX_REPLY_DAYS)] = service.DEFAULT_REPLY_DAYS,
           note: Note = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.assign(db, principal, number, department_code=department, limit_days=limit_days, note=note, version=version)
    return _step(request, db, principal, number, "assign", csrf_token, version, f"来信 {number} 已交办",
                 {"department": department, "limit_days": limit_days, "note": note}, act)


@router.post("/staff/mailbox/{number}/answer", summary="直接答复")
def answer(request: Request, number: str, db: DbSession, principal: Office, reply: Reply = "",
           version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.answer(db, principal, number, reply=reply, version=version)
    return _step(request, db, principal, number, "answer", csrf_token, version, f"来信 {number} 已答复来信人",
                 {"reply": reply}, act)


@router.post("/staff/mailbox/{number}/reply", summary="部门答复")
def reply(request: Request, number: str, db: DbSession, principal: Department, reply: Reply = "",
          version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.reply(db, principal, number, reply=reply, version=version)
    return _step(request, db, principal, number, "reply", csrf_token, version, f"来信 {number} 的答复已报信访办审核",
                 {"reply": reply}, act)


@router.post("/staff/mailbox/{number}/send", summary="审核并发送答复")
def send(request: Request, number: str, db: DbSession, principal: Office, reply: Reply = "",
         version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.send(db, principal, number, reply=reply or None, version=version)
    return _step(request, db, principal, number, "send", csrf_token, version, f"来信 {number} 的答复已发送来信人",
                 {"reply": reply}, act)


@router.post("/staff/mailbox/{number}/return", summary="退回部门重新办理")
def return_reply(request: Request, number: str, db: DbSession, principal: Office, reason: Note = "",
                 version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.return_reply(db, principal, number, reason=reason, version=version)
    return _step(request, db, principal, number, "return", csrf_token, version, f"来信 {number} 已退回部门重新办理",
                 {"reason": reason}, act)


@router.post("/staff/mailbox/{number}/leader", summary="呈报领导")
def leader(request: Request, number: str, db: DbSession, principal: Office, note: Note = "", csrf_token: Csrf = ""):
    def act():
        service.mark_for_leader(db, principal, number, note=note)
    return _step(request, db, principal, number, "leader", csrf_token, None, f"来信 {number} 已呈报领导", {"note": note}, act)


@router.post("/staff/mailbox/{number}/publish", summary="选登")
def publish(request: Request, number: str, db: DbSession, principal: Office, version: Version = None,
            csrf_token: Csrf = ""):
    def act():
        service.publish(db, principal, number, version=version)
    return _step(request, db, principal, number, "publish", csrf_token, version, f"来信 {number} 已选登公开", {}, act)
