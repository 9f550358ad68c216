"""The hotline's rules, as other domains and the routes call them.

``propose`` asks the process's classifier (``classify``, the newest retraining: ``training``) and
names the departments; ``categories``
is the union of the grid's active classes and the hotline's own, each with its department.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal

from tongban.grid import service as grid
from tongban.core.permissions import Permission
from tongban.hotline import mailbox_service, tickets, training
from tongban.hotline.mailbox_models import LetterStatus
from tongban.hotline.categories import HotlineCategory, catalogue
from tongban.hotline.schemas import CategoryRead, ClassifierRead, ProposalRead, ProposalsRead
from tongban.org import service as org


def propose(db: Session, text: str) -> ProposalsRead:
    """The likeliest departments for what the caller says, each with its likeliest category."""
    found = training.propose(db, text)
    by_code = catalogue().by_code()
    lines = catalogue().transfer_lines
    names = {code: d.name for code, d in org.by_codes(db, {p.department for p in found.proposals}).items()}
    return ProposalsRead(
        proposals=[ProposalRead(category=p.category, category_name=p.category_name, major=by_code[p.category].major,
                                department=p.department, department_name=names.get(p.department, p.department),
                                transfer_line=p.transfer_line, transfer_line_name=lines.get(p.transfer_line or ""),
                                confidence=p.confidence)
                   for p in found.proposals],
        must_choose=found.must_choose, threshold=found.threshold)


def _read(category: HotlineCategory) -> CategoryRead:
    return CategoryRead(code=category.code, major=category.major, name=category.name, department=category.department,
                        transfer_line=category.transfer_line, source="grid" if category.grid else "hotline")


def categories(db: Session) -> list[CategoryRead]:
    """The hotline's categories: its own file's, then every other active grid class (its department
    by the grid's district-wide route for its handler, the street's office — 属地 — when none)."""
    own = [_read(c) for c in catalogue().categories]
    referenced = {(c.grid.kind, c.grid.code) for c in catalogue().categories if c.grid}
    rest: list[CategoryRead] = []
    departments = {d.id: d.code for d in org.list_all(db)}
    for found in grid.categories(db):
        if (found.kind, found.code) in referenced:
            continue
        routed = grid.route_department(db, found.handler, None)
        rest.append(CategoryRead(code=f"G-{'C' if found.kind == 'component' else 'E'}{found.code}", major=found.major,
                                 name=found.name, department=departments.get(routed, "") if routed else "",
                                 transfer_line=None, source="grid"))
    return own + rest


def classifier(db: Session) -> ClassifierRead:
    """The model in use and what the next retraining would add."""
    found = training.status(db)
    latest = found.latest
    return ClassifierRead(
        corrections_since=found.corrections_since, confirmed_since=found.confirmed_since,
        version=latest.id if latest else None, trained_at=latest.trained_at if latest else None,
        trained_text=wall.beijing_text(latest.trained_at) if latest else None,
        trained_by=latest.trained_by_name if latest else None, examples=latest.examples if latest else None,
        corrections=latest.corrections if latest else None, confirmed=latest.confirmed if latest else None,
        accuracy=latest.accuracy if latest else None, process_version=found.process_version,
        description=(f"第 {latest.id} 版：{wall.beijing_text(latest.trained_at)} 由 {latest.trained_by_name} 训练，"
                     f"样本 {latest.examples} 条（含纠正 {latest.corrections} 条、回访确认 {latest.confirmed} 条），"
                     f"演示留出集准确率 {latest.accuracy:.1%}") if latest else
                    "演示模型：以全部演示工单训练，尚未按热线中心的纠正重新训练")


def retrain(db: Session, principal: Principal) -> ClassifierRead:
    training.retrain(db, principal)
    db.commit()
    return classifier(db)


def waiting(db: Session, principal: Principal) -> list[tuple[str, int, str]]:
    """What waits for this person at the hotline and the mailbox, as (label, count, link) for the
    workbench: each count is the rows of the queue the link opens (a queue shows at most 200)."""
    found = [(f"热线工单{tickets.QUEUES[name]}", len(tickets.queue(db, principal, name)), f"/hotline/tickets?queue={name}")
             for name in tickets.queue_names(principal) if name != "all"]
    letters = []
    if principal.can(Permission.MAILBOX_HANDLE):
        letters = [(LetterStatus.RECEIVED, "待处理的来信"), (LetterStatus.REPLIED, "部门已答复待审核的来信")]
    elif principal.can(Permission.MAILBOX_REPLY):
        letters = [(LetterStatus.ASSIGNED, "交办本部门待答复的来信")]
    for status, label in letters:
        query = mailbox_service.queue(principal, status=status.value)
        found.append((label, db.scalar(select(func.count()).select_from(query.subquery())) or 0,
                      f"/staff/mailbox?status={status.value}"))
    return found
