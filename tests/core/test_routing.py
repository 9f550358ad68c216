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
    assert routing.first_segments(literal) == {("hotline", "tickets")}
    api = APIRouter(prefix="/api/v1/grid")
    api.get("/cases/{number}")(lambda number: None)
    api.get("")(lambda: None)
    assert routing.first_segments(api) == {("api", "v1", "grid")}
    assert routing.could_match(routing.first_segments(api), "/api/v1/grid/cases/WG-1")
    assert not routing.could_match(routing.first_segments(api), "/api/v1/hotline/tickets")
    short = APIRouter()
    short.get("/api/{version}/x")(lambda version: None)
    assert routing.first_segments(short) == {("api",)}
    assert routing.could_match(routing.first_segments(short), "/api/v9/x")
    anything = APIRouter()
    anything.get("/{slug}")(lambda slug: None)
    assert routing.first_segments(anything) is None


def _app(guarded: bool = True) -> FastAPI:
    pages, api, catch_all = APIRouter(), APIRouter(prefix="/api/v1/things"), APIRouter()
    other = APIRouter(prefix="/api/v1/others")
    other.get("/{number}")(lambda number: {"other": number})
    pages.get("/things/{number}")(lambda number: {"page": number})
    pages.post("/things")(lambda: {"posted": True})
    api.get("")(lambda: {"api": "list"})
    api.get("/{number}")(lambda number: {"api": number})
    catch_all.get("/{slug}/about")(lambda slug: {"about": slug})
    app = FastAPI()
    for router in (pages, api, other, catch_all):
        if not guarded:
            app.include_router(router)
            continue
        routing.include(app, router)
        routing.include(FastAPI(), router)  # a second app in the same process: the router is checked once
    return app


def test_a_guarded_app_answers_as_fastapi_does():
    client = TestClient(_app())
    assert client.get("/things/7").json() == {"page": "7"}
    assert client.get("/api/v1/things").json() == {"api": "list"}
    assert client.get("/api/v1/things/8").json() == {"api": "8"}
    assert client.get("/api/v1/others/9").json() == {"other": "9"}

    assert client.get("/anything/about").json() == {"about": "anything"}
    assert client.get("/things").status_code == 405  # the path is a route's, the method is not
    assert client.get("/nowhere").status_code == 404
    assert client.get("/api/v2/things").status_code == 404


def test_every_path_is_answered_as_without_the_guard():
    guarded, plain = TestClient(_app(), follow_redirects=False), TestClient(_app(guarded=False), follow_redirects=False)
    for path in ("/", "/things", "/things/7", "/things/7/", "/api", "/api/v1", "/api/v1/things", "/api/v1/things/",
                 "/api/v1/things/8", "/api/v1/things/8/", "/api/v1/others/9", "/api/v1/others", "/x/about", "/x/about/",
                 "/api/about", "/api/v1/about", "//api/v1/things"):
        for method in ("GET", "POST"):
            a, b = guarded.request(method, path), plain.request(method, path)
            assert (a.status_code, a.content, a.headers.get("location")) == (b.status_code, b.content, b.headers.get("location")), (method, path)
