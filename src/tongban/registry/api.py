"""Base registry API: read (masked unless allowed, every personal read audited), search,
history and as-of, writes by the source only, corrections, imports."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from sqlalchemy import select

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.org import service as org
from tongban.registry import corrections, importer, masking, service
from tongban.registry.models import TABLES, ImportJob, RecordVersion
from tongban.registry.schemas import REGISTRIES, Registry
from tongban.registry.schemas import (
    ClearRead, CorrectionCreate, CorrectionDecision, CorrectionRead, ImportJobRead, RecordRead, RecordWrite, RegistrySlug,
    SearchRequest, VersionRead, WriteRead,
)

router = APIRouter(prefix="/api/v1/registries", tags=["基础库 registries"])

Purpose = Annotated[str | None, Query(min_length=2, max_length=200, description="查阅用途；有个人信息查阅权限时据此显示明文")]


def _registry(slug: RegistrySlug) -> Registry:
    return REGISTRIES[slug.registry_name]


def _corrections_read(request: Request, db, principal: Principal, items, purpose: str | None, *,
                      from_link: bool) -> list[CorrectionRead]:
    clear = corrections.reveal(db, principal, items, REGISTRIES, purpose, from_link=from_link)
    db.commit()
    secret = request.app.state.settings.secret_key
    return [CorrectionRead.model_validate(corrections.present(c, REGISTRIES[c.registry_name], clear=clear, secret_key=secret))
            for c in items]


@router.get("/corrections", response_model=list[CorrectionRead],
            summary="纠错申请列表（本部门收到的和提出的）；个人信息脱敏，令牌调用方可带 purpose 查看明文")
def list_corrections(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                     purpose: Purpose = None,
                     status: Annotated[str | None, Query(pattern="^(pending|accepted|rejected)$")] = None):
    from_link = service.by_link(principal, request.method)
    service.refuse_purpose_by_link(purpose, from_link=from_link)
    items = corrections.visible(db, principal, status=status)
    return _corrections_read(request, db, principal, items, purpose, from_link=from_link)


@router.post("/corrections/reads", response_model=list[CorrectionRead], summary="说明用途后查阅纠错申请（明文，记入审计）")
def read_corrections(request: Request, body: ClearRead, db: DbSession,
                     principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)],
                     status: Annotated[str | None, Query(pattern="^(pending|accepted|rejected)$")] = None):
    items = corrections.visible(db, principal, status=status)
    return _corrections_read(request, db, principal, items, body.purpose, from_link=False)


@router.post("/corrections/{correction_id}/decision", response_model=CorrectionRead, summary="来源部门处理纠错申请")
def decide_correction(request: Request, correction_id: Id, body: CorrectionDecision, db: DbSession,
                      principal: Annotated[Principal, require(Permission.CORRECTION_DECIDE)]):
    correction = corrections.decide(db, correction_id=correction_id, accept=body.accept, reason=body.reason,
                                    decider=principal, registries=REGISTRIES)
    db.commit()
    return _corrections_read(request, db, principal, [correction], None, from_link=False)[0]


@router.get("/imports/{job_id}", response_model=ImportJobRead, summary="导入任务进度")
def import_status(job_id: str, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)]):
    job = _job(db, principal, job_id)
    return _job_read(job)


@router.get("/imports/{job_id}/rejected.csv", summary="导入被拒绝的行（行号与原因）", response_class=StreamingResponse)
def import_rejections(request: Request, job_id: str, db: DbSession,
                      principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)]):
    _job(db, principal, job_id)
    sessions = request.app.state.sessionmaker

    def report():
        # The request's session is closed before the body streams: the report reads with its own.
        with sessions() as own:
            yield from importer.rejected_csv(own, job_id)

    return StreamingResponse(report(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="rejected-{job_id[:8]}.csv"'})


def _job(db, principal: Principal, job_id: str) -> ImportJob:
    job = db.get(ImportJob, job_id)
    if job is None:
        raise Problem("not-found", f"导入任务 {job_id} 不存在")
    if job.source_department != principal.department_code:
        raise Problem("department-scope", "只能查看本部门的导入任务")
    return job


def _job_read(job: ImportJob) -> ImportJobRead:
    fields = {c: getattr(job, c) for c in ImportJobRead.model_fields if c not in ("progress", "registry")}
    return ImportJobRead.model_validate({**fields, "registry": job.registry_name, "progress": importer.progress_of(job)})


@router.post("/{slug}/imports", response_model=ImportJobRead, status_code=202, summary="上传 CSV/XLSX 批量导入",
             openapi_extra=uploads("import_max_upload_mb"))
def start_import(request: Request, slug: RegistrySlug, db: DbSession,
                 principal: Annotated[Principal, require(Permission.REGISTRY_IMPORT)],
                 file: Annotated[UploadFile, File(description="UTF-8 CSV 或 XLSX；表头为字段名或中文名")],
                 encoding: Annotated[str | None, Query(pattern="^(utf-8|gbk|gb18030)$")] = None):
    db.rollback()  # release this request's transaction: on SQLite it holds the write lock the job needs
    job_id, worker = importer.start_upload(request.app.state.sessionmaker, request.app.state.settings,
                                           registry=_registry(slug), upload=file.file, file_name=file.filename,
                                           actor=principal, encoding=encoding)
    worker.join(timeout=1)  # a small file is done at once; a big one reports its progress
    return _job_read(_job(db, principal, job_id))


def _key(request: Request, registry: Registry, raw: str) -> str:
    return service.resolve_key(registry, raw, secret_key=request.app.state.settings.secret_key)


def _search(request: Request, db, principal: Principal, registry: Registry, *, purpose: str | None, from_link: bool,
            name: str | None, raw_filters: dict[str, str], cursor: str | None, limit: int) -> Page[RecordRead]:
    table = TABLES[registry.name]
    secret = request.app.state.settings.secret_key
    clear = service.may_read_clear(principal, purpose, from_link=from_link)
    query = select(table)
    if name:
        column = table.c.name if "name" in table.c else table.c[registry.key]
        query = query.where(column.startswith(name, autoescape=True))
    filters = {}
    for param, value in raw_filters.items():
        field = registry.by_name.get(param)
        if field is None:
            continue
        if field.personal and not clear:
            raise Problem("permission-denied", f"按个人信息字段 {field.label} 查询需要个人信息查阅权限并说明用途")
        filters[param] = service.parse_values(registry, {param: value}, location="query")[param]
        query = query.where(table.c[param] == filters[param])
    # The paginator's cursor carries the last key: sealed here, so a cursor never shows an ID number.
    after = None
    if cursor:
        after = masking.unseal(secret, f"cursor:{registry.name}", cursor)
        if after is None:
            raise Problem("validation-error", "分页游标无效或已过期，请从第一页重新开始",
                          errors=[{"field": "query.cursor", "code": "invalid_cursor", "message": "分页游标无效"}])
    rows, next_cursor = paginate(db, query, table.c[registry.key], cursor=after, limit=limit, descending=False,
                                 mappings=True)
    clear = service.reveal(db, principal, registry, None, purpose, from_link=from_link,
                           search={"name": name, **{k: str(v) for k, v in filters.items()}}, count=len(rows),
                           # which records were shown in clear: the accountability of a clear search
                           **({"keys": [row[registry.key] for row in rows]} if clear else {}))
    items = [_record_read(request, registry, row, clear) for row in rows]
    db.commit()
    return Page[RecordRead](items=items, next_cursor=next_cursor and masking.seal(secret, f"cursor:{registry.name}", next_cursor))


@router.get("/{slug}", response_model=Page[RecordRead], summary="按名称和条件查询（结果的主键按脱敏规则显示，另附不透明引用）")
def search(slug: RegistrySlug, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
           request: Request, purpose: Purpose = None, cursor: Cursor = None, limit: Limit = 20,
           name: Annotated[str | None, Query(min_length=1, max_length=50, description="名称/姓名，前缀匹配")] = None):
    registry = _registry(slug)
    from_link = service.by_link(principal, request.method)
    service.refuse_purpose_by_link(purpose, from_link=from_link)
    raw_filters = {k: v for k, v in request.query_params.items() if k in registry.by_name and k != "name"}
    return _search(request, db, principal, registry, purpose=purpose, from_link=from_link, name=name,
                   raw_filters=raw_filters, cursor=cursor, limit=limit)


@router.post("/{slug}/searches", response_model=Page[RecordRead], summary="说明用途后查询（明文须有个人信息查阅权限，记入审计）")
def search_with_purpose(slug: RegistrySlug, body: SearchRequest, db: DbSession, request: Request,
                        principal: Annotated[Principal, require(Permission.REGISTRY_READ)]):
    registry = _registry(slug)
    unknown = [k for k in body.filters if k not in registry.by_name or k == "name"]
    if unknown:
        raise Problem("validation-error", f"{registry.label}库没有可用于筛选的字段 {'、'.join(unknown)}",
                      errors=[{"field": f"body.filters.{k}", "code": "unknown_field", "message": "字段不存在"} for k in unknown])
    return _search(request, db, principal, registry, purpose=body.purpose, from_link=False, name=body.name,
                   raw_filters=body.filters, cursor=body.cursor, limit=body.limit)


def _record_read(request: Request, registry: Registry, row, clear: bool) -> RecordRead:
    values, masked = service.present(registry, dict(row), clear=clear)
    key = row[registry.key]
    return RecordRead(registry=registry.name, key=service.shown_key(registry, key, clear=clear),
                      ref=masking.reference(request.app.state.settings.secret_key, registry.name, key),
                      version=row["version"], updated_at=row["updated_at"],
                      updated_by=row["updated_by"], values=values, masked_fields=masked)


def _read(request: Request, db, principal: Principal, registry: Registry, key: str, *, purpose: str | None,
          from_link: bool, as_of) -> RecordRead:
    # Read, record the read, commit, and only then answer: no personal data leaves unlogged.
    if as_of is not None:
        found = service.as_of(db, registry, key, as_of)
        clear = service.reveal(db, principal, registry, key, purpose, from_link=from_link, as_of=as_of.isoformat())
        db.commit()
        if found is None:
            raise Problem("not-found", f"{as_of.isoformat()} 时{registry.label}库中没有 {service.shown_key(registry, key, clear=clear)}")
        data, version = found
        values, masked = service.present(registry, data, clear=clear)
        return RecordRead(registry=registry.name, key=service.shown_key(registry, key, clear=clear),
                          ref=masking.reference(request.app.state.settings.secret_key, registry.name, key),
                          version=version.version, updated_at=version.changed_at,
                          updated_by=version.department_code, values=values, masked_fields=masked, as_of=as_of)
    row = service.current_row(db, registry, key)
    clear = service.reveal(db, principal, registry, key, purpose, from_link=from_link)
    db.commit()
    if row is None:
        raise Problem("not-found", f"{registry.label}库中没有 {service.shown_key(registry, key, clear=clear)}")
    return _record_read(request, registry, row, clear)


@router.get("/{slug}/{key}", response_model=RecordRead,
            summary="按主键或引用查阅（人口：身份证号；法人：统一社会信用代码；地址：地址编码；或查询结果的 ref）")
def read(request: Request, slug: RegistrySlug, key: str, db: DbSession,
         principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
         purpose: Purpose = None, as_of: Annotated[AwareDatetime | None, Query(description="查看某一时刻的记录")] = None):
    registry = _registry(slug)
    key = _key(request, registry, key)
    from_link = service.by_link(principal, request.method)
    service.refuse_purpose_by_link(purpose, from_link=from_link)
    return _read(request, db, principal, registry, key, purpose=purpose, from_link=from_link, as_of=as_of)


@router.post("/{slug}/{key}/reads", response_model=RecordRead, summary="说明用途后查阅记录（明文须有个人信息查阅权限，记入审计）")
def read_with_purpose(request: Request, slug: RegistrySlug, key: str, body: ClearRead, db: DbSession,
                      principal: Annotated[Principal, require(Permission.REGISTRY_READ)]):
    registry = _registry(slug)
    return _read(request, db, principal, registry, _key(request, registry, key), purpose=body.purpose,
                 from_link=False, as_of=body.as_of)


@router.get("/{slug}/{key}/history", response_model=Page[VersionRead], summary="记录的变更历史")
def history(request: Request, slug: RegistrySlug, key: str, db: DbSession,
            principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
            purpose: Purpose = None, cursor: Cursor = None, limit: Limit = 50):
    registry = _registry(slug)
    key = _key(request, registry, key)
    from_link = service.by_link(principal, request.method)
    service.refuse_purpose_by_link(purpose, from_link=from_link)
    query = select(RecordVersion).where(RecordVersion.registry_name == registry.name, RecordVersion.record_key == key)
    versions, next_cursor = paginate(db, query, RecordVersion.version, cursor=cursor, limit=limit)
    clear = service.reveal(db, principal, registry, key, purpose, from_link=from_link, history=True)
    items = []
    for version in versions:
        values, masked = service.present(registry, json.loads(version.data), clear=clear)
        items.append(VersionRead(version=version.version, changed_at=version.changed_at, department_code=version.department_code,
                                 actor_name=version.actor_name, reason=version.reason,
                                 changed_fields=json.loads(version.changed_fields), values=values, masked_fields=masked))
    db.commit()
    return Page[VersionRead](items=items, next_cursor=next_cursor)


def _department(db, principal: Principal):
    if principal.department_code is None:
        raise Problem("not-authoritative", "当前账户不属于任何部门，不能写入基础库", status=403)
    return org.get_by_code_or_404(db, principal.department_code)


@router.post("/{slug}", response_model=WriteRead, status_code=201, summary="新建记录（仅权威来源部门）")
def create(slug: RegistrySlug, body: RecordWrite, db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_WRITE)]):
    registry = _registry(slug)
    values = service.parse_values(registry, body.values)
    key = values.get(registry.key)
    if not key:
        raise Problem("validation-error", f"缺少主键 {registry.key}", errors=[{"field": f"body.values.{registry.key}", "code": "missing", "message": "缺少必填字段"}])
    if service.current_row(db, registry, key) is not None:
        raise Problem("conflict", f"{registry.label}库中已有 {key}，请用 PATCH 修改")
    result = service.write(db, registry=registry, key=key, values=values, department=_department(db, principal),
                           actor=principal, reason=body.reason)
    db.commit()
    return WriteRead(**result.__dict__)


@router.patch("/{slug}/{key}", response_model=WriteRead, summary="修改记录的字段（仅该字段的权威来源部门）")
def change(request: Request, slug: RegistrySlug, key: str, body: RecordWrite, db: DbSession,
           principal: Annotated[Principal, require(Permission.REGISTRY_WRITE)]):
    registry = _registry(slug)
    key = _key(request, registry, key)
    values = service.parse_values(registry, body.values)
    if registry.key in values and values[registry.key] != key:
        raise Problem("validation-error", "主键不能修改", errors=[{"field": f"body.values.{registry.key}", "code": "immutable", "message": "主键不能修改"}])
    if service.current_row(db, registry, key) is None:
        raise Problem("not-found", f"{registry.label}库中没有 {key}")
    result = service.write(db, registry=registry, key=key, values=values, department=_department(db, principal),
                           actor=principal, reason=body.reason)
    db.commit()
    return WriteRead(**result.__dict__)


@router.post("/{slug}/{key}/corrections", response_model=CorrectionRead, status_code=201, summary="向来源部门提出纠错申请")
def request_correction(request: Request, slug: RegistrySlug, key: str, body: CorrectionCreate, db: DbSession,
                       principal: Annotated[Principal, require(Permission.CORRECTION_REQUEST)]):
    registry = _registry(slug)
    correction = corrections.request_correction(
        db, registry=registry, key=_key(request, registry, key), field_name=body.field, proposed=body.proposed_value,
        reason=body.reason, evidence=body.evidence, requester=principal,
        working_days=request.app.state.settings.correction_days)
    db.commit()
    # Asking for a correction is not a read: the answer shows the values masked like any other.
    return _corrections_read(request, db, principal, [correction], None, from_link=False)[0]
