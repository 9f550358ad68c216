"""/api/v1/applications (办件), /api/v1/tasks (department queues), /api/v1/processes (BPMN)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from tongban.cases import schemas, service
from tongban.cases.models import (
    DECISION_LABELS, STATUS_LABELS, TASK_STATUS_LABELS, Application, ApplicationStatus, CaseTask, TaskStatus,
)
from tongban.core import throttle
from tongban.core.auth import Principal, deny, require
from tongban.core.db.session import DbSession, ReadDbSession
from tongban.core.errors import THROTTLED, Problem
from tongban.core.idempotency import request_hash
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit
from tongban.core.permissions import Permission
from tongban.core.responses import PlainJSONResponse
from tongban.core.urls import absolute_url

applications = APIRouter(prefix="/api/v1/applications", tags=["办件 applications"])
tasks = APIRouter(prefix="/api/v1/tasks", tags=["待办 tasks"])
processes = APIRouter(prefix="/api/v1/processes", tags=["流程 processes"])
licences = APIRouter(prefix="/api/v1/licences", tags=["证照 licences"])

MAX_BPMN_BYTES = 1024 * 1024
Materials = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]


class ApplicationIn(BaseModel):
    bundle: str | None = Field(default=None, max_length=64, description="一件事编码，如 enterprise-setup")
    item: str | None = Field(default=None, max_length=12, description="单一事项的基本编码")
    form: dict[str, Any] = Field(default_factory=dict, description="一张表：字段 → 值")
    materials: Materials = Field(default_factory=list, description="已提交的材料名称")
    applicant_id: str | None = Field(default=None, max_length=18, description="窗口代办：申请人身份证号或统一社会信用代码")
    applicant_name: str | None = Field(default=None, max_length=128, description="窗口代办：申请人姓名或名称")


class AcceptanceIn(BaseModel):
    decision: str = Field(pattern="^(accept|refuse|supplement)$")
    reason: str | None = Field(default=None, max_length=2000)
    missing: Materials = Field(default_factory=list, description="一次性告知：需补正的全部材料")


class ResubmitIn(BaseModel):
    form: dict[str, Any] | None = None
    materials: Materials = Field(default_factory=list)


class SupplyIn(BaseModel):
    note: str = Field(default="", max_length=2000)
    materials: Materials = Field(default_factory=list)


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(approve|refuse|supplement)$")
    opinion: str = Field(default="", max_length=2000)
    materials: Materials = Field(default_factory=list, description="退回补正：需补正的材料，须为本事项材料清单中的名称")
    version: Id | None = Field(default=None, ge=1, description="待办的版本号（来自待办列表），防止覆盖他人的更新")


def application_view(db, application: Application, *, staff: bool) -> dict[str, Any]:
    deadline = service.deadline(db, application)  # the application's supervision clock
    view = {
        "number": application.number, "name": application.name, "subject": {"kind": application.subject_kind,
                                                                             "code": application.subject_code},
        "channel": application.channel, "applicant_type": application.applicant_type,
        "applicant_name": application.applicant_name, "status": application.status,
        "status_label": STATUS_LABELS[ApplicationStatus(application.status)], "status_reason": application.status_reason,
        "accepted_on": application.accepted_on, "due_on": deadline.due_on if deadline else None,
        "limit_days": application.limit_days, "paused_days": deadline.paused_days if deadline else 0,
        "paused": deadline.paused if deadline else application.status == ApplicationStatus.SUPPLEMENT,
        "remaining_days": service.remaining_days(application, deadline),
        "process": {"key": application.definition.key, "version": application.definition.version},
        "created_at": application.created_at, "finished_at": application.finished_at,
        "form": json.loads(application.form), "materials": json.loads(application.materials),
        "tasks": [task_view(t) for t in service.tasks_of(db, application)],
        "timeline": [{"at": s.at, "actor": s.actor, "department": s.department_code, "kind": s.kind, "text": s.text}
                     for s in service.timeline(db, application)],
        "licences": [{"number": lic.number, "name": lic.name, "item": lic.item_code, "issued_by": lic.issued_by,
                      "issued_at": lic.issued_at} for lic in service.licences_of(db, application)],
    }
    view["applicant_id"] = application.applicant_id
    return view


def _timed_response(view: dict[str, Any]) -> PlainJSONResponse:
    """The answer, with the engine's share of the time as Server-Timing (what the benchmark reads)."""
    response = PlainJSONResponse(view)
    spent = service.engine_ms.get()
    if spent is not None:
        response.headers["Server-Timing"] = f"engine;dur={spent:.2f}"
    return response


def task_view(task: CaseTask) -> dict[str, Any]:
    return {"id": task.id, "version": task.row_version, "application": task.application.number,
            "application_name": task.application.name, "key": task.key, "name": task.name, "kind": task.kind,
            "item": task.item_code, "department": task.department.code if task.department else None,
            "status": task.status, "status_label": TASK_STATUS_LABELS[TaskStatus(task.status)], "claimed_by": task.claimed_by,
            "decision": task.decision, "decision_label": DECISION_LABELS.get(task.decision) if task.decision else None,
            "opinion": task.opinion, "decided_by": task.decided_by, "opened_at": task.opened_at,
            "decided_at": task.decided_at}


def _readable(db, principal: Principal, number: str) -> Application:
    application = service.application_or_404(db, number)
    if not service.may_read(db, principal, application):
        raise deny(db, principal, slug="department-scope", detail="无权查看该办件", action="cases.read",
                   object_type="application", object_id=application.number)
    return application


def _own(db, principal: Principal, number: str) -> Application:
    application = service.application_or_404(db, number)
    if not service.is_applicant(db, principal, application) and not principal.can(Permission.CASES_ACCEPT):
        raise deny(db, principal, slug="permission-denied", detail="只有申请人本人或窗口人员可以补正该办件",
                   action="cases.supply", object_type="application", object_id=application.number)
    return application


@applications.get("/forms", response_model=schemas.ApplicationForm, summary="可申请的「一件事」及其一张表（登录后预填本人信息）")
def forms(db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
          bundle: Annotated[str | None, Query(max_length=64)] = None,
          item: Annotated[str | None, Query(max_length=12)] = None,
          applicant_type: Annotated[str | None, Query(pattern="^(自然人|法人)$", description="服务对象两类皆可时：按谁申请")] = None):
    if item and not bundle and principal is not None:
        found = service.resolve_for(db, principal, item, applicant_type)
    else:
        found = service.subject(db, bundle=bundle, item=item, applicant_type=applicant_type)
    fields = service.prefill(db, principal, found) if principal is not None and principal.can(Permission.CASES_APPLY) \
        else service.prefill_blank(found)
    db.commit()  # the audit entries of the prefill reads
    return {"subject": {"kind": found.kind, "code": found.code, "name": found.name,
                        "applicant_type": found.applicant_type, "items": list(found.items)},
            "fields": fields, "materials": service.required_materials(db, found),
            "situations": service.situations(db, found),
            "material_list": service.material_list(db, found, holder=service.own_key(db, principal) if principal else None)}


@applications.post("", status_code=201, response_model=schemas.ApplicationView, summary="提交办件（网上申请或窗口代办）；Idempotency-Key 防重复提交")
def submit(request: Request, body: ApplicationIn, db: DbSession,
           principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)],
           idempotency_key: Annotated[str | None, Header(max_length=64)] = None):
    found = service.resolve_for(db, principal, body.item) if body.item and not body.bundle \
        else service.subject(db, bundle=body.bundle, item=body.item)
    application, created = service.submit(db, principal, found=found, form=body.form, provided=body.materials,
                                          idempotency_key=idempotency_key, applicant_id=body.applicant_id,
                                          applicant_name=body.applicant_name,
                                          request_hash=request_hash(request, body.model_dump(mode="json")))
    view = application_view(db, application, staff=False)  # read in the transaction: none begins after the commit
    db.commit()
    return PlainJSONResponse(view, status_code=201 if created else 200)


MAX_FILES = 40  # one per material: a bundle of five items asks for up to about thirty


async def read_filed_form(request: Request, found_fields, settings) -> tuple[dict, dict, dict[str, list], dict]:
    """A multipart application as the page and the API send it: ``field_<key>`` (or ``form`` as
    JSON), ``answer_<item>.<question>`` (or ``answers`` as JSON), files ``material:<key>``.
    (form, answers, uploads, the other fields)."""
    data = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    form: dict[str, Any] = {}
    raw_form = data.get("form")
    if isinstance(raw_form, str) and raw_form.strip():
        try:
            parsed = json.loads(raw_form)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Problem("validation-error", "form 须为 JSON 对象", errors=[{"field": "body.form", "code": "json", "message": "须为 JSON 对象"}])
        form = parsed
    for f in found_fields:
        if f"field_{f.key}" in data:
            form[f.key] = str(data.get(f"field_{f.key}", ""))[:f.max_length + 1]
    answers: dict[str, str] = {}
    raw_answers = data.get("answers")
    if isinstance(raw_answers, str) and raw_answers.strip():
        try:
            parsed = json.loads(raw_answers)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Problem("validation-error", "answers 须为 JSON 对象", errors=[{"field": "body.answers", "code": "json", "message": "须为 JSON 对象"}])
        answers = {str(k)[:40]: str(v)[:40] for k, v in parsed.items()}
    uploads: dict[str, list] = {}
    count = 0
    limit = settings.attachment_max_mb * 1024 * 1024
    for name, value in data.multi_items():
        if name.startswith("answer_") and isinstance(value, str) and value:
            answers[name.removeprefix("answer_")[:40]] = value[:40]
        elif name.startswith("material:") and not isinstance(value, str):
            if not value.filename and not value.size:
                continue  # a file input left empty
            count += 1
            if count > MAX_FILES:
                raise Problem("validation-error", f"一次最多上传 {MAX_FILES} 个文件")
            uploads.setdefault(name.removeprefix("material:")[:200], []).append((value.filename or "", await value.read(limit + 1)))
    others = {k: v for k, v in data.items() if isinstance(v, str)}
    return form, answers, uploads, others


@applications.post("/with-files", status_code=201, response_model=schemas.ApplicationView,
                   summary="提交办件并逐项上传材料（multipart：item 或 bundle、form、answers、material:<材料键> 文件；缺必交材料或文件不合格则整件不收）",
                   openapi_extra=uploads("attachment_max_mb", files=MAX_FILES))
async def submit_with_files(request: Request, db: DbSession,
                            principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)],
                            idempotency_key: Annotated[str | None, Header(max_length=64)] = None):
    settings = request.app.state.settings
    head = await request.form(max_files=MAX_FILES + 1, max_fields=200)
    code = str(head.get("item") or head.get("bundle") or "")[:64]
    if not code:
        raise Problem("validation-error", "请指定事项编码 (item) 或「一件事」(bundle)",
                      errors=[{"field": "body.item", "code": "required", "message": "请指定事项"}])
    kind = head.get("applicant_type")
    found = service.resolve_for(db, principal, code, kind if isinstance(kind, str) else None)
    form, answers, files, others = await read_filed_form(request, found.fields, settings)
    application, created = service.submit(
        db, principal, found=found, form=form, provided=[], idempotency_key=idempotency_key,
        applicant_id=others.get("applicant_id") or None, applicant_name=others.get("applicant_name") or None,
        request_hash=request_hash(request, {"code": code, "form": form, "answers": answers,
                                            "files": {k: [hashlib.sha256(d).hexdigest() for _n, d in v]
                                                      for k, v in files.items()}}),
        answers=answers, uploads=files, settings=settings)
    view = application_view(db, application, staff=False)
    db.commit()
    return PlainJSONResponse(view, status_code=201 if created else 200)


@applications.get("/mine", response_model=schemas.ApplicationBriefs, summary="我的办件")
def mine(db: DbSession, principal: Annotated[Principal, require(Permission.CASES_APPLY)]):
    rows = service.mine(db, principal)
    deadlines = service.deadlines(db, rows)
    return {"items": [{"number": a.number, "name": a.name, "status": a.status,
                       "status_label": STATUS_LABELS[ApplicationStatus(a.status)], "created_at": a.created_at,
                       "due_on": d.due_on if (d := deadlines.get(a.number)) else None,
                       "remaining_days": service.remaining_days(a, d)} for a in rows]}


@applications.get("/window", response_model=schemas.WindowQueue, summary="待受理的办件（一窗受理）")
def window(db: ReadDbSession, principal: Annotated[Principal, require(Permission.CASES_ACCEPT)]):
    # A material list is JSON the platform wrote: passed through as it is stored, not parsed and
    # written again for each of the up to 200 applications of every look at the window.
    return PlainJSONResponse({"items": [{"number": a.number, "name": a.name, "channel": a.channel,
                                         "applicant_name": a.applicant_name, "created_at": a.created_at,
                                         "materials": orjson.Fragment(a.materials)} for a in service.window_queue(db)]})


@applications.get("/{number}/status", response_model=schemas.PublicStatus, responses=THROTTLED, summary="办件进度查询（凭办件编号和申请人证件号码，免登录）")
def public_status(number: str, request: Request, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
                  applicant_id: Annotated[str, Query(min_length=1, max_length=18, description="申请人身份证号或统一社会信用代码")]):
    try:
        return service.progress(db, number=number, applicant_id=applicant_id, address=throttle.client_address(request))
    except Problem:
        db.commit()  # the mismatch counted against the address stays counted
        raise


@applications.get("/{number}", response_model=schemas.ApplicationView, summary="办件详情、进度和结果（申请人本人，或有权限的工作人员）")
def read(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = _readable(db, principal, number)
    return application_view(db, application, staff=principal.kind == "staff")


@applications.post("/{number}/acceptance", response_model=schemas.ApplicationView, summary="受理决定：受理、不予受理或一次性告知补正")
def acceptance(number: str, body: AcceptanceIn, db: DbSession,
               principal: Annotated[Principal, require(Permission.CASES_ACCEPT)]):
    application = service.accept(db, service.application_or_404(db, number, lock=True), principal, decision=body.decision,
                                 reason=body.reason, missing=body.missing)
    view = application_view(db, application, staff=True)
    db.commit()
    return _timed_response(view)


@applications.post("/{number}/resubmission", response_model=schemas.ApplicationView, summary="受理前补正后重新提交")
def resubmission(number: str, body: ResubmitIn, db: DbSession,
                 principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)]):
    application = service.resubmit(db, _own(db, principal, number), principal, form=body.form, provided=body.materials)
    db.commit()
    return application_view(db, application, staff=False)


@applications.post("/{number}/supplement", response_model=schemas.ApplicationView, summary="办理中补正（时限恢复计算）")
def supplement(number: str, body: SupplyIn, db: DbSession,
               principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)]):
    application = service.supply(db, _own(db, principal, number), principal, note=body.note, provided=body.materials)
    db.commit()
    return application_view(db, application, staff=False)


@applications.post("/{number}/attachments", status_code=201, response_model=schemas.Attachments, summary="上传材料（PDF、OFD、JPG、PNG；按内容识别类型，限制大小，病毒扫描）",
                   openapi_extra=uploads("attachment_max_mb"))
async def attach(number: str, request: Request, db: DbSession,
                 principal: Annotated[Principal, require(Permission.CASES_APPLY, Permission.CASES_ACCEPT)],
                 material: Annotated[str, Form(max_length=200, description="材料名称，须为本办件需提交的材料")],
                 file: Annotated[UploadFile, File(description="材料文件")]):
    settings = request.app.state.settings
    data = await file.read(settings.attachment_max_mb * 1024 * 1024 + 1)
    record = service.attach(db, settings, _own(db, principal, number), principal, material=material,
                            filename=file.filename or "", data=data)
    db.commit()
    return {"materials": record}


@tasks.get("", response_model=schemas.TaskQueue, summary="本部门待办（队列）")
def queue(db: ReadDbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)],
          status: Annotated[str | None, Query(pattern="^(open|claimed|done|cancelled)$")] = None,
          due: Annotated[str | None, Query(pattern="^(overdue|soon)$",
                                           description="overdue：本环节已逾期（红色预警）；soon：即将到期（黄色预警）")] = None,
          cursor: Cursor = None, limit: Limit = 200):
    rows, next_cursor = service.queue(db, principal, status=status, due=due, cursor=cursor, limit=limit)
    return PlainJSONResponse({"items": [task_view(t) for t in rows], "next_cursor": next_cursor})


@tasks.post("/{task_id}/claim", response_model=schemas.TaskView, summary="认领待办")
def claim(task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    task = service.claim(db, service.task_or_404(db, task_id), principal)
    db.commit()
    return task_view(task)


@tasks.get("/{task_id}", response_model=schemas.TaskDetail, response_model_exclude_unset=True,  # shared_data: {} when none
           summary="待办及其办件（含共享数据）")
def read_task(task_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    task = service.task_or_404(db, task_id)
    service.check_task_department(db, principal, task, "cases.read")
    view = task_view(task)
    view["application_detail"] = application_view(db, task.application, staff=True)
    view["shared_data"] = service.shared_data(db, principal, task.application)
    db.commit()
    return view


@tasks.post("/{task_id}/decision", response_model=schemas.TaskView, summary="办理决定：同意、不予许可或退回补正（附意见）")
def decision(task_id: Id, body: DecisionIn, db: DbSession, principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    task = service.decide(db, task_id, principal, decision=body.decision, opinion=body.opinion, version=body.version,
                          materials=body.materials)
    db.commit()
    return _timed_response(task_view(task))


@processes.get("", response_model=schemas.Processes, summary="流程定义及其版本")
def list_processes(db: DbSession, principal: Annotated[Principal, require(Permission.PROCESS_MANAGE)]):
    return {"items": [{"key": d.key, "version": d.version, "name": d.name, "items": json.loads(d.item_codes),
                       "uploaded_by": d.uploaded_by, "uploaded_at": d.uploaded_at} for d in service.definitions(db)]}


@processes.post("", status_code=201, response_model=schemas.ProcessView, summary="上传 BPMN 2.0 流程定义（同一流程编号形成新版本，运行中的办件沿用原版本）",
                 openapi_extra=uploads(MAX_BPMN_BYTES))
async def upload(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.PROCESS_MANAGE)],
                 file: Annotated[UploadFile, File(description="BPMN 2.0 XML 文件")]):
    data = await file.read(MAX_BPMN_BYTES + 1)
    if len(data) > MAX_BPMN_BYTES:
        raise Problem("payload-too-large", "流程定义文件超过 1 MB")
    row = service.upload_definition(db, data, actor=principal)
    db.commit()
    return {"key": row.key, "version": row.version, "name": row.name, "items": json.loads(row.item_codes)}


# ------------------------------------------------------------------ files and documents of a case


def pdf_response(data: bytes, filename: str) -> Response:
    """A generated PDF, opened in the browser (printable), saved under a Chinese name."""
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"})


@applications.get("/{number}/files/{file}", response_class=FileResponse,
                  summary="下载办件的材料文件（申请人本人，或窗口、承办部门的工作人员；工作人员的读取记入审计）")
def material_file(number: str, file: Annotated[str, Path(max_length=80, pattern=r"^[0-9a-f]{32}\.[a-z]{3}$")],
                  request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = service.application_or_404(db, number)
    path, filename, media_type = service.material_file(db, request.app.state.settings.data_dir, principal, application, file)
    db.commit()  # the audit entry of the read
    return FileResponse(path, media_type=media_type,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@applications.get("/{number}/acceptance-receipt", response_class=Response, summary="受理通知书 PDF（已受理的办件）")
def acceptance_receipt(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = _readable(db, principal, number)
    return pdf_response(service.acceptance_receipt(db, application), f"受理通知书-{application.number}.pdf")


@applications.get("/{number}/non-acceptance-notice", response_class=Response, summary="不予受理通知书 PDF")
def non_acceptance_notice(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = _readable(db, principal, number)
    return pdf_response(service.non_acceptance_notice(db, application), f"不予受理通知书-{application.number}.pdf")


@applications.get("/{number}/refusal-decision", response_class=Response, summary="不予行政许可决定书 PDF")
def refusal_decision(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = _readable(db, principal, number)
    return pdf_response(service.refusal_decision(db, application), f"不予行政许可决定书-{application.number}.pdf")


@applications.get("/{number}/result-notice", response_class=Response,
                  summary="办结文书 PDF：不发证照的准予办结（行政许可事项为准予行政许可决定书，其他为办结通知书）")
def result_notice(number: str, request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_READ)]):
    application = _readable(db, principal, number)
    title, data = service.result_notice(db, application, progress_url=absolute_url(request, request.app.url_path_for("progress_page")))
    return pdf_response(data, f"{title}-{application.number}.pdf")


@licences.get("/{number}/verification", response_model=schemas.LicenceCheck, summary="证照核验：有效、已过期或已撤销（免登录；持证人信息脱敏）")
def verify(number: Annotated[str, Path(max_length=40)], db: DbSession,
           _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return service.licence_check(db, number)


@licences.get("/{number}/pdf", response_class=Response, summary="证照 PDF（持证人本人或发证部门的工作人员；含核验二维码）")
def licence_pdf(number: Annotated[str, Path(max_length=40)], request: Request, db: DbSession,
                principal: Annotated[Principal, require(Permission.SELF_READ)]):
    licence = service.licence_or_404(db, number)
    service.check_licence_reader(db, principal, licence)
    verify_url = absolute_url(request, request.app.url_path_for("licence_check_page", number=licence.number))
    return pdf_response(service.licence_document(db, licence, verify_url=verify_url), f"{licence.name}-{licence.number}.pdf")


@licences.post("/{number}/revocation", response_model=schemas.LicenceCheck, summary="撤销证照（发证部门；理由公开于核验页）")
def revoke(number: Annotated[str, Path(max_length=40)], body: schemas.RevocationIn, db: DbSession,
           principal: Annotated[Principal, require(Permission.CASES_REVIEW)]):
    service.revoke(db, service.licence_or_404(db, number), principal, reason=body.reason)
    view = service.licence_check(db, number)
    db.commit()
    return view
