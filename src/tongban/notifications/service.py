"""The one way to notify: a row the recipients' workbench lists (and, later, other channels).

One notice at a time (``notify``), several given at once (``notify_many``), or as many as a
SELECT chooses, in one INSERT … SELECT (``notify_selected``: a scan telling thousands of people).
No other module writes the notifications table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Select, insert, literal, or_, select
from sqlalchemy.orm import Session

from tongban.core.auth import Principal
from tongban.core.db.base import UTCDateTime, affected
from tongban.core.permissions import Permission, Scope
from tongban.notifications.models import Notification
from tongban.core import clock

# What a SELECT given to ``notify_selected`` returns, in this order (``created_at`` is added).
SELECTED_COLUMNS = ("department_id", "role", "account_id", "title", "body", "link", "kind")


def notify(db: Session, *, department_id: int | None, title: str, body: str, kind: str, link: str | None = None,
           role: str | None = None, account_id: str | None = None) -> Notification:
    """Notify a department (or only one role in it), or one account, in the caller's transaction."""
    notification = Notification(department_id=department_id, role=role, account_id=account_id, title=title[:200],
                                body=body[:2000], link=link, kind=kind, created_at=clock.now())
    db.add(notification)
    return notification


@dataclass(frozen=True)
class Notice:
    """One notice of ``notify_many``: to a department (or one role in it), or to one account."""

    department_id: int | None
    title: str
    body: str
    kind: str
    link: str | None = None
    role: str | None = None
    account_id: str | None = None


def notify_many(db: Session, notices: Iterable[Notice], *, at: datetime | None = None) -> int:
    """Several notices in one statement, in the caller's transaction; how many were sent."""
    created_at = at or clock.now()
    rows = [{**asdict(n), "title": n.title[:200], "body": n.body[:2000], "created_at": created_at} for n in notices]
    if rows:
        db.execute(insert(Notification), rows)
    return len(rows)


def notify_selected(db: Session, chosen: Select, *, at: datetime | None = None) -> int:
    """As many notices as ``chosen`` selects (its columns: ``SELECTED_COLUMNS``, in that order,
    the title within 200 characters and the body within 2000), in one INSERT … SELECT in the
    caller's transaction; how many were sent. ``at``: their moment (by default, now)."""
    rows = chosen.add_columns(literal(at or clock.now(), UTCDateTime))
    return affected(db, insert(Notification).from_select([*SELECTED_COLUMNS, "created_at"], rows))


def for_principal(db: Session, principal: Principal, *, limit: int = 50) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    scope = principal.scope_for(Permission.NOTIFICATIONS_READ)
    if scope == Scope.SELF:  # citizens and enterprises: what is addressed to their account
        query = query.where(Notification.account_id == principal.actor_id)
    elif scope != Scope.ALL:
        # A department's notices, but of those addressed to one person (a warning to the owner of
        # the work) only one's own.
        query = query.where(Notification.department_id == principal.department_id,
                            or_(Notification.role.is_(None), Notification.role.in_(principal.roles)),
                            or_(Notification.account_id.is_(None), Notification.account_id == principal.actor_id))
    else:  # the e-government office: everything addressed to it or to nobody in particular
        query = query.where(or_(Notification.department_id == principal.department_id, Notification.department_id.is_(None)))
    return list(db.scalars(query))
