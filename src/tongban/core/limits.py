"""Request body limits, enforced before anything parses the body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.core.errors import Problem, problem_response


class BodyTooLarge(Exception):
    pass


UPLOAD_PATHS = ("/imports", "/attachments")


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413: by Content-Length at once, else while streaming.

    ``upload_limit`` applies to file-upload routes (paths ending in ``/imports`` or
    ``/attachments``, which check their own, smaller limits), ``limit`` to everything else; a
    JSON request never needs megabytes.
    """

    def __init__(self, app: ASGIApp, *, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].rstrip("/").endswith(UPLOAD_PATHS) else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope, receive, send, limit: int) -> None:
        megabytes = limit / 1024 / 1024
        size = f"{megabytes:.0f} MB" if megabytes >= 1 else f"{limit // 1024} KB"
        problem = Problem("payload-too-large", f"请求内容超过 {size} 上限；大文件请拆分，或由管理员用命令行 tongban registry import 导入")
        await problem_response(problem)(scope, receive, send)
