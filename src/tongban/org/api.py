"""Government structure: public list of departments; the e-government office registers new ones and
keeps their organ codes and contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from tongban.core import audit
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.org import service
from tongban.org.schemas import DepartmentCreate, DepartmentRead, DepartmentUpdate

router = APIRouter(prefix="/api/v1/departments", tags=["政府机构 organisation"])


@router.get("", response_model=list[DepartmentRead], summary="政府机构列表")
def list_departments(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return [service.to_read(d) for d in service.list_all(db)]


@router.get("/{code}", response_model=DepartmentRead, summary="机构详情")
def get_department(code: str, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return service.to_read(service.get_by_code_or_404(db, code))


@router.post("", response_model=DepartmentRead, status_code=201, summary="登记机构")
def create_department(body: DepartmentCreate, db: DbSession, principal: Annotated[Principal, require(Permission.ORG_MANAGE)]):
    department = service.create(db, department_in=body)
    audit.record(db, actor=principal, action="departments.create", object_type="department", object_id=department.code)
    db.commit()
    return service.to_read(department)


@router.patch("/{code}", response_model=DepartmentRead, summary="修改机构信息（机构标识、电话、地址）")
def update_department(code: str, body: DepartmentUpdate, db: DbSession,
                      principal: Annotated[Principal, require(Permission.ORG_MANAGE)]):
    department, changed = service.update(db, code, body)
    if changed:
        audit.record(db, actor=principal, action="departments.update", object_type="department", object_id=department.code,
                     details={field: {"from": old, "to": new} for field, (old, new) in changed.items()})
    db.commit()
    return service.to_read(department)
