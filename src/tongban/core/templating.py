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


def render(request: Request, template: str, status_code: int = 200, **context):
    context.setdefault("principal", getattr(request.state, "principal", None))
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
