"""The one way to notify: a row the recipients' workbench lists (and, later, other channels)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core.auth import Principal
from tongban.core.permissions import Permission, Scope
from tongban.notifications.models import Notification
from tongban.core import clock


def notify(db: Session, *, department_id: int | None, title: str, body: str, kind: str, link: str | None = None,
           role: str | None = None, account_id: str | None = None) -> Notification:
    """Notify a department (or only one role in it), or one account, in the caller's transaction."""
    notification = Notification(department_id=department_id, role=role, account_id=account_id, title=title[:200],
                                body=body[:2000], link=link, kind=kind, created_at=clock.now())
    db.add(notification)
    return notification


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
