"""/api/v1/exchange/subscriptions: changes of a resource pushed to a department system's callback.

A department sees and changes only its own subscriptions. The signing secret is shown once, when
the subscription is created. Deliveries themselves are made by the dispatcher (``delivery``).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import audit, clock
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.exchange import delivery, service
from tongban.exchange.models import DeadLetter, Subscription

router = APIRouter(prefix="/api/v1/exchange/subscriptions", tags=["数据交换 exchange"])


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(min_length=1, max_length=40, description="信息资源编码，如 persons")
    callback_url: str = Field(min_length=1, max_length=500, description="接收变更的 http(s) 地址，主机须在允许范围内")
    items: list[str] | None = Field(default=None, max_length=500, description="要接收的信息项；省略则为全部已授权项")
    purpose: str | None = Field(default=None, max_length=1000, description="用途（必填），记入每次投递的使用记录")
    from_cursor: int | None = Field(default=None, ge=0, description="从该位置之后开始投递；省略则只投递此后的新变更")


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_cursor: int = Field(ge=0, description="重新投递该位置之后的全部变更（至少一次，按 event_id 去重）")


class SubscriptionRead(BaseModel):
    id: int
    resource: str
    resource_name: str
    department: str
    callback_url: str
    items: list[str] | None = Field(description="订阅的信息项；null 为全部已授权项")
    purpose: str
    cursor: int = Field(description="已投递到的变更位置")
    active: bool
    attempts: int = Field(description="当前批次已失败的次数")
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="最近的投递问题；授权失效时暂停投递，授权恢复后自动继续")
    delivered_count: int
    created_at: datetime
    created_by: str


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="签名密钥：X-Tongban-Signature = sha256=HMAC-SHA256(密钥, 请求体)；仅此一次显示")


class DeadLetterRead(BaseModel):
    id: int
    first_position: int
    last_position: int
    changes: int
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None


def _read(sub: Subscription) -> SubscriptionRead:
    return SubscriptionRead(id=sub.id, resource=sub.resource.code, resource_name=sub.resource.name,
                            department=sub.department.code, callback_url=sub.callback_url, items=delivery.items_of(sub),
                            purpose=sub.purpose, cursor=sub.cursor, active=sub.active, attempts=sub.attempts,
                            next_attempt_at=sub.next_attempt_at, last_error=sub.last_error,
                            delivered_count=sub.delivered_count, created_at=sub.created_at, created_by=sub.created_by)


def _own(db: Session, principal: Principal, subscription_id: Id, action: str) -> Subscription:
    sub = db.get(Subscription, subscription_id)
    if sub is None:
        raise Problem("not-found", f"订阅 {subscription_id} 不存在")
    ensure_department(db, principal, Permission.EXCHANGE_READ, sub.department, action=action)
    return sub


def _wake(request: Request) -> None:
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.notify()


@router.post("", response_model=SubscriptionCreated, status_code=201, summary="订阅信息资源的变更，推送到回调地址")
def create(request: Request, body: SubscriptionCreate, db: DbSession,
           principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]):
    """投递：每批变更以 POST 发送到回调地址，请求体为 JSON
    ``{"subscription", "resource", "items", "changes", "next_cursor", "delivery", "sent_at"}``，
    变更按位置顺序、只含已授权信息项。请求头 ``X-Tongban-Signature: sha256=<HMAC-SHA256(密钥, 原始请求体)>``、
    ``X-Tongban-Delivery``（每次发送唯一）、``X-Tongban-Timestamp``。回调返回 2xx 即视为接收；否则按退避重试，
    重试用尽转入死信，可重放。投递至少一次：请按变更的 ``event_id`` 去重、按 ``version`` 保留最新。"""
    settings = request.app.state.settings
    purpose = service.check_purpose(body.purpose)
    delivery.check_callback(body.callback_url, settings.exchange_callback_hosts)
    items = service.parse_items(body.items)
    access = service.authorize(db, principal, body.resource, items, need_key=True)  # also: no department, no grant
    head = delivery.feed_head(db, access.resource)
    if body.from_cursor is not None and body.from_cursor > head:
        raise Problem("validation-error", f"from_cursor 不能超过当前变更位置 {head}",
                      errors=[{"field": "body.from_cursor", "code": "out_of_range", "message": f"0–{head}"}])
    sub = Subscription(department_id=principal.department_id, resource_id=access.resource.id,
                       client_id=principal.actor_id if principal.actor_type == "client" else None,
                       callback_url=body.callback_url, secret=secrets.token_hex(32),
                       items=json.dumps(items) if items else None, purpose=purpose,
                       cursor=body.from_cursor if body.from_cursor is not None else head,
                       active=True, attempts=0, delivered_count=0, created_at=clock.now(), created_by=principal.actor_name)
    db.add(sub)
    db.flush()
    audit.record(db, actor=principal, action="exchange.subscribe", object_type="subscription", object_id=str(sub.id),
                 purpose=purpose, department_code=principal.department_code,
                 details={"resource": access.resource.code, "callback_url": body.callback_url, "items": items,
                          "cursor": sub.cursor})
    db.commit()
    db.refresh(sub)
    _wake(request)
    return SubscriptionCreated(**_read(sub).model_dump(), secret=sub.secret)


@router.get("", response_model=Page[SubscriptionRead], summary="本部门的订阅")
def list_subscriptions(db: DbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)],
                       cursor: Cursor = None, limit: Limit = 50):
    query = select(Subscription).where(Subscription.department_id == principal.department_id)
    rows, next_cursor = paginate(db, query, Subscription.id, cursor=cursor, limit=limit)
    return Page[SubscriptionRead](items=[_read(s) for s in rows], next_cursor=next_cursor)


@router.get("/{subscription_id}", response_model=SubscriptionRead, summary="订阅详情：游标、重试和最近的问题")
def read(subscription_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]):
    return _read(_own(db, principal, subscription_id, "exchange.subscription.read"))


@router.delete("/{subscription_id}", response_model=SubscriptionRead, summary="取消订阅（停止投递，死信仍可查看）")
def cancel(subscription_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]):
    sub = _own(db, principal, subscription_id, "exchange.unsubscribe")
    if sub.active:
        sub.active, sub.next_attempt_at = False, None
        audit.record(db, actor=principal, action="exchange.unsubscribe", object_type="subscription",
                     object_id=str(sub.id), department_code=principal.department_code,
                     details={"resource": sub.resource.code, "cursor": sub.cursor})
        db.commit()
    return _read(sub)


@router.get("/{subscription_id}/dead-letters", response_model=Page[DeadLetterRead], summary="投递失败、转入死信的批次")
def dead_letters(subscription_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)],
                 cursor: Cursor = None, limit: Limit = 50):
    sub = _own(db, principal, subscription_id, "exchange.dead_letters")
    rows, next_cursor = paginate(db, select(DeadLetter).where(DeadLetter.subscription_id == sub.id), DeadLetter.id,
                                 cursor=cursor, limit=limit)
    return Page[DeadLetterRead](items=[DeadLetterRead.model_validate(d, from_attributes=True) for d in rows],
                                next_cursor=next_cursor)


@router.post("/{subscription_id}/dead-letters/{dead_letter_id}/replay", response_model=DeadLetterRead,
             summary="重放一条死信：按当前授权重新投递该批变更",
             responses={502: {"description": "回调地址未接收投递"}})
def replay_dead_letter(request: Request, subscription_id: Id, dead_letter_id: Id, db: DbSession,
                       principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]):
    sub = _own(db, principal, subscription_id, "exchange.dead_letter.replay")
    db.commit()  # no transaction (on SQLite: no write lock) held while the callback is called
    settings = request.app.state.settings
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        letter = delivery.replay_dead_letter(request.app.state.sessionmaker, sub.id, dead_letter_id, settings, client)
    return DeadLetterRead.model_validate(letter, from_attributes=True)


@router.post("/{subscription_id}/replay", response_model=SubscriptionRead, summary="从某一游标起重新投递（至少一次）")
def replay(request: Request, subscription_id: Id, body: Replay, db: DbSession,
           principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]):
    sub = _own(db, principal, subscription_id, "exchange.replay")
    was = sub.cursor
    delivery.replay_from(sub, body.from_cursor)
    audit.record(db, actor=principal, action="exchange.replay", object_type="subscription", object_id=str(sub.id),
                 department_code=principal.department_code, details={"from_cursor": body.from_cursor, "was": was})
    db.commit()
    _wake(request)
    return _read(sub)
