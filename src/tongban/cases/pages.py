"""Pages of applications: apply online with one form, follow my applications; the window's
acceptance queue; each department's task queue and decision form."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tongban.core.security import Csrf, check_csrf
from tongban.cases import service
from tongban.cases.api import MAX_FILES, read_filed_form
from tongban.cases.bundles import BUNDLES
from tongban.cases.models import DECISION_LABELS, STATUS_LABELS, TASK_STATUS_LABELS, ApplicationStatus
from tongban.core import throttle
from tongban.core.auth import Principal, deny, require
from tongban.core.errors import Problem
from tongban.core.db.session import DbSession
from tongban.core.idempotency import request_hash
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.templating import flash, render
from tongban.supervision import schemas as rating_labels, service as supervision

router = APIRouter(include_in_schema=False)
LABELS = {"status": STATUS_LABELS, "task": TASK_STATUS_LABELS, "decision": DECISION_LABELS}


@router.get("/progress", summary="办件进度查询")
def progress_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "cases_progress.html", principal=principal, found=None, problem=None, number="")


@router.post("/progress", summary="办件进度查询：结果")
def progress_lookup(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                    number: Annotated[str, Form(max_length=40)] = "", applicant_id: Annotated[str, Form(max_length=40)] = "",
                    csrf_token: Csrf = ""):
    # A form post (not a query string): the ID number stays out of addresses, histories and logs.
    check_csrf(request, csrf_token)
    try:
        found = service.progress(db, number=number, applicant_id=applicant_id, address=throttle.client_address(request))
    except Problem as problem:
        db.commit()  # the mismatch counted against the address stays counted
        return render(request, "cases_progress.html", status_code=problem.status, principal=principal, found=None,
                      problem=problem, number=number)
    return render(request, "cases_progress.html", principal=principal, found=found, problem=None, number=found.number)


@router.get("/apply", summary="一件事：在线申请")
def bundles_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "cases_bundles.html", principal=principal, bundles=list(BUNDLES.values()))


def _on_behalf(principal: Principal) -> bool:
    """A window clerk opening an application page files it for a walk-in applicant (窗口代办)."""
    return principal.can(Permission.CASES_ACCEPT) and principal.kind == "staff"


def _kinds(db, found) -> list[str]:
    """Who may apply for the subject: both kinds let the clerk choose whom to look up."""
    if found.kind == "bundle":
        return [found.applicant_type]
    return list(service.items_service_objects(db, found.code))


def _apply_view(request: Request, db, principal: Principal, found, *, fields, answers=None, errors=None,
                applicant=None, status_code: int = 200):
    errors = errors or []
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(str(error.get("field", "")), []).append(str(error.get("message", "")))
    chosen = answers or {}
    holder = applicant["key"] if applicant else service.own_key(db, principal)
    try:
        materials = service.material_list(db, found, chosen or None, holder=holder)
    except Problem:  # an answer not of the item's: the list as before any answer
        materials = service.material_list(db, found, holder=holder)
    return render(request, "cases_apply.html", principal=principal, subject=found, fields=fields,
                  situations=service.situations(db, found), chosen=chosen, materials=materials, errors=by_field,
                  problems=[e.get("message") for e in errors], applicant=applicant,
                  key=uuid.uuid4().hex, status_code=status_code)


@router.get("/apply/{code}", summary="一表申请")
def apply_page(request: Request, code: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)]):
    found = service.resolve_for(db, principal, code)
    if _on_behalf(principal):  # first the walk-in applicant, looked up with a purpose
        return render(request, "cases_apply_lookup.html", principal=principal, subject=found, error=None,
                      kinds=_kinds(db, found))
    fields = service.prefill(db, principal, found)
    db.commit()  # the audit entries of reading the applicant's own registry records
    return _apply_view(request, db, principal, found, fields=fields)


@router.post("/apply/{code}/applicant", summary="窗口代办：查询申请人")
def apply_lookup(request: Request, code: str, db: DbSession,
                 principal: Annotated[Principal, require(Permission.CASES_ACCEPT)],
                 applicant_key: Annotated[str, Form(max_length=40)] = "",
                 applicant_type: Annotated[str, Form(max_length=8)] = "",
                 purpose: Annotated[str, Form(max_length=200)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    found = service.resolve_for(db, principal, code, applicant_type or None)
    try:
        key, name, fields = service.prefill_for_applicant(db, principal, found, applicant_key, purpose)
    except Problem as problem:
        return render(request, "cases_apply_lookup.html", principal=principal, subject=found, error=problem.detail,
                      applicant_key=applicant_key, purpose=purpose, kinds=_kinds(db, found), status_code=problem.status)
    db.commit()  # the audited registry read
    return _apply_view(request, db, principal, found, fields=fields, applicant={"key": key, "name": name})


@router.post("/apply/{code}", summary="提交申请", openapi_extra=uploads("attachment_max_mb", files=MAX_FILES))
async def submit(request: Request, code: str, db: DbSession,
                 principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)]):
    data = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    token = data.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    chosen_type = data.get("applicant_type")
    found = service.resolve_for(db, principal, code, chosen_type if isinstance(chosen_type, str) else None)
    settings = request.app.state.settings
    form, answers, uploads_, others = await read_filed_form(request, found.fields, settings)
    walk_in = _on_behalf(principal)
    applicant = {"key": others.get("applicant_id", ""), "name": others.get("applicant_name", "")} if walk_in else None
    try:
        application, _created = service.submit(
            db, principal, found=found, form=form, provided=[],
            idempotency_key=str(others.get("idempotency_key", ""))[:64] or None,
            applicant_id=applicant["key"] if applicant else None,
            applicant_name=(applicant["name"] or form.get("applicant_name") or form.get("entity_name")) if applicant else None,
            request_hash=request_hash(request, {"form": form, "answers": answers,
                                                "files": {k: [hashlib.sha256(d).hexdigest() for _n, d in v]
                                                          for k, v in uploads_.items()}}),
            answers=answers, uploads=uploads_, settings=settings)
    except Problem as problem:
        db.rollback()  # nothing of a refused form is kept
        if problem.slug != "validation-error":
            raise
        # The form as it was sent, each prefilled field still saying where its value came from.
        sources = {} if walk_in else {f["key"]: f for f in service.prefill(db, principal, found)}
        fields = [{"key": f.key, "label": f.label, "kind": f.kind, "required": f.required, "choices": list(f.choices),
                   "value": form.get(f.key), "max_length": f.max_length,
                   "source": sources[f.key]["source"] if f.key in sources and sources[f.key]["value"] == form.get(f.key)
                   else None} for f in found.fields]
        return _apply_view(request, db, principal, found, fields=fields, answers=answers,
                           errors=problem.extensions.get("errors") or [{"field": "", "message": problem.detail}],
                           applicant=applicant, status_code=422)
    db.commit()
    flash(request, f"已提交，办件编号 {application.number}")
    return RedirectResponse(f"/applications/{application.number}", status_code=303)


@router.get("/applications", summary="我的办件")
def mine_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_APPLY)]):
    applications = service.mine(db, principal)
    deadlines = service.deadlines(db, applications)
    rows = [(a, service.remaining_days(a, deadlines.get(a.number))) for a in applications]
    return render(request, "cases_mine.html", principal=principal, rows=rows, labels=LABELS)


@router.get("/applications/{number}", summary="办件详情")
def application_page(request: Request, number: str, db: DbSession,
                     principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = service.application_or_404(db, number)
    if not service.may_read(db, principal, application):
        raise deny(db, principal, slug="department-scope", detail="无权查看该办件", action="cases.read",
                   object_type="application", object_id=application.number)
    rating = supervision.rating_of(db, application.id)
    deadline = service.deadline(db, application)
    service.read_case_file(db, principal, application, purpose=f"查看办件 {application.number}")
    page = render(request, "cases_application.html", principal=principal, application=application,
                  entries=service.form_entries(db, application), materials=json.loads(application.materials),
                  tasks=service.tasks_of(db, application), steps=service.timeline(db, application),
                  licences=service.licences_of(db, application), deadline=deadline,
                  result_document=service.result_document_title(db, application),
                  remaining=service.remaining_days(application, deadline),
                  labels=LABELS, own=service.is_applicant(db, principal, application), Status=ApplicationStatus,
                  wanted=service.wanted(application),
                  rating=rating, rating_reasons=supervision.rating_reasons(rating) if rating else [],
                  score_labels=rating_labels.SCORE_LABELS, poor_reasons=rating_labels.POOR_REASONS,
                  good_reasons=rating_labels.GOOD_REASONS)
    db.commit()  # a staff member's read of the case file is audited
    return page


@router.post("/applications/{number}/supplement", summary="补正", openapi_extra=uploads("attachment_max_mb", files=MAX_FILES))
async def supplement(request: Request, number: str, db: DbSession,
                     principal: Annotated[Principal, require(Permission.CASES_APPLY)]):
    data = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    token = data.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    application = service.application_or_404(db, number)
    if not service.is_applicant(db, principal, application):
        raise deny(db, principal, slug="permission-denied", detail="只有申请人本人可以补正", action="cases.supply",
                   object_type="application", object_id=application.number)
    _form, _answers, files, others = await read_filed_form(request, (), request.app.state.settings)
    note = str(others.get("note", ""))[:2000]
    provided = service.upload_wanted(db, request.app.state.settings, application, principal, files)
    if application.status == ApplicationStatus.RETURNED:
        service.resubmit(db, application, principal, form=None, provided=provided)
    else:
        service.supply(db, application, principal, note=note, provided=provided)
    db.commit()
    flash(request, "补正已提交")
    return RedirectResponse(f"/applications/{number}", status_code=303)


@router.get("/staff/window", summary="一窗受理")
def window_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_ACCEPT)]):
    rows = [(a, json.loads(a.materials)) for a in service.window_queue(db)]
    return render(request, "cases_window.html", principal=principal, rows=rows)


@router.get("/staff/window/walk-in", summary="窗口代办：选择事项")
def walk_in(db: DbSession, principal: Annotated[Principal, require(Permission.CASES_ACCEPT)],
            code: Annotated[str, Query(max_length=64)] = ""):
    found = service.resolve(db, code.strip())  # unknown or unpublished: told so here
    return RedirectResponse(f"/apply/{found.code}", status_code=303)


@router.post("/staff/window/{number}", summary="受理决定")
def acceptance(request: Request, number: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.CASES_ACCEPT)],
               decision: Annotated[str, Form(pattern="^(accept|refuse|supplement)$")] = "accept",
               reason: Annotated[str, Form(max_length=2000)] = "", missing: Annotated[str, Form(max_length=2000)] = "",
               csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    wanted = [m.strip() for m in missing.replace("，", ",").replace("、", ",").replace("\n", ",").split(",") if m.strip()]
    application = service.accept(db, service.application_or_404(db, number, lock=True), principal, decision=decision,
                                 reason=reason, missing=wanted)
    db.commit()
    flash(request, f"办件 {application.number}：{STATUS_LABELS[ApplicationStatus(application.status)]}")
    return RedirectResponse("/staff/window", status_code=303)


# 不予受理: the grounds a window meets most (行政许可法第三十二条); the clerk picks one and may add to it.
REFUSAL_GROUNDS = ("申请事项依法不需要取得行政许可", "申请事项依法不属于本机关职权范围", "申请人不具备申请资格",
                   "申请材料存在虚假内容", "同一事项已在办理中，不得重复申请", "其他")


@router.get("/staff/window/{number}", summary="受理审查：申请表、材料和受理决定")
def window_case_page(request: Request, number: str, db: DbSession,
                     principal: Annotated[Principal, require(Permission.CASES_ACCEPT)]):
    application = service.application_or_404(db, number)
    service.read_case_file(db, principal, application, purpose=f"受理审查办件 {application.number}")
    deadline = service.deadline(db, application)
    page = render(request, "cases_window_case.html", principal=principal, application=application,
                  entries=service.form_entries(db, application), materials=json.loads(application.materials),
                  applicant_id=service.masked_applicant_id(application), steps=service.timeline(db, application),
                  choices=service.material_choices(db, application), grounds=REFUSAL_GROUNDS, deadline=deadline,
                  result_document=service.result_document_title(db, application),
                  labels=LABELS, Status=ApplicationStatus)
    db.commit()  # the audit entry of the read
    return page


@router.post("/staff/window/{number}/decision", summary="受理决定（受理、不予受理、一次性告知补正）")
async def window_decision(request: Request, number: str, db: DbSession,
                          principal: Annotated[Principal, require(Permission.CASES_ACCEPT)]):
    data = await request.form()
    token = data.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    decision = str(data.get("decision", ""))
    application = service.application_or_404(db, number, lock=True)
    reason, missing = "", []
    if decision == "refuse":
        ground, said = str(data.get("ground", ""))[:200].strip(), str(data.get("reason", ""))[:1800].strip()
        if ground not in REFUSAL_GROUNDS or (ground == "其他" and not said):
            raise Problem("validation-error", "不予受理须选择理由（选「其他」时请写明）",
                          errors=[{"field": "body.reason", "code": "required", "message": "请选择或填写不予受理的理由"}])
        reason = said if ground == "其他" else ground + (f"：{said}" if said else "")
    elif decision == "supplement":
        choices = service.material_choices(db, application)
        picked = sorted({int(v) for v in map(str, data.getlist("missing")[:200]) if v.isdigit() and int(v) < len(choices)})
        names = list(dict.fromkeys(choices[i].name for i in picked))  # the item's own names, each once
        notes = [f"{choices[i].name}：{note}" for i in picked if (note := str(data.get(f"note_{i}", ""))[:300].strip())]
        missing, reason = names, "；".join(notes)
    elif decision != "accept":
        raise Problem("validation-error", "请选择受理、不予受理或一次性告知补正")
    application = service.accept(db, application, principal, decision=decision, reason=reason, missing=missing)
    db.commit()
    flash(request, f"办件 {application.number}：{STATUS_LABELS[ApplicationStatus(application.status)]}")
    return RedirectResponse(f"/staff/window/{application.number}", status_code=303)


@router.get("/verify/licences/{number}", name="licence_check_page", summary="证照核验（扫码查询，免登录）")
def licence_check_page(request: Request, number: str, db: DbSession,
                       principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "cases_verify.html", principal=principal, check=service.licence_check(db, number[:40]))


@router.get("/staff/tasks", summary="本部门待办")
def tasks_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)],
               due: Annotated[str | None, Query(pattern="^(overdue|soon)$")] = None):
    tasks = service.queue(db, principal, due=due)[0]
    deadlines = service.deadlines(db, [t.application for t in tasks])
    own = service.task_deadlines(db, tasks)
    rows = [(t, own.get(t.id), service.remaining_days(t.application, deadlines.get(t.application.number))) for t in tasks]
    return render(request, "cases_tasks.html", principal=principal, rows=rows, labels=LABELS, due=due,
                  filters=supervision.DUE_FILTERS)


@router.get("/staff/tasks/{task_id}", summary="办理待办")
def task_page(request: Request, task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    task = service.task_or_404(db, task_id)
    service.check_task_department(db, principal, task, "cases.read")
    application = task.application
    shared = service.shared_data(db, principal, application)
    deadline = service.deadline(db, application)
    db.commit()  # the audit entry of reading the applicant's registry record
    return render(request, "cases_task.html", principal=principal, task=task, application=application,
                  entries=service.form_entries(db, application), materials=json.loads(application.materials), shared=shared,
                  steps=service.timeline(db, application), deadline=deadline,
                  remaining=service.remaining_days(application, deadline),
                  material_names=list(dict.fromkeys(m["name"] for m in service.material_list(
                      db, service.resolve(db, application.subject_code, application.applicant_type)))),
                  labels=LABELS)


@router.post("/staff/tasks/{task_id}", summary="提交办理决定")
def decide(request: Request, task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)],
           decision: Annotated[str, Form(pattern="^(approve|refuse|supplement)$")] = "approve",
           opinion: Annotated[str, Form(max_length=2000)] = "", version: Annotated[Id | None, Form()] = None,
           material: Annotated[list[str] | None, Form(max_length=100)] = None, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    task = service.decide(db, task_id, principal, decision=decision, opinion=opinion, version=version,
                          materials=[m[:200] for m in material or []])
    db.commit()
    flash(request, f"「{task.name}」：{DECISION_LABELS[decision]}")
    return RedirectResponse("/staff/tasks", status_code=303)
