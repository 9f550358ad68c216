"""Which stored URLs may become links: http(s) addresses only.

A ``javascript:`` or ``data:`` URL in a link runs in the reader's browser, so every URL a user can
store is checked where it is saved, and checked again where it is shown (``safe_href``), so a
value stored before the check never becomes a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

WEB_SCHEMES = ("http", "https")


def url_problem(value: object, *, max_length: int = 500) -> str | None:
    """Why ``value`` is not an acceptable web address (in Chinese), or ``None`` when it is."""
    if not isinstance(value, str) or not value:
        return "应为以 http:// 或 https:// 开头的网址"
    if len(value) > max_length:
        return f"网址不能超过 {max_length} 个字符"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "网址应为不含空白或控制字符的 http(s) 地址"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises on a malformed port
    except ValueError:
        return "网址格式有误"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"网址只能使用 http 或 https，不能使用「{parts.scheme[:20] or '（空）'}」"
    if "@" in parts.netloc:  # user:password@ could hide the real host from a reader
        return "网址不能包含用户名或密码"
    if not parts.hostname:
        return "网址缺少主机名"
    return None


def local_path(value: object) -> str | None:
    """The value if it is a path on this site, else None: never ``//host`` or ``/\\host`` (which
    browsers read as another site), nor whitespace or control characters, which browsers drop
    from a URL (``/<tab>/host`` is ``//host`` to them)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value \
            and all(ch.isprintable() and not ch.isspace() for ch in value):
        return value
    return None


def safe_href(value: object) -> str | None:
    """The value if it may be a link's target: an http(s) address, or a path on this site."""
    if local_path(value) is not None:
        return value  # type: ignore[return-value]
    return value if url_problem(value) is None else None  # type: ignore[return-value]


def absolute_url(request: Request, path: str) -> str:
    """An absolute link to ``path`` of this platform, for where no browser resolves a relative one
    (a PDF, its QR code): under the configured public address (``TONGBAN_PUBLIC_URL``), else under
    the address the request came to (which a proxy in front may have changed)."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return base.rstrip("/") + path
