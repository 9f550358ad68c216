"""The one exchange: every read of shared data passes ``authorize`` (grants, items, purpose) and
leaves one usage row, whatever its outcome. Answers are built only from granted items, so an
ungranted item cannot leave the platform, not in an answer and not in an error."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Table, bindparam, insert, null, select, union_all
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog
from tongban.catalog.schemas import ResourceStatus
from tongban.core import clock
from tongban.core.auth import Principal
from tongban.core.db.cache import per_generation
from tongban.core.db.driver import DriverStatement
from tongban.core.errors import Problem
from tongban.core.events import OutboxEvent
from tongban.core.inputs import BIGINT_MAX
from tongban.core.periodic import Periodic
from tongban.exchange.models import ExchangeCall
from tongban.exchange.read_models import catalog_items, catalog_resources, sharing_grants
from tongban.registry import service as registry_service
from tongban.sharing import service as sharing

log = logging.getLogger("tongban.exchange")

MAX_KEYS = 1000
MAX_PURPOSE = 500


@dataclass
class Access:
    """What one call may answer: the resource, the items (catalog order) and the grants behind them."""

    resource: catalog.ResourceView
    items: list[str]
    grants: list[sharing.ActiveGrant] = field(default_factory=list)

    def only_granted(self, values: dict[str, Any]) -> dict[str, Any]:
        return {code: values.get(code) for code in self.items}


@dataclass
class Call:
    """The usage row of the current call, filled in as the call proceeds and written at the end."""

    principal: Principal
    resource_code: str
    operation: str
    purpose: str | None
    keys_count: int = 0
    items: list[str] = field(default_factory=list)
    outcome: str = "ok"
    grant_ids: list[int] = field(default_factory=list)


def _usage_row(call: Call) -> dict[str, Any]:
    return {"at": clock.now(), "client_id": call.principal.actor_id if call.principal.actor_type == "client" else None,
            "actor_name": call.principal.actor_name, "department_code": call.principal.department_code,
            "resource_code": call.resource_code[:40], "operation": call.operation, "keys_count": call.keys_count,
            "items": json.dumps(call.items), "purpose": (call.purpose or "").strip()[:MAX_PURPOSE] or None,
            "outcome": call.outcome, "grant_ids": json.dumps(call.grant_ids) if call.grant_ids else None}


# The one writer of the usage log: a row per call (``_usage_row``), inserted by this statement, in
# Core, not the ORM's bulk insert (the log takes a row for every call). ``record_call`` writes it in
# a transaction of the caller's; ``UsageLog`` writes the rows of the API's calls in group commits.
_CALLS = cast(Table, ExchangeCall.__table__)
_INSERT_CALL = insert(_CALLS)
# The same insert, run on the driver's own connection by ``UsageLog`` on PostgreSQL.
_DRIVER_INSERT_CALL = DriverStatement(insert(_CALLS).values(
    {column.key: bindparam(column.key) for column in _CALLS.columns if column.key != "id"}))


def record_call(db: Session, call: Call) -> None:
    """The usage row in the caller's transaction, committed with it: for the platform's reads,
    which stand or fall with the work they serve (an application's materials), and for the
    deliveries of subscriptions, each logged in a transaction of its own."""
    db.execute(_INSERT_CALL, [_usage_row(call)])


class UsageLog:
    """The usage rows of API calls, written by one background loop in group commits.

    A call returns only once its row is committed (no answer without its log line), but the
    calls of the same moment share one transaction instead of queueing one by one for the
    write lock; on SQLite that queue (its busy handler sleeps between tries) was the cost of
    an exchange read. The loop is woken by each call; when no call came for ``idle_seconds``
    it gives its connection back to the pool, and at ``stop`` it writes what is still queued."""

    def __init__(self, sessions, *, max_rows: int = 500, idle_seconds: float = 2.0) -> None:
        self.sessions = sessions
        self.max_rows = max_rows
        self.idle_seconds = idle_seconds
        self._connection: Any = None  # PostgreSQL: a pooled connection kept while calls come (``_insert``)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._last_rows = time.monotonic()
        self._loop = Periodic("usage-log", idle_seconds, self._write_queued, final_run=True)
        self._users, self._users_lock = 0, threading.Lock()
        self._loop.start()

    async def write(self, call: Call, *, timeout: float = 30.0) -> None:
        """Queue the call's row and wait, without holding a thread, until it is committed.
        The caller has handed back its connection first: waiting calls hold none."""
        loop = asyncio.get_running_loop()
        committed = loop.create_future()

        def settle(failure: Problem | None) -> None:  # called by the writer loop
            loop.call_soon_threadsafe(_settle, committed, failure)

        self._queue.put((_usage_row(call), settle))
        self._loop.wake()
        try:
            await asyncio.wait_for(committed, timeout)
        except TimeoutError:
            raise Problem("service-unavailable", "调用日志暂时无法写入，本次调用未完成，请稍后重试") from None

    @property
    def running(self) -> bool:
        return self._loop.running

    def start(self) -> None:
        """For an app's lifespan, which may be entered again, or several times at once (a test's
        clients of one app): the loop runs until the last of them ``stop``s."""
        with self._users_lock:
            self._users += 1
            self._loop.start()

    def stop(self) -> None:
        """Write the rows still queued, then end the loop and give the connection back (unless a
        lifespan that ``start``ed it is still running)."""
        with self._users_lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            self._loop.stop(timeout=30)
        self._release()

    def _write_queued(self) -> None:
        """Every row queued, in batches of ``max_rows``; the connection back to the pool when idle."""
        wrote = False
        while True:
            entries: list[tuple[dict[str, Any], Any]] = []
            while len(entries) < self.max_rows:
                try:
                    entries.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not entries:
                break
            wrote = True
            failure = None
            try:
                self._insert([row for row, _ in entries])
            except Exception as error:  # every waiting call learns its row was not written
                log.exception("usage log write failed")
                failure = Problem("service-unavailable", f"调用日志写入失败（{type(error).__name__}），本次调用未完成")
            for _, settle in entries:
                settle(failure)
        if wrote:
            self._last_rows = time.monotonic()
        elif time.monotonic() - self._last_rows >= self.idle_seconds:  # no calls for a while
            self._release()

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        engine = self.sessions.kw["bind"]
        if engine.dialect.name == "postgresql":
            # The rows in one round trip that commits itself (autocommit, one pipeline), not BEGIN,
            # INSERT, COMMIT; on a connection kept between batches, run on its driver: taking a
            # connection from the pool and SQLAlchemy's handling of the statement cost more CPU
            # than the insert.
            if self._connection is None:
                self._connection = engine.raw_connection()
                self._connection.driver_connection.autocommit = True
            try:
                _DRIVER_INSERT_CALL.execute_many(self._connection.driver_connection, engine.dialect, rows)
            except Exception:
                self._connection.invalidate()  # whatever went wrong, the next batch starts afresh
                self._connection = None
                raise
            return
        with self.sessions() as db:  # SQLite: a transaction, which takes the write lock at its BEGIN
            db.execute(_INSERT_CALL, rows)
            db.commit()

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.driver_connection.autocommit = False  # as the pool hands its connections out
            connection.close()
        except Exception:  # a connection that broke meanwhile: the pool gets a new one
            connection.invalidate()


def _settle(committed: asyncio.Future, failure: Problem | None) -> None:
    if committed.done():  # the caller stopped waiting
        return
    if failure is None:
        committed.set_result(None)
    else:
        committed.set_exception(failure)


_OUTCOME_OF = {"purpose-required": "invalid", "validation-error": "invalid", "too-many-keys": "invalid",
               "unknown-item": "invalid", "not-spatial": "invalid", "unknown-resource": "not_found", "not-found": "not_found",
               "no-grant": "denied", "grant-expired": "denied", "item-not-granted": "denied",
               "resource-not-published": "denied", "department-scope": "denied"}


def outcome_of(problem: Problem) -> str:
    return _OUTCOME_OF.get(problem.slug, "failed")


def check_purpose(purpose: str | None) -> str:
    if purpose is None or not purpose.strip():
        raise Problem("purpose-required", "每次调用都必须说明用途（purpose），例如“办理最低生活保障审核”",
                      errors=[{"field": "purpose", "code": "required", "message": "缺少用途"}])
    # The same rule as every read of personal data (the catalog's condition: 说明用途): one
    # character is not a purpose.
    if registry_service.stated_purpose(purpose) is None:
        raise Problem("purpose-required", f"用途至少 {registry_service.MIN_PURPOSE} 个字，请写明办理的事务，例如“办理最低生活保障审核”",
                      errors=[{"field": "purpose", "code": "too_short", "message": "用途过短"}])
    if len(purpose) > MAX_PURPOSE:
        raise Problem("validation-error", f"用途不能超过 {MAX_PURPOSE} 个字符",
                      errors=[{"field": "purpose", "code": "too_long", "message": "用途过长"}])
    return purpose.strip()


def authorize(db: Session, principal: Principal, resource_code: str, requested: list[str] | None, *,
              need_key: bool = False, today: date | None = None) -> Access:
    """The items this department may read of the resource now, or the Problem saying why not."""
    resource, grants = _resource_and_grants(db, resource_code, principal.department_id, today or clock.today())
    if resource is None:
        raise Problem("unknown-resource", f"目录中没有编码为 {resource_code} 的信息资源")
    if resource.status != ResourceStatus.PUBLISHED:
        raise Problem("resource-not-published", f"信息资源 {resource.code} 当前未发布，不能交换")
    catalog_codes = list(resource.item_codes)
    if requested is not None:
        unknown = [code for code in requested if code not in catalog_codes]
        if unknown:
            raise Problem("unknown-item", f"信息资源 {resource.code} 中没有这些信息项：{'、'.join(unknown[:20])}",
                          errors=[{"field": "items", "code": "unknown_item", "message": code} for code in unknown[:100]])
    if principal.department_id is None:
        raise Problem("no-grant", "调用方不属于任何部门，不能使用数据交换")
    if resource.provider_id == principal.department_id:  # a provider reads its own resource
        granted, grants = set(catalog_codes), []
    else:
        if not grants:
            if sharing.any_grants(db, principal.department_id, resource.id):
                raise Problem("grant-expired", f"{principal.department_name}对{resource.name}的共享授权已过期或已撤销，请重新申请")
            raise Problem("no-grant", f"{principal.department_name}没有{resource.name}的共享授权，请先在资源目录中提出共享申请")
        granted = sharing.items_of(grants)
    if requested is not None:
        refused = [code for code in requested if code not in granted]
        if refused:
            raise Problem("item-not-granted", f"这些信息项未获授权：{'、'.join(refused[:20])}",
                          errors=[{"field": "items", "code": "not_granted", "message": code} for code in refused[:100]])
    if need_key and resource.key_item not in granted:
        raise Problem("item-not-granted", f"订阅或读取变更需要主键信息项 {resource.key_item} 的授权")
    wanted = set(requested) if requested is not None else granted
    return Access(resource=resource, items=[code for code in catalog_codes if code in wanted and code in granted],
                  grants=grants)


# One round trip (over the exchange's read models). Rows of the first part are the resource's
# items, rows of the second the department's grants on it that are not revoked (which of them are
# in force is a matter of today's date, judged on each call).
_resources, _items, _grants = catalog_resources.c, catalog_items.c, sharing_grants.c
_RESOURCE = (_resources.id, _resources.code, _resources.name, _resources.status, _resources.provider_id,
             _resources.key_item, _resources.registry_name)
_RESOURCE_AND_GRANTS = union_all(
    select(*_RESOURCE, _items.position, _items.code.label("item_code"), null().label("grant_id"),
           null().label("grant_items"), null().label("valid_from"), null().label("valid_to"))
    .select_from(catalog_resources.join(catalog_items, _items.resource_id == _resources.id))
    .where(_resources.code == bindparam("code")),
    select(*_RESOURCE, null(), null(), _grants.id, _grants["items"], _grants.valid_from, _grants.valid_to)
    .select_from(catalog_resources.join(sharing_grants, _grants.resource_id == _resources.id))
    .where(_resources.code == bindparam("code"), _grants.department_id == bindparam("department"),
           _grants.revoked_at.is_(None)))


class _GrantTerm(NamedTuple):
    grant: sharing.ActiveGrant
    valid_from: date
    valid_to: date


def _resource_and_grants(db: Session, code: str, department_id: int | None,
                         today: date) -> tuple[catalog.ResourceView | None, list[sharing.ActiveGrant]]:
    """The resource as the exchange needs it (items in catalog order) and the grants in force
    for the department on it. Every exchange call asks: kept for the generation of the reference
    data, which the catalog's and the grants' triggers move (a revocation counts from the next call)."""
    resource, terms = per_generation(db, f"exchange-access:{code}:{department_id}",
                                     lambda: _read_resource_and_grants(db, code, department_id))
    return resource, [term.grant for term in terms if term.valid_from <= today <= term.valid_to]


def _read_resource_and_grants(db: Session, code: str,
                              department_id: int | None) -> tuple[catalog.ResourceView | None, tuple[_GrantTerm, ...]]:
    rows = db.execute(_RESOURCE_AND_GRANTS, {"code": code, "department": department_id}).all()
    items = sorted((row[7], row[8]) for row in rows if row[9] is None)
    if not items:
        return None, ()
    terms = tuple(_GrantTerm(sharing.ActiveGrant(row[9], row[10]), _day(row[11]), _day(row[12]))
                  for row in rows if row[9] is not None)
    resource_id, resource_code, name, status, provider_id, key_item, registry_name = rows[0][:7]
    return catalog.ResourceView(resource_id, resource_code, name, status, provider_id, key_item, registry_name,
                                item_codes=tuple(item for _, item in items)), terms


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite answers plain SQL's dates as text


def parse_items(raw: str | list[str] | None) -> list[str] | None:
    if raw is None:
        return None
    codes = [c.strip() for c in (raw.split(",") if isinstance(raw, str) else raw) if c and c.strip()]
    return list(dict.fromkeys(codes)) or None


def check_key(resource: catalog.ResourceView, raw: str) -> str:
    """A key as the resource spells it; malformed → 422 (the registries' own key rules)."""
    raw = raw.strip()
    registry = catalog.registry_of(resource)
    if registry is not None:
        return registry_service.validate_key(registry, raw)
    if not raw or len(raw) > 64 or not raw.isprintable():
        raise Problem("validation-error", "主键应为 1–64 个可打印字符",
                      errors=[{"field": "path.key", "code": "invalid_key", "message": "主键格式有误"}])
    return raw


def check_keys(resource: catalog.ResourceView, keys: list[Any]) -> list[str]:
    if len(keys) > MAX_KEYS:
        raise Problem("too-many-keys", f"一次最多查询 {MAX_KEYS} 个主键，本次 {len(keys)} 个，请分批查询",
                      limit=MAX_KEYS, received=len(keys))
    if not keys:
        raise Problem("validation-error", "keys 不能为空", errors=[{"field": "body.keys", "code": "empty", "message": "至少一个主键"}])
    clean, errors = [], []
    for index, key in enumerate(keys):
        if not isinstance(key, str):
            errors.append({"field": f"body.keys[{index}]", "code": "not_a_string", "message": "主键应为字符串"})
            continue
        try:
            clean.append(check_key(resource, key))
        except Problem as problem:
            errors.append({"field": f"body.keys[{index}]", "code": problem.extensions["errors"][0]["code"],
                           "message": problem.detail})
    if errors:
        raise Problem("validation-error", f"{len(errors)} 个主键格式有误，未查询任何记录", errors=errors[:100])
    return list(dict.fromkeys(clean))


def record_answer(access: Access, key: str, found: dict[str, Any]) -> dict[str, Any]:
    """One record of an answer; ``found`` was read for ``access.items`` alone (catalog.read_records)."""
    return {"key": key, "version": found["version"], "updated_at": found["updated_at"], "items": found["values"]}


# ---- the change feed ------------------------------------------------------------------------


def parse_cursor(cursor: str | None) -> int:
    if cursor in (None, ""):
        return 0
    # ASCII digits within BIGINT: "²" is a digit to str.isdigit but not to int(), and a position
    # beyond BIGINT overflows the driver.
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > BIGINT_MAX:
        raise Problem("validation-error", "游标应为上次返回的 next_cursor（非负整数）",
                      errors=[{"field": "query.cursor", "code": "invalid_cursor", "message": "游标无效"}])
    return int(cursor)


@dataclass
class FeedPage:
    """Changes of one resource after a position, with the values of each changed version: the
    part of a feed read that does not depend on who reads (subscriptions share it)."""

    after: int
    rows: list  # (position, event_id, event_type, record_key, occurred_at, payload as dict)
    values: dict[tuple[str, int], dict[str, Any]]

    @property
    def next_position(self) -> int:
        return self.rows[-1][0] if self.rows else self.after


def feed_page(db: Session, resource, *, after: int, limit: int) -> FeedPage:
    rows = [(position, event_id, event_type, key, occurred_at, orjson.loads(payload))
            for position, event_id, event_type, key, occurred_at, payload in db.execute(
                select(OutboxEvent.position, OutboxEvent.event_id, OutboxEvent.event_type, OutboxEvent.record_key,
                       OutboxEvent.occurred_at, OutboxEvent.payload)
                .where(OutboxEvent.subject == catalog.feed_subject(resource), OutboxEvent.position > after)
                .order_by(OutboxEvent.position).limit(limit))]
    versions = [(row[3], row[5]["version"]) for row in rows if row[3] is not None]  # a change names its record
    values = catalog.values_at(db, resource, versions) if versions else {}
    return FeedPage(after, rows, values)


def changes(db: Session, access: Access, *, after: int, limit: int,
            page: FeedPage | None = None) -> tuple[list[dict[str, Any]], int]:
    """Changes of granted items after feed position ``after``, oldest first, and the next cursor.

    A change that touched only ungranted items is skipped, but the cursor moves past it."""
    if page is None or page.after != after:
        page = feed_page(db, access.resource, after=after, limit=limit)
    granted = set(access.items)
    answer = []
    for position, event_id, event_type, key, occurred_at, payload in page.rows:
        touched = [code for code in payload.get("changed_fields", []) if code in granted]
        if not touched:
            continue
        at_version = page.values.get((key, payload["version"]), {})
        answer.append({"position": position, "event_id": event_id, "type": event_type, "key": key,
                       "version": payload["version"], "changed_items": touched,
                       "occurred_at": occurred_at.isoformat(), "items": access.only_granted(at_version)})
    return answer, page.next_position
