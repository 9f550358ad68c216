"""Staff pages of the resource catalog: search it, read a resource and its items, ask to share it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from tongban.core.security import check_csrf
from tongban.catalog import service
from tongban.catalog.models import (
    CLASSIFICATION_LABELS, DATA_TYPES, OPENNESS_LABELS, SHARING_LABELS, STATUS_LABELS, Resource, ResourceStatus,
    SharingType,
)
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem, validation_errors
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.core.templating import flash, render
from tongban.org import service as org
from tongban.org.models import Department
from tongban.sharing import service as sharing
from tongban.sharing.models import OUTCOME_LABELS, STATUS_LABELS as REQUEST_STATUS_LABELS, ItemOutcome, SharingRequest
from tongban.sharing.schemas import RequestCreate
from tongban.core import clock

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
LABELS = {"classification": CLASSIFICATION_LABELS, "sharing": SHARING_LABELS, "status": STATUS_LABELS,
          "openness": OPENNESS_LABELS, "data_types": DATA_TYPES, "request_status": REQUEST_STATUS_LABELS,
          "outcome": OUTCOME_LABELS}
FIELD_LABELS = {"items": "信息项", "duty": "履职依据", "basis": "法律或业务依据", "purpose": "用途",
                "valid_from": "使用期限开始", "valid_to": "使用期限结束"}
_SHARING_PERMISSIONS = (Permission.SHARING_REQUEST, Permission.SHARING_DECIDE, Permission.SHARING_ARBITRATE)


@router.get("/catalog", summary="资源目录")
def search(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_READ)],
           q: Annotated[str | None, Query(max_length=100)] = None,
           provider: Annotated[str | None, Query(max_length=32)] = None,
           classification: Annotated[str | None, Query(pattern="^(base|theme|department|)$")] = None,
           sharing_type: Annotated[str | None, Query(pattern="^(unconditional|conditional|not_shared|)$")] = None,
           status: Annotated[str | None, Query(pattern="^(draft|published|withdrawn|)$")] = None,
           cursor: Annotated[str | None, Query(max_length=200)] = None):
    filters = {"q": (q or "").strip(), "provider": provider or "", "classification": classification or "",
               "sharing_type": sharing_type or "", "status": status or ""}
    query = service.search_query(q=filters["q"] or None, provider=filters["provider"] or None,
                                 classification=filters["classification"] or None,
                                 sharing_type=filters["sharing_type"] or None, status=filters["status"] or None)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    resources, next_cursor = paginate(db, query, Resource.code, cursor=cursor, limit=PAGE_SIZE, descending=False)
    providers = list(db.scalars(select(Department).where(Department.id.in_(select(Resource.provider_id)))
                                .order_by(Department.id)))
    filled = {name: value for name, value in filters.items() if value}
    return render(request, "catalog_search.html", principal=principal, resources=resources, total=total,
                  filters=filters, providers=providers, labels=LABELS, paged=bool(cursor),
                  first_url="/catalog?" + urlencode(filled),
                  next_url="/catalog?" + urlencode({**filled, "cursor": next_cursor}) if next_cursor else None)


def _may_request(principal: Principal, resource: Resource) -> bool:
    """Only a department other than the provider asks; the provider uses its own data freely."""
    return (principal.can(Permission.SHARING_REQUEST) and principal.department_id is not None
            and resource.provider_id != principal.department_id)


def _detail(request: Request, db, principal: Principal, resource: Resource, *, status_code: int = 200,
            error: str | None = None, errors: list[dict] | None = None, form: dict | None = None):
    requests = []
    if any(principal.can(p) for p in _SHARING_PERMISSIONS):
        requests = list(db.scalars(sharing.visible_requests(db, principal)
                                   .where(SharingRequest.resource_id == resource.id)
                                   .order_by(SharingRequest.id.desc()).limit(20)))
    held = sharing.items_of(sharing.active_grants(db, principal.department_id, resource.id)) \
        if principal.department_id and resource.provider_id != principal.department_id else set()
    today = clock.today()
    form = form or {"items": [], "duty": "", "basis": "", "purpose": "", "valid_from": today.isoformat(),
                    "valid_to": (today + timedelta(days=365)).isoformat()}
    return render(request, "catalog_resource.html", status_code=status_code, principal=principal, resource=resource,
                  labels=LABELS, may_request=_may_request(principal, resource),
                  published=resource.status == ResourceStatus.PUBLISHED, held=held, requests=requests,
                  may_manage=principal.can_for_department(Permission.CATALOG_MANAGE, resource.provider_id)
                  and resource.registry_name is None,  # the base registries are kept by the platform
                  SharingType=SharingType, ItemOutcome=ItemOutcome, error=error, errors=errors or [],
                  field_labels=FIELD_LABELS, form=form)


@router.get("/catalog/{code}", summary="信息资源详情")
def resource_page(request: Request, code: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CATALOG_READ)]):
    return _detail(request, db, principal, service.get_or_404(db, code))


@router.post("/catalog/{code}/requests", summary="提出共享申请")
def submit_request(request: Request, code: str, db: DbSession,
                   principal: Annotated[Principal, require(Permission.SHARING_REQUEST)],
                   items: Annotated[list[str] | None, Form(max_length=500)] = None,
                   duty: Annotated[str, Form(max_length=1000)] = "", basis: Annotated[str, Form(max_length=1000)] = "",
                   purpose: Annotated[str, Form(max_length=1000)] = "",
                   valid_from: Annotated[str, Form(max_length=20)] = "", valid_to: Annotated[str, Form(max_length=20)] = "",
                   csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    resource = service.get_or_404(db, code)
    items = items or []
    form = {"items": items, "duty": duty, "basis": basis, "purpose": purpose, "valid_from": valid_from,
            "valid_to": valid_to}
    try:
        if principal.department_code is None:
            raise Problem("validation-error", "共享申请须以部门名义提出，当前账户不属于任何部门")
        # The same rules as the API's request body; a mistake comes back on this page, in Chinese.
        try:
            body = RequestCreate(resource=code, items=items, duty=duty.strip(), basis=basis.strip(),
                                 purpose=purpose.strip(), valid_from=valid_from, valid_to=valid_to)
        except ValidationError as error:
            _, found = validation_errors(RequestValidationError(error.errors()))
            raise Problem("validation-error", "申请内容有误，请按提示修改", errors=found) from None
        created = sharing.submit(db, resource=resource, requester=org.get_by_code_or_404(db, principal.department_code),
                                 item_codes=body.items, duty=body.duty, basis=body.basis, purpose=body.purpose,
                                 valid_from=body.valid_from, valid_to=body.valid_to, actor=principal,
                                 response_days=request.app.state.settings.sharing_response_days)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _detail(request, db, principal, service.get_or_404(db, code), status_code=problem.status,
                       error=problem.detail, errors=problem.extensions.get("errors"), form=form)
    counts = {outcome: sum(1 for i in created.items if i.outcome == outcome) for outcome in ItemOutcome}
    flash(request, f"共享申请 {created.number} 已提交：即时授权 {counts[ItemOutcome.GRANTED]} 项，"
                   f"待提供方答复 {counts[ItemOutcome.PENDING]} 项，不予共享 {counts[ItemOutcome.REFUSED]} 项。")
    return RedirectResponse(f"/sharing/requests/{created.id}", status_code=303)


@router.post("/catalog/{code}/status", summary="发布或撤回信息资源")
def change_status(request: Request, code: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CATALOG_MANAGE)],
                  status: Annotated[str, Form(pattern="^(published|withdrawn)$")],
                  csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    resource = service.get_or_404(db, code)
    ensure_department(db, principal, Permission.CATALOG_MANAGE, resource.provider, action="catalog.status")
    try:
        service.set_status(db, resource, ResourceStatus(status), actor=principal)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _detail(request, db, principal, service.get_or_404(db, code), status_code=problem.status,
                       error=problem.detail)
    flash(request, f"{resource.name}已{STATUS_LABELS[ResourceStatus(status)]}。")
    return RedirectResponse(f"/catalog/{code}", status_code=303)
