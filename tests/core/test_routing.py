"""core.routing: a router says "not mine" at once for a path outside its routes' first segments,
and answers every other path exactly as FastAPI does."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from tongban.core import routing


def test_first_segments():
    assert routing.first_segment("/api/v1/grid") == "api"
    assert routing.first_segment("/readyz") == "readyz"
    assert routing.first_segment("/") == ""
    literal = APIRouter(prefix="/hotline")
    literal.get("/tickets")(lambda: None)
    literal.get("/tickets/{number}")(lambda number: None)
    assert routing.first_segments(literal) == {"hotline"}
    anything = APIRouter()
    anything.get("/{slug}")(lambda slug: None)
    assert routing.first_segments(anything) is None


def _app() -> FastAPI:
    pages, api, catch_all = APIRouter(), APIRouter(prefix="/api/v1/things"), APIRouter()
    pages.get("/things/{number}")(lambda number: {"page": number})
    pages.post("/things")(lambda: {"posted": True})
    api.get("")(lambda: {"api": "list"})
    api.get("/{number}")(lambda number: {"api": number})
    catch_all.get("/{slug}/about")(lambda slug: {"about": slug})
    app = FastAPI()
    for router in (pages, api, catch_all):
        routing.include(app, router)
        routing.include(FastAPI(), router)  # a second app in the same process: the router is checked once
    return app


def test_a_guarded_app_answers_as_fastapi_does():
    client = TestClient(_app())
    assert client.get("/things/7").json() == {"page": "7"}
    assert client.get("/api/v1/things").json() == {"api": "list"}
    assert client.get("/api/v1/things/8").json() == {"api": "8"}
    assert client.get("/anything/about").json() == {"about": "anything"}
    assert client.get("/things").status_code == 405  # the path is a route's, the method is not
    assert client.get("/nowhere").status_code == 404
    assert client.get("/api/v2/things").status_code == 404
