"""Body limits: by route, also for chunked bodies, and no upload read from a caller who may not upload.

The TestClient reads a streamed body whole before the app sees it, so these tests speak ASGI to
the app directly: each chunk of the body is handed over only when the app asks for it, and the
test counts how many it asked for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

from helpers import bearer

from tongban import demo

MB = 1024 * 1024


FORM = "multipart/form-data; boundary=x"
# A form with one file under a name no route expects: read whole, then refused as 422.
FORM_START = b'--x\r\nContent-Disposition: form-data; name="other"; filename="a.csv"\r\n\r\n'
FORM_END = b"\r\n--x--\r\n"


class Body:
    """A request body of ``chunks`` pieces of ``size`` bytes, sent without a Content-Length;
    as a form (``FORM``), the pieces are one file's content."""

    def __init__(self, chunks: int, size: int = MB, piece: bytes = b"x", *, form: bool = False) -> None:
        self.chunks, self.size, self.piece, self.form = chunks, size, piece, form
        self.read = 0  # chunks the app asked for

    async def receive(self) -> dict:
        if self.read >= self.chunks:
            return {"type": "http.disconnect"}
        self.read += 1
        chunk = self.piece * self.size
        if self.form:
            chunk = (FORM_START if self.read == 1 else b"") + chunk + (FORM_END if self.read == self.chunks else b"")
        return {"type": "http.request", "body": chunk, "more_body": self.read < self.chunks}


def call(app, method: str, path: str, body: Body, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    """One request straight through the ASGI app: status, headers and JSON body of the answer."""
    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **(headers or {})}.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    # In a thread of its own: the suite may already run an event loop in this one (the browser tests').
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, body.receive, send)).result()
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, json.loads(content)


def test_an_oversized_chunked_json_body_is_413_not_400(client, app):
    # 3 MB in 1 MB chunks, no Content-Length: over the 2 MB limit of a JSON request.
    body = Body(chunks=3)
    status, headers, problem = call(app, "POST", "/api/v1/accounts/citizens", body,
                                    {"content-type": "application/json"})
    assert status == 413, problem
    assert headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "/problems/payload-too-large" and "2 MB" in problem["detail"]


def test_a_json_body_to_an_upload_path_gets_the_common_limit(client, app):
    # PATCH .../imports is the record update of a record keyed "imports", not an upload: the
    # upload limit (1,024 MB) is not its, and 100 MB are not read before it is refused.
    body = Body(chunks=100, piece=b" ")
    status, _, problem = call(app, "PATCH", "/api/v1/registries/persons/imports", body,
                              {"content-type": "application/json"})
    assert status == 413, problem
    assert problem["type"] == "/problems/payload-too-large"
    assert body.read <= 3


def test_an_anonymous_upload_is_refused_before_its_body_is_read(client, app):
    body = Body(chunks=100)
    status, headers, problem = call(app, "POST", "/api/v1/registries/persons/imports", body,
                                    {"content-type": FORM})
    assert status == 401, problem
    assert problem["type"] == "/problems/not-authenticated"
    assert headers["www-authenticate"].startswith("Bearer")
    assert body.read == 0


def test_an_upload_by_someone_not_allowed_is_refused_before_its_body_is_read(client, app):
    citizen = bearer(client, demo.CITIZEN.username)
    body = Body(chunks=100)
    status, _, problem = call(app, "POST", "/api/v1/registries/persons/imports", body,
                              {"content-type": FORM, **citizen})
    assert status == 403, problem
    assert problem["type"] == "/problems/permission-denied"
    assert body.read == 0


def assert_read_whole(app, path: str, headers: dict[str, str], chunks: int) -> None:
    """A form of ``chunks`` MB is read to its end, and refused for what it holds (no field named
    file), not for its size."""
    body = Body(chunks=chunks, form=True)
    status, _, problem = call(app, "POST", path, body, {"content-type": FORM, **headers})
    assert status == 422 and problem["type"] == "/problems/validation-error", problem
    assert body.read == chunks


def test_an_upload_route_takes_more_than_the_common_limit(client, app):
    # The steward may upload: 3 MB are read, past the 2 MB of JSON requests.
    assert_read_whole(app, "/api/v1/registries/persons/imports", bearer(client, "steward"), 3)


def test_the_workbook_import_takes_its_declared_20_mb(client, app):
    # Its route reads up to 20 MB; the common 2 MB limit refused 3 MB workbooks before it.
    admin = bearer(client, "admin")
    assert_read_whole(app, "/api/v1/items/import/xlsx", admin, 3)
    body = Body(chunks=21, form=True)
    status, _, problem = call(app, "POST", "/api/v1/items/import/xlsx", body,
                              {"content-type": FORM, **admin})
    assert status == 413, problem


def test_a_failing_sign_in_check_before_an_upload_is_a_500_not_a_400(client, app, monkeypatch):
    from tongban.core import limits

    async def broken(request, route):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(limits, "authorize_before_body", broken)
    status, _, problem = call(app, "POST", "/api/v1/registries/persons/imports", Body(chunks=1), {"content-type": FORM})
    assert status == 500 and problem["type"] == "/problems/internal-error", problem


def test_every_route_that_takes_a_file_declares_its_upload_limit(app):
    """A file route without ``uploads(...)`` gets the common JSON limit (the import page refused
    files over 2 MB while the import API took 1 GB); the rule holds for pages and API alike."""
    from fastapi import UploadFile
    from tongban.core.auth import api_routes
    from tongban.core.limits import upload_limit

    def takes_file(route) -> bool:
        return any(param.field_info.annotation is UploadFile or getattr(param, "type_", None) is UploadFile
                   or "UploadFile" in str(param.field_info.annotation)
                   for param in route.dependant.body_params)

    file_routes = [route for route in api_routes(app.routes) if takes_file(route)]
    assert len(file_routes) >= 5, [route.path for route in file_routes]  # the walk found them
    undeclared = [f"{sorted(route.methods)} {route.path}" for route in file_routes
                  if upload_limit(route, next(iter(route.methods)), app.state.settings) is None]
    assert not undeclared, undeclared


def test_an_oversized_form_from_a_browser_is_answered_with_the_error_page(client, app):
    """A browser shows problem+json as raw text: its form gets the page every other error gets;
    a program's request to the same route keeps problem+json."""
    too_big = {"name": "x" * (3 * MB), "csrf_token": "t"}
    page = client.post("/register", data=too_big, headers={"Accept": "text/html"})
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "请求内容过大" in page.text and "2 MB" in page.text and "<nav" in page.text
    program = client.post("/register", data=too_big, headers={"Accept": "application/json"})
    assert program.status_code == 413 and program.headers["content-type"].startswith("application/problem+json")
