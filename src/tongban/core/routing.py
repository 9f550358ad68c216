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


def first_segment(path: str) -> str:
    """``/api/v1/grid`` → ``api``; ``/readyz`` → ``readyz``; ``/`` → ``""``."""
    return path.split("/", 2)[1] if path.startswith("/") else path


def first_segments(router: APIRouter) -> frozenset[str] | None:
    """The first path segments of the router's routes; None when some route may begin with anything."""
    heads = set()
    for route in router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):  # a router of its own, included in this one
            return None
        head = first_segment(path)
        if "{" in head:
            return None
        heads.add(head)
    return frozenset(heads)


def include(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)``, the router refusing at once a path outside its first segments."""
    app.include_router(router)
    if "matches" in vars(router):  # checked already (the router of another app built in this process)
        return
    asks: Matches = router.matches
    known: dict[int, frozenset[str] | None] = {}  # by the number of routes: one added later is seen

    def matches(scope: Scope) -> tuple[Match, Scope]:
        count = len(router.routes)
        if count not in known:
            known.clear()
            known[count] = first_segments(router)
        heads = known[count]
        if heads is not None and first_segment(get_route_path(scope)) not in heads:
            return Match.NONE, {}
        return asks(scope)

    setattr(router, "matches", matches)  # noqa: B010 (an attribute of this one router, read by its included node)
