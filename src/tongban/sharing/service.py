"""需求导向、供方响应、协调确认: a department asks, unconditional items are granted at once,
conditional ones go to the provider within working days, refusals and silence go to the
e-government office. Every step is recorded and notified; grants are what the exchange obeys."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.catalog import service as catalog
from tongban.catalog.schemas import ResourceStatus, SharingType
from tongban.core import audit, clock, numbers
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Scope
from tongban.core.workdays import WorkingCalendar
from tongban.notifications.service import notify
from tongban.org import service as org
from tongban.org.schemas import Office
from tongban.sharing.models import Grant, SharingRequest, SharingRequestItem, SharingStep
from tongban.sharing.schemas import ItemOutcome, RequestStatus
from tongban.supervision import service as supervision

if TYPE_CHECKING:
    from tongban.catalog.models import Resource
    from tongban.org.models import Department


class ActiveGrant(NamedTuple):
    id: int
    items: str  # JSON list of item codes


MAX_PERIOD_DAYS = 3 * 366


def _step(request: SharingRequest, action: str, actor, note: str | None = None) -> None:
    request.steps.append(SharingStep(action=action, actor_name=actor.actor_name,
                                     department_code=getattr(actor, "department_code", None), note=note, at=clock.now()))


def _names(resource: Resource, codes: list[str]) -> str:
    """Item names for people ("性别、婚姻状况"), in the notes of a request's timeline."""
    return "、".join(item.name if (item := resource.item(code)) else code for code in codes) or "无"


def _egov(db: Session) -> Department | None:
    return org.office(db, Office.EGOV)


def _grant(db: Session, request: SharingRequest, items: list[str], by: str) -> Grant | None:
    if not items:
        return None
    grant = Grant(department_id=request.requester_id, resource_id=request.resource_id, request_id=request.id,
                  items=json.dumps(sorted(items)), purpose=request.purpose, valid_from=request.valid_from,
                  valid_to=request.valid_to, granted_by=by, created_at=clock.now())
    db.add(grant)
    return grant


def submit(db: Session, *, resource: Resource, requester: Department, item_codes: list[str], duty: str, basis: str,
           purpose: str, valid_from: date, valid_to: date, actor: audit.Actor, response_days: int,
           today: date | None = None) -> SharingRequest:
    today = today or clock.today()
    if resource.status != ResourceStatus.PUBLISHED:
        raise Problem("resource-not-published", f"信息资源 {resource.code} 未发布（{resource.status}），不能申请")
    if resource.provider_id == requester.id:
        raise Problem("conflict", f"{resource.name}由{requester.name}提供，本部门使用无需申请")
    unknown = [code for code in item_codes if resource.item(code) is None]
    if unknown:
        raise Problem("unknown-item", f"信息资源 {resource.code} 中没有这些信息项：{'、'.join(unknown[:20])}",
                      errors=[{"field": "body.items", "code": "unknown_item", "message": code} for code in unknown[:100]])
    if valid_to < valid_from or valid_to < today:
        raise Problem("validation-error", "使用期限的结束日期不能早于开始日期或今天",
                      errors=[{"field": "body.valid_to", "code": "invalid_period", "message": "结束日期有误"}])
    if (valid_to - valid_from).days > MAX_PERIOD_DAYS:
        raise Problem("validation-error", "使用期限最长三年，到期后可再次申请",
                      errors=[{"field": "body.valid_to", "code": "period_too_long", "message": "最长三年"}])
    # The key item comes with every request: records cannot be asked for or matched without it.
    wanted = list(dict.fromkeys([resource.key_item, *item_codes]))
    request = SharingRequest(number=numbers.mint(db, SharingRequest.number, "GX"), resource_id=resource.id, requester_id=requester.id,
                             provider_id=resource.provider_id, requested_by=actor.actor_name, duty=duty, basis=basis,
                             purpose=purpose, valid_from=valid_from, valid_to=valid_to, status=RequestStatus.CLOSED,
                             created_at=clock.now())
    resource_refused = resource.sharing_type == SharingType.NOT_SHARED
    for code in wanted:
        item = resource.item(code)
        assert item is not None  # every code was checked against the catalog above (and the key item is one)
        kind = SharingType.NOT_SHARED if resource_refused else SharingType(item.sharing_type)
        if kind == SharingType.UNCONDITIONAL:
            outcome, reason, by = ItemOutcome.GRANTED, "无条件共享", "catalog"
        elif kind == SharingType.NOT_SHARED:
            basis_text = (resource.legal_basis if resource_refused else item.legal_basis) or ""
            outcome, reason, by = ItemOutcome.REFUSED, f"不予共享，依据：{basis_text}", "catalog"
        else:
            outcome, reason, by = ItemOutcome.PENDING, None, None
        request.items.append(SharingRequestItem(item_code=code, sharing_type=kind, outcome=outcome, reason=reason,
                                                decided_by=by))
    db.add(request)
    db.flush()
    _step(request, "submitted", actor, f"申请 {len(wanted)} 个信息项；用途：{purpose}")
    granted = [i.item_code for i in request.items if i.outcome == ItemOutcome.GRANTED]
    if _grant(db, request, granted, "catalog"):
        _step(request, "granted", actor, f"无条件共享项即时授权：{_names(resource, granted)}")
    pending = [i.item_code for i in request.items if i.outcome == ItemOutcome.PENDING]
    if pending:
        calendar = WorkingCalendar.load(db)
        deadline = calendar.add_working_days(today, response_days)
        request.status, request.due_on, request.due_provisional = RequestStatus.PROVIDER, deadline.due, deadline.provisional
        supervision.start_clock(db, kind=supervision.ClockKind.SHARING_REQUEST, subject=request.number,
                     title=f"答复共享申请 {request.number}（{requester.name}申请{resource.name}）",
                     department_id=request.provider_id, limit_days=response_days, started_on=today,
                     link=f"/sharing/requests/{request.id}", calendar=calendar)
        notify(db, department_id=request.provider_id, kind="sharing.request", link=f"/sharing/requests/{request.id}",
               title=f"共享申请 {request.number} 待答复",
               body=f"{requester.name}申请{resource.name}的有条件共享项：{_names(resource, pending)}；请于 {deadline.due} 前答复。")
    else:
        request.closed_at = clock.now()
    notify(db, department_id=requester.id, kind="sharing.submitted", link=f"/sharing/requests/{request.id}",
           title=f"共享申请 {request.number} 已提交",
           body=f"即时授权 {len(granted)} 项，待提供方答复 {len(pending)} 项，"
                f"不予共享 {sum(1 for i in request.items if i.outcome == ItemOutcome.REFUSED)} 项。")
    audit.record(db, actor=actor, action="sharing.request", object_type="sharing_request", object_id=request.number,
                 purpose=purpose, department_code=requester.code,
                 details={"resource": resource.code, "items": wanted, "granted": granted, "pending": pending})
    return request


def request_or_404(db: Session, request_id: int, *, lock: bool = False) -> SharingRequest:
    """``lock``: for a decision. The row is held until commit, so decisions at once are taken one
    after the other and the later ones see the first's outcome (409), not a half-stale row (500)."""
    found = db.get(SharingRequest, request_id, with_for_update={"of": SharingRequest} if lock else None,
                   populate_existing=lock)
    if found is None:
        raise Problem("not-found", f"共享申请 {request_id} 不存在")
    return found


def grant_or_404(db: Session, grant_id: int, *, lock: bool = False) -> Grant:
    """``lock``: for a revocation, held until commit (revocations at once: one wins, the rest 409)."""
    found = db.get(Grant, grant_id, with_for_update={"of": Grant} if lock else None, populate_existing=lock)
    if found is None:
        raise Problem("not-found", f"授权 {grant_id} 不存在")
    return found


def _pending(request: SharingRequest) -> list[SharingRequestItem]:
    return [i for i in request.items if i.outcome == ItemOutcome.PENDING]


def _check_decision(request: SharingRequest, approve: list[str], refuse: list[str], reason: str | None,
                    open_items: list[SharingRequestItem]) -> None:
    codes = {i.item_code for i in open_items}
    stray = [c for c in [*approve, *refuse] if c not in codes]
    if stray:
        raise Problem("unknown-item", f"这些信息项不在待决定之列：{'、'.join(stray[:20])}")
    if set(approve) & set(refuse):
        raise Problem("validation-error", "同一信息项不能既同意又拒绝")
    missing = codes - set(approve) - set(refuse)
    if missing:
        raise Problem("validation-error", f"请对每个待决定的信息项作出决定，尚缺：{'、'.join(sorted(missing))}",
                      errors=[{"field": "body", "code": "undecided", "message": c} for c in sorted(missing)])
    if refuse and not (reason or "").strip():
        raise Problem("validation-error", "拒绝共享必须说明理由",
                      errors=[{"field": "body.reason", "code": "reason_required", "message": "请填写拒绝理由"}])


def _stale(db: Session, request_id: int) -> Problem:
    db.rollback()
    current = db.get(SharingRequest, request_id)
    return Problem("already-decided", f"该申请已被他人处理，当前状态：{current.status if current else '不存在'}",
                   status_now=current.status if current else None)


def provider_decide(db: Session, request: SharingRequest, *, approve: list[str], refuse: list[str],
                    reason: str | None, actor: audit.Actor) -> SharingRequest:
    """The provider approves all or some pending items; any refusal goes to the e-government office."""
    if request.status != RequestStatus.PROVIDER:
        raise Problem("already-decided", f"该申请当前不在提供方答复阶段（{request.status}）")
    pending = _pending(request)
    _check_decision(request, approve, refuse, reason, pending)
    for item in pending:
        if item.item_code in approve:
            item.outcome, item.reason, item.decided_by = ItemOutcome.GRANTED, "提供方同意", "provider"
        else:
            item.outcome, item.reason, item.decided_by = ItemOutcome.REFUSED, reason, "provider"
    _grant(db, request, approve, "provider")
    supervision.close_clock(db, supervision.ClockKind.SHARING_REQUEST, request.number, on=clock.today(), outcome="answered")
    _step(request, "provider_decided", actor,
          f"同意：{_names(request.resource, approve)}；拒绝：{_names(request.resource, refuse)}" + (f"；理由：{reason}" if refuse else ""))
    if refuse:
        _to_arbitration(db, request, "refused", actor, f"提供方拒绝 {len(refuse)} 项：{reason}")
    else:
        request.status, request.closed_at = RequestStatus.CLOSED, clock.now()
    notify(db, department_id=request.requester_id, kind="sharing.decided", link=f"/sharing/requests/{request.id}",
           title=f"共享申请 {request.number} 提供方已答复",
           body=f"同意 {len(approve)} 项" + (f"，拒绝 {len(refuse)} 项（已提交电子政务办协调）：{reason}" if refuse else "。"))
    audit.record(db, actor=actor, action="sharing.provider_decide", object_type="sharing_request",
                 object_id=request.number, details={"approve": approve, "refuse": refuse, "reason": reason})
    try:
        db.flush()
    except StaleDataError:
        raise _stale(db, request.id) from None
    return request


def _to_arbitration(db: Session, request: SharingRequest, why: str, actor, note: str) -> None:
    request.status, request.escalation_reason = RequestStatus.ARBITRATION, why
    _step(request, "escalated", actor, note)
    egov = _egov(db)
    notify(db, department_id=egov.id if egov else None, kind="sharing.arbitration", link=f"/sharing/requests/{request.id}",
           title=f"共享申请 {request.number} 待协调",
           body=f"{request.requester.name}申请{request.resource.name}：{note}")


def arbitrate(db: Session, request: SharingRequest, *, approve: list[str], refuse: list[str], reason: str | None,
              actor: Principal) -> SharingRequest:
    """The e-government office decides every item still open or refused by the provider."""
    if request.status != RequestStatus.ARBITRATION:
        raise Problem("already-decided", f"该申请当前不在协调阶段（{request.status}）")
    if not (reason or "").strip():
        raise Problem("validation-error", "协调决定必须说明理由",
                      errors=[{"field": "body.reason", "code": "reason_required", "message": "请填写协调意见"}])
    open_items = [i for i in request.items if i.outcome == ItemOutcome.PENDING
                  or (i.outcome == ItemOutcome.REFUSED and i.decided_by == "provider")]
    _check_decision(request, approve, refuse, reason, open_items)
    for item in open_items:
        granted = item.item_code in approve
        item.outcome = ItemOutcome.GRANTED if granted else ItemOutcome.REFUSED
        item.reason, item.decided_by = f"电子政务办协调：{reason}", "egov"
    _grant(db, request, approve, "egov")
    request.status, request.closed_at = RequestStatus.CLOSED, clock.now()
    _step(request, "arbitrated", actor,
          f"同意：{_names(request.resource, approve)}；不予共享：{_names(request.resource, refuse)}；意见：{reason}")
    for department_id in (request.requester_id, request.provider_id):
        notify(db, department_id=department_id, kind="sharing.arbitrated", link=f"/sharing/requests/{request.id}",
               title=f"共享申请 {request.number} 协调结果", body=f"同意 {len(approve)} 项，不予共享 {len(refuse)} 项。意见：{reason}")
    audit.record(db, actor=actor, action="sharing.arbitrate", object_type="sharing_request", object_id=request.number,
                 details={"approve": approve, "refuse": refuse, "reason": reason})
    try:
        db.flush()
    except StaleDataError:
        raise _stale(db, request.id) from None
    return request


def request_coordination(db: Session, request: SharingRequest, *, reason: str, actor: Principal) -> SharingRequest:
    """The requester asks the e-government office to look again at items refused as not shared."""
    if request.status != RequestStatus.CLOSED or not any(i.outcome == ItemOutcome.REFUSED for i in request.items):
        raise Problem("conflict", "只有已办结且含不予共享项的申请可以申请协调")
    for item in request.items:
        if item.outcome == ItemOutcome.REFUSED and item.decided_by == "catalog":
            item.outcome, item.decided_by = ItemOutcome.PENDING, None
    _to_arbitration(db, request, "requested", actor, f"申请方申请协调：{reason}")
    request.closed_at = None
    db.flush()
    return request


def escalate_overdue(db: Session, *, today: date | None = None) -> list[SharingRequest]:
    """Requests the provider left unanswered past the deadline go to the e-government office."""
    today = today or clock.today()
    overdue = list(db.scalars(select(SharingRequest).where(SharingRequest.status == RequestStatus.PROVIDER,
                                                           SharingRequest.due_on < today)))
    for request in overdue:
        # The provider's time is up: its clock ends late; the office's arbitration takes over.
        supervision.close_clock(db, supervision.ClockKind.SHARING_REQUEST, request.number, on=today, outcome="escalated")
        _to_arbitration(db, request, "overdue", audit.SYSTEM,
                        f"提供方未在 {request.due_on} 前答复（{len(_pending(request))} 项待定），逾期转电子政务办")
        notify(db, department_id=request.provider_id, kind="sharing.overdue", link=f"/sharing/requests/{request.id}",
               title=f"共享申请 {request.number} 已逾期", body=f"答复期限 {request.due_on} 已过，已转电子政务办协调。")
        audit.record(db, actor=audit.SYSTEM, action="sharing.overdue", object_type="sharing_request",
                     object_id=request.number, details={"due_on": request.due_on.isoformat() if request.due_on else None})
    db.flush()
    return overdue


def escalate_overdue_job(sessions) -> int:
    """The scheduled scan: its own transaction, committed."""
    with sessions() as db:
        overdue = escalate_overdue(db)
        db.commit()
        return len(overdue)


def visible_requests(db: Session, principal: Principal, *, status: str | None = None):
    """A department sees what it asked and what it was asked; ALL-scope roles see every request."""
    query = select(SharingRequest)
    if principal.scope_for(Permission.SHARING_ARBITRATE) != Scope.ALL:
        query = query.where(or_(SharingRequest.requester_id == principal.department_id,
                                SharingRequest.provider_id == principal.department_id))
    if status:
        query = query.where(SharingRequest.status == status)
    return query


def waiting_query(db: Session, principal: Principal):
    """The requests waiting for this person's answer: those to their department still with the
    provider (who may decide), and, for the e-government office, those in arbitration. The
    workbench counts them; ``/sharing/requests`` lists the same (``waiting_filters``)."""
    if principal.scope_for(Permission.SHARING_ARBITRATE) == Scope.ALL:
        return visible_requests(db, principal, status=RequestStatus.ARBITRATION)
    if principal.scope_for(Permission.SHARING_DECIDE) is None or principal.department_id is None:
        return None
    return visible_requests(db, principal, status=RequestStatus.PROVIDER).where(
        SharingRequest.provider_id == principal.department_id)


def waiting_filters(principal: Principal) -> dict[str, str]:
    """The list page's filters that show exactly ``waiting_query``."""
    if principal.scope_for(Permission.SHARING_ARBITRATE) == Scope.ALL:
        return {"status": RequestStatus.ARBITRATION.value}
    return {"status": RequestStatus.PROVIDER.value, "direction": "incoming"}


def count_waiting(db: Session, principal: Principal) -> int | None:
    """How many requests wait for this person's answer; ``None`` when answering is not theirs."""
    query = waiting_query(db, principal)
    return None if query is None else db.scalar(select(func.count()).select_from(query.subquery())) or 0


# ---- grants ---------------------------------------------------------------------------------


# Plain SQL: every exchange call asks this (see catalog.service._RESOURCE_VIEW).
_ACTIVE_GRANTS = text(
    "SELECT id, items FROM sharing_grants WHERE department_id = :department AND resource_id = :resource "
    "AND revoked_at IS NULL AND valid_from <= :today AND valid_to >= :today")


def active_grants(db: Session, department_id: int, resource_id: int, *, today: date | None = None) -> list[ActiveGrant]:
    """The grants in force now: the two columns the exchange needs."""
    rows = db.execute(_ACTIVE_GRANTS, {"department": department_id, "resource": resource_id,
                                       "today": today or clock.today()})
    return [ActiveGrant(id, items) for id, items in rows]


def any_grants(db: Session, department_id: int, resource_id: int) -> bool:
    return (db.scalar(select(func.count()).select_from(Grant).where(Grant.department_id == department_id,
                                                                    Grant.resource_id == resource_id)) or 0) > 0


def items_of(grants: list[ActiveGrant]) -> set[str]:
    granted: set[str] = set()
    for grant in grants:
        granted.update(json.loads(grant.items))
    return granted


def revoke(db: Session, grant: Grant, *, reason: str, actor: Principal) -> Grant:
    if grant.revoked_at is not None:
        raise Problem("already-decided", f"授权已于 {grant.revoked_at:%Y-%m-%d %H:%M} 撤销")
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = clock.now(), actor.actor_name, reason
    notify(db, department_id=grant.department_id, kind="sharing.revoked", link="/sharing/grants",
           title=f"{grant.resource.name}的共享授权已撤销", body=f"撤销理由：{reason}")
    audit.record(db, actor=actor, action="sharing.revoke", object_type="grant", object_id=str(grant.id),
                 details={"resource": grant.resource.code, "department": grant.department.code, "reason": reason})
    db.flush()
    return grant


def visible_grants(db: Session, principal: Principal, *, include_revoked: bool = False):
    query = select(Grant)
    if principal.scope_for(Permission.SHARING_ARBITRATE) != Scope.ALL:
        query = query.where(or_(Grant.department_id == principal.department_id,
                                Grant.resource_id.in_(catalog.provided_by(principal.department_id))))
    if not include_revoked:
        query = query.where(Grant.revoked_at.is_(None))
    return query

