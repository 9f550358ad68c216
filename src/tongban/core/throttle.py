"""Throttling that slows an attacker without locking the owner out.

Failures are counted per key, and a key names the *address* the attempts come from: a
(account, address) pair, or an address alone. An attacker who guesses at an account from one
address is answered 429 with ``Retry-After`` there, while the owner, signing in from anywhere
else with the right secret, is not affected. The same table rate-limits the anonymous actions
that cost something (registration, one-time codes) per address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, or_
from sqlalchemy.orm import Mapped, Session, mapped_column

from tongban.core.db.base import Base, UTCDateTime, affected, insert_for

from tongban.core import clock
from tongban.core.errors import Problem


class Throttle(Base):
    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the latest counted attempt
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


def client_address(request) -> str:
    """The request's client host: what a throttle counts against (through ``counted``)."""
    return (request.client.host if request.client else None) or "unknown"


def counted(address: str) -> str:
    """The part of a client address a throttle key names. An IPv6 subscriber is given a whole /64
    and picks any address in it for each request: counted per address, every attempt would be
    the first. An IPv4-mapped address is the IPv4 address it maps."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _row(db: Session, key: str, *, lock: bool = False) -> Throttle | None:
    return db.get(Throttle, key[:200], with_for_update=lock or None)


def check(db: Session, keys: Iterable[str], *, slug: str = "too-many-attempts",
          detail: str = "尝试次数过多，请 {minutes} 分钟后再试") -> None:
    """Refuse (429 with ``Retry-After``) while any of the keys is locked."""
    now = clock.now()
    waits = [row.locked_until for key in keys if (row := _row(db, key)) is not None
             and row.locked_until is not None and row.locked_until > now]
    if waits:
        seconds = max(1, int((max(waits) - now).total_seconds()) + 1)
        minutes = max(1, -(-seconds // 60))
        raise Problem(slug, detail.format(minutes=minutes), headers={"Retry-After": str(seconds)})


def fail(db: Session, key: str, *, limit: int, window_minutes: int, lock_minutes: int) -> Throttle:
    """Count one failure (or one costly action) against the key. From the ``limit``-th on, each
    locks the key, for ``lock_minutes`` doubling with every further one (at most a day); a key
    quiet for ``window_minutes`` (and not locked) starts again from nothing."""
    now = clock.now()
    row = _row(db, key, lock=True)  # concurrent failures each count (PostgreSQL; SQLite writes one at a time)
    if row is None:
        # Two first failures at once: one makes the row, neither fails.
        db.execute(insert_for(db, Throttle).values(key=key[:200], count=0, last_at=now).on_conflict_do_nothing())
        row = db.get(Throttle, key[:200], with_for_update=True, populate_existing=True)
        if row is None:  # made just above, or by the failure it raced: only a purge in between
            raise RuntimeError(f"throttle key {key[:200]!r} vanished while counted")
    elif row.last_at + timedelta(minutes=window_minutes) <= now and (row.locked_until is None or row.locked_until <= now):
        row.count = 0
    row.count += 1
    row.last_at = now
    if row.count >= limit:
        row.locked_until = now + timedelta(minutes=min(lock_minutes * 2 ** (row.count - limit), 24 * 60))
    db.flush()
    return row


def clear(db: Session, key: str) -> None:
    """A success from this address: its count for the account starts again."""
    row = _row(db, key)
    if row is not None:
        db.delete(row)
        db.flush()


def purge(db: Session, now: datetime, *, quiet_for: timedelta) -> int:
    """Delete the keys not locked and quiet for longer than the longest window any caller counts
    in (a row past its window starts from nothing anyway); how many went."""
    return affected(db, delete(Throttle).where(
        Throttle.last_at < now - quiet_for,
        or_(Throttle.locked_until.is_(None), Throttle.locked_until < now)))
