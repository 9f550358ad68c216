"""/api/v1/notifications: what has been sent to the caller's department; /api/v1/me/notifications:
the signed-in person's own notices, read and unread, and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit
from tongban.core.permissions import Permission
from tongban.notifications import service
from tongban.notifications.models import Notification
from tongban.notifications.schemas import MarkedRead, MyNotification, MyNotifications, NotificationRead, kind_label

router = APIRouter(prefix="/api/v1/notifications", tags=["通知 notifications"])
mine = APIRouter(prefix="/api/v1/me/notifications", tags=["通知 notifications"])


@router.get("", response_model=list[NotificationRead], summary="本人收到的最新通知")
def list_notifications(db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    return [NotificationRead.model_validate(n) for n in service.for_principal(db, principal)]


def my_notification(notification: Notification, *, read: bool) -> MyNotification:
    return MyNotification(id=notification.id, kind=notification.kind, kind_label=kind_label(notification.kind),
                          title=notification.title, body=notification.body, link=notification.link,
                          created_at=notification.created_at, read=read)


@mine.get("", response_model=MyNotifications, summary="我的通知（最新在前，可只看未读）")
def my_notifications(db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)],
                     unread: Annotated[bool, Query(description="只列未读")] = False,
                     cursor: Cursor = None, limit: Limit = 20):
    inbox = service.inbox(db, principal, unread_only=unread, cursor=cursor, limit=limit)
    return MyNotifications(items=[my_notification(n, read=n.id in inbox.read) for n in inbox.notifications],
                           total=inbox.total, unread=inbox.unread, next_cursor=inbox.next_cursor)


@mine.post("/read", response_model=MarkedRead, summary="全部标为已读")
def mark_all_read(db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    marked = service.mark_all_read(db, principal)
    db.commit()
    return MarkedRead(marked=marked, unread=service.unread_count(db, principal))


@mine.post("/{notification_id}/read", response_model=MarkedRead, summary="标为已读（他人的通知：404，不作改动）")
def mark_read(notification_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    before = service.unread_count(db, principal)
    service.mark_read(db, principal, notification_id)
    db.commit()
    after = service.unread_count(db, principal)
    return MarkedRead(marked=before - after, unread=after)
