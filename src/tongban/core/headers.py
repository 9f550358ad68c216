"""Security headers on every response, and the operations endpoints kept to internal networks.

Pure ASGI, so the headers reach every answer alike: API, pages, static files, error pages and
404s, whichever layer produced them.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.core.errors import Problem, problem_response

# The pages load only our own scripts and stylesheets (htmx and the Swagger UI from installed
# packages), so no inline script or style is allowed: a stored string that slips past escaping
# still cannot run. Images may be data: URLs (the Swagger UI's icons are).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

BASE_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
# Only when cookies are secure, i.e. the site is served over HTTPS: HSTS on plain HTTP would lock
# a development machine out of its own site for a year.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

METRICS_PATHS = ("/metrics",)
DOCS_PATHS = ("/docs", "/openapi.json", "/openapi", "/redoc")  # /openapi/{section}.json: core/apidocs.py


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``"127.0.0.0/8, ::1"`` → networks; raises ``ValueError`` on a bad entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class SecurityHeadersMiddleware:
    """Adds the security headers and answers 404 to outsiders asking for internal endpoints.

    ``/metrics`` is always internal; the API docs (``/docs``, ``/openapi.json`` and its sections) too unless
    ``docs_public``. Internal means a client address inside ``internal_networks`` — behind a
    reverse proxy, run the server with its proxy-headers option so the address is the client's.
    """

    def __init__(self, app: ASGIApp, *, internal_networks: str, docs_public: bool, hsts: bool) -> None:
        self.app = app
        self.networks = parse_networks(internal_networks)
        self.internal_paths = METRICS_PATHS + (() if docs_public else DOCS_PATHS)
        self.headers = BASE_HEADERS + ((HSTS,) if hsts else ())

    def _is_internal(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:  # a test client's or a Unix socket's made-up name is nobody's address
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.headers if name not in present]
            await send(message)

        path = scope.get("path", "")
        if any(path == p or path.startswith(p + "/") for p in self.internal_paths) and not self._is_internal(scope):
            # Not found rather than forbidden: outsiders need not learn what is there.
            response = problem_response(Problem("not-found", f"找不到 {path}"))
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
