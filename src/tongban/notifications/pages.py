"""/notifications: the signed-in person's notices, newest first; mark one or all read."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.inputs import Id
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.notifications import service
from tongban.notifications.schemas import kind_label

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20


@router.get("/notifications", summary="我的通知")
def notifications_page(request: Request, db: DbSession,
                       principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)],
                       unread: Annotated[str | None, Query(pattern="^(1|)$")] = None,
                       cursor: Annotated[str | None, Query(max_length=200)] = None):
    only_unread = unread == "1"
    inbox = service.inbox(db, principal, unread_only=only_unread, cursor=cursor, limit=PAGE_SIZE)
    keep = {"unread": "1"} if only_unread else {}
    return render(request, "notifications.html", principal=principal, inbox=inbox, only_unread=only_unread,
                  kind_label=kind_label, unread_notifications=inbox.unread,
                  back=f"/notifications?{urlencode(keep)}" if keep else "/notifications",
                  next_url=f"/notifications?{urlencode({**keep, 'cursor': inbox.next_cursor})}" if inbox.next_cursor else None)


def _back(back: str) -> str:
    # Only back to the list itself (never an address a form could be made to carry elsewhere).
    return back if back.startswith("/notifications") and "//" not in back else "/notifications"


@router.post("/notifications/read", summary="全部标为已读")
def mark_all_read(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)],
                  csrf_token: Csrf = "", back: Annotated[str, Form(max_length=300)] = "/notifications"):
    check_csrf(request, csrf_token)
    marked = service.mark_all_read(db, principal)
    db.commit()
    flash(request, f"已将 {marked} 条通知标为已读" if marked else "没有未读的通知")
    return RedirectResponse(_back(back), status_code=303)


@router.post("/notifications/{notification_id}/read", summary="标为已读")
def mark_read(request: Request, notification_id: Id, db: DbSession,
              principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)],
              csrf_token: Csrf = "", back: Annotated[str, Form(max_length=300)] = "/notifications"):
    check_csrf(request, csrf_token)
    service.mark_read(db, principal, notification_id)
    db.commit()
    return RedirectResponse(_back(back), status_code=303)
