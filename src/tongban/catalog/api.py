"""/api/v1/catalog: the resource catalog, its export and import, and department dataset records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from tongban.catalog import service
from tongban.catalog.models import Resource
from tongban.catalog.schemas import CatalogExport, RecordsPush, ResourceIn, ResourceRead, ResourceStatus, StatusChange, resource_read
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.org import service as org

router = APIRouter(prefix="/api/v1/catalog", tags=["资源目录 catalog"])


@router.get("/resources", response_model=Page[ResourceRead], summary="检索资源目录")
def search(db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_READ)],
           q: Annotated[str | None, Query(max_length=100, description="名称、编码、摘要或信息项名称")] = None,
           provider: Annotated[str | None, Query(max_length=32, description="提供部门编码")] = None,
           classification: Annotated[str | None, Query(pattern="^(base|theme|department)$")] = None,
           sharing_type: Annotated[str | None, Query(pattern="^(unconditional|conditional|not_shared)$")] = None,
           status: Annotated[str | None, Query(pattern="^(draft|published|withdrawn)$")] = None,
           cursor: Cursor = None, limit: Limit = 50):
    query = service.search_query(q=q, provider=provider, classification=classification, sharing_type=sharing_type,
                                 status=status)
    rows, next_cursor = paginate(db, query, Resource.code, cursor=cursor, limit=limit, descending=False)
    return Page[ResourceRead](items=[resource_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/resources/{code}", response_model=ResourceRead, summary="资源详情及其信息项")
def read(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_READ)]):
    return resource_read(service.get_or_404(db, code))


def _provider_for(db, principal: Principal, provider_code: str | None):
    department = org.get_by_code_or_404(db, provider_code) if provider_code else None
    if department is None:
        if principal.department_id is None or principal.department_code is None:
            raise Problem("validation-error", "请指定提供部门 (provider)")
        department = org.get_by_code_or_404(db, principal.department_code)
    ensure_department(db, principal, Permission.CATALOG_MANAGE, department, action="catalog.create")
    return department


@router.post("/resources", response_model=ResourceRead, status_code=201, summary="登记本部门的信息资源（草稿）")
def create(body: ResourceIn, db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_MANAGE)],
           provider: Annotated[str | None, Query(max_length=32, description="提供部门编码；默认本部门")] = None):
    department = _provider_for(db, principal, provider)
    resource = service.create(db, body, provider=department, actor=principal)
    db.commit()
    return resource_read(resource)


def _managed(db, principal: Principal, code: str, action: str) -> Resource:
    resource = service.get_or_404(db, code)
    ensure_department(db, principal, Permission.CATALOG_MANAGE, resource.provider, action=action)
    return resource


@router.put("/resources/{code}", response_model=ResourceRead, summary="修改信息资源（版本号加一）")
def update(code: str, body: ResourceIn, db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_MANAGE)]):
    resource = _managed(db, principal, code, "catalog.update")
    if body.code != code:
        raise Problem("validation-error", "资源编码不能修改", errors=[{"field": "body.code", "code": "immutable", "message": "编码不可改"}])
    service.update(db, resource, body, actor=principal)
    db.commit()
    return resource_read(resource)


@router.post("/resources/{code}/status", response_model=ResourceRead, summary="发布或撤回信息资源")
def change_status(code: str, body: StatusChange, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CATALOG_MANAGE)]):
    resource = _managed(db, principal, code, "catalog.status")
    service.set_status(db, resource, ResourceStatus(body.status), actor=principal)
    db.commit()
    return resource_read(resource)


@router.put("/resources/{code}/records", summary="推送本部门数据集的记录（按主键新增或更新）")
def push_records(code: str, body: RecordsPush, db: DbSession,
                 principal: Annotated[Principal, require(Permission.EXCHANGE_PUSH)]) -> dict[str, int]:
    resource = service.get_or_404(db, code)
    ensure_department(db, principal, Permission.EXCHANGE_PUSH, resource.provider, action="catalog.push")
    counts = service.push_records(db, resource, body.records, actor=principal)
    db.commit()
    return counts


@router.get("/export", summary="导出整个资源目录 (JSON)", response_model=CatalogExport)
def export(db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_READ)]) -> dict[str, Any]:
    return service.export(db)


@router.post("/import", summary="导入资源目录 (JSON)：全部校验通过才写入")
def import_catalog(db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_ARBITRATE)],
                   document: Annotated[Any, Body()]) -> dict[str, int]:
    counts = service.import_document(db, document, actor=principal)
    db.commit()
    return counts
