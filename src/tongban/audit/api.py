"""Inspectors read the audit log and check its chain (``audit.service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tongban.audit import service
from tongban.audit.schemas import AuditEventRead, VerificationRead
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.pagination import Cursor, Limit, Page
from tongban.core.permissions import Permission

router = APIRouter(prefix="/api/v1/audit", tags=["审计 audit"])


@router.get("/events", response_model=Page[AuditEventRead], summary="查询审计日志")
def list_events(
    db: DbSession,
    principal: Annotated[Principal, require(Permission.AUDIT_READ)],
    cursor: Cursor = None,
    limit: Limit = 50,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    department_code: Annotated[str | None, Query(max_length=32)] = None,
    action: Annotated[str | None, Query(max_length=64, description="前缀匹配，如 auth.")] = None,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|denied|failed)$")] = None,
    request_id: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Page[AuditEventRead]:
    return service.list_events(db, principal, cursor=cursor, limit=limit, actor_id=actor_id,
                               department_code=department_code, action=action, object_type=object_type,
                               object_id=object_id, outcome=outcome, request_id=request_id, since=since, until=until)


@router.get("/verification", response_model=VerificationRead, summary="校验审计日志哈希链")
def verification(db: DbSession, principal: Annotated[Principal, require(Permission.AUDIT_READ)]) -> VerificationRead:
    return service.verification(db, principal)
