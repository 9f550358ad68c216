"""/api/v1/notifications: what has been sent to the caller's department."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.notifications import service

router = APIRouter(prefix="/api/v1/notifications", tags=["通知 notifications"])


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime


@router.get("", response_model=list[NotificationRead], summary="本部门收到的最新通知")
def list_notifications(db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    return [NotificationRead.model_validate(n) for n in service.for_principal(db, principal)]
