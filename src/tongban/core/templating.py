"""Server-rendered pages: one Jinja2 environment over every domain's ``templates/`` folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from tongban.core.errors import Problem
from tongban.core.security import new_csrf_token
from tongban.core.urls import safe_href
from tongban.core import audit, clock

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _loader() -> ChoiceLoader:
    folders = sorted(p for p in PACKAGE_ROOT.glob("*/templates") if p.is_dir())
    return ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders])


templates = Jinja2Templates(directory=str(PACKAGE_ROOT / "web" / "templates"))
templates.env.loader = _loader()


# ``{{ moment | local }}``: every time on a page in Beijing time, the one formatting function
# (``clock.beijing_text``) that PDFs and exports use too.
local_time = clock.beijing_text

templates.env.filters["local"] = local_time
# Audit entries as people read them: the action's and the object's Chinese names.
templates.env.filters["action_label"] = audit.action_label
templates.env.filters["object_label"] = audit.object_label
# ``{% if url | safe_href %}<a href="{{ url }}">``: a stored javascript: URL is shown as text, never linked.
templates.env.filters["safe_href"] = safe_href


def days_left(remaining: int | None) -> str:
    """Working days left on a clock as people say it: past the due date is 逾期, never a negative 剩余."""
    if remaining is None:
        return "—"
    return f"逾期 {-remaining} 个工作日" if remaining < 0 else f"剩余 {remaining} 个工作日"


templates.env.filters["days_left"] = days_left


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use; every form posts it back."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def flash(request: Request, message: str, kind: str = "success") -> None:
    """A message for the next page the browser sees: the page a POST redirects to (Post/Redirect/Get)."""
    request.session["flash"] = {"message": message, "kind": kind}


def unread_for_header(request: Request, principal) -> int | None:
    """The bell's number in the header: the signed-in person's unread notices, counted by the
    notifications domain's function the app registers as ``app.state.unread_notifications``
    (core knows no domain). ``None`` (no bell) for nobody signed in, or when it cannot be
    counted: a page never fails on its header."""
    count = getattr(request.app.state, "unread_notifications", None)
    if principal is None or count is None:
        return None
    try:
        with request.app.state.read_sessionmaker() as db:
            return count(db, principal)
    except Exception:  # the page itself may be the database's error page
        return None


def render(request: Request, template: str, status_code: int = 200, **context):
    context.setdefault("principal", getattr(request.state, "principal", None))
    if "unread_notifications" not in context:
        context["unread_notifications"] = unread_for_header(request, context["principal"])
    context.setdefault("flash", request.session.pop("flash", None))
    return templates.TemplateResponse(
        request, template, {"csrf_token": csrf_token(request), **context}, status_code=status_code
    )


def date_field(raw: str | None, label: str) -> date | None:
    """A page's optional date field (YYYY-MM-DD, as a date input sends it); a bad one is refused
    naming the field."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Problem("validation-error", f"{label}应为日期 (YYYY-MM-DD)") from None
