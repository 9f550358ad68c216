"""What a test run builds once per engine (and per xdist worker) and keeps to the end.

The engine is a parameter of the session fixtures. Pytest finalizes a parametrized session
fixture whenever the next test wants the other value, and under xdist's ``--dist loadfile`` that
happens at nearly every file boundary: the demo was loaded again and a server started again each
time. Kept here instead, each is built the first time it is wanted and cleaned up at the end of
the run (last built, first cleaned: a server before its database)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_values: dict[tuple[str, str], Any] = {}
_cleanups: list[Callable[[], None]] = []


def kept(kind: str, engine: str, build: Callable[[], tuple[Any, Callable[[], None]]]) -> Any:
    """The ``kind`` of ``engine`` (e.g. ``("database", "sqlite")``), built by ``build()`` → (value, cleanup) once."""
    key = (kind, engine)
    if key not in _values:
        value, cleanup = build()
        _values[key] = value
        _cleanups.append(cleanup)
    return _values[key]


def clean_up_all() -> None:
    while _cleanups:
        _cleanups.pop()()
    _values.clear()
