"""Pages of requests for disclosure: the portal's 依申请公开 form and 我的申请; the disclosure
office's queue, recording of letters and visits, and the request page with its actions; the annual
report page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tongban.core import clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.security import check_csrf
from tongban.core.templating import date_field, flash, render
from tongban.disclosure.requests import api, service
from tongban.disclosure.requests.models import (
    CATEGORY_LABELS, CHANNEL_LABELS, DELIVERY_LABELS, EVENT_LABELS, GROUND_LABELS, NOT_PROCESSED_LABELS, REMEDY_LABELS,
    REPLY_LABELS, RESULT_LABELS, STATUS_LABELS, Channel, RequestStatus,
)
from tongban.disclosure.requests.service import THIRD_PARTY_OPINIONS
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
LABELS = {"category": CATEGORY_LABELS, "channel": CHANNEL_LABELS, "delivery": DELIVERY_LABELS, "status": STATUS_LABELS,
          "reply": REPLY_LABELS, "ground": GROUND_LABELS, "not_processed": NOT_PROCESSED_LABELS, "event": EVENT_LABELS,
          "remedy": REMEDY_LABELS, "result": RESULT_LABELS, "opinion": THIRD_PARTY_OPINIONS}


def _organs(db) -> list:
    """The organs a request can be addressed to: the district's government and its departments, towns."""
    return [d for d in org.list_all(db) if d.level in ("district", "town")]


def _form(request: Request, db, principal: Principal | None, *, staff: bool, values: dict | None = None,
          problem: Problem | None = None):
    fee = None
    applicant = None
    if principal is not None and not staff and principal.can(Permission.DISCLOSURE_APPLY):
        try:
            key, name, person = service.own_key(db, principal)
            fee, applicant = service.fee_preview(db, key), {"name": name, "person": person}
        except Problem as refused:
            problem = problem or refused
    return render(request, "disclosure_request_form.html", status_code=problem.status if problem else 200,
                  principal=principal, staff=staff, organs=_organs(db), fee=fee, applicant=applicant,
                  values=values or {}, problem=problem, labels=LABELS)


@router.get("/disclosure/requests/new", summary="依申请公开：提出申请")
def request_form(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                 department: Annotated[str, Query(max_length=32)] = ""):
    return _form(request, db, principal, staff=False, values={"department": department})


def _submit(request: Request, db, principal: Principal, values: dict, *, staff: bool):
    try:
        filed = service.file(db, principal, service.Filing(**values))
    except Problem as problem:
        db.rollback()
        return _form(request, db, principal, staff=staff, values=values, problem=problem)
    db.commit()
    flash(request, f"申请已提交，申请编号 {filed.number}")
    return RedirectResponse(f"/staff/disclosure/requests/{filed.number}" if staff else f"/disclosure/requests/{filed.number}",
                            status_code=303)


@router.post("/disclosure/requests/new", summary="依申请公开：提交申请")
def submit_request(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY)],
                   department: Annotated[str, Form(max_length=32)] = "", description: Text = "", purpose: Text = "",
                   delivery: Annotated[str, Form(max_length=8)] = "online",
                   applicant_category: Annotated[str, Form(max_length=16)] = "",
                   contact_phone: Annotated[str, Form(max_length=32)] = "", contact_email: Short = "",
                   contact_address: Short = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    values = {"department": department, "description": description, "purpose": purpose, "delivery": delivery,
              "applicant_category": applicant_category or None, "contact_phone": contact_phone,
              "contact_email": contact_email, "contact_address": contact_address}
    return _submit(request, db, principal, values, staff=False)


@router.get("/disclosure/requests", summary="我的政府信息公开申请")
def my_requests(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY)]):
    rows = service.mine(db, principal)
    found = service.deadlines(db, rows)
    return render(request, "disclosure_request_mine.html", principal=principal,
                  rows=[(r, found.get(r.number)) for r in rows], labels=LABELS)


def _detail_context(db, found) -> dict:
    return {"item": found, "detail": api.detail(db, found), "labels": LABELS,
            "notice": service.notice_deadline(db, found) if found.status == RequestStatus.PROCESSING else None}


@router.get("/disclosure/requests/{number}", summary="我的申请：状态、期限、告知书")
def my_request(request: Request, number: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY)]):
    found = service.readable(db, principal, number[:32])
    db.commit()
    return render(request, "disclosure_request_detail.html", principal=principal, **_detail_context(db, found))


@router.post("/disclosure/requests/{number}/correction", summary="提交补正")
def submit_correction(request: Request, number: str, db: DbSession,
                      principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY)], text: Text = "",
                      csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    service.correct(db, principal, number[:32], text=text)
    db.commit()
    flash(request, "补正已提交，答复期限自今日重新计算")
    return RedirectResponse(f"/disclosure/requests/{number[:32]}", status_code=303)


# ---- the disclosure office ----------------------------------------------------------------------


@router.get("/staff/disclosure/requests", summary="政府信息公开申请办理队列")
def queue_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)]):
    return render(request, "disclosure_request_queue.html", principal=principal, rows=service.queue(db, principal),
                  labels=LABELS)


@router.get("/staff/disclosure/requests/new", summary="登记信函或当面提出的申请")
def record_form(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)]):
    return _form(request, db, principal, staff=True, values={"department": principal.department_code or ""})


@router.post("/staff/disclosure/requests/new", summary="登记申请")
def record_request(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)],
                   channel: Annotated[str, Form(max_length=8)] = Channel.LETTER.value,
                   applicant_name: Short = "", applicant_id: Annotated[str, Form(max_length=40)] = "",
                   applicant_category: Annotated[str, Form(max_length=16)] = "", description: Text = "",
                   purpose: Text = "", delivery: Annotated[str, Form(max_length=8)] = "post",
                   contact_phone: Annotated[str, Form(max_length=32)] = "", contact_email: Short = "",
                   contact_address: Short = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    values = {"department": principal.department_code or "", "channel": channel, "applicant_name": applicant_name,
              "applicant_id": applicant_id, "applicant_category": applicant_category, "description": description,
              "purpose": purpose, "delivery": delivery, "contact_phone": contact_phone, "contact_email": contact_email,
              "contact_address": contact_address}
    return _submit(request, db, principal, values, staff=True)


@router.get("/staff/disclosure/requests/{number}", summary="办理政府信息公开申请（监察人员只读）")
def office_request(request: Request, number: str, db: DbSession,
                   principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE, Permission.DISCLOSURE_REPORT)]):
    # The office works it; those who oversee the district (电子监察, 电子政务办) follow a clock's link here and read it.
    found = service.readable(db, principal, number[:32])
    db.commit()
    return render(request, "disclosure_request_staff.html", principal=principal, organs=_organs(db),
                  can_handle=principal.can_for_department(Permission.DISCLOSURE_HANDLE, found.department_id),
                  can_extend=principal.can_for_department(Permission.DISCLOSURE_EXTEND, found.department_id),
                  today=wall.today(), **_detail_context(db, found))


@router.post("/staff/disclosure/requests/{number}/{action}", summary="办理政府信息公开申请：一个步骤")
def office_action(request: Request, number: str, action: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)],
                  items: Text = "", days: Annotated[int, Form(ge=1, le=30)] = 15, reason: Text = "",
                  third_party: Short = "", matter: Text = "", opinion: Annotated[str, Form(max_length=8)] = "",
                  note: Text = "", department: Annotated[str, Form(max_length=32)] = "",
                  reply_type: Annotated[str, Form(max_length=16)] = "", content: Text = "", withheld: Text = "",
                  ground: Annotated[str, Form(max_length=24)] = "", organ_name: Short = "",
                  organ_contact: Annotated[str, Form(max_length=300)] = "",
                  repeat_of: Annotated[str, Form(max_length=32)] = "", kind: Annotated[str, Form(max_length=24)] = "",
                  result: Annotated[str, Form(max_length=12)] = "", filed_on: Annotated[str, Form(max_length=10)] = "",
                  text: Text = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    number = number[:32]
    if action == "correction-notice":
        service.ask_correction(db, principal, number, items=items, days=days)
        message = "已一次性告知补正"
    elif action == "correction":
        service.correct(db, principal, number, text=text)
        message = "已登记补正，答复期限自今日重新计算"
    elif action == "abandonment":
        service.abandon_by_office(db, principal, number)
        message = "申请视为放弃"
    elif action == "extension":
        service.extend(db, principal, number, days=days, reason=reason)  # only the office's head: refused there
        message = "答复期限已延长，并已告知申请人"
    elif action == "consultation":
        service.consult(db, principal, number, third_party=third_party, matter=matter)
        message = "已书面征求第三方意见，答复期限暂停计算"
    elif action == "consultation-answer":
        service.consultation_answered(db, principal, number, opinion=opinion, note=note)
        message = "已记录第三方意见，答复期限恢复计算"
    elif action == "transfer":
        service.transfer(db, principal, number, department=department, note=note)
        message = "申请已转送"
    elif action == "reply":
        service.answer(db, principal, number, service.Reply(
            reply_type=reply_type, content=content, withheld=withheld, ground=ground or None, reason=reason,
            organ_name=organ_name, organ_contact=organ_contact, repeat_of=repeat_of or None))
        message = "已作出答复，答复告知书已生成"
    elif action == "fee-waiver":
        service.waive_fee(db, principal, number, reason=reason)
        message = "信息处理费已减免"
    elif action == "remedy":
        day = date_field(filed_on, "提起日期")
        if day is None:
            raise Problem("validation-error", "请填写提起日期")
        service.record_remedy(db, principal, number, kind=kind, result=result, filed_on=day)
        message = "已记录行政复议或行政诉讼"
    else:
        raise Problem("not-found", "没有该办理步骤")
    db.commit()
    flash(request, message)
    found = service.by_number(db, number)
    if found.department_id != principal.department_id:  # transferred away: back to the queue
        return RedirectResponse("/staff/disclosure/requests", status_code=303)
    return RedirectResponse(f"/staff/disclosure/requests/{number}", status_code=303)


# ---- the annual report ---------------------------------------------------------------------------


@router.get("/disclosure/reports", summary="政府信息公开工作年度报告")
def report_page(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                year: Annotated[int | None, Query(ge=2008, le=2100)] = None,
                department: Annotated[str, Query(max_length=32)] = ""):
    chosen = year or wall.today().year - 1
    report = api.report_for(db, principal, chosen, department or None)
    return render(request, "disclosure_report.html", principal=principal, report=report, year=chosen,
                  department=department, organs=_organs(db), title=api.reports.title(report))
