"""Inspectors read the audit log and check its chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator
from sqlalchemy import select

from tongban.core import audit
from tongban.core.audit import AuditEvent
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission

import json

router = APIRouter(prefix="/api/v1/audit", tags=["审计 audit"])


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    actor_name: str | None
    department_code: str | None
    action: str
    object_type: str | None
    object_id: str | None
    purpose: str | None
    outcome: str
    request_id: str | None
    details: dict[str, Any]
    hash: str

    @field_validator("details", mode="before")
    @classmethod
    def _parse(cls, value):
        return json.loads(value) if isinstance(value, str) else value


class VerificationRead(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    kind: str | None
    message: str


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
):
    query = select(AuditEvent)
    filters = {"actor_id": actor_id, "department_code": department_code, "object_type": object_type,
               "object_id": object_id, "outcome": outcome, "request_id": request_id}
    for column, value in filters.items():
        if value is not None:
            query = query.where(getattr(AuditEvent, column) == value)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    rows, next_cursor = paginate(db, query, AuditEvent.seq, cursor=cursor, limit=limit)
    items = [AuditEventRead.model_validate(row) for row in rows]
    # Reading the log is itself recorded: the log names people.
    audit.record(db, actor=principal, action="audit.read", object_type="audit_events",
                 details={"filters": {k: v for k, v in filters.items() if v}, "action": action, "count": len(items)})
    db.commit()
    return Page[AuditEventRead](items=items, next_cursor=next_cursor)


@router.get("/verification", response_model=VerificationRead, summary="校验审计日志哈希链")
def verification(db: DbSession, principal: Annotated[Principal, require(Permission.AUDIT_READ)]):
    result = audit.verify(db)
    audit.record(db, actor=principal, action="audit.verify", outcome="success" if result.ok else "failed",
                 details={"entries": result.entries})
    db.commit()
    brk = result.first_break
    return VerificationRead(ok=result.ok, entries=result.entries, first_bad_seq=brk.seq if brk else None,
                            kind=brk.kind if brk else None,
                            message=brk.message if brk else f"审计日志完整：共 {result.entries} 条，哈希链无断点")
