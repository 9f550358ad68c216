"""Reference data computed once: per transaction, and per generation for the whole process."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TypeVar, cast

from sqlalchemy import String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from tongban.core.db.base import Base

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

_MEMO = "tongban.memo"


def per_transaction(db: Session, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per transaction of ``db``: reference data (the working calendar, a
    published item) that one unit of work reads many times. ``forget`` after changing it."""
    transaction = db.get_transaction()
    hit = db.info.get(_MEMO, {}).get(key)
    if hit is not None and transaction is not None and hit[0] is transaction:
        return hit[1]
    value = compute()
    db.info.setdefault(_MEMO, {})[key] = (db.get_transaction(), value)
    return value


def forget(db: Session, key: str) -> None:
    """``db``'s transaction changed what ``key`` holds: read it again, and (for ``per_generation``)
    the generation too, which the change has moved."""
    db.info.get(_MEMO, {}).pop(key, None)
    _reference_written(db)


class ReferenceGeneration(Base):
    """One row whose token is replaced by database triggers (migration 0007) on every write to the
    reference data each step of a case reads: departments, service items and their versions, the
    working calendar, the warning rules. A random token rather than a counter: a rolled-back
    change's token is never seen again, so nothing computed inside it can be taken for the
    committed state."""

    __tablename__ = "reference_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


_GENERATION = "tongban.reference-generation"
_TOKEN = select(ReferenceGeneration.token).where(ReferenceGeneration.id == 1)
_SHARED: dict[str, tuple[str, object]] = {}  # key -> (generation token, value), for every session of the process
# The tables whose writes move the generation (their triggers: migrations 0007, 0008, 0022 and 0029).
REFERENCE_TABLES = frozenset({"departments", "service_items", "service_item_versions", "calendar_years", "calendar_days",
                              "supervision_rules", "catalog_resources", "catalog_items", "sharing_grants",
                              "grid_versions", "grid_categories", "grid_routes",
                              "hotline_classifier_versions"})
_WRITTEN = "tongban.reference-written"
# The generation as the request's sign-in check read it, in the statement that read the principal
# (``GENERATION_COLUMN``): the request's sessions use it instead of asking again. A request reads
# the reference data as of its sign-in, as if it had asked then; a transaction that writes
# reference data reads the generation afresh (``_reference_written``).
request_generation: ContextVar[str | None] = ContextVar("request_generation", default=None)
GENERATION_COLUMN = _TOKEN.scalar_subquery().label("reference_generation")


def per_generation(db: Session, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per generation of the reference data, shared by every session of the
    process: a step of a case reads the calendar, rules, items and departments, and reading them
    again in each transaction was a fifth of its statements. One statement per transaction reads
    the generation instead; a write to any reference table (by any process, even by hand in SQL)
    moves it, and the next transaction computes afresh. The value must be plain data that no
    caller changes (never ORM objects: they belong to one session); a memo filled key by key as
    it is asked is ``per_generation_lookup``."""
    token = per_transaction(db, _GENERATION, lambda: _generation(db))
    if token is None:  # a database without the row: nothing is shared
        return compute()
    hit = _SHARED.get(key)
    if hit is not None and hit[0] == token:
        return cast(T, hit[1])  # stored under this key by the same compute
    value = compute()
    _SHARED[key] = (token, value)
    return value


def per_generation_lookup(db: Session, key: str, wanted: Iterable[K], fetch: Callable[[list[K]], Iterable[tuple[K, V]]]) -> dict[K, V]:
    """The values of ``wanted`` keys, kept like ``per_generation`` but filled as they are asked:
    the keys not yet known in this generation are fetched in one call (``fetch(missing)`` gives
    (key, value) pairs; a key it does not give stays unknown and is asked again next time). The
    one growing memo of the platform: callers get a fresh dict and never touch the shared one."""
    known: dict[K, V] = per_generation(db, key, dict)
    asked = list(dict.fromkeys(wanted))
    missing = [k for k in asked if k not in known]
    if missing:
        known.update(dict(fetch(missing)))  # whole entries only: another thread reads a key or its absence
    return {k: known[k] for k in asked if k in known}


_SIGN_IN = "tongban.sign-in-generation"


def note_generation(db: Session, token: str | None) -> None:
    """The generation read with a principal (``GENERATION_COLUMN``), for the sign-in check to take."""
    db.info[_SIGN_IN] = token


def take_generation(db: Session) -> str | None:
    return db.info.pop(_SIGN_IN, None)


def _generation(db: Session) -> str | None:
    token = request_generation.get()
    if token is None or db.info.get(_WRITTEN):
        return db.scalar(_TOKEN)
    return token


def _reference_written(db: Session) -> None:
    """The session wrote reference data: its transaction moved the generation, which it reads
    again (from the database, not the request's) for everything it computes from now on."""
    db.info.get(_MEMO, {}).pop(_GENERATION, None)
    db.info[_WRITTEN] = True


@event.listens_for(Base, "after_insert", propagate=True)
@event.listens_for(Base, "after_update", propagate=True)
@event.listens_for(Base, "after_delete", propagate=True)
def _wrote_row(_mapper, _connection, target) -> None:
    if target.__table__.name in REFERENCE_TABLES:
        session = object_session(target)
        if session is not None:
            _reference_written(session)
