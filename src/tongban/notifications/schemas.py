"""What notifications say: the kinds in people's words, and the API's shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from tongban.core.responses import Instant

# A notice's kind (``notify(kind=...)``) as the list page names it.
KIND_LABELS: dict[str, str] = {
    "cases.progress": "办件进度",
    "cases.task": "新的待办",
    "cases.reminder": "催办",
    "supervision.yellow": "黄色预警",
    "supervision.red": "红色预警",
    "supervision.rectification": "差评整改",
    "supervision.rectified": "整改结果",
    "consultation.open": "咨询待答复",
    "grid.report.closed": "上报办结",
    "sharing.request": "共享申请",
    "sharing.submitted": "共享申请已提交",
    "sharing.decided": "共享申请已答复",
    "sharing.arbitration": "共享协调",
    "sharing.arbitrated": "协调结果",
    "sharing.overdue": "共享申请逾期",
    "sharing.revoked": "授权撤销",
    "exchange.paused": "订阅暂停",
    "exchange.dead_letter": "投递失败",
    "faq.draft": "常见问题待审定",
    "disclosure.request": "信息公开申请",
    "disclosure.review": "信息公开待审核",
    "disclosure.reviewed": "信息公开审核结果",
    "disclosure.published": "订阅的信息已公开",
    "hotline_ticket": "12345 工单",
    "hotline.caller": "12345 诉求进展",
    "mailbox.assigned": "领导信箱交办",
    "mailbox.replied": "来信答复待审核",
    "mailbox.reply": "来信已答复",
    "policy_match": "可享受的政策",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "通知")


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime


class MyNotification(BaseModel):
    """One of the signed-in person's notices, with whether they have read it."""

    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    link: str | None
    created_at: Instant
    read: bool


class MyNotifications(BaseModel):
    items: list[MyNotification]
    total: int  # of the notices asked for (all, or only the unread)
    unread: int  # of all the person's notices
    next_cursor: str | None


class MarkedRead(BaseModel):
    marked: int  # how many notices this call marked read (0: they were already)
    unread: int  # left unread
