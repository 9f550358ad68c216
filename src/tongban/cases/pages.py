"""Pages of applications: apply online with one form, follow my applications; the window's
acceptance queue; each department's task queue and decision form."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from tongban.core.security import check_csrf
from tongban.cases import service
from tongban.cases.bundles import BUNDLES
from tongban.cases.models import DECISION_LABELS, STATUS_LABELS, TASK_STATUS_LABELS, ApplicationStatus
from tongban.core.auth import Principal, deny, require
from tongban.core.db.session import DbSession
from tongban.core.idempotency import request_hash
from tongban.core.inputs import Id
from tongban.core.permissions import Permission
from tongban.core.templating import flash, render
from tongban.supervision import schemas as rating_labels, service as supervision

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
LABELS = {"status": STATUS_LABELS, "task": TASK_STATUS_LABELS, "decision": DECISION_LABELS}


@router.get("/apply", summary="一件事：在线申请")
def bundles_page(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "cases_bundles.html", principal=principal, bundles=list(BUNDLES.values()))


@router.get("/apply/{code}", summary="一表申请")
def apply_page(request: Request, code: str, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_APPLY)]):
    found = service.subject(db, bundle=code)
    fields = service.prefill(db, principal, found)
    db.commit()  # the audit entries of reading the applicant's own registry records
    return render(request, "cases_apply.html", principal=principal, subject=found, fields=fields,
                  materials=service.required_materials(db, found), key=uuid.uuid4().hex)


@router.post("/apply/{code}", summary="提交申请")
async def submit(request: Request, code: str, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_APPLY)]):
    data = await request.form()
    token = data.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    found = service.subject(db, bundle=code)
    form = {f.key: str(data.get(f"field_{f.key}", ""))[:f.max_length + 1] for f in found.fields}
    provided = [str(v)[:200] for v in data.getlist("material")][:100]
    application, _created = service.submit(db, principal, found=found, form=form, provided=provided,
                                           idempotency_key=str(data.get("idempotency_key", ""))[:64] or None,
                                           request_hash=request_hash(request, {"form": form, "materials": provided}))
    db.commit()
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
    return render(request, "cases_application.html", principal=principal, application=application,
                  form=json.loads(application.form), materials=json.loads(application.materials),
                  tasks=service.tasks_of(db, application), steps=service.timeline(db, application),
                  licences=service.licences_of(db, application), deadline=deadline,
                  remaining=service.remaining_days(application, deadline),
                  labels=LABELS, own=application.applicant_account == str(principal.actor_id), Status=ApplicationStatus,
                  rating=rating, rating_reasons=supervision.rating_reasons(rating) if rating else [],
                  score_labels=rating_labels.SCORE_LABELS, poor_reasons=rating_labels.POOR_REASONS,
                  good_reasons=rating_labels.GOOD_REASONS)


@router.post("/applications/{number}/supplement", summary="补正")
def supplement(request: Request, number: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.CASES_APPLY)],
               note: Annotated[str, Form(max_length=2000)] = "", materials: Annotated[str, Form(max_length=2000)] = "",
               csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    application = service.application_or_404(db, number)
    if application.applicant_account != str(principal.actor_id):
        raise deny(db, principal, slug="permission-denied", detail="只有申请人本人可以补正", action="cases.supply",
                   object_type="application", object_id=application.number)
    provided = [m.strip() for m in materials.replace("，", ",").replace("、", ",").split(",") if m.strip()]
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


@router.get("/staff/tasks", summary="本部门待办")
def tasks_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    tasks = service.queue(db, principal)[0]
    deadlines = service.deadlines(db, [t.application for t in tasks])
    rows = [(t, service.remaining_days(t.application, deadlines.get(t.application.number))) for t in tasks]
    return render(request, "cases_tasks.html", principal=principal, rows=rows, labels=LABELS)


@router.get("/staff/tasks/{task_id}", summary="办理待办")
def task_page(request: Request, task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    task = service.task_or_404(db, task_id)
    service.check_task_department(db, principal, task, "cases.read")
    application = task.application
    shared = service.shared_data(db, principal, application)
    deadline = service.deadline(db, application)
    db.commit()  # the audit entry of reading the applicant's registry record
    return render(request, "cases_task.html", principal=principal, task=task, application=application,
                  form=json.loads(application.form), field_labels=service.form_labels(db, application),
                  materials=json.loads(application.materials), shared=shared,
                  steps=service.timeline(db, application), deadline=deadline,
                  remaining=service.remaining_days(application, deadline),
                  labels=LABELS)


@router.post("/staff/tasks/{task_id}", summary="提交办理决定")
def decide(request: Request, task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)],
           decision: Annotated[str, Form(pattern="^(approve|refuse|supplement)$")] = "approve",
           opinion: Annotated[str, Form(max_length=2000)] = "", version: Annotated[Id | None, Form()] = None,
           csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    task = service.decide(db, task_id, principal, decision=decision, opinion=opinion, version=version)
    db.commit()
    flash(request, f"「{task.name}」：{DECISION_LABELS[decision]}")
    return RedirectResponse("/staff/tasks", status_code=303)
