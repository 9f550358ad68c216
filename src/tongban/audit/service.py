"""Inspectors read the audit log and check its chain: the one way, for the API and the pages.

Both readings are themselves recorded in the log (it names people), and committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.audit.schemas import AuditEventRead, VerificationRead
from tongban.core import audit
from tongban.core.audit import AuditEvent
from tongban.core.auth import Principal
from tongban.core.pagination import Page, paginate


def list_events(db: Session, principal: Principal, *, cursor: str | None = None, limit: int = 50,
                actor_id: str | None = None, department_code: str | None = None, action: str | None = None,
                object_type: str | None = None, object_id: str | None = None, outcome: str | None = None,
                request_id: str | None = None, since: datetime | None = None,
                until: datetime | None = None) -> Page[AuditEventRead]:
    """A page of entries, newest first; ``action`` matches as a prefix, the others exactly."""
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


def verification(db: Session, principal: Principal) -> VerificationRead:
    """The chain checked from its first entry; the check is recorded as it came out."""
    result = audit.verify(db)
    audit.record(db, actor=principal, action="audit.verify", outcome="success" if result.ok else "failed",
                 details={"entries": result.entries})
    db.commit()
    brk = result.first_break
    return VerificationRead(ok=result.ok, entries=result.entries, first_bad_seq=brk.seq if brk else None,
                            kind=brk.kind if brk else None,
                            message=brk.message if brk else f"审计日志完整：共 {result.entries} 条，哈希链无断点")
