"""/api/v1/hotline/tickets: 12345 工单 — the agent records a call, departments sign, reply or return,
the centre re-routes, decides extensions, urges and follows up. Every step carries the ticket's
``version``; a stale one is a 409."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.idempotency import request_hash
from tongban.core.permissions import Permission
from tongban.grid import service as grid
from tongban.grid.schemas import ACTION_LABELS, STATUS_LABELS, CaseStatus
from tongban.hotline import tickets
from tongban.hotline.models import (
    EXTENSION_LABELS, OUTCOME_LABELS, SATISFACTION_LABELS, ExtensionState, HotlineTicket, Outcome, Satisfaction,
)
from tongban.hotline.schemas import (
    CallerLookupIn, CallerRead, CallerStepRead, CallerTicketRead, CallerTicketsRead, ContactRead, ContextIn, ItemHit, ExtensionDecisionIn, ExtensionIn, FollowUpIn, PurposeIn, ReasonIn, ReplyIn, RerouteIn,
    TicketClockRead, TicketContext, TicketDetail, TicketEventRead, TicketIn, TicketRead, TicketStepIn, UrgeIn,
)
from tongban.org import service as org
from tongban.supervision import service as supervision
from tongban.supervision.schemas import ClockKind

router = APIRouter(prefix="/api/v1/hotline/tickets", tags=["12345 热线 hotline"])
mine = APIRouter(prefix="/api/v1/me/hotline-tickets", tags=["12345 热线 hotline"])
Queue = Annotated[str, Query(pattern="^(reroute|extension|late|follow_up|sign|handle|all)$",
                             description="reroute 退单待派 | extension 延期待批 | late 超期 | follow_up 待回访 | sign 待签收 | handle 待办理 | all")]
# Ticket statuses as a ticket reads them (the engine's states, the hotline's words).
TICKET_STATUS_LABELS = {CaseStatus.REGISTERED: "待派单", CaseStatus.DISPATCHED: "办理中", CaseStatus.HANDLED: "已答复待回访",
                        CaseStatus.CLOSED: "已办结", CaseStatus.MERGED: "已合并"}
STEP_OF = {ClockKind.HOTLINE_SIGN: "签收", ClockKind.GRID_HANDLE: "办理答复", ClockKind.GRID_DISPATCH: "重新派单",
           ClockKind.HOTLINE_FOLLOW_UP: "回访"}


def extent_of(request: Request):
    return grid.district_extent(request.app.state.settings.grid_extent)


def status_label(case) -> str:
    return TICKET_STATUS_LABELS.get(case.status) or STATUS_LABELS[CaseStatus(case.status)]


def ticket_read(case, ticket: HotlineTicket, names: dict) -> TicketRead:
    department = names.get(case.department_id) if case.department_id else None
    return TicketRead(
        number=case.number, status=case.status, status_label=status_label(case), outcome=ticket.outcome,
        outcome_label=OUTCOME_LABELS[Outcome(ticket.outcome)], category=ticket.category_code, category_name=case.category_name,
        department=department[0] if department else None, department_name=department[1] if department else None,
        caller_phone=tickets.mask_phone(ticket.caller_phone) or "", caller_name=ticket.caller_name,
        caller_id_number=tickets.mask_id(ticket.caller_id_number), said=ticket.said, summary=ticket.summary,
        address=case.address, lon=case.lon, lat=case.lat, knowledge_ref=ticket.knowledge_ref,
        knowledge_text=ticket.knowledge_text, transfer_line=ticket.transfer_line, signed_at=ticket.signed_at,
        extension_days=ticket.extension_days, extension_reason=ticket.extension_reason,
        extension_state=ticket.extension_state,
        extension_label=EXTENSION_LABELS[ExtensionState(ticket.extension_state)] if ticket.extension_state else None,
        urges=ticket.urges, satisfaction=ticket.satisfaction,
        satisfaction_label=SATISFACTION_LABELS[Satisfaction(ticket.satisfaction)] if ticket.satisfaction else None,
        solved=ticket.solved, reopens=ticket.reopens, reply=case.result, expected_at=case.expected_at,
        expected_text=wall.beijing_text(case.expected_at), created_at=case.created_at,
        created_text=wall.beijing_text(case.created_at), version=case.version)


# What the caller reads of where their ticket is, and which steps they see in its progress.
CALLER_STATUS = {CaseStatus.REGISTERED: "已受理，正在派单", CaseStatus.DISPATCHED: "正在办理",
                 CaseStatus.HANDLED: "承办部门已答复，等待回访", CaseStatus.CLOSED: "已办结",
                 CaseStatus.MERGED: "已与同一问题的其他工单合并办理"}
CALLER_STEPS = {"report": "热线受理", "answer": "坐席直接答复", "transfer": "转接专线", "merge": "合并办理",
                "dispatch": "派单至承办部门", "sign": "承办部门签收", "handle": "承办部门答复", "follow_up": "回访，已办结",
                "reopen": "回访未解决，重新交办", "extend_approve": "办理期限延长"}


def caller_read(case, ticket: HotlineTicket, names: dict, steps: list[CallerStepRead] | None = None) -> CallerTicketRead:
    label = CALLER_STATUS.get(CaseStatus(case.status), STATUS_LABELS[CaseStatus(case.status)])
    if case.status == CaseStatus.CLOSED and ticket.outcome == Outcome.TRANSFERRED:
        label = f"已转接 {ticket.transfer_line} 专线办理"
    elif case.status == CaseStatus.CLOSED and ticket.outcome == Outcome.ANSWERED:
        label = "已办结（来电时直接答复）"
    department = names.get(case.department_id) if case.department_id else None
    replied = case.status in (CaseStatus.HANDLED, CaseStatus.CLOSED) and ticket.outcome == Outcome.DISPATCHED
    return CallerTicketRead(
        number=case.number, status=case.status, status_label=label, category_name=case.category_name, said=ticket.said,
        department_name=department[1] if department else None,
        answer=ticket.knowledge_text if ticket.outcome == Outcome.ANSWERED else None, transfer_line=ticket.transfer_line,
        reply=case.result if replied else None,
        satisfaction_label=SATISFACTION_LABELS[Satisfaction(ticket.satisfaction)] if ticket.satisfaction else None,
        solved=ticket.solved, created_at=case.created_at, created_text=wall.beijing_text(case.created_at),
        steps=steps or [])


def caller_detail(db: Session, case, ticket: HotlineTicket) -> CallerTicketRead:
    events = [e for e in grid.trail(db, case) if e.action in CALLER_STEPS]
    names = dict(org.names_by_ids(db, {case.department_id, *(e.department_id for e in events)} - {None}))
    steps = [CallerStepRead(label=CALLER_STEPS[e.action],
                            department=names[e.department_id][1] if e.action in ("dispatch", "sign", "handle")
                            and e.department_id in names else None, at=e.at, at_text=wall.beijing_text(e.at))
             for e in events]
    return caller_read(case, ticket, names, steps)


def reads(db: Session, pairs) -> list[TicketRead]:
    names = dict(org.names_by_ids(db, {c.department_id for c, _ in pairs if c.department_id}))
    return [ticket_read(c, t, names) for c, t in pairs]


def detail(db: Session, principal: Principal, case) -> TicketDetail:
    ticket = tickets.ticket_of(db, case.id)
    events = grid.trail(db, case)
    names = dict(org.names_by_ids(db, {case.department_id, *(e.department_id for e in events)} - {None}))
    clocks = [TicketClockRead(step=STEP_OF[ClockKind(c.kind)], limit=supervision.clock_limit_text(c),
                              due=supervision.clock_due_text(c), level=c.level, status=c.status)
              for c in supervision.clocks_of_subjects(db, [k.value for k in STEP_OF], case.number)]
    return TicketDetail(
        **ticket_read(case, ticket, names).model_dump(),
        trail=[TicketEventRead(action=e.action, action_label=ACTION_LABELS.get(e.action, e.action),  # type: ignore[call-overload]
                               actor_name=e.actor_name, department=names[e.department_id][1] if e.department_id in names else None,
                               note=e.note, at=e.at, at_text=wall.beijing_text(e.at)) for e in events],
        clocks=clocks, actions=tickets.allowed_actions(principal, case, ticket))


@router.post("", status_code=201, response_model=TicketDetail,
             summary="登记来电工单并选择处理方式（直接办结、派单、转专线、合并）；Idempotency-Key 防重复提交")
def create(body: TicketIn, request: Request, response: Response, db: DbSession,
           principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)],
           idempotency_key: Annotated[str | None, Header(max_length=64)] = None):
    call = tickets.CallIn(**{**body.model_dump(), "outcome": Outcome(body.outcome)})
    fingerprint = request_hash(request, body.model_dump(mode="json"))
    try:
        case, ticket, created = tickets.create(db, principal, call, extent=extent_of(request), idempotency_key=idempotency_key,
                                               request_hash=fingerprint)
        db.commit()
    except IntegrityError:  # the same key sent twice at once: the other request made the ticket
        db.rollback()
        case, ticket, created = tickets.create(db, principal, call, extent=extent_of(request), idempotency_key=idempotency_key,
                                               request_hash=fingerprint)
    if not created:
        response.status_code = 200
    return detail(db, principal, case)


@router.get("", response_model=list[TicketRead], summary="工单队列：热线中心（退单待派、延期待批、超期、待回访）、承办部门（待签收、待办理）")
def list_tickets(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER, Permission.HOTLINE_CENTRE,
                                                                        Permission.HOTLINE_HANDLE)],
                 queue: Queue = "all", limit: Annotated[int, Query(ge=1, le=200)] = 100):
    return reads(db, tickets.queue(db, principal, queue, limit=limit))


@router.post("/context", response_model=TicketContext,
             summary="来电参考：同一号码的历史工单、同一地点的未办结工单、匹配的办事事项和常见问题")
def context(body: ContextIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)]):
    earlier = reads(db, tickets.earlier(db, body.caller_phone)) if body.caller_phone else []
    nearby = reads(db, tickets.nearby_open(db, body.lon, body.lat)) if body.lon is not None and body.lat is not None else []
    return TicketContext(earlier=earlier, nearby=nearby, items=[ItemHit(**hit) for hit in tickets.knowledge(db, body.text or "")])


@router.post("/caller", response_model=CallerRead,
             summary="按来电人提供的身份证号查询人口库（须说明用途，记入审计日志；无明文权限时脱敏）")
def look_up_caller(body: CallerLookupIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)]):
    found = tickets.look_up_caller(db, principal, body.id_number, purpose=body.purpose)
    db.commit()
    return CallerRead(**found)


@router.get("/{number}", response_model=TicketDetail, summary="工单详情：来电、办理过程、计时和本人可做的操作（号码已脱敏）")
def read(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER, Permission.HOTLINE_CENTRE,
                                                                                Permission.HOTLINE_HANDLE)]):
    return detail(db, principal, tickets.readable(db, principal, number))


@router.post("/{number}/contact", response_model=ContactRead,
             summary="查看来电人完整号码（承办部门和热线中心，须说明用途，记入审计日志）")
def read_contact(number: str, body: PurposeIn, db: DbSession,
                 principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE, Permission.HOTLINE_HANDLE)]):
    case = tickets.readable(db, principal, number)
    phone, id_number = tickets.contact(db, principal, case, tickets.ticket_of(db, case.id), purpose=body.purpose)
    db.commit()
    return ContactRead(caller_phone=phone, caller_id_number=id_number)


def _step(db: Session, principal: Principal, case) -> TicketDetail:
    db.commit()
    return detail(db, principal, case)


@router.post("/{number}/sign", response_model=TicketDetail, summary="签收工单（承办部门）")
def sign(number: str, body: TicketStepIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)]):
    return _step(db, principal, tickets.sign(db, principal, number, version=body.version))


@router.post("/{number}/reply", response_model=TicketDetail, summary="办理并答复（承办部门；热线中心随后回访）")
def reply(number: str, body: ReplyIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)]):
    return _step(db, principal, tickets.reply(db, principal, number, reply_text=body.reply, version=body.version))


@router.post("/{number}/return", response_model=TicketDetail, summary="退单：非本部门职责，退回热线中心重新派单")
def return_ticket(number: str, body: ReasonIn, db: DbSession,
                  principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)]):
    return _step(db, principal, tickets.return_ticket(db, principal, number, reason=body.reason, version=body.version))


@router.post("/{number}/extension", response_model=TicketDetail, summary="申请延期（承办部门，热线中心审批）")
def request_extension(number: str, body: ExtensionIn, db: DbSession,
                      principal: Annotated[Principal, require(Permission.HOTLINE_HANDLE)]):
    return _step(db, principal, tickets.request_extension(db, principal, number, days=body.days, reason=body.reason,
                                                          version=body.version))


@router.post("/{number}/extension/decision", response_model=TicketDetail, summary="审批延期申请（热线中心）")
def decide_extension(number: str, body: ExtensionDecisionIn, db: DbSession,
                     principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return _step(db, principal, tickets.decide_extension(db, principal, number, approve=body.approve, note=body.note,
                                                         version=body.version))


@router.post("/{number}/dispatch", response_model=TicketDetail, summary="重新派单或裁定（热线中心处理退单；可改正分类，记为分类模型的纠正）")
def reroute(number: str, body: RerouteIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return _step(db, principal, tickets.reroute(db, principal, number, department_code=body.department_code, note=body.note,
                                                version=body.version, category=body.category))


@router.post("/{number}/urge", response_model=TicketDetail, summary="督办（热线中心；通知承办部门并计数）")
def urge(number: str, body: UrgeIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return _step(db, principal, tickets.urge(db, principal, number, note=body.note, version=body.version))


@router.post("/{number}/follow-up", response_model=TicketDetail,
             summary="回访（热线中心）：告知答复，记录满意度和是否解决；未解决则重新交办")
def follow_up(number: str, body: FollowUpIn, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return _step(db, principal, tickets.follow_up(db, principal, number, satisfaction=body.satisfaction, solved=body.solved,
                                                  note=body.note, version=body.version))


__all__: list[Any] = ["router"]


# ---- the caller's own (我的 12345 诉求) -------------------------------------------------------------------


@mine.get("", response_model=CallerTicketsRead,
          summary="我的 12345 诉求：来电时提供了本人身份证号的工单（账户须已实名核验），最新在前")
def my_tickets(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_OWN)]):
    pairs = tickets.own_tickets(db, principal)
    if pairs is None:
        return CallerTicketsRead(verified=False, items=[])
    names = dict(org.names_by_ids(db, {c.department_id for c, _ in pairs if c.department_id}))
    return CallerTicketsRead(verified=True, items=[caller_read(c, t, names) for c, t in pairs])


@mine.get("/{number}", response_model=CallerTicketRead, summary="我的一件 12345 诉求：办理过程和答复（他人的工单：404）")
def my_ticket(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_OWN)]):
    case, ticket = tickets.own_ticket(db, principal, number)
    return caller_detail(db, case, ticket)
