"""The pages of the 12345 hotline: the agent's call page, the queues, and a ticket with the steps
the signed-in person may take on it.

The routes are thin: every step is ``hotline.tickets``' (on the grid's case engine), the facts of a
ticket are the API's (``tickets_api.detail``); a refused step shows its reason on the page it came
from, the form as it was sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import INTEGER_MAX
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.hotline import service, tickets, tickets_api
from tongban.hotline.categories import catalogue
from tongban.hotline.models import SATISFACTION_LABELS, Outcome
from tongban.hotline.schemas import TicketIn
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
Version = Annotated[int | None, Form(ge=1, le=INTEGER_MAX)]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]
CONFLICT = "已被他人处理，请刷新"
CALL_FIELDS = ("caller_phone", "caller_name", "caller_id_number", "said", "summary", "category", "department_code",
               "knowledge_ref", "knowledge_text", "transfer_line", "merge_into", "address", "lon", "lat")
OUTCOME_DONE = {Outcome.ANSWERED: "已直接办结", Outcome.DISPATCHED: "已派单", Outcome.TRANSFERRED: "已转专线",
                Outcome.MERGED: "已合并"}


def _message(error: ValidationError) -> str:
    names = {"caller_phone": "来电号码", "caller_name": "来电人称呼", "caller_id_number": "身份证号", "said": "来电内容",
             "summary": "坐席摘要", "category": "分类", "outcome": "处理方式", "lon": "经度", "lat": "纬度"}
    parts = []
    for e in error.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        parts.append(f"{names.get(field, field)}：{'格式不正确或未填写' if e['type'] != 'blank_text' else '不能只有空白'}")
    return "；".join(parts)


def _call_page(request: Request, db: Session, principal: Principal, *, form: dict | None = None, error: str | None = None,
               status_code: int = 200):
    return render(request, "hotline_call.html", status_code=status_code, principal=principal, form=form or {}, error=error,
                  categories=service.categories(db), departments=org.list_all(db),
                  lines=catalogue().transfer_lines)


@router.get("/hotline/call", summary="来电受理")
def call_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)]):
    return _call_page(request, db, principal)


@router.post("/hotline/call", summary="登记来电工单")
def record_call(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)],
                caller_phone: Short = "", caller_name: Short = "", caller_id_number: Short = "", said: Text = "",
                summary: Text = "", category: Short = "", department_code: Short = "", knowledge_ref: Short = "",
                knowledge_text: Text = "", transfer_line: Short = "", merge_into: Short = "", address: Short = "",
                lon: Short = "", lat: Short = "", outcome: Short = "", proposed_category: Short = "",
                csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    form = {"caller_phone": caller_phone, "caller_name": caller_name, "caller_id_number": caller_id_number, "said": said,
            "summary": summary, "category": category, "department_code": department_code, "knowledge_ref": knowledge_ref,
            "knowledge_text": knowledge_text, "transfer_line": transfer_line, "merge_into": merge_into, "address": address,
            "lon": lon, "lat": lat, "outcome": outcome, "proposed_category": proposed_category}
    try:
        body = TicketIn.model_validate({k: (v.strip() or None) if k not in ("said", "summary") else v
                                        for k, v in form.items()} | {"said": said, "summary": summary})
        case, _, _ = tickets.create(db, principal, tickets.CallIn(**{**body.model_dump(), "outcome": Outcome(body.outcome)}),
                                    extent=tickets_api.extent_of(request))
        db.commit()
    except ValidationError as error:
        return _call_page(request, db, principal, form=form, error=_message(error), status_code=422)
    except Problem as problem:
        if problem.status >= 500 or problem.status == 403:
            raise
        db.rollback()
        return _call_page(request, db, principal, form=form, error=problem.detail, status_code=problem.status)
    flash(request, f"工单 {case.number} {OUTCOME_DONE[Outcome(body.outcome)]}")
    return RedirectResponse(f"/hotline/tickets/{case.number}", status_code=303)


# ---- queues -------------------------------------------------------------------------------------------


@router.get("/hotline/tickets", summary="热线工单")
def tickets_page(request: Request, db: DbSession,
                 principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER, Permission.HOTLINE_CENTRE,
                                                         Permission.HOTLINE_HANDLE)],
                 queue: Annotated[str, Query(max_length=16)] = ""):
    names = tickets.queue_names(principal)
    chosen = queue if queue in names else names[0]
    rows = tickets_api.reads(db, tickets.queue(db, principal, chosen))
    return render(request, "hotline_tickets.html", principal=principal, names=names, labels=tickets.QUEUES, chosen=chosen,
                  rows=rows, Permission=Permission)


# ---- the caller's own (我的 12345 诉求) -------------------------------------------------------------------


@router.get("/hotline/mine", summary="我的 12345 诉求")
def my_tickets(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_OWN)]):
    found = tickets_api.my_tickets(db, principal)
    return render(request, "hotline_mine.html", principal=principal, verified=found.verified, items=found.items)


@router.get("/hotline/mine/{number}", summary="我的 12345 诉求：办理过程和答复")
def my_ticket(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_OWN)]):
    return render(request, "hotline_mine_ticket.html", principal=principal,
                  ticket=tickets_api.my_ticket(number, db, principal))


# ---- the classifier ---------------------------------------------------------------------------------------


@router.get("/hotline/classifier", summary="分类模型")
def classifier_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return render(request, "hotline_classifier.html", principal=principal, model=service.classifier(db))


@router.post("/hotline/classifier", summary="重新训练分类模型")
def retrain(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)],
            csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    done = service.retrain(db, principal)
    flash(request, f"分类模型已重新训练：第 {done.version} 版，演示留出集准确率 {(done.accuracy or 0):.1%}")
    return RedirectResponse("/hotline/classifier", status_code=303)


# ---- a ticket and its steps ------------------------------------------------------------------------------


def _ticket_page(request: Request, db: Session, principal: Principal, number: str, *, error: str | None = None,
                 failed: str | None = None, form: dict | None = None, contact: tuple[str, str | None] | None = None,
                 status_code: int = 200):
    case = tickets.readable(db, principal, number)
    detail = tickets_api.detail(db, principal, case)
    departments = org.list_all(db) if "dispatch" in detail.actions else []
    categories = service.categories(db) if "dispatch" in detail.actions else []
    return render(request, "hotline_ticket.html", status_code=status_code, principal=principal, ticket=detail,
                  departments=departments, categories=categories, error=error, failed=failed, form=form or {}, contact=contact,
                  grades=SATISFACTION_LABELS)


@router.get("/hotline/tickets/{number}", summary="工单详情")
def ticket_page(request: Request, number: str, db: DbSession,
                principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER, Permission.HOTLINE_CENTRE,
                                                        Permission.HOTLINE_HANDLE)]):
    return _ticket_page(request, db, principal, number[:24])


def _step(request: Request, db: Session, principal: Principal, number: str, step: str, csrf_token: str, done: str,
          form: dict, act):
    check_csrf(request, csrf_token)
    try:
        act()
        db.commit()
    except StaleDataError:
        db.rollback()
        return _ticket_page(request, db, principal, number, error=CONFLICT, failed=step, form=form, status_code=409)
    except Problem as problem:
        if problem.status >= 500 or problem.status in (403, 404):
            raise
        db.rollback()
        message = f"{CONFLICT}（{problem.detail}）" if problem.slug == "conflict" else problem.detail
        return _ticket_page(request, db, principal, number, error=message, failed=step, form=form, status_code=problem.status)
    flash(request, done)
    return RedirectResponse(f"/hotline/tickets/{number}", status_code=303)


@router.post("/hotline/tickets/{number}/sign", summary="签收工单")
def sign(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)],
         version: Version = None, csrf_token: Csrf = ""):
    return _step(request, db, principal, number, "sign", csrf_token, f"工单 {number} 已签收", {},
                 lambda: tickets.sign(db, principal, number, version=version))


@router.post("/hotline/tickets/{number}/reply", summary="办理并答复")
def reply(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)],
          reply: Text = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        if len(reply.strip()) < 2:
            raise Problem("validation-error", "请填写办理结果和给来电人的答复")
        tickets.reply(db, principal, number, reply_text=reply, version=version)
    return _step(request, db, principal, number, "reply", csrf_token, f"工单 {number} 已答复，待热线中心回访", {"reply": reply}, act)


@router.post("/hotline/tickets/{number}/return", summary="退单")
def return_ticket(request: Request, number: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)],
                  reason: Text = "", version: Version = None, csrf_token: Csrf = ""):
    return _step(request, db, principal, number, "return", csrf_token, f"工单 {number} 已退回热线中心", {"reason": reason},
                 lambda: tickets.return_ticket(db, principal, number, reason=reason, version=version))


@router.post("/hotline/tickets/{number}/extension", summary="申请延期")
def extension(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)],
              days: Annotated[int, Form(ge=1, le=30)] = 1, reason: Text = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        if len(reason.strip()) < 2:
            raise Problem("validation-error", "请说明申请延期的理由")
        tickets.request_extension(db, principal, number, days=days, reason=reason, version=version)
    return _step(request, db, principal, number, "extension", csrf_token, f"工单 {number} 的延期申请已提交",
                 {"days": days, "reason": reason}, act)


@router.post("/hotline/tickets/{number}/decide-extension", summary="审批延期")
def decide_extension(request: Request, number: str, db: DbSession,
                     principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)],
                     approve: Annotated[str, Form(max_length=3)] = "", note: Short = "", version: Version = None,
                     csrf_token: Csrf = ""):
    def act():
        if approve not in ("yes", "no"):
            raise Problem("validation-error", "请选择同意或不同意延期")
        tickets.decide_extension(db, principal, number, approve=approve == "yes", note=note.strip() or None, version=version)
    return _step(request, db, principal, number, "decide_extension", csrf_token,
                 f"工单 {number} 延期申请{'已同意' if approve == 'yes' else '未同意'}", {"note": note}, act)


@router.post("/hotline/tickets/{number}/dispatch", summary="重新派单")
def dispatch(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)],
             department: Annotated[str, Form(max_length=32)] = "", note: Short = "", version: Version = None,
             category: Annotated[str, Form(max_length=16)] = "", csrf_token: Csrf = ""):
    return _step(request, db, principal, number, "dispatch", csrf_token, f"工单 {number} 已派单",
                 {"department": department, "note": note, "category": category},
                 lambda: tickets.reroute(db, principal, number, department_code=department or None, note=note.strip() or None,
                                         version=version, category=category.strip() or None))


@router.post("/hotline/tickets/{number}/urge", summary="督办")
def urge(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)],
         note: Short = "", version: Version = None, csrf_token: Csrf = ""):
    return _step(request, db, principal, number, "urge", csrf_token, f"工单 {number} 已督办", {"note": note},
                 lambda: tickets.urge(db, principal, number, note=note, version=version))


@router.post("/hotline/tickets/{number}/follow-up", summary="回访")
def follow_up(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)],
              satisfaction: Annotated[str, Form(max_length=20)] = "", solved: Annotated[str, Form(max_length=3)] = "",
              note: Short = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        if satisfaction not in SATISFACTION_LABELS:
            raise Problem("validation-error", "请选择来电人的满意度评价")
        if solved not in ("yes", "no"):
            raise Problem("validation-error", "请选择问题是否已解决")
        tickets.follow_up(db, principal, number, satisfaction=satisfaction, solved=solved == "yes", note=note, version=version)
    done = f"工单 {number} 回访完成，已办结" if solved == "yes" else f"工单 {number} 回访未解决，已重新交办"
    return _step(request, db, principal, number, "follow_up", csrf_token, done,
                 {"satisfaction": satisfaction, "solved": solved, "note": note}, act)


@router.post("/hotline/tickets/{number}/contact", summary="查看完整号码")
def contact(request: Request, number: str, db: DbSession,
            principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE, Permission.HOTLINE_HANDLE)],
            purpose: Short = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    case = tickets.readable(db, principal, number[:24])
    try:
        clear = tickets.contact(db, principal, case, tickets.ticket_of(db, case.id), purpose=purpose)
    except Problem as problem:
        if problem.status != 422:
            raise
        db.rollback()
        return _ticket_page(request, db, principal, number[:24], error=problem.detail, failed="contact",
                            form={"purpose": purpose}, status_code=422)
    db.commit()
    return _ticket_page(request, db, principal, number[:24], contact=clear)
