"""Including a domain's router so that a request never tries the routes that cannot be its own.

FastAPI (0.137 and later) keeps an included router as one node and, for every request, tries every
route of every router before it reaches the one that matches, without looking at the routers'
prefixes (fastapi/fastapi#16159). With about 500 routes that was about 3 ms of CPU on every call, a
bare ``/readyz`` included. A route whose path begins with a literal segment (``/api``,
``/hotline``) matches only paths that begin with the same segment, so a router whose every route
begins with a literal segment knows, from the set of those segments, which paths it can never
match, and says so at once. A router with a route whose first segment is a parameter, or with
routers of its own, is always asked. The answer for every path is the same as without the check.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

Matches = Callable[[Scope], tuple[Match, Scope]]


DEPTH = 3  # literal segments compared: ``/api/v1/grid`` tells the grid's API from the hotline's


def first_segment(path: str) -> str:
    """``/api/v1/grid`` → ``api``; ``/readyz`` → ``readyz``; ``/`` → ``""``."""
    return path.split("/", 2)[1] if path.startswith("/") else path


def leading_segments(path: str) -> tuple[str, ...]:
    """The first ``DEPTH`` segments of a path: ``/api/v1/grid/cases/WG-1`` → ``("api", "v1", "grid")``."""
    return tuple(path.split("/")[1:DEPTH + 1]) if path.startswith("/") else (path,)


def first_segments(router: APIRouter) -> frozenset[tuple[str, ...]] | None:
    """The literal leading segments of the router's routes (up to ``DEPTH``, stopping at the first
    parameter); None when some route may begin with anything."""
    heads = set()
    for route in router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):  # a router of its own, included in this one
            return None
        literal: list[str] = []
        for segment in leading_segments(path):
            if "{" in segment:
                break
            literal.append(segment)
        if not literal:
            return None
        heads.add(tuple(literal))
    return frozenset(heads)


def could_match(heads: frozenset[tuple[str, ...]], path: str) -> bool:
    """Whether a path begins with one of the routes' literal leading segments."""
    segments = leading_segments(path)
    return any(segments[:n] in heads for n in range(1, len(segments) + 1))


def include(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)``, the router refusing at once a path outside its first segments."""
    app.include_router(router)
    if "matches" in vars(router):  # checked already (the router of another app built in this process)
        return
    asks: Matches = router.matches
    known: dict[int, frozenset[tuple[str, ...]] | None] = {}  # by the number of routes: one added later is seen

    def matches(scope: Scope) -> tuple[Match, Scope]:
        count = len(router.routes)
        if count not in known:
            known.clear()
            known[count] = first_segments(router)
        heads = known[count]
        if heads is not None and not could_match(heads, get_route_path(scope)):
            return Match.NONE, {}
        return asks(scope)

    setattr(router, "matches", matches)  # noqa: B010 (an attribute of this one router, read by its included node)
