"""12345 工单: a call recorded, answered or routed, and followed to the caller's verdict.

A ticket IS a grid case (``grid.service``: ``Source.HOTLINE``, number ``RX-…``), moved only by the
case engine's steps, on its clocks; the call's own facts are the ``HotlineTicket`` row beside it.

    agent:       create → 直接办结 answered | 转专线 transferred | 合并 merged | 派单 dispatched
    department:  签收 sign → 办理并答复 reply | 退单 return (the centre re-routes or arbitrates)
                 | 申请延期 extension (the centre approves: the handling clock runs longer; or refuses)
    centre:      督办 urge an open ticket; 回访 follow-up after the reply: solved → closed,
                 not solved → reopened to the same department on a new round of clocks

The caller's phone and ID number are personal data: every list and detail shows them masked; the
handling department and the centre read them in clear only by ``contact``, audited with a purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, clock as wall
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.idnumbers import mask_resident_id
from tongban.core.permissions import Permission
from tongban.grid import service as grid
from tongban.grid.schemas import Action, CaseStatus, GridCase, Source
from tongban.hotline.categories import HotlineCategory, catalogue
from tongban.hotline import training
from tongban.hotline.models import CorrectionKind, ExtensionState, HotlineTicket, Outcome
from tongban.items import service as items
from tongban.notifications.service import notify, text as text_message
from tongban.org import service as org
from tongban.registry import service as registry
from tongban.registry.schemas import PERSONS

PREFIX = "RX"
DUPLICATE_WINDOW = timedelta(minutes=10)  # the same caller saying the same thing again: a repeated submission
GRID_CODE = re.compile(r"^G-([CE])(\d{4})$")
QUEUES = {
    "reroute": "退单待重新派单", "extension": "延期申请待审批", "late": "超期待督办", "follow_up": "已答复待回访",
    "sign": "待签收", "handle": "待办理", "all": "全部工单",
}
CENTRE_QUEUES = ("reroute", "extension", "late", "follow_up")
DEPARTMENT_QUEUES = ("sign", "handle")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_id(number: str | None) -> str | None:
    return mask_resident_id(number) if number else number


# ---- categories -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """A category as a ticket uses it: the hotline's code and name, its department, its transfer
    line and the limit the case engine times the handling with."""

    code: str
    name: str
    department: str | None
    transfer_line: str | None
    limit: grid.Category


def chosen_category(db: Session, code: str) -> Chosen:
    """The hotline's category ``code`` (G-E0102: a grid class; H-RS01: the hotline's own)."""
    own: HotlineCategory | None = catalogue().by_code().get(code)
    matched = GRID_CODE.match(code)
    if matched:
        kind = "component" if matched.group(1) == "C" else "event"
        found = grid.category(db, kind, matched.group(2))  # its 处置时限 is the limit
        department = own.department if own else None
        if department is None:
            routed = grid.route_department(db, found.handler, None)
            office = org.get(db, routed) if routed is not None else None
            department = office.code if office is not None else None
        return Chosen(code=code, name=found.name, department=department, transfer_line=own.transfer_line if own else None,
                      limit=found)
    if own is None or own.limit is None:
        raise Problem("not-found", f"没有热线分类「{code[:16]}」", errors=[{"field": "body.category", "message": "未知分类"}])
    return Chosen(code=code, name=own.name, department=own.department, transfer_line=own.transfer_line,
                  limit=_on_the_engine(own))


def _on_the_engine(own: HotlineCategory) -> grid.Category:
    """One of the hotline's own classes as the case engine keeps its tickets (kind ``hotline``)."""
    assert own.limit is not None  # the catalogue requires a limit of every class of the hotline's own
    line = f"，或转 {own.transfer_line}" if own.transfer_line else ""
    return grid.Category(kind="hotline", code=own.code, major=own.major, name=own.name,
                         register_condition=f"12345 热线受理{line}；处置时限 {own.limit.text}",
                         limit_value=own.limit.value, limit_unit=own.limit.unit, urgent=False, handler="")


def open311_categories() -> list[grid.Category]:
    """The hotline's own classes, which the grid's Open311 face lists beside its categories: their
    tickets with a place are service requests too (``app.state.open311_other_categories``)."""
    return [_on_the_engine(c) for c in catalogue().categories if c.grid is None and c.limit is not None]


# ---- a call -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallIn:
    caller_phone: str
    said: str
    summary: str
    category: str
    outcome: Outcome
    caller_name: str | None = None
    caller_id_number: str | None = None
    department_code: str | None = None
    knowledge_ref: str | None = None
    knowledge_text: str | None = None
    transfer_line: str | None = None
    merge_into: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    proposed_category: str | None = None  # the top proposal the call page showed (re-checked here)


def _invalid(field: str, message: str) -> Problem:
    return Problem("validation-error", message, errors=[{"field": f"body.{field}", "message": message}])


def ticket_of(db: Session, case_id: int) -> HotlineTicket:
    found = db.get(HotlineTicket, case_id)
    if found is None:
        raise Problem("not-found", "没有这张工单")
    return found


def create(db: Session, principal: Principal, call: CallIn, *, extent, idempotency_key: str | None = None,
           request_hash: str | None = None) -> tuple[GridCase, HotlineTicket, bool]:
    """A call recorded with the agent's outcome, in one transaction: (case, ticket, created). A
    retry with the same ``Idempotency-Key`` answers the first ticket (``created`` False); the same
    caller saying the same thing within ``DUPLICATE_WINDOW`` is refused as a repeated submission."""
    if idempotency_key:
        earlier = db.scalar(select(HotlineTicket).where(HotlineTicket.idempotency_key == idempotency_key[:64]))
        if earlier is not None:
            from tongban.core.idempotency import check_replay
            check_replay(earlier.request_hash, request_hash, idempotency_key)
            first = grid.case_by_id(db, earlier.case_id)
            assert first is not None  # the ticket's own case (deleted only with it)
            return first, earlier, False
    said, summary = call.said.strip(), call.summary.strip()
    if not said:
        raise _invalid("said", "请记录来电内容")
    if not summary:
        raise _invalid("summary", "请填写坐席摘要")
    since = wall.now() - DUPLICATE_WINDOW
    repeated = db.scalar(select(HotlineTicket.case_id).where(HotlineTicket.caller_phone == call.caller_phone,
                                                             HotlineTicket.created_at >= since,
                                                             HotlineTicket.said == said[:2000]).limit(1))
    if repeated is not None:
        first = grid.case_by_id(db, repeated)
        number = first.number if first is not None else ""
        raise Problem("hotline-duplicate", f"同一来电号码的相同内容已于 {int(DUPLICATE_WINDOW.total_seconds() // 60)} 分钟内"
                      f"登记为工单 {number}，未重复登记", status=409, title="重复提交", ticket=number)
    chosen = chosen_category(db, call.category)
    department_code = None
    transfer_line = None
    if call.outcome == Outcome.ANSWERED and not (call.knowledge_text or "").strip():
        raise _invalid("knowledge_text", "直接办结时请记录答复来电人的内容（所用知识）")
    if call.outcome == Outcome.TRANSFERRED:
        transfer_line = call.transfer_line or chosen.transfer_line
        if transfer_line not in catalogue().transfer_lines:
            raise _invalid("transfer_line", f"请选择要转接的专线（{'、'.join(catalogue().transfer_lines)}）")
    if call.outcome == Outcome.MERGED and not call.merge_into:
        raise _invalid("merge_into", "请填写要合并到的未办结工单编号")
    if call.outcome == Outcome.DISPATCHED:
        department_code = call.department_code or chosen.department
        if not department_code:
            raise _invalid("department_code", "该分类没有默认承办部门，请选择派单部门")
        if org.get_by_code(db, department_code) is None:
            raise Problem("not-found", f"没有部门「{department_code[:32]}」",
                          errors=[{"field": "body.department_code", "message": "未知部门"}])
    case = grid.file_call(db, principal, grid.Call(category=chosen.limit, description=summary, lon=call.lon, lat=call.lat,
                                                   address=call.address, caller_name=call.caller_name),
                          extent=extent, prefix=PREFIX)
    ticket = HotlineTicket(case_id=case.id, caller_phone=call.caller_phone, caller_name=call.caller_name or None,
                           caller_id_number=call.caller_id_number or None, said=said[:2000], summary=summary[:500],
                           category_code=chosen.code, outcome=call.outcome.value, knowledge_ref=call.knowledge_ref or None,
                           knowledge_text=(call.knowledge_text or "").strip()[:2000] or None, transfer_line=transfer_line,
                           agent_account=principal.actor_id[:64], urges=0, reopens=0,
                           idempotency_key=idempotency_key[:64] if idempotency_key else None, request_hash=request_hash,
                           created_at=wall.now())
    db.add(ticket)
    db.flush()
    if call.proposed_category:
        _correct_proposal(db, principal, case, ticket)
    if call.outcome == Outcome.ANSWERED:
        grid.close_call(db, principal, case.number, action=Action.ANSWER,
                        note=f"直接答复：{ticket.knowledge_text}" + (f"（{ticket.knowledge_ref}）" if ticket.knowledge_ref else ""))
    elif call.outcome == Outcome.TRANSFERRED:
        grid.close_call(db, principal, case.number, action=Action.TRANSFER,
                        note=f"转接 {catalogue().transfer_lines[transfer_line or '']}")
    elif call.outcome == Outcome.MERGED:
        target = grid.case_by_number(db, (call.merge_into or "")[:24])
        if target.source != Source.HOTLINE:
            raise Problem("grid-state", f"{target.number} 不是热线工单，不能合并")
        grid.merge(db, principal, case.number, into=target.number)
    else:
        _dispatch(db, principal, case.number, department_code or "", chosen, note=None)
    return case, ticket, True


def _correct_proposal(db: Session, principal: Principal, case, ticket: HotlineTicket) -> None:
    """The agent was shown a proposal: when the category they chose is not the classifier's top
    one for what was said (asked again here, not taken from the page), that is a correction."""
    found = training.propose(db, ticket.said)
    proposed = found.proposals[0].category if found.proposals else None
    if proposed is not None and proposed != ticket.category_code:
        training.record(db, principal, case_id=case.id, number=case.number, said=ticket.said, chosen=ticket.category_code,
                        proposed=proposed, kind=CorrectionKind.FILED)


def _dispatch(db: Session, principal: Principal, number: str, department_code: str, chosen: Chosen, *, note: str | None,
              version: int | None = None):
    case = grid.dispatch(db, principal, number, department_code=department_code, version=version, note=note,
                         limit=chosen.limit)
    ticket = ticket_of(db, case.id)
    ticket.signed_at = None
    notify(db, department_id=case.department_id, title=f"新的 12345 工单 {case.number}",
           body=f"{chosen.name}：{case.description[:200]}；请在 {grid.TICKET_SIGN_HOURS} 个工作小时内签收，"
                f"{wall.beijing_text(case.expected_at)} 前答复", kind="hotline_ticket", link=f"/hotline/tickets/{case.number}")
    return case


# ---- who reads a ticket ------------------------------------------------------------------------------


def is_centre(principal: Principal) -> bool:
    return principal.can(Permission.HOTLINE_CENTRE)


def readable(db: Session, principal: Principal, number: str):
    """A ticket as this person may see it: the centre and agents every ticket; a department the
    tickets dispatched to it (now or before); anyone else nothing (403, recorded)."""
    case = grid.case_by_number(db, number[:24])
    if case.source != Source.HOTLINE:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的工单")
    if is_centre(principal) or principal.can(Permission.HOTLINE_ANSWER):
        return case
    if principal.can_for_department(Permission.HOTLINE_HANDLE, case.department_id):
        return case
    if principal.can(Permission.HOTLINE_HANDLE) and principal.department_id is not None and any(
            e.department_id == principal.department_id for e in grid.trail(db, case)):
        return case
    raise deny(db, principal, slug="department-scope", detail="该工单未派给本部门", action="hotline.ticket.read",
               object_type="grid_case", object_id=case.number)


def handles(principal: Principal, case) -> bool:
    return principal.can_for_department(Permission.HOTLINE_HANDLE, case.department_id)


def allowed_actions(principal: Principal, case, ticket: HotlineTicket) -> list[str]:
    """What this person may do to the ticket now (the detail page's buttons)."""
    actions: list[str] = []
    centre = is_centre(principal)
    if case.status == CaseStatus.REGISTERED and centre:
        actions += ["dispatch", "urge"]
    if case.status == CaseStatus.DISPATCHED:
        if handles(principal, case):
            actions += ["reply", "return"] if ticket.signed_at else ["sign", "return"]
            if ticket.extension_state != ExtensionState.REQUESTED:
                actions.append("extension")
        if centre:
            actions.append("urge")
            if ticket.extension_state == ExtensionState.REQUESTED:
                actions.append("decide_extension")
    if case.status == CaseStatus.HANDLED and centre:
        actions.append("follow_up")
    if centre or handles(principal, case):
        actions.append("contact")
    return actions


def contact(db: Session, principal: Principal, case, ticket: HotlineTicket, *, purpose: str) -> tuple[str, str | None]:
    """查看完整号码: the caller's phone and ID number in clear, for the handling department and the
    centre only, with a purpose; the read is audited."""
    if not (is_centre(principal) or handles(principal, case)):
        raise deny(db, principal, slug="department-scope", detail="只有承办部门和热线中心可查看来电人完整号码",
                   action="hotline.ticket.read_contact", object_type="grid_case", object_id=case.number)
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise _invalid("purpose", "请说明查看来电人完整号码的用途")
    audit.record(db, actor=principal, action="hotline.ticket.read_contact", object_type="grid_case", object_id=case.number,
                 purpose=purpose[:200], details={"id_number": ticket.caller_id_number is not None})
    return ticket.caller_phone, ticket.caller_id_number


# ---- the steps -------------------------------------------------------------------------------------------


def _require(principal: Principal, permission: Permission, db: Session, case, action: str) -> None:
    if not principal.can(permission):
        raise deny(db, principal, slug="permission-denied", detail=f"需要「{permission.label}」权限", action=action,
                   object_type="grid_case", object_id=case.number)


def sign(db: Session, principal: Principal, number: str, *, version: int | None):
    case = readable(db, principal, number)
    ticket = ticket_of(db, case.id)
    if ticket.signed_at is not None and case.status == CaseStatus.DISPATCHED:
        raise Problem("grid-state", f"工单 {case.number} 已签收")
    case = grid.sign(db, principal, case.number, version=version)
    ticket.signed_at = wall.now()
    return case


def reply(db: Session, principal: Principal, number: str, *, reply_text: str, version: int | None):
    case = readable(db, principal, number)
    ticket = ticket_of(db, case.id)
    if case.status == CaseStatus.DISPATCHED and ticket.signed_at is None and handles(principal, case):
        raise Problem("grid-state", f"工单 {case.number} 尚未签收，请先签收再答复")
    case = grid.handle(db, principal, case.number, result=reply_text, version=version)
    department = org.get(db, case.department_id) if case.department_id else None
    replied = f"{department.name if department else '承办部门'}答复：{reply_text.strip()}"
    tell_caller(db, case, ticket, title="您反映的问题承办部门已答复", body=replied)
    # the caller is told the reply by text too (a mobile number: a landline waits for the 回访 call)
    text_message(db, phone=ticket.caller_phone, kind="hotline.reply", ref=case.number,
                 message=f"【12345】您反映的问题（工单 {case.number}）{replied}。热线中心将向您回访。")
    return case


def return_ticket(db: Session, principal: Principal, number: str, *, reason: str, version: int | None):
    case = readable(db, principal, number)
    case = grid.return_case(db, principal, case.number, reason=reason, version=version)
    ticket = ticket_of(db, case.id)
    ticket.signed_at = None
    if ticket.extension_state == ExtensionState.REQUESTED:
        ticket.extension_state = None
    return case


def reroute(db: Session, principal: Principal, number: str, *, department_code: str | None, note: str | None,
            version: int | None, category: str | None = None):
    """The centre sends a returned ticket to another department, or back to the same one with a
    note (arbitration: 裁定); with another ``category`` the department follows it unless chosen,
    and the change is a correction the classifier learns from at its next retraining."""
    case = readable(db, principal, number)
    _require(principal, Permission.HOTLINE_CENTRE, db, case, "hotline.ticket.dispatch")
    ticket = ticket_of(db, case.id)
    chosen = chosen_category(db, category or ticket.category_code)
    if chosen.code != ticket.category_code:
        if case.status != CaseStatus.REGISTERED:
            raise Problem("grid-state", f"工单 {case.number} 不在待重新派单状态，不能改分类")
        training.record(db, principal, case_id=case.id, number=case.number, said=ticket.said, chosen=chosen.code,
                        proposed=ticket.category_code, kind=CorrectionKind.REROUTED)
        ticket.category_code = chosen.code
        note = f"分类改为「{chosen.name}」" + (f"；{note}" if note else "")
    code = department_code or chosen.department
    if not code:
        raise _invalid("department_code", "请选择派单部门")
    if org.get_by_code(db, code) is None:
        raise Problem("not-found", f"没有部门「{code[:32]}」", errors=[{"field": "body.department_code", "message": "未知部门"}])
    return _dispatch(db, principal, case.number, code, chosen, note=note, version=version)


def request_extension(db: Session, principal: Principal, number: str, *, days: int, reason: str, version: int | None):
    case = readable(db, principal, number)
    ticket = ticket_of(db, case.id)
    if ticket.extension_state == ExtensionState.REQUESTED:
        raise Problem("grid-state", f"工单 {case.number} 已有待审批的延期申请")
    if not 1 <= days <= 30:
        raise _invalid("days", "延期天数应为 1 至 30 个工作日")
    case = grid.note_step(db, principal, case.number, action=Action.EXTEND_REQUEST, note=f"申请延期 {days} 个工作日：{reason}",
                          version=version, own=True)
    ticket.extension_days, ticket.extension_reason, ticket.extension_state = days, reason.strip()[:500], ExtensionState.REQUESTED
    return case


def decide_extension(db: Session, principal: Principal, number: str, *, approve: bool, note: str | None,
                     version: int | None):
    case = readable(db, principal, number)
    _require(principal, Permission.HOTLINE_CENTRE, db, case, "hotline.ticket.extend")
    ticket = ticket_of(db, case.id)
    if ticket.extension_state != ExtensionState.REQUESTED:
        raise Problem("grid-state", f"工单 {case.number} 没有待审批的延期申请")
    if approve:
        case = grid.extend(db, principal, case.number, days=ticket.extension_days or 0, note=note, version=version)
        ticket.extension_state = ExtensionState.APPROVED
    else:
        case = grid.note_step(db, principal, case.number, action=Action.EXTEND_REFUSE,
                              note=(note or "").strip() or "延期理由不充分，请按原期限办理", version=version)
        ticket.extension_state = ExtensionState.REFUSED
    notify(db, department_id=case.department_id, title=f"工单 {case.number} 延期申请{'已同意' if approve else '未同意'}",
           body=(note or "")[:500] or ("办理期限已延长" if approve else "请按原期限办理"), kind="hotline_ticket",
           link=f"/hotline/tickets/{case.number}")
    return case


def urge(db: Session, principal: Principal, number: str, *, note: str | None, version: int | None):
    """督办: counted, in the trail, and a notice to the department."""
    case = readable(db, principal, number)
    _require(principal, Permission.HOTLINE_CENTRE, db, case, "hotline.ticket.urge")
    text = (note or "").strip() or "请加快办理，按期答复来电人"
    case = grid.note_step(db, principal, case.number, action=Action.URGE, note=text, version=version)
    ticket = ticket_of(db, case.id)
    ticket.urges += 1
    if case.department_id is not None:
        notify(db, department_id=case.department_id, title=f"督办：12345 工单 {case.number}（第 {ticket.urges} 次）",
               body=text[:500], kind="hotline_ticket", link=f"/hotline/tickets/{case.number}")
    return case


def follow_up(db: Session, principal: Principal, number: str, *, satisfaction: str, solved: bool, note: str | None,
              version: int | None):
    """回访: the reply was told to the caller; their grade and whether it is solved."""
    from tongban.hotline.models import SATISFACTION_LABELS, Satisfaction
    case = readable(db, principal, number)
    _require(principal, Permission.HOTLINE_CENTRE, db, case, "hotline.ticket.follow_up")
    ticket = ticket_of(db, case.id)
    grade = SATISFACTION_LABELS[Satisfaction(satisfaction)]
    text = f"已向来电人告知答复；评价：{grade}；问题{'已' if solved else '未'}解决" + (f"；{note.strip()}" if note and note.strip() else "")
    case = grid.follow_up(db, principal, case.number, solved=solved, note=text,
                          limit=chosen_category(db, ticket.category_code).limit, version=version)
    ticket.satisfaction, ticket.solved = satisfaction, solved
    ticket.follow_up_note, ticket.followed_up_at = (note or "").strip()[:500] or None, wall.now()
    tell_caller(db, case, ticket, title="您反映的问题已办结" if solved else "您反映的问题已重新交办",
                body=f"回访评价：{grade}。" + ("感谢您的监督。" if solved else "问题尚未解决，已重新交承办部门办理。"))
    if not solved:
        ticket.reopens += 1
        ticket.extension_state = None
        notify(db, department_id=case.department_id, title=f"12345 工单 {case.number} 回访未解决，重新交办",
               body=(note or text)[:500], kind="hotline_ticket", link=f"/hotline/tickets/{case.number}")
    return case


# ---- lists ---------------------------------------------------------------------------------------------


def queue_names(principal: Principal) -> list[str]:
    """The queues this person works, in the order the page shows them (``all`` last)."""
    names: list[str] = []
    if is_centre(principal):
        names += list(CENTRE_QUEUES)
    if principal.can(Permission.HOTLINE_HANDLE):
        names += list(DEPARTMENT_QUEUES)
    return [*names, "all"]


def queue(db: Session, principal: Principal, name: str, *, limit: int = 200) -> list[tuple[GridCase, HotlineTicket]]:
    """A queue of tickets with their rows: the centre's (re-route, extensions, late, follow-up)
    or a department's (to sign, to handle); ``all``: every ticket this person may see."""
    centre = is_centre(principal) or principal.can(Permission.HOTLINE_ANSWER)
    department = None if centre else principal.department_id
    if not centre and name in CENTRE_QUEUES:
        name = "all"
    cases: list
    if name == "reroute":
        cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.REGISTERED], limit=limit)
    elif name == "extension":
        ids = list(db.scalars(select(HotlineTicket.case_id).where(HotlineTicket.extension_state == ExtensionState.REQUESTED)
                              .limit(limit)))
        cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.DISPATCHED], ids=ids, limit=limit)
    elif name == "late":
        cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.DISPATCHED], overdue=True, limit=limit)
    elif name == "follow_up":
        cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.HANDLED], limit=limit)
    elif name in DEPARTMENT_QUEUES:
        cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.DISPATCHED],
                                   department_id=department if department is not None else None, limit=limit)
    else:
        cases = grid.channel_cases(db, Source.HOTLINE, department_id=department, limit=limit)
    tickets = _rows(db, [c.id for c in cases])
    paired = [(c, tickets[c.id]) for c in cases if c.id in tickets]
    if name == "sign":
        paired = [(c, t) for c, t in paired if t.signed_at is None]
    elif name == "handle":
        paired = [(c, t) for c, t in paired if t.signed_at is not None]
    return paired


def _rows(db: Session, ids: list[int]) -> dict[int, HotlineTicket]:
    if not ids:
        return {}
    return {t.case_id: t for t in db.scalars(select(HotlineTicket).where(HotlineTicket.case_id.in_(ids)))}


def earlier(db: Session, phone: str, *, limit: int = 10) -> list[tuple[GridCase, HotlineTicket]]:
    """The caller's earlier tickets (same phone), the newest first."""
    rows = list(db.scalars(select(HotlineTicket).where(HotlineTicket.caller_phone == phone)
                           .order_by(HotlineTicket.created_at.desc()).limit(limit)))
    cases = {c.id: c for c in grid.cases_by_ids(db, [t.case_id for t in rows])}
    return [(cases[t.case_id], t) for t in rows if t.case_id in cases]


# ---- the caller's own -----------------------------------------------------------------------------------


def _proven_resident_id(db: Session, principal: Principal) -> str | None:
    """The resident ID this citizen's account has proven (实名核验): a number anyone can say on the
    phone opens nothing until the account holding it is verified."""
    identity = accounts.applicant_identity(db, principal)
    return identity.resident_id if identity is not None and identity.verified and identity.resident_id else None


def own_tickets(db: Session, principal: Principal, *, limit: int = 200) -> list[tuple[GridCase, HotlineTicket]] | None:
    """我的 12345 诉求: the tickets of the calls in which the caller gave this resident's ID number,
    the newest first; None when the account has not proven its ID."""
    resident_id = _proven_resident_id(db, principal)
    if resident_id is None:
        return None
    rows = list(db.scalars(select(HotlineTicket).where(HotlineTicket.caller_id_number == resident_id)
                           .order_by(HotlineTicket.created_at.desc()).limit(limit)))
    cases = {c.id: c for c in grid.cases_by_ids(db, [t.case_id for t in rows])}
    return [(cases[t.case_id], t) for t in rows if t.case_id in cases]


def own_ticket(db: Session, principal: Principal, number: str) -> tuple[GridCase, HotlineTicket]:
    """One of this resident's own tickets; anyone else's is as unknown as a number never given."""
    resident_id = _proven_resident_id(db, principal)
    case = db.scalar(select(GridCase).where(GridCase.number == number[:24], GridCase.source == Source.HOTLINE.value))
    ticket = db.get(HotlineTicket, case.id) if case is not None else None
    if case is None or ticket is None or resident_id is None or ticket.caller_id_number != resident_id:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的本人工单")
    return case, ticket


def tell_caller(db: Session, case: GridCase, ticket: HotlineTicket, *, title: str, body: str) -> None:
    """A caller who gave their resident ID, and holds a verified account, is told in 「我的 12345 诉求」
    (besides the centre's 回访 call)."""
    account = accounts.verified_citizen(db, ticket.caller_id_number) if ticket.caller_id_number else None
    if account is not None:
        notify(db, department_id=None, account_id=str(account), kind="hotline.caller", title=f"{title}（{case.number}）",
               body=body[:500], link=f"/hotline/mine/{case.number}")


def nearby_open(db: Session, lon: float, lat: float, *, limit: int = 10) -> list[tuple[GridCase, HotlineTicket]]:
    """Open tickets at the same place (the candidates to merge into)."""
    cases = grid.channel_cases(db, Source.HOTLINE, statuses=[CaseStatus.REGISTERED, CaseStatus.DISPATCHED,
                                                             CaseStatus.HANDLED], near=(lon, lat), limit=limit)
    tickets = _rows(db, [c.id for c in cases])
    return [(c, tickets[c.id]) for c in cases if c.id in tickets]


def knowledge(db: Session, text: str, *, limit: int = 5) -> list[dict[str, str]]:
    """The published service items that match what the caller says (the item search's own ranking)."""
    text = " ".join(text.split())[:100]
    if len(text) < 2:
        return []
    try:
        _, hits = items.search(db, text, limit=limit)
    except Problem:
        return []  # a query the search cannot use (all punctuation …): no suggestion, not an error
    return [{"code": h.code, "name": h.name, "department_name": h.department_name} for h in hits if h.kind == "item"]


def look_up_caller(db: Session, principal: Principal, id_number: str, *, purpose: str) -> dict[str, str | bool | None]:
    """The caller in the population registry by the resident ID they gave, only with a stated
    purpose, audited as every registry read (``registry.reveal``); personal fields in clear only
    for a reader with the right to them (an agent sees them masked)."""
    stated = registry.stated_purpose(purpose)
    if stated is None:
        raise _invalid("purpose", f"请说明查询来电人户籍信息的用途（至少 {registry.MIN_PURPOSE} 个字）")
    row = registry.current_row(db, PERSONS, id_number)
    clear = registry.reveal(db, principal, PERSONS, id_number, stated, hotline_call=True)
    if row is None:
        return {"found": False, "masked": not clear, "name": None, "residence_status": None, "residence_address": None}
    values, masked = registry.present(PERSONS, row, clear=clear)
    return {"found": True, "masked": bool(masked), "name": values.get("name"),
            "residence_status": values.get("residence_status"), "residence_address": values.get("residence_address")}
