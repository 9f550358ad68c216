"""纠错: anyone may propose a correction; only the field's source decides, within working days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import audit, clock, events, templating
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Scope
from tongban.core.workdays import WorkingCalendar
from tongban.org import service as org
from tongban.registry import masking, service
from tongban.registry.models import CorrectionRequest
from tongban.registry.schemas import Registry
from tongban.supervision import service as supervision


def request_correction(db: Session, *, registry: Registry, key: str, field_name: str, proposed: str | None,
                       reason: str, evidence: str | None, requester: audit.Actor, working_days: int,
                       today: date | None = None) -> CorrectionRequest:
    field = registry.by_name.get(field_name)
    if field is None or field_name == registry.key:
        raise Problem("validation-error", f"{registry.label}库没有可纠错的字段 {field_name}",
                      errors=[{"field": "body.field", "code": "unknown_field", "message": "字段不存在或不可纠错"}])
    service.parse_values(registry, {field_name: proposed}, location="body")
    existing = service.current_row(db, registry, key)
    if existing is None:
        raise Problem("not-found", f"{registry.label}库中没有 {key}")
    source = org.get_by_duty(db, field.duty.value)
    if source is None:
        raise Problem("conflict", f"{field.label}的来源部门尚未登记，无法受理纠错")
    calendar = WorkingCalendar.load(db)
    deadline = calendar.add_working_days(today or clock.today(), working_days)
    correction = CorrectionRequest(
        registry_name=registry.name, record_key=key, field=field_name, current_value=field.to_text(existing.get(field_name)),
        proposed_value=proposed, reason=reason, evidence=evidence, requester_name=requester.actor_name,
        requester_department=requester.department_code, source_department=source.code, status="pending",
        due_on=deadline.due, due_provisional=deadline.provisional, created_at=clock.now())
    db.add(correction)
    db.flush()
    supervision.start_clock(db, kind=supervision.ClockKind.CORRECTION, subject=correction.id,
                 title=f"处理纠错申请 #{correction.id}（{registry.label}库 {service.shown_key(registry, key, clear=False)} 的{field.label}）",
                 department_id=source.id, limit_days=working_days, started_on=today or clock.today(),
                 link="/staff/corrections", calendar=calendar)
    events.publish(db, event_type="CorrectionRequested", subject="registry.corrections", record_key=str(correction.id),
                   data={"id": correction.id, "registry": registry.name, "key": key, "field": field_name,
                         "source": source.code, "due_on": deadline.due.isoformat()})
    audit.record(db, actor=requester, action="registry.correction.request", object_type="correction_request",
                 object_id=str(correction.id), purpose=reason, details={"registry": registry.name, "key": key, "field": field_name})
    return correction


def _visible_to(principal: Principal, query):
    """A source sees the requests addressed to it; a requester its own; ALL-scope roles every one."""
    if principal.scope_for(Permission.CORRECTION_DECIDE) != Scope.ALL and principal.scope_for(Permission.AUDIT_READ) != Scope.ALL:
        query = query.where(or_(CorrectionRequest.source_department == principal.department_code,
                                CorrectionRequest.requester_department == principal.department_code))
    return query


def visible(db: Session, principal: Principal, *, status: str | None = None) -> list[CorrectionRequest]:
    query = select(CorrectionRequest).order_by(CorrectionRequest.id.desc()).limit(500)
    if status:
        query = query.where(CorrectionRequest.status == status)
    return list(db.scalars(_visible_to(principal, query)))


def visible_one(db: Session, principal: Principal, correction_id: int) -> CorrectionRequest:
    """One request the reader may see (another department's answers as unknown, naming nothing)."""
    found = db.scalar(_visible_to(principal, select(CorrectionRequest).where(CorrectionRequest.id == correction_id)))
    if found is None:
        raise Problem("not-found", f"没有纠错申请 #{correction_id}")
    return found


def present(correction: CorrectionRequest, registry: Registry, *, clear: bool, secret_key: str) -> dict:
    """A correction as a reader may see it: the record key, the current and the proposed value
    are personal data when their field is, and are masked by the registry's one rule."""
    field = registry.by_name.get(correction.field)
    masked_by = field if field is not None and field.personal and not clear else None  # the field whose rule masks
    personal = masked_by is not None
    shown = {name: getattr(correction, name) for name in (
        "id", "field", "reason", "evidence", "requester_name", "requester_department", "source_department", "status",
        "due_on", "due_provisional", "decided_by", "decided_at", "decision_reason", "created_at")}
    return {**shown, "registry": correction.registry_name,
            "record_key": service.shown_key(registry, correction.record_key, clear=clear),
            "record_ref": masking.reference(secret_key, registry.name, correction.record_key),
            "current_value": masking.mask(masked_by, correction.current_value) if masked_by is not None else correction.current_value,
            "proposed_value": masking.mask(masked_by, correction.proposed_value) if masked_by is not None else correction.proposed_value,
            "masked": not clear and (personal or service.key_is_personal(registry))}


def reveal(db: Session, principal: Principal, items: list[CorrectionRequest], registries: dict[str, Registry],
           purpose: str | None, *, from_link: bool) -> bool:
    """Whether these corrections are shown in clear; a clear read is audited with its purpose,
    naming every record it showed (a masked one shows nothing personal, nothing to log)."""
    clear = service.may_read_clear(principal, purpose, from_link=from_link)
    if clear and items:
        audit.record(db, actor=principal, action="registry.read", object_type="correction_request",
                     object_id=None, purpose=service.stated_purpose(purpose),
                     details={"clear": True, "corrections": [c.id for c in items],
                              "records": sorted({f"{c.registry_name}:{c.record_key}" for c in items})})
    return clear


def decide(db: Session, *, correction_id: int, accept: bool, reason: str, decider: audit.Actor, registries: dict[str, Registry]) -> CorrectionRequest:
    correction = db.get(CorrectionRequest, correction_id, with_for_update=True)
    if correction is None:
        raise Problem("not-found", f"纠错申请 {correction_id} 不存在")
    if correction.source_department != decider.department_code:
        raise Problem("department-scope", f"只有来源部门（{correction.source_department}）可以处理该纠错申请")
    if correction.status != "pending":
        raise Problem("already-decided", f"纠错申请 {correction_id} 已于 {templating.local_time(correction.decided_at)} 由{correction.decided_by}处理（{'采纳' if correction.status == 'accepted' else '不予采纳'}）",
                      status_now=correction.status)
    registry = registries[correction.registry_name]
    if accept:
        values = service.parse_values(registry, {correction.field: correction.proposed_value}, location="body")
        department = org.get_by_code_or_404(db, decider.department_code)
        service.write(db, registry=registry, key=correction.record_key, values=values, department=department,
                      actor=decider, reason=f"采纳纠错申请 #{correction.id}：{reason}")
    correction.status = "accepted" if accept else "rejected"
    supervision.close_clock(db, supervision.ClockKind.CORRECTION, correction.id, on=clock.today(), outcome=correction.status)
    correction.decided_by = decider.actor_name
    correction.decided_at = clock.now()
    correction.decision_reason = reason
    try:
        db.flush()
    except StaleDataError:
        raise Problem("already-decided", f"纠错申请 {correction_id} 刚被其他人处理") from None
    events.publish(db, event_type="CorrectionDecided", subject="registry.corrections", record_key=str(correction.id),
                   data={"id": correction.id, "status": correction.status, "reason": reason})
    audit.record(db, actor=decider, action=f"registry.correction.{correction.status}", object_type="correction_request",
                 object_id=str(correction.id), purpose=reason)
    return correction
