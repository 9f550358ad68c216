"""Every public page fits a 390 px phone: no horizontal scroll (issue 25, done-when 4).

The pages are enumerated from the application's own routes — every GET page (not in the API
schema) whose declared permission is PUBLIC — so a public page added later is walked without
touching this test. A route with path parameters is filled from the demo data below; one this
test does not know how to fill fails the test, naming it, rather than being skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import uuid

import httpx
import pytest
from fastapi.routing import APIRoute

from tongban import demo
from tongban.core.auth import PermissionCheck, api_routes
from tongban.core.permissions import Permission

from .conftest import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ROAD_DIGGING = "000115010000"  # 道路挖掘（占用）许可: the tour's item, the longest page of the demo
# The tour's answers (docs/tour.md): a notice with materials, prerequisites, fees and a URL.
ID_CARD = "000107013000"  # 居民身份证申领、换领、补领 (公安分局): a licence to check
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TOUR_ANSWERS = {"q1": "q1b", "q6": "q6a", "q7": "q7a"}


def _permissions(route: APIRoute) -> tuple[Permission, ...]:
    found: list[PermissionCheck] = []

    def walk(dependant) -> None:
        if isinstance(dependant.call, PermissionCheck):
            found.append(dependant.call)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found[0].permissions if found else ()


def public_page_routes(app) -> list[str]:
    """Path templates of every public GET page of the application, as it is assembled."""
    return sorted({route.path for route in api_routes(app.routes)
                   if "GET" in (route.methods or ()) and not route.include_in_schema
                   and _permissions(route) == (Permission.PUBLIC,)})


def _notice(client: httpx.Client) -> str:
    answer = client.post(f"/api/v1/items/published/{ROAD_DIGGING}/notices", json={"answers": TOUR_ANSWERS})
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def _disclosure_document(client: httpx.Client) -> dict:
    """The demo's revised 财政局 measure: a published document with a table attached (the catalog's
    newest normative document of 财政局 with an attachment)."""
    listed = client.get("/api/v1/disclosure/documents", params={"department": "PD-CZ", "genre": "normative", "limit": 500})
    for item in listed.json()["items"]:
        document = client.get(f"/api/v1/disclosure/documents/{item['index_number']}").json()
        if document["attachments"]:
            return document
    raise AssertionError("the demo has no published document with an attachment")


def _published_letter(client: httpx.Client) -> str:
    letters = client.get("/api/v1/mailbox/published").json()["items"]
    assert letters, "the demo has no published letter (信件选登)"
    return letters[0]["number"]


def _participation_topic(client: httpx.Client) -> int:
    """The demo's draft whose adoption summary is published: the longest of the topic pages."""
    topics = client.get("/api/v1/participation/topics").json()
    assert topics, "the demo has no published participation topic"
    for topic in topics:
        if topic["kind"] == "solicitation" and client.get(f"/api/v1/participation/topics/{topic['id']}").json().get("summary"):
            return topic["id"]
    return topics[0]["id"]


def _consultation(client: httpx.Client) -> str:
    answer = client.post("/api/v1/consultations", json={"question": "夜间可以施工吗？挖掘修复费怎么算", "item": ROAD_DIGGING})
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def _licence(client: httpx.Client) -> str:
    """A licence issued as the demo issues none: the citizen applies online for 居民身份证补领 with
    its uploads, the window accepts and 公安分局 approves (all through the API)."""
    import json

    from helpers import bearer

    citizen, clerk, reviewer = (bearer(client, name) for name in (demo.CITIZEN.username, "clerk", "reviewer.ga"))
    form = client.get("/api/v1/applications/forms", params={"item": ID_CARD}, headers=citizen).json()
    values = {f["key"]: f["value"] or "补领居民身份证" for f in form["fields"]}
    answers = {s["key"]: s["answers"][0]["id"] for s in form["situations"]}
    listed = form["material_list"]
    files = [(f"material:{m['key']}", (f"{m['id']}.pdf", PDF, "application/pdf"))
             for m in listed if not m["exempt"] and m["needed"] is not False]
    filed = client.post("/api/v1/applications/with-files", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex},
                        data={"item": ID_CARD, "form": json.dumps(values, ensure_ascii=False), "answers": json.dumps(answers)},
                        files=files)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    assert client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk).status_code == 200
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer, params={"limit": 200}).json()["items"]
              if t["application"] == number]
    approved = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                           json={"decision": "approve", "opinion": "同意", "version": task["version"]})
    assert approved.status_code == 200, approved.text
    return client.get(f"/api/v1/applications/{number}", headers=citizen).json()["licences"][0]["number"]


def _material_with_a_blank_form(client: httpx.Client) -> str:
    """The printable blank form of the first published item's material that has one."""
    for code in (ROAD_DIGGING, ID_CARD):
        for material in client.get(f"/api/v1/items/published/{code}").json()["materials"]:
            if material.get("blank_form"):
                return f"/services/{code}/materials/{material['id']}/blank-form.pdf"
    raise AssertionError("no demo material offers a blank form to print")


# How to fill each public page route with path parameters, from the demo (path template → URL).
FILL: dict[str, Callable[[httpx.Client], str]] = {
    "/services/{code}": lambda c: f"/services/{ROAD_DIGGING}",
    "/services/{code}/guide": lambda c: f"/services/{ROAD_DIGGING}/guide",
    "/notices/{number}": lambda c: f"/notices/{_notice(c)}",
    "/consultations/{number}": lambda c: f"/consultations/{_consultation(c)}",
    "/problems/{slug}": lambda c: "/problems/not-found",
    "/mailbox/published/{number}": lambda c: f"/mailbox/published/{_published_letter(c)}",
    "/participation/{topic_id}": lambda c: f"/participation/{_participation_topic(c)}",
    "/verify/licences/{number}": lambda c: f"/verify/licences/{_licence(c)}",
    "/services/{code}/materials/{material_id}/{kind}.pdf": _material_with_a_blank_form,
    "/disclosure/catalog/department/{code}": lambda c: "/disclosure/catalog/department/PD-CZ",
    "/disclosure/catalog/theme/{theme}": lambda c: "/disclosure/catalog/theme/finance",
    "/disclosure/documents/{index_number}": lambda c: _disclosure_document(c)["url"],
    # A file, downloaded rather than shown: walk the page a reader gets for one that is gone.
    "/disclosure/documents/{index_number}/attachments/{attachment_id}": lambda c: _disclosure_document(c)["url"]
    + "/attachments/999999",
    "/disclosure/feeds/department/{code}.atom": lambda c: "/disclosure/feeds/department/PD-CZ.atom",
    "/disclosure/feeds/theme/{theme}.atom": lambda c: "/disclosure/feeds/theme/finance.atom",
    "/openapi/{slug}.json": lambda c: "/openapi/grid.json",  # one section of the API document (JSON, not a page)
}
# Public pages reached with a query or as an error, beyond the routes themselves.
EXTRA = ["/services?q=开饭店要办什么证", "/deadline?start=2025-09-30&working_days=3", "/no-such-page",
         "/disclosure/documents/PD-CZ-1999-00000",  # a withdrawn (or mistyped) document's page
         "/disclosure/search?q=养老服务补贴&sort=date", "/disclosure/search?department=PD-MZ&validity=有效",
         "/policies/check?target=enterprise&registered_capital=500&employees=36&status=存续",  # a self-check's answer
         "/policies/check?target=resident&age=62&alive=是&residence_status=户籍"]

OVERFLOW = """() => {
  const width = window.innerWidth;
  const wider = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap, pre'))
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className} «${(e.textContent || '').trim().slice(0, 30)}»`);
  return {scroll: document.scrollingElement.scrollWidth, width, wider};
}"""


def test_every_public_page_fits_a_phone(browser, live_server, database, app):
    templates = public_page_routes(app)
    assert "/" in templates and "/services/{code}" in templates  # the enumeration found the pages
    unknown = [t for t in templates if "{" in t and t not in FILL]
    if unknown:
        pytest.fail(f"public pages this test cannot fill (add them to FILL): {', '.join(unknown)}")
    with httpx.Client(base_url=live_server, timeout=30) as client:
        urls = [FILL[t](client) if "{" in t else t for t in templates] + EXTRA

    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    too_wide, walked = [], 0
    for url in urls:
        response = page.goto(f"{live_server}{url}")
        assert response is not None, url
        if "text/html" not in response.headers.get("content-type", ""):
            continue  # not a page (a file, a redirect's target outside the site is impossible here)
        assert response.status < 500, f"{url}: {response.status}"
        walked += 1
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"] + 1:
            too_wide.append(f"{url}: {measured['scroll']} px wide on {measured['width']} px; {measured['wider']}")
        if url == f"/services/{ROAD_DIGGING}" or url.startswith("/notices/"):
            screenshot(page, f"phone-{'item' if url.startswith('/services') else 'notice'}-{database.engine_name}")
    context.close()
    assert walked >= len(templates)
    assert not too_wide, "\n".join(too_wide)


def test_item_and_notice_pages_on_a_desktop(page, live_server, database):
    """The same pages at 1280 px keep their two-column facts (the phone reflow is for phones only)."""
    with httpx.Client(base_url=live_server, timeout=30) as client:
        notice = _notice(client)
    for url in (f"/services/{ROAD_DIGGING}", f"/notices/{notice}"):
        page.goto(f"{live_server}{url}")
        label, value = page.locator(".facts dt").first.bounding_box(), page.locator(".facts dd").first.bounding_box()
        assert label and value and abs(label["y"] - value["y"]) < 4 and value["x"] > label["x"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
        screenshot(page, f"desktop-{'item' if url.startswith('/services') else 'notice'}-{database.engine_name}")
