"""The e-government office's page of the departments: each one's organ code (the 实施机构 part of
its service items' 实施编码), the platform office it is (the e-government office), telephone and
address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from tongban.core import audit
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.org import service
from tongban.org.schemas import OFFICE_LABELS, DepartmentUpdate

router = APIRouter(include_in_schema=False)


def _page(request: Request, db: DbSession, principal: Principal, *, error: str | None = None,
          failed: str | None = None, status_code: int = 200):
    return render(request, "organisation.html", status_code=status_code, principal=principal,
                  departments=service.list_all(db), offices=OFFICE_LABELS, error=error, failed=failed)


@router.get("/staff/organisation", summary="机构信息")
def organisation_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ORG_MANAGE)]):
    return _page(request, db, principal)


@router.post("/staff/organisation/{code}", summary="修改机构信息")
def update_department(request: Request, code: str, db: DbSession,
                      principal: Annotated[Principal, require(Permission.ORG_MANAGE)],
                      organ_code: Annotated[str, Form(max_length=40)] = "",
                      office: Annotated[str, Form(max_length=16)] = "",
                      phone: Annotated[str, Form(max_length=40)] = "",
                      address: Annotated[str, Form(max_length=250)] = "",
                      csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    try:
        try:
            changes = DepartmentUpdate(organ_code=organ_code.strip().upper() or None, office=office or None,
                                       phone=phone.strip() or None, address=address.strip() or None)
        except ValidationError as invalid:
            raise Problem("validation-error", "；".join(str(e["msg"]) for e in invalid.errors())) from None
        department, changed = service.update(db, code, changes)
        if changed:
            audit.record(db, actor=principal, action="departments.update", object_type="department",
                         object_id=department.code,
                         details={field: {"from": old, "to": new} for field, (old, new) in changed.items()})
        db.commit()
    except Problem as problem:
        if problem.status >= 500 or problem.status == 404:
            raise
        db.rollback()
        return _page(request, db, principal, error=problem.detail, failed=code, status_code=problem.status)
    flash(request, f"已保存「{department.name}」的机构信息" if changed else f"「{department.name}」的机构信息没有改动")
    return RedirectResponse(f"/staff/organisation#dept-{department.code}", status_code=303)
