"""No English identifier on the staff pages of the tour (issue 25, done-when 4).

Each staff account of docs/tour.md signs in and opens the pages its steps name, then the pages
those pages link to, two steps further (one page per kind of link): the visible text
(``inner_text("body")``) must hold no snake_case word and no permission or role code — a person
reads 窗口受理人员 and 查看审计日志, never ``window_clerk`` or ``audit:read``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from helpers import bearer, enterprise_setup_in_review

from tongban import demo
from tongban.core.permissions import Permission, Role

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

CITIZEN_ID = "310115199306151236"
# The tour's staff steps: who signs in, and the pages the step opens (links from them are followed).
TOUR: dict[str, list[str]] = {
    "clerk": ["/staff", "/staff/registry", f"/staff/registry/persons/{CITIZEN_ID}", "/staff/consultations",
              "/staff/window", "/staff/corrections", "/me"],
    "inspector": ["/staff", "/staff/audit", "/staff/audit?check=true", "/staff/audit?outcome=denied", "/staff/calendar",
                  "/supervision", "/supervision/evaluations", "/supervision/rectifications"],
    "head": ["/staff", "/staff/departments/PD-GA", "/staff/departments/PD-RS", "/supervision",
             "/supervision/rectifications"],
    "steward": ["/staff", "/staff/corrections", "/sharing/requests", "/sharing/grants", "/exchange/usage",
                "/staff/registry/imports"],
    "steward.mz": ["/staff", "/catalog", "/sharing/requests"],
    "admin": ["/staff", "/sharing/requests", "/sharing/grants", "/staff/items", "/staff/synonyms", "/exchange/usage",
              "/staff/departments/PD-GA", "/staff/clients", "/supervision"],
    "steward.scjg": ["/staff", "/staff/items"],
    "reviewer": ["/staff", "/staff/tasks"],
    "reviewer.ga": ["/staff", "/staff/tasks"],
}

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
# Permission codes carry a colon; role codes of one word (reviewer, inspector) are also demo
# user names, so those with an underscore are caught by SNAKE.
CODES = re.compile("|".join(rf"(?<![\w:.-]){re.escape(p.value)}(?![\w:-])" for p in Permission if ":" in p.value))
ROLE_CODES = {r.value for r in Role if "_" in r.value}
NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/logout")
MAX_DEPTH = 2  # the tour's page, what it links to (a department's board), and one more (a red clock)


@pytest.fixture(scope="module")
def tour_in_progress(live_server) -> str:
    """Step 13 of the tour up to the parallel review: the reviewers' task pages show a real form. A
    refused API call too, so the audit log lists a refusal of a route with a parameter."""
    with httpx.Client(base_url=live_server, timeout=60) as client:
        number = enterprise_setup_in_review(client, lambda username: bearer(client, username))
        tasks = client.get("/api/v1/tasks", headers=bearer(client, "reviewer.ga")).json()["items"]
        task = next(t for t in tasks if t["application"] == number)
        refused = client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(client, demo.CITIZEN.username))
        assert refused.status_code == 403, refused.text
    return number


def _shape(path: str) -> str:
    """One page per kind of link: /supervision/clocks/17 and /supervision/clocks/18 are one kind."""
    return re.sub(r"/[^/]*\d[^/]*", "/#", path)


def _identifiers(text: str) -> list[str]:
    found = SNAKE.findall(text) + CODES.findall(text)
    return sorted(set(found) | {r for r in ROLE_CODES if r in text})


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(NOT_PAGES):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.mark.parametrize("username", list(TOUR))
def test_tour_staff_pages_show_no_english_identifier(browser, live_server, database, tour_in_progress, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    sign_in(page, live_server, username, landing="/staff")
    seen_shapes: set[str] = set()
    queue = [(url, 0) for url in TOUR[username]]
    problems, visited = [], 0
    while queue:
        url, depth = queue.pop(0)
        shape = _shape(url.split("?")[0]) + ("?" + url.split("?")[1] if "?" in url and depth == 0 else "")
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        response = page.goto(f"{live_server}{url}")
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue  # a download (PDF, Excel): not a page
        assert response.status < 500, f"{username} {url}: {response.status}"
        visited += 1
        words = _identifiers(page.inner_text("body"))
        if words:
            problems.append(f"{username} {url}: {', '.join(words)}")
        if depth < MAX_DEPTH:
            queue.extend((link, depth + 1) for link in _links(page, live_server))
    screenshot(page, f"staff-labels-{username}-{database.engine_name}")
    context.close()
    assert visited >= len(TOUR[username])
    assert not problems, "\n".join(problems)
