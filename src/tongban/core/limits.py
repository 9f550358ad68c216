"""Request body limits, enforced before anything parses the body.

Every body may be ``max_request_kb``; a route that takes file uploads says so with
``openapi_extra=uploads(...)``, and only it, for its own method, may receive more. Such a route's
caller is signed in and allowed before the first byte of the body is read: an anonymous upload is
refused with 401, not spooled to disk first.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.core.auth import authorize_before_body
from tongban.core.errors import Problem, _is_api, problem_response

UPLOAD_KEY = "x-upload-limit"
# Room for the form's boundaries, headers and small fields around the file itself.
MULTIPART_SLACK = 64 * 1024
FILES_KEY = "x-upload-files"


def uploads(limit: int | str, *, files: int = 1) -> dict[str, Any]:
    """``openapi_extra`` of a route that takes a file upload: its body may be ``limit`` bytes, or,
    given a setting's name, that many MB of the running settings (plus the form around the file);
    ``files``: a form carrying up to that many files of that size (one upload per material)."""
    return {UPLOAD_KEY: limit, FILES_KEY: files}


def upload_limit(route: Any, method: str, settings: Any) -> int | None:
    """The byte limit a route declared for uploads with ``uploads``, or None (the common limit).
    Only for the route's own methods: a PATCH that the router matched by path to a POST upload
    route is answered 405 and gets no more room than any request."""
    extra = getattr(route, "openapi_extra", None) or {}
    declared = extra.get(UPLOAD_KEY)
    if declared is None or method not in (getattr(route, "methods", None) or ()):
        return None
    if isinstance(declared, str):
        declared = getattr(settings, declared) * 1024 * 1024
    return int(declared) * int(extra.get(FILES_KEY, 1)) + MULTIPART_SLACK


class _Refused(Exception):
    """Raised from ``receive`` once the answer is decided: whoever reads the body stops there."""


def _size(limit: int) -> str:
    megabytes = limit / 1024 / 1024
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{limit // 1024} KB"


class BodySizeLimitMiddleware:
    """Refuses bodies over their route's limit with 413: by Content-Length before the first read,
    else while streaming (a chunked body declares no length).

    The limit is chosen when the body is first read, after routing, from the matched route (see
    ``uploads``); until then nothing of the body has been read, so a request that never reads it
    (a 404, a 405) costs nothing. The refusal is answered here, not raised through the app:
    FastAPI turns any error while parsing a body into 400, and that answer is dropped.
    """

    def __init__(self, app: ASGIApp, *, limit: int, render_page=None) -> None:
        self.app = app
        self.limit = limit
        # A browser's form is answered with the error page, as every other error (core.errors);
        # a program's request with problem+json.
        self.render_page = render_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        received = 0
        started = False
        refusal: Problem | None = None
        crash: Exception | None = None

        async def first_read() -> int:
            route = scope.get("route")
            if route is None:
                return self.limit
            settings = scope["app"].state.settings if "app" in scope else None
            upload = upload_limit(route, scope["method"], settings)
            if upload is None:
                return self.limit
            await authorize_before_body(Request(scope), route)
            return upload

        async def counting_receive() -> Message:
            nonlocal limit, received, refusal, crash
            if refusal is not None or crash is not None:
                raise _Refused
            try:
                if limit is None:
                    limit = await first_read()
                    declared = dict(scope["headers"]).get(b"content-length")
                    if declared is not None and declared.isdigit() and int(declared) > limit:
                        raise self.too_large(limit)
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise self.too_large(limit)
            except Problem as problem:
                refusal = problem
                raise _Refused from None
            except Exception as error:  # the sign-in check failed (a database down): not a 400 either
                crash = error
                raise _Refused from None
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refusal is not None or crash is not None:  # the app's answer to the interrupted read (400)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if refusal is None and crash is None:  # not ours (the app's own error)
                raise
        if crash is not None:
            raise crash
        if refusal is not None and not started:
            request = Request(scope)
            if self.render_page is not None and not _is_api(request) and "session" in scope:
                answer = self.render_page(request, refusal)
            else:
                answer = problem_response(refusal)
            await answer(scope, receive, send)

    @staticmethod
    def too_large(limit: int) -> Problem:
        return Problem("payload-too-large", f"请求内容超过 {_size(limit)} 上限；大文件请拆分，"
                                            "或由管理员用命令行 tongban registry import 导入")
