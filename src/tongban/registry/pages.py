"""Staff pages: look up a record, read its history and compare versions, handle corrections,
import files and follow the imports."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from tongban.accounts.pages import check_csrf
from tongban.core.auth import Principal, require
from tongban.core.database import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.templating import flash
from tongban.org import service as org
from tongban.registry import corrections, importer, service
from tongban.registry.models import RecordVersion
from tongban.registry.schema import DUTY_LABELS, REGISTRIES
from tongban.registry.schemas import RegistrySlug

router = APIRouter(include_in_schema=False)


def _sources(db) -> dict[str, str]:
    """Duty → the name of the department that is its source."""
    return {duty.value: service.source_name(db, duty) for duty in DUTY_LABELS}


@router.get("/staff/registry", summary="基础库查询")
def lookup(request: Request, principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
           slug: RegistrySlug = RegistrySlug.PERSONS, key: Annotated[str | None, Query(max_length=40)] = None,
           purpose: Annotated[str | None, Query(max_length=200)] = None):
    if key:
        target = f"/staff/registry/{slug.value}/{key.strip()}" + (f"?purpose={purpose}" if purpose else "")
        return RedirectResponse(target, status_code=303)
    return _render(request, "registry_lookup.html", principal=principal, slugs=list(RegistrySlug), slug=slug)


def _render(request, template, **context):
    from tongban.core.templating import render

    return render(request, template, registries=REGISTRIES, **context)


@router.get("/staff/registry/{slug}/{key}", summary="记录详情与历史")
def record(request: Request, slug: RegistrySlug, key: str, db: DbSession,
           principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
           purpose: Annotated[str | None, Query(max_length=200)] = None):
    registry = REGISTRIES[slug.registry_name]
    key = service.validate_key(registry, key)
    purpose = purpose or None
    clear = service.may_read_clear(principal, purpose)
    service.audit_read(db, principal, registry, key, purpose, clear, page=True)
    db.commit()
    row = service.current_row(db, registry, key)
    if row is None:
        raise Problem("not-found", f"{registry.label}库中没有 {key}")
    values, masked = service.present(registry, row, clear=clear)
    versions = list(db.scalars(select(RecordVersion).where(RecordVersion.registry_name == registry.name,
                                                           RecordVersion.record_key == key)
                               .order_by(RecordVersion.version.desc()).limit(50)))
    history = [{"version": v.version, "changed_at": v.changed_at, "department_code": v.department_code,
                "actor_name": v.actor_name, "reason": v.reason,
                "changed": [registry.by_name[n].label for n in json.loads(v.changed_fields)]} for v in versions]
    return _render(request, "registry_record.html", principal=principal, registry=registry, slug=slug, key=key,
                   row=row, values=values, masked=masked, purpose=purpose or "", history=history,
                   sources=_sources(db), can_request=principal.can(Permission.CORRECTION_REQUEST),
                   can_read_clear=principal.can(Permission.REGISTRY_READ_PERSONAL))


@router.get("/staff/registry/{slug}/{key}/compare", summary="版本对比")
def compare(request: Request, slug: RegistrySlug, key: str, db: DbSession,
            principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
            a: Annotated[int, Query(ge=1)], b: Annotated[int, Query(ge=1)],
            purpose: Annotated[str | None, Query(max_length=200)] = None):
    registry = REGISTRIES[slug.registry_name]
    key = service.validate_key(registry, key)
    purpose = purpose or None
    clear = service.may_read_clear(principal, purpose)
    found = {v.version: v for v in db.scalars(select(RecordVersion).where(
        RecordVersion.registry_name == registry.name, RecordVersion.record_key == key, RecordVersion.version.in_([a, b])))}
    if a not in found or b not in found:
        raise Problem("not-found", f"{key} 没有第 {a if a not in found else b} 版")
    service.audit_read(db, principal, registry, key, purpose, clear, compare=[a, b])
    db.commit()
    left, _ = service.present(registry, json.loads(found[a].data), clear=clear)
    right, _ = service.present(registry, json.loads(found[b].data), clear=clear)
    rows = [(f, left.get(f.name), right.get(f.name)) for f in registry.fields]
    return _render(request, "registry_compare.html", principal=principal, registry=registry, slug=slug, key=key,
                   a=found[a], b=found[b], rows=rows, purpose=purpose or "")


@router.post("/staff/registry/{slug}/{key}/corrections", summary="提出纠错")
def request_correction(request: Request, slug: RegistrySlug, key: str, db: DbSession,
                       principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                       field: Annotated[str, Form(max_length=40)], proposed_value: Annotated[str, Form(max_length=2000)],
                       reason: Annotated[str, Form(min_length=2, max_length=500)],
                       csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    registry = REGISTRIES[slug.registry_name]
    correction = corrections.request_correction(
        db, registry=registry, key=service.validate_key(registry, key), field_name=field, proposed=proposed_value or None,
        reason=reason, evidence=None, requester=principal, working_days=request.app.state.settings.correction_days)
    db.commit()
    return RedirectResponse(f"/staff/corrections?created={correction.id}", status_code=303)


@router.get("/staff/corrections", summary="纠错申请")
def correction_queue(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                     created: int | None = None):
    items = corrections.visible(db, principal)
    departments = {d.code: d.short_name for d in org.list_all(db)}
    return _render(request, "registry_corrections.html", principal=principal, items=items, created=created,
                   departments=departments, labels={name: {f.name: f.label for f in r.fields} for name, r in REGISTRIES.items()},
                   can_decide=principal.can(Permission.CORRECTION_DECIDE))


@router.post("/staff/corrections/{correction_id}", summary="处理纠错申请")
def decide(request: Request, correction_id: int, db: DbSession,
           principal: Annotated[Principal, require(Permission.CORRECTION_DECIDE)],
           decision: Annotated[str, Form(pattern="^(accept|reject)$")],
           reason: Annotated[str, Form(min_length=2, max_length=500)],
           csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    corrections.decide(db, correction_id=correction_id, accept=decision == "accept", reason=reason,
                       decider=principal, registries=REGISTRIES)
    db.commit()
    return RedirectResponse("/staff/corrections", status_code=303)


@router.get("/staff/registry/imports", summary="批量导入")
def imports(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)]):
    return _imports_page(request, db, principal)


def _imports_page(request: Request, db, principal: Principal, *, status_code: int = 200, error: str | None = None):
    # The department's own registries first: a steward mostly imports what its department is the source of.
    mine = [r for r in REGISTRIES.values() if r.owner.value == principal.department_duty]
    choices = mine + [r for r in REGISTRIES.values() if r not in mine]
    return _render(request, "registry_imports.html", status_code=status_code, principal=principal, error=error,
                   jobs=importer.recent_jobs(db, principal.department_code), choices=choices,
                   status_labels=importer.STATUS_LABELS, progress_of=importer.progress_of)


@router.post("/staff/registry/imports", summary="上传文件批量导入")
def upload(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)],
           registry: Annotated[str, Form(max_length=40)], file: Annotated[UploadFile, File()],
           csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    db.rollback()  # as in the API: on SQLite this request's transaction would hold the lock the job needs
    try:
        if registry not in REGISTRIES:
            raise Problem("validation-error", f"没有名为 {registry} 的基础库")
        importer.start_upload(request.app.state.sessionmaker, request.app.state.settings, registry=REGISTRIES[registry],
                              upload=file.file, file_name=file.filename, actor=principal, encoding=None)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return _imports_page(request, db, principal, status_code=problem.status, error=problem.detail)
    flash(request, f"已开始导入 {file.filename}，进度见下表（刷新页面查看最新状态）。")
    return RedirectResponse("/staff/registry/imports", status_code=303)
