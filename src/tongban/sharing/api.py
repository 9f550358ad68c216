"""/api/v1/sharing: requests for shared data, the provider's answer, arbitration, grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from tongban.catalog import service as catalog
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.org import service as org
from tongban.sharing import service
from tongban.sharing.models import Grant, SharingRequest
from tongban.sharing.schemas import (
    Coordination, Decision, GrantRead, RequestCreate, RequestRead, Revocation, grant_read, request_read,
)

router = APIRouter(prefix="/api/v1/sharing", tags=["共享申请 sharing"])


@router.post("/requests", response_model=RequestRead, status_code=201, summary="提出共享申请（无条件共享项即时授权）")
def submit(request: Request, body: RequestCreate, db: DbSession,
           principal: Annotated[Principal, require(Permission.SHARING_REQUEST)]):
    if principal.department_code is None:
        raise Problem("validation-error", "共享申请须以部门名义提出，当前账户不属于任何部门")
    requester = org.get_by_code_or_404(db, principal.department_code)
    resource = catalog.get_or_404(db, body.resource)
    sharing_request = service.submit(db, resource=resource, requester=requester, item_codes=body.items, duty=body.duty,
                                     basis=body.basis, purpose=body.purpose, valid_from=body.valid_from,
                                     valid_to=body.valid_to, actor=principal,
                                     response_days=request.app.state.settings.sharing_response_days)
    db.commit()
    return request_read(sharing_request)


@router.get("/requests", response_model=Page[RequestRead], summary="共享申请列表（本部门提出的和收到的）")
def list_requests(db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_REQUEST)],
                  status: Annotated[str | None, Query(pattern="^(provider|arbitration|closed)$")] = None,
                  cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.visible_requests(db, principal, status=status), SharingRequest.id,
                                 cursor=cursor, limit=limit)
    return Page[RequestRead](items=[request_read(r) for r in rows], next_cursor=next_cursor)


def _visible(db, principal: Principal, request_id: Id) -> SharingRequest:
    found = db.scalar(service.visible_requests(db, principal).where(SharingRequest.id == request_id))
    if found is None:
        raise Problem("not-found", f"共享申请 {request_id} 不存在或无权查看")
    return found


@router.get("/requests/{request_id}", response_model=RequestRead, summary="共享申请详情及全部办理步骤")
def read_request(request_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_REQUEST)]):
    return request_read(_visible(db, principal, request_id))


@router.post("/requests/{request_id}/decision", response_model=RequestRead, summary="提供方答复：同意全部或部分，拒绝须说明理由")
def decide(request_id: Id, body: Decision, db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_DECIDE)]):
    sharing_request = service.request_or_404(db, request_id, lock=True)
    ensure_department(db, principal, Permission.SHARING_DECIDE, sharing_request.provider, action="sharing.decide")
    service.provider_decide(db, sharing_request, approve=body.approve, refuse=body.refuse, reason=body.reason,
                            actor=principal)
    db.commit()
    return request_read(sharing_request)


@router.post("/requests/{request_id}/arbitration", response_model=RequestRead, summary="电子政务办协调决定")
def arbitrate(request_id: Id, body: Decision, db: DbSession,
              principal: Annotated[Principal, require(Permission.SHARING_ARBITRATE)]):
    sharing_request = service.request_or_404(db, request_id, lock=True)
    service.arbitrate(db, sharing_request, approve=body.approve, refuse=body.refuse, reason=body.reason, actor=principal)
    db.commit()
    return request_read(sharing_request)


@router.post("/requests/{request_id}/coordination", response_model=RequestRead, summary="申请方对不予共享项申请协调")
def coordinate(request_id: Id, body: Coordination, db: DbSession,
               principal: Annotated[Principal, require(Permission.SHARING_REQUEST)]):
    _visible(db, principal, request_id)
    sharing_request = service.request_or_404(db, request_id, lock=True)  # like the decisions: one at a time
    if sharing_request.requester_id != principal.department_id:
        raise Problem("department-scope", "只有申请部门可以申请协调")
    service.request_coordination(db, sharing_request, reason=body.reason, actor=principal)
    db.commit()
    return request_read(sharing_request)


@router.post("/escalations", response_model=list[RequestRead], summary="把逾期未答复的申请转电子政务办（平台也按时自动执行）")
def escalate(db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_ARBITRATE)]):
    overdue = service.escalate_overdue(db)
    db.commit()
    return [request_read(r) for r in overdue]


@router.get("/grants", response_model=Page[GrantRead], summary="共享授权（本部门获得的和本部门资源授出的）")
def list_grants(db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_REQUEST)],
                include_revoked: bool = False, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.visible_grants(db, principal, include_revoked=include_revoked), Grant.id,
                                 cursor=cursor, limit=limit)
    return Page[GrantRead](items=[grant_read(g) for g in rows], next_cursor=next_cursor)


@router.post("/grants/{grant_id}/revoke", response_model=GrantRead, summary="撤销授权：下一次调用起生效")
def revoke(grant_id: Id, body: Revocation, db: DbSession, principal: Annotated[Principal, require(Permission.SHARING_DECIDE)]):
    grant = service.grant_or_404(db, grant_id, lock=True)
    ensure_department(db, principal, Permission.SHARING_DECIDE, grant.resource.provider, action="sharing.revoke")
    service.revoke(db, grant, reason=body.reason, actor=principal)
    db.commit()
    return grant_read(grant)
