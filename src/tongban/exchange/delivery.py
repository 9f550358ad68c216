"""Subscriptions delivered over HTTP: each batch of changes is POSTed to the subscriber's callback,
signed with the subscription's secret, at least once and in feed order.

Every delivery passes ``authorize`` again, so a revoked or expired grant stops data leaving at the
next batch, and a body only ever holds granted items. A failed batch is retried with back-off;
after the last attempt it becomes a dead letter and the subscription moves on. No transaction is
open while a callback is called: a slow receiver holds no lock. A subscription is claimed with a
lease (``next_attempt_at`` pushed past the call's timeout), so two dispatchers never send the same
subscription's batches side by side, and a dispatcher that dies mid-call is replaced after the lease.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tongban.catalog import service as catalog
from tongban.core import clock
from tongban.core.auth import Principal
from tongban.core.config import Settings
from tongban.core.db.base import affected
from tongban.core.db.engine import reading
from tongban.core.errors import Problem
from tongban.core.events import OutboxEvent
from tongban.core.periodic import Periodic
from tongban.core.urls import url_problem
from tongban.exchange import service
from tongban.exchange.models import DeadLetter, Subscription
from tongban.exchange.service import Access, Call
from tongban.notifications.service import notify

log = logging.getLogger("tongban.exchange.delivery")

BATCH = 500
MAX_BACKOFF_S = 600.0
PAUSE_S = 600.0  # a subscription stopped by its grant is looked at again this often
_SKIP_ROUNDS = 20  # batches of changes to ungranted items skipped in one go, to keep a transaction short


def sign(secret: str, body: bytes) -> str:
    """The ``X-Tongban-Signature`` of a body: receivers compute the same and compare in constant time."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def allowed_hosts(raw: str | list[str] | None) -> list[str]:
    parts = raw if isinstance(raw, list) else (raw or "").split(",")
    return [part.strip().lower().rstrip(".") for part in parts if part.strip()]


def _host_allowed(host: str, allowed: list[str]) -> bool:
    for pattern in allowed:
        if pattern.startswith("*."):  # any subdomain, not the domain itself
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def check_callback(url: str, allowed: str | list[str] | None) -> str:
    """The URL if data may be sent there; otherwise ``callback-not-allowed`` naming the host."""
    hosts = allowed_hosts(allowed)

    def refuse(detail: str) -> Problem:
        return Problem("callback-not-allowed", detail,
                       errors=[{"field": "callback_url", "code": "not_allowed", "message": detail}])

    problem = url_problem(url, max_length=500)
    if problem:
        raise refuse(f"回调地址：{problem}")
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise refuse("回调地址缺少主机名")
    if not _host_allowed(host, hosts):
        raise refuse(f"回调地址的主机 {host[:100]} 不在允许范围内（允许：{'、'.join(hosts) or '无'}），请联系电子政务办登记")
    return url


# ---- one delivery ---------------------------------------------------------------------------


def subscriber(sub: Subscription) -> Principal:
    """The subscribing department as ``authorize`` and the usage log see it when a batch is sent."""
    department = sub.department
    return Principal(actor_type="client" if sub.client_id else "user", actor_id=sub.client_id or sub.created_by,
                     actor_name=sub.created_by, kind="system", department_id=department.id,
                     department_code=department.code, department_name=department.name,
                     department_duty=department.duty, roles=())


def items_of(sub: Subscription) -> list[str] | None:
    return json.loads(sub.items) if sub.items else None


def _access(db: Session, sub: Subscription, settings: Settings) -> Access:
    check_callback(sub.callback_url, settings.exchange_callback_hosts)  # the allowed hosts may have changed
    return service.authorize(db, subscriber(sub), sub.resource.code, items_of(sub), need_key=True)


def _backoff(settings: Settings, attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.exchange_retry_base_s * 2**attempts, MAX_BACKOFF_S))


def _lease(settings: Settings) -> timedelta:
    # Longer than one call can take (connect, write and read each have the timeout).
    return timedelta(seconds=4 * settings.exchange_delivery_timeout_s + settings.exchange_lease_margin_s)


def feed_head(db: Session, resource) -> int:
    """The last position of the resource's feed: a new subscription starts after it."""
    return db.scalar(select(func.max(OutboxEvent.position)).where(OutboxEvent.subject == catalog.feed_subject(resource),
                                                             OutboxEvent.position.is_not(None))) or 0


def _has_changes(db: Session, sub: Subscription) -> bool:
    return db.scalar(select(OutboxEvent.id).where(OutboxEvent.subject == catalog.feed_subject(sub.resource),
                                                  OutboxEvent.position > sub.cursor).limit(1)) is not None


@dataclass
class _Sent:
    ok: bool
    error: str = ""  # why not, when not ok


def _post(client: httpx.Client, sub: Subscription, body: dict[str, Any], settings: Settings, now: datetime) -> _Sent:
    delivery_id = str(uuid.uuid4())
    # The delivery id and time are in the signed body too, so a receiver can refuse a replayed request.
    raw = orjson.dumps({**body, "delivery": delivery_id, "sent_at": now.isoformat()})
    headers = {"Content-Type": "application/json", "X-Tongban-Signature": sign(sub.secret, raw),
               "X-Tongban-Delivery": delivery_id, "X-Tongban-Timestamp": str(int(now.timestamp())),
               "User-Agent": "tongban-exchange"}
    try:
        # Only the status counts: the receiver's body is never read, so it cannot be made to fill memory.
        with client.stream("POST", sub.callback_url, content=raw, headers=headers,
                           timeout=settings.exchange_delivery_timeout_s) as response:
            status = response.status_code
    except httpx.TimeoutException:
        return _Sent(False, f"回调地址在 {settings.exchange_delivery_timeout_s:g} 秒内未应答（超时）")
    except httpx.HTTPError as error:
        return _Sent(False, f"无法连接回调地址或连接中断（{type(error).__name__}）")
    if 200 <= status < 300:
        return _Sent(True)
    return _Sent(False, f"回调地址返回 HTTP {status}（应为 2xx）")


def _body(sub: Subscription, access: Access, found: list[dict[str, Any]], next_cursor: int) -> dict[str, Any]:
    return {"subscription": sub.id, "resource": access.resource.code, "items": access.items, "changes": found,
            "next_cursor": str(next_cursor)}


def _log(sessions: sessionmaker[Session], sub: Subscription, access: Access | None, count: int, outcome: str) -> None:
    """The delivery's usage row, in a transaction of its own: a refused delivery is logged as surely as a sent one."""
    with sessions() as db:
        service.record_call(db, Call(subscriber(sub), sub.resource.code, "delivery", sub.purpose, keys_count=count,
                                     items=access.items if access else [], outcome=outcome,
                                     grant_ids=[g.id for g in access.grants] if access else []))
        db.commit()


def _pause(sessions, db: Session, sub: Subscription, problem: Problem, now: datetime) -> None:
    """The grant (or the callback's host) no longer allows delivery: send nothing, look again later."""
    first_time = sub.last_error != problem.detail[:500]
    sub.last_error, sub.attempts = problem.detail[:500], 0
    sub.next_attempt_at = now + timedelta(seconds=PAUSE_S)
    if first_time:
        notify(db, department_id=sub.department_id, kind="exchange.paused", link=f"/api/v1/exchange/subscriptions/{sub.id}",
               title=f"订阅 {sub.id}（{sub.resource.name}）已暂停投递", body=f"{problem.detail}。授权恢复后自动从中断处继续。")
    db.commit()
    if first_time:  # one usage row per refusal, not one per look
        _log(sessions, sub, None, 0, service.outcome_of(problem))


def deliver_once(sessions: sessionmaker[Session], subscription_id: int, settings: Settings, client: httpx.Client,
                 now: datetime | None = None, *, batch: int = BATCH,
                 pages: dict[tuple[int, int], service.FeedPage] | None = None) -> int:
    """Send the next batch of one due subscription; returns how many changes the receiver accepted.

    ``pages``: feed pages already read this round, by (resource id, position after)."""
    now = now or clock.now()
    with reading(sessions)() as db:  # most looks find nothing new: no write lock for them
        sub = db.get(Subscription, subscription_id)
        if sub is None or not sub.active or (sub.next_attempt_at is not None and sub.next_attempt_at > now):
            return 0
        if not _has_changes(db, sub):
            return 0
    with sessions() as db:
        sub = db.get(Subscription, subscription_id)
        if sub is None or not sub.active or (sub.next_attempt_at is not None and sub.next_attempt_at > now):
            return 0
        try:
            access = _access(db, sub, settings)
        except Problem as problem:
            _pause(sessions, db, sub, problem, now)
            return 0
        start = sub.cursor
        found, next_cursor = service.changes(db, access, after=start, limit=batch,
                                             page=(pages or {}).get((sub.resource_id, start)))
        for _ in range(_SKIP_ROUNDS):  # changes to ungranted items only: nothing to send, move on
            if found or next_cursor == start:
                break
            sub.cursor = start = next_cursor
            found, next_cursor = service.changes(db, access, after=start, limit=batch)
        if not found:
            sub.cursor = next_cursor
            db.commit()
            return 0
        # Claim the subscription: only if nobody else has, and nothing moved its cursor meanwhile.
        lease = now + _lease(settings)
        claimed = affected(db, update(Subscription).where(
            Subscription.id == sub.id, Subscription.active.is_(True), Subscription.cursor == sub.cursor,
            or_(Subscription.next_attempt_at.is_(None), Subscription.next_attempt_at <= now),
        ).values(next_attempt_at=lease).execution_options(synchronize_session=False))
        if claimed != 1:
            db.rollback()
            return 0
        db.commit()

    sent = _post(client, sub, _body(sub, access, found, next_cursor), settings, now)

    with sessions() as db:
        current = db.get(Subscription, subscription_id, with_for_update={"of": Subscription})
        if current is None or current.next_attempt_at != lease or current.cursor != start:
            # Cancelled, replayed or taken over while we were sending: leave it to its new state.
            db.rollback()
            return len(found) if sent.ok else 0
        if sent.ok:
            current.cursor, current.attempts, current.next_attempt_at, current.last_error = next_cursor, 0, None, None
            current.delivered_count += len(found)
        else:
            current.attempts += 1
            current.last_error = sent.error[:500]
            current.next_attempt_at = now + _backoff(settings, current.attempts)
            if current.attempts >= settings.exchange_delivery_attempts:
                letter = DeadLetter(subscription_id=current.id, first_position=found[0]["position"],
                                    last_position=found[-1]["position"], changes=len(found), error=sent.error[:500],
                                    attempts=current.attempts, created_at=now)
                db.add(letter)
                db.flush()
                current.cursor, current.attempts, current.next_attempt_at = next_cursor, 0, None
                current.last_error = f"{sent.error}；该批 {len(found)} 条变更已转入死信 {letter.id}，可重放"[:500]
                notify(db, department_id=current.department_id, kind="exchange.dead_letter",
                       link=f"/api/v1/exchange/subscriptions/{current.id}/dead-letters",
                       title=f"订阅 {current.id}（{current.resource.name}）有 {len(found)} 条变更投递失败",
                       body=f"重试 {letter.attempts} 次仍失败：{sent.error}。修复回调服务后可重放死信 {letter.id}。")
        db.commit()
    # Data left the platform either way (a timed-out call may well have arrived): both are logged.
    _log(sessions, sub, access, len(found), "ok" if sent.ok else "failed")
    return len(found) if sent.ok else 0


# ---- replay ---------------------------------------------------------------------------------


def replay_dead_letter(sessions: sessionmaker[Session], subscription_id: int, dead_letter_id: int, settings: Settings,
                       client: httpx.Client, now: datetime | None = None) -> DeadLetter:
    """Send a dead letter's range again, under today's grants; ``replayed_at`` is set once it is accepted.

    Raises the grant's Problem when the grant no longer allows it, ``delivery-failed`` when the
    receiver still does not accept the batch."""
    now = now or clock.now()
    with sessions() as db:
        sub = db.get(Subscription, subscription_id)
        letter = db.get(DeadLetter, dead_letter_id)
        if sub is None or letter is None or letter.subscription_id != sub.id:
            raise Problem("not-found", f"订阅 {subscription_id} 没有编号为 {dead_letter_id} 的死信")
        if not sub.active:
            raise Problem("conflict", f"订阅 {sub.id} 已取消，不能重放")
        try:
            access = _access(db, sub, settings)
        except Problem as problem:
            db.close()  # ends the transaction (the log below needs the lock on SQLite), keeps what was loaded
            _log(sessions, sub, None, 0, service.outcome_of(problem))
            raise
        span = letter.last_position - letter.first_position + 1
        found, _ = service.changes(db, access, after=letter.first_position - 1, limit=min(span, 10 * BATCH))
        found = [change for change in found if change["position"] <= letter.last_position]
    if found:
        body = {**_body(sub, access, found, letter.last_position), "dead_letter": letter.id}
        sent = _post(client, sub, body, settings, now)
        _log(sessions, sub, access, len(found), "ok" if sent.ok else "failed")
        if not sent.ok:
            raise Problem("delivery-failed", f"死信 {letter.id} 重放未被接收：{sent.error}", status=502,
                          title="回调地址未接收投递")
    with sessions() as db:  # nothing left to send (items no longer granted) counts as replayed too
        letter = db.get(DeadLetter, dead_letter_id)
        if letter is None:  # read above; dead letters are kept
            raise Problem("not-found", f"订阅 {subscription_id} 没有编号为 {dead_letter_id} 的死信")
        letter.replayed_at = now
        db.commit()
        return letter


def replay_from(sub: Subscription, position: int) -> Subscription:
    """Deliver again everything after ``position`` (at least once: receivers de-duplicate by event_id).

    The caller commits; a batch in flight meanwhile is not recorded, since its lease no longer matches."""
    if position < 0 or position > sub.cursor:
        raise Problem("validation-error", f"只能从已投递的位置重放：from_cursor 应在 0 到 {sub.cursor} 之间",
                      errors=[{"field": "body.from_cursor", "code": "out_of_range", "message": f"0–{sub.cursor}"}])
    if not sub.active:
        raise Problem("conflict", f"订阅 {sub.id} 已取消，不能重放")
    sub.cursor, sub.attempts, sub.next_attempt_at, sub.last_error = position, 0, None, None
    return sub


# ---- the dispatcher -------------------------------------------------------------------------


class Dispatcher:
    """Delivers every due subscription, one batch each per round, in a background loop of its own
    (``core.periodic``): every ``poll_seconds``, at once when woken by new changes, and again at once
    after a round that delivered something (there may be more)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *, batch: int = BATCH,
                 client: httpx.Client | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.batch = batch
        # No redirects (the target could be a host nobody allowed) and no proxies from the environment.
        self.client = client or httpx.Client(follow_redirects=False, trust_env=False)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="subscription-delivery")
        self._loop: Periodic | None = None

    def due(self, now: datetime) -> list[int]:
        with reading(self.sessions)() as db:
            return list(db.scalars(select(Subscription.id).where(
                Subscription.active.is_(True),
                or_(Subscription.next_attempt_at.is_(None), Subscription.next_attempt_at <= now)).order_by(Subscription.id)))

    def run_once(self, now: datetime | None = None) -> int:
        """One batch for each due subscription; returns how many changes were delivered.

        Subscriptions of the same resource at the same position share one read of the feed,
        and the deliveries run side by side, so a slow receiver does not hold up the others."""
        now = now or clock.now()
        due = self.due(now)
        if not due:
            return 0
        pages = self._shared_pages(due)

        def deliver(subscription_id: int) -> int:
            try:
                return deliver_once(self.sessions, subscription_id, self.settings, self.client, now, batch=self.batch,
                                    pages=pages)
            except Exception:  # one broken subscription must not stop the others
                log.exception("delivery of subscription %s failed; will retry", subscription_id)
                return 0

        if len(due) == 1:
            return deliver(due[0])
        return sum(self._pool.map(deliver, due))

    def _shared_pages(self, due: list[int]) -> dict[tuple[int, int], service.FeedPage]:
        with reading(self.sessions)() as db:
            positions = db.execute(select(Subscription.resource_id, Subscription.cursor, func.count())
                                   .where(Subscription.id.in_(due))
                                   .group_by(Subscription.resource_id, Subscription.cursor)).all()
            pages = {}
            for resource_id, cursor, subscribers in positions:
                resource = catalog.get_by_id(db, resource_id) if subscribers > 1 else None
                if resource is not None:
                    pages[(resource_id, cursor)] = service.feed_page(db, resource, after=cursor, limit=self.batch)
            return pages

    def notify(self) -> None:
        """New changes were published: look now rather than at the next poll."""
        if self._loop is not None:
            self._loop.wake()

    def _round(self) -> None:
        if self.run_once() and self._loop is not None:  # busy: look again at once
            self._loop.wake()

    def start(self, poll_seconds: float = 1.0) -> None:
        self._loop = Periodic("subscription-dispatcher", poll_seconds, self._round)
        self._loop.start()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop(timeout=30)
        self._pool.shutdown(wait=True)
        self.client.close()
