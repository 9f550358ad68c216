"""The one event publisher: a transactional outbox, relayed to in-process handlers or NATS JetStream.

``publish()`` writes the event in the caller's transaction, so a rolled-back change has no
event and a committed one cannot lose its event. The relay delivers outbox rows in id order
and marks them published only after the transport accepted them: delivery is at least once,
in order, and every event carries an ``event_id`` for consumers to de-duplicate.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, Index, Integer, String, Text, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tongban.core.db.base import Base, UTCDateTime

from tongban.core import clock
from tongban.core.periodic import Periodic

from tongban.core.db.engine import reading

log = logging.getLogger("tongban.events")

SUBJECT_PREFIX = "tongban"
_RELAY_LOCK_ID = 7_440_001  # PostgreSQL advisory lock: one relay at a time keeps the order


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    # Only the waiting events are indexed: the relay finds them fast however long the history.
    __table_args__ = (Index("ix_outbox_events_unpublished", "id", sqlite_where=text("published_at IS NULL"),
                            postgresql_where=text("published_at IS NULL")),
                      Index("ix_outbox_events_feed", "subject", "position", sqlite_where=text("position IS NOT NULL"),
                            postgresql_where=text("position IS NOT NULL")),
                      Index("ix_outbox_events_position", "position", sqlite_where=text("position IS NOT NULL"),
                            postgresql_where=text("position IS NOT NULL")))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))  # a UUID4: unique without an index to prove it
    event_type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    record_key: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The change feed's order, given by the one relay as it publishes: an event committed late
    # (a lower id) still gets a position after every event already published, so a reader
    # following positions never skips one.
    position: Mapped[int | None] = mapped_column(BigInteger)


def publish(db: Session, *, event_type: str, subject: str, record_key: str | None, data: dict[str, Any]) -> str:
    """Record an event in the caller's transaction; returns its event id."""
    event_id = str(uuid.uuid4())
    db.add(OutboxEvent(event_id=event_id, event_type=event_type, subject=f"{SUBJECT_PREFIX}.{subject}",
                       record_key=record_key, occurred_at=clock.now(),
                       payload=json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)))
    return event_id


class FeedCursor(Base):
    """How far a consumer of the change feed has come (its last position), kept in the same
    transaction as what it did with the events: nothing is done twice or skipped after a crash."""
    __tablename__ = "feed_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)


def cursor(db: Session, name: str) -> int | None:
    """The consumer's position (None before its first), locked until its transaction ends
    (PostgreSQL): two processes following the same feed take turns instead of doing the same
    events twice."""
    return db.scalar(select(FeedCursor.position).where(FeedCursor.name == name).with_for_update())


def head(db: Session) -> int:
    """The change feed's last position (0 when nothing was relayed yet)."""
    return db.scalar(select(func.max(OutboxEvent.position)).where(OutboxEvent.position.is_not(None))) or 0


def move_cursor(db: Session, name: str, position: int) -> None:
    row = db.get(FeedCursor, name)
    if row is None:
        db.add(FeedCursor(name=name, position=position))
    else:
        row.position = position


def changes_after(db: Session, subjects: list[str], after: int, limit: int) -> list[tuple[int, str, str | None]]:
    """``(position, subject, record_key)`` of the relayed events on these subjects (as ``publish``
    is given them, without the prefix) after a position, in order: a consumer that follows the
    change feed keeps its own position, whatever the transport."""
    prefix = f"{SUBJECT_PREFIX}."
    return [(position or 0, subject.removeprefix(prefix), key) for position, subject, key in db.execute(
        select(OutboxEvent.position, OutboxEvent.subject, OutboxEvent.record_key)
        .where(OutboxEvent.position > after, OutboxEvent.subject.in_([prefix + s for s in subjects]))
        .order_by(OutboxEvent.position).limit(limit))]


def outbox_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a bulk insert of many events (imports); same shape as ``publish`` writes."""
    now = clock.now()
    return [
        {"event_id": str(uuid.uuid4()), "event_type": e["event_type"], "subject": f"{SUBJECT_PREFIX}.{e['subject']}",
         "record_key": e["record_key"], "occurred_at": now, "published_at": None,
         "payload": json.dumps(e["data"], ensure_ascii=False, separators=(",", ":"), default=str)}
        for e in events
    ]


def envelope(row: OutboxEvent) -> dict[str, Any]:
    """What consumers receive."""
    return {"event_id": row.event_id, "sequence": row.id, "type": row.event_type, "subject": row.subject,
            "key": row.record_key, "occurred_at": row.occurred_at.isoformat(), "data": json.loads(row.payload)}


class Transport(Protocol):
    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Deliver in order or raise; nothing is marked published unless this returns."""

    def close(self) -> None: ...


class InProcessBus:
    """The embedded default: handlers in this process, called in order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Callable[[dict[str, Any]], None]]] = []

    def subscribe(self, subject_prefix: str, handler: Callable[[dict[str, Any]], None]) -> None:
        self._handlers.append((subject_prefix, handler))

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            for prefix, handler in self._handlers:
                if event["subject"].startswith(prefix):
                    handler(event)

    def close(self) -> None:
        pass


class OutboxRelay:
    """Moves committed outbox rows to the transport, oldest first."""

    def __init__(self, sessions: sessionmaker[Session], transport: Transport, *, batch: int = 500,
                 on_published: Callable[[], None] | None = None) -> None:
        self.sessions = sessions
        self.transport = transport
        self.batch = batch
        self.on_published = on_published  # e.g. wake the subscription dispatcher: the feed has grown
        self._look = reading(sessions)
        self._loop: Periodic | None = None

    def run_once(self) -> int:
        """Deliver one batch; returns how many were published (0 when idle or another relay runs)."""
        with self._look() as db:  # most polls find nothing: no write lock for them
            if db.scalar(select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None)).limit(1)) is None:
                return 0
        with self.sessions() as db:
            if db.get_bind().dialect.name == "postgresql":
                if not db.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _RELAY_LOCK_ID}):
                    return 0
            rows = list(db.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
                                   .order_by(OutboxEvent.id).limit(self.batch)))
            if not rows:
                db.rollback()
                return 0
            self.transport.deliver([envelope(row) for row in rows])
            # Positions follow the ids of this batch, above every position given before.
            base = (db.scalar(select(func.max(OutboxEvent.position)).where(OutboxEvent.position.is_not(None))) or 0) + 1 - rows[0].id
            db.execute(update(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows]))
                       .values(published_at=clock.now(), position=OutboxEvent.id + base))
            db.commit()
        if self.on_published is not None:
            self.on_published()
        return len(rows)

    def drain(self, limit: int = 10_000_000) -> int:
        total = 0
        while total < limit:
            published = self.run_once()
            if not published:
                break
            total += published
        return total

    def notify(self) -> None:
        """Something was committed: look now rather than at the next poll."""
        if self._loop is not None:
            self._loop.wake()

    def start(self, poll_seconds: float = 0.2) -> None:
        # On the one background loop: each run drains what is pending.
        self._loop = Periodic("outbox-relay", poll_seconds, self._deliver)
        self._loop.start()

    def _deliver(self) -> None:
        try:
            self.drain()
        except Exception:  # the transport is down or a handler failed: retried at the next poll, in order
            log.exception("outbox relay failed; will retry")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
        self.transport.close()


def make_transport(settings) -> Transport:
    """NATS JetStream when ``TONGBAN_NATS_URL`` is set, else handlers in this process."""
    if settings.nats_url:
        from tongban.core.nats import NatsTransport

        return NatsTransport(settings.nats_url, stream=settings.nats_stream, prefix=settings.nats_subject_prefix)
    return InProcessBus()
