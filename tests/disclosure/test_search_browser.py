"""A citizen searches the published documents in Chromium, narrows by a facet, opens a result; the
same page fits a 390 px phone. (The document page itself is the catalog's: only its address is
checked here.)"""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from tongban.core.db.session import session_scope
from tongban.disclosure import search
from tongban.disclosure.search import SearchableDocument
from disclosure.words import unique_word
from web.conftest import screenshot

pytestmark = pytest.mark.browser


def _published(database) -> tuple[str, list[SearchableDocument]]:
    word = unique_word()
    rows = [("PD-MZ", "浦东新区民政局", "浦民"), ("PD-MZ", "浦东新区民政局", "浦民"), ("PD-MZ", "浦东新区民政局", "浦民"),
            ("PD-CZ", "浦东新区财政局", "浦财"), ("PD-WJW", "浦东新区卫生健康委员会", "浦卫")]
    documents = []
    for n, (code, name, prefix) in enumerate(rows, start=1):
        index_number = f"WEB-{uuid.uuid4().hex[:10]}"
        documents.append(SearchableDocument(
            index_number=index_number, title=f"关于{word}社区养老服务补贴第{n}批名单的公示", document_number=f"{prefix}〔2026〕{700 + n}号",
            department_code=code, department_name=name, issued_on=date(2026, 4, n), published_on=date(2026, 4, n + 2),
            theme="民政、扶贫、救灾", genre="通知公告", validity="有效",
            body_text=f"根据{word}社区养老服务补贴办法，现将第{n}批符合条件的老年人名单予以公示，公示期五个工作日。"
                      "对名单有异议的，可在公示期内向街镇社区事务受理服务中心反映。" * 3,
            url=f"/disclosure/documents/{index_number}"))
    with session_scope(database.sessionmaker()) as db:
        for document in documents:
            search.index(db, document)
    return word, documents


def test_a_citizen_searches_filters_and_opens_a_document(page, live_server, database):
    word, documents = _published(database)
    page.goto(f"{live_server}/disclosure/search")
    page.get_by_label("检索词").fill(f"{word}养老服务补贴")
    page.get_by_role("button", name="检索").click()
    page.wait_for_url(re.compile(r"/disclosure/search\?q="))
    assert "共 5 件" in page.get_by_role("status").inner_text()
    assert page.locator(".disclosure-results mark").count() >= 5
    # The facet says how many 民政局 documents there are; choosing it gives exactly those.
    facet = page.locator("details[data-facet=department] a", has_text="浦东新区民政局")
    assert "（3）" in facet.inner_text()
    facet.click()
    page.wait_for_url(re.compile(r"department=PD-MZ"))
    assert "共 3 件" in page.get_by_role("status").inner_text()
    assert page.locator(".disclosure-results > li").count() == 3
    assert page.get_by_text("浦东新区财政局 ·").count() == 0
    screenshot(page, f"disclosure-search-{database.engine_name}")
    # A result opens the document's page (the catalog serves it).
    first = page.locator(".disclosure-results a.result-title").first
    href = first.get_attribute("href")
    assert href in {f"/disclosure/documents/{d.index_number}" for d in documents[:3]}
    first.click()
    page.wait_for_url(f"{live_server}{href}")


def test_the_search_page_fits_a_phone(browser, live_server, database):
    word, _documents = _published(database)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{live_server}/disclosure/search?q={word}养老服务补贴&department=PD-MZ")
    assert "共 3 件" in phone.get_by_role("status").inner_text()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 391
    screenshot(phone, f"disclosure-search-phone-{database.engine_name}")
    context.close()
