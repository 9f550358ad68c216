"""Staff pages: look up a record, read its history and compare versions, handle corrections,
import files and follow the imports."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from tongban.core.security import Csrf, check_csrf
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.templating import flash
from tongban.org import service as org
from tongban.registry import corrections, importer, masking, service
from tongban.registry.models import RecordVersion
from tongban.registry.schemas import DUTY_LABELS, REGISTRIES
from tongban.registry.schemas import RegistrySlug

router = APIRouter(include_in_schema=False)


def _department_names(db, codes) -> dict[str, str]:
    """Department code → its short name: a page names 公安分局, not PD-GA (an unknown code as it is)."""
    found = org.by_codes(db, [c for c in codes if c])
    return {code: (found[code].short_name if code in found else code) for code in codes if code}


def _sources(db) -> dict[str, str]:
    """Duty → the name of the department that is its source."""
    return {duty.value: service.source_name(db, duty) for duty in DUTY_LABELS}


Purpose = Annotated[str, Form(max_length=200)]


@router.get("/staff/registry", summary="基础库查询")
def lookup(request: Request, principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
           slug: RegistrySlug = RegistrySlug.PERSONS, key: Annotated[str | None, Query(max_length=200)] = None):
    if key:
        return RedirectResponse(f"/staff/registry/{slug.value}/{key.strip()}", status_code=303)
    return _render(request, "registry_lookup.html", principal=principal, slugs=list(RegistrySlug), slug=slug)


@router.post("/staff/registry", summary="说明用途后查询记录")
def lookup_with_purpose(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
                        key: Annotated[str, Form(min_length=1, max_length=200)], slug: Annotated[RegistrySlug, Form()],
                        purpose: Purpose = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    if not purpose.strip():
        return RedirectResponse(f"/staff/registry/{slug.value}/{key.strip()}", status_code=303)
    return _record(request, db, principal, slug, key.strip(), purpose=purpose)


def _render(request, template, **context):
    from tongban.core.templating import render

    return render(request, template, registries=REGISTRIES, **context)


def _link_key(request: Request, registry, key: str, clear: bool) -> str:
    """What goes into this page's links: the key only where the reader may see it, else its reference."""
    if clear or not service.key_is_personal(registry):
        return key
    return masking.reference(request.app.state.settings.secret_key, registry.name, key)


def _record(request: Request, db, principal: Principal, slug: RegistrySlug, raw_key: str, *, purpose: str | None):
    registry = REGISTRIES[slug.registry_name]
    key = service.resolve_key(registry, raw_key, secret_key=request.app.state.settings.secret_key)
    clear = service.reveal(db, principal, registry, key, purpose, page=True)
    db.commit()
    row = service.current_row(db, registry, key)
    if row is None:
        raise Problem("not-found", f"{registry.label}库中没有 {service.shown_key(registry, key, clear=clear)}")
    values, masked = service.present(registry, row, clear=clear)
    versions = list(db.scalars(select(RecordVersion).where(RecordVersion.registry_name == registry.name,
                                                           RecordVersion.record_key == key)
                               .order_by(RecordVersion.version.desc()).limit(50)))
    history = [{"version": v.version, "changed_at": v.changed_at, "department_code": v.department_code,
                "actor_name": v.actor_name, "reason": v.reason,
                "changed": [registry.by_name[n].label for n in json.loads(v.changed_fields)]} for v in versions]
    return _render(request, "registry_record.html", principal=principal, registry=registry, slug=slug,
                   key=_link_key(request, registry, key, clear),
                   row=row, values=values, masked=masked, purpose=service.stated_purpose(purpose) if clear else "",
                   history=history, sources=_sources(db),
                   department_names=_department_names(db, [row["updated_by"], *(v.department_code for v in versions)]),
                   can_request=principal.can(Permission.CORRECTION_REQUEST),
                   can_read_clear=principal.can(Permission.REGISTRY_READ_PERSONAL))


@router.get("/staff/registry/{slug}/{key}", summary="记录详情与历史（个人信息脱敏）")
def record(request: Request, slug: RegistrySlug, key: str, db: DbSession,
           principal: Annotated[Principal, require(Permission.REGISTRY_READ)]):
    # No purpose from a link: a cross-site link would otherwise make a clear read in the reader's name.
    return _record(request, db, principal, slug, key, purpose=None)


@router.post("/staff/registry/{slug}/{key}", summary="说明用途后查看明文")
def record_with_purpose(request: Request, slug: RegistrySlug, key: str, db: DbSession,
                        principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
                        purpose: Annotated[str, Form(min_length=2, max_length=200)], csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _record(request, db, principal, slug, key, purpose=purpose)


def _compare(request: Request, db, principal: Principal, slug: RegistrySlug, raw_key: str, a: int, b: int,
             purpose: str | None):
    registry = REGISTRIES[slug.registry_name]
    key = service.resolve_key(registry, raw_key, secret_key=request.app.state.settings.secret_key)
    found = {v.version: v for v in db.scalars(select(RecordVersion).where(
        RecordVersion.registry_name == registry.name, RecordVersion.record_key == key, RecordVersion.version.in_([a, b])))}
    clear = service.reveal(db, principal, registry, key, purpose, compare=[a, b])
    db.commit()
    if a not in found or b not in found:
        raise Problem("not-found", f"{service.shown_key(registry, key, clear=clear)} 没有第 {a if a not in found else b} 版")
    left, _ = service.present(registry, json.loads(found[a].data), clear=clear)
    right, _ = service.present(registry, json.loads(found[b].data), clear=clear)
    rows = [(f, left.get(f.name), right.get(f.name)) for f in registry.fields]
    return _render(request, "registry_compare.html", principal=principal, registry=registry, slug=slug,
                   key=_link_key(request, registry, key, clear), shown_key=service.shown_key(registry, key, clear=clear),
                   a=found[a], b=found[b], rows=rows,
                   department_names=_department_names(db, [found[a].department_code, found[b].department_code]),
                   purpose=service.stated_purpose(purpose) if clear else "")


@router.get("/staff/registry/{slug}/{key}/compare", summary="版本对比（个人信息脱敏）")
def compare(request: Request, slug: RegistrySlug, key: str, db: DbSession,
            principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
            a: Annotated[Id, Query()], b: Annotated[Id, Query()]):
    return _compare(request, db, principal, slug, key, a, b, None)


@router.post("/staff/registry/{slug}/{key}/compare", summary="说明用途后对比版本")
def compare_with_purpose(request: Request, slug: RegistrySlug, key: str, db: DbSession,
                         principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
                         a: Annotated[Id, Form()], b: Annotated[Id, Form()],
                         purpose: Purpose = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _compare(request, db, principal, slug, key, a, b, purpose or None)


@router.post("/staff/registry/{slug}/{key}/corrections", summary="提出纠错")
def request_correction(request: Request, slug: RegistrySlug, key: str, db: DbSession,
                       principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                       field: Annotated[str, Form(max_length=40)], proposed_value: Annotated[str, Form(max_length=2000)],
                       reason: Annotated[str, Form(min_length=2, max_length=500)],
                       csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    registry = REGISTRIES[slug.registry_name]
    correction = corrections.request_correction(
        db, registry=registry, key=service.resolve_key(registry, key, secret_key=request.app.state.settings.secret_key),
        field_name=field, proposed=proposed_value or None,
        reason=reason, evidence=None, requester=principal, working_days=request.app.state.settings.correction_days)
    db.commit()
    return RedirectResponse(f"/staff/corrections?created={correction.id}", status_code=303)


def _correction_context(db) -> dict:
    return {"departments": {d.code: d.short_name for d in org.list_all(db)},
            "labels": {name: {f.name: f.label for f in r.fields} for name, r in REGISTRIES.items()}}


@router.get("/staff/corrections", summary="纠错申请（个人信息脱敏）")
def correction_queue(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                     created: Id | None = None):
    # The list is always masked: one purpose never shows every person of the queue in clear.
    # Each request's own page shows its values in clear once a purpose is stated.
    items = corrections.visible(db, principal)
    secret = request.app.state.settings.secret_key
    shown = [corrections.present(c, REGISTRIES[c.registry_name], clear=False, secret_key=secret) for c in items]
    return _render(request, "registry_corrections.html", principal=principal, items=shown, created=created,
                   can_decide=principal.can(Permission.CORRECTION_DECIDE), any_masked=any(c["masked"] for c in shown),
                   **_correction_context(db))


def _correction(request: Request, db, principal: Principal, correction_id: int, *, purpose: str | None):
    row = corrections.visible_one(db, principal, correction_id)
    clear = corrections.reveal(db, principal, [row], REGISTRIES, purpose, from_link=False)
    db.commit()
    shown = corrections.present(row, REGISTRIES[row.registry_name], clear=clear,
                                secret_key=request.app.state.settings.secret_key)
    return _render(request, "registry_correction.html", principal=principal, c=shown,
                   can_decide=principal.can(Permission.CORRECTION_DECIDE),
                   can_read_clear=principal.can(Permission.REGISTRY_READ_PERSONAL), **_correction_context(db))


@router.get("/staff/corrections/{correction_id}", summary="纠错申请详情（个人信息脱敏）")
def correction_page(request: Request, correction_id: Id, db: DbSession,
                    principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)]):
    return _correction(request, db, principal, correction_id, purpose=None)


@router.post("/staff/corrections/{correction_id}/reads", summary="说明用途后查看纠错申请的明文")
def correction_page_with_purpose(request: Request, correction_id: Id, db: DbSession,
                                 principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                                 purpose: Annotated[str, Form(min_length=2, max_length=200)], csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _correction(request, db, principal, correction_id, purpose=purpose)


@router.post("/staff/corrections/{correction_id}", summary="处理纠错申请")
def decide(request: Request, correction_id: Id, db: DbSession,
           principal: Annotated[Principal, require(Permission.CORRECTION_DECIDE)],
           decision: Annotated[str, Form(pattern="^(accept|reject)$")],
           reason: Annotated[str, Form(min_length=2, max_length=500)],
           csrf_token: Csrf = ""):
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


@router.post("/staff/registry/imports", summary="上传文件批量导入", openapi_extra=uploads("import_max_upload_mb"))
def upload(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)],
           registry: Annotated[str, Form(max_length=40)], file: Annotated[UploadFile, File()],
           csrf_token: Csrf = ""):
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
