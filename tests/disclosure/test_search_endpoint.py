"""GET /api/v1/disclosure/search and the page /disclosure/search, on both engines: public, typed,
bad input answered in Chinese with a stable type and nothing changed."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from disclosure.words import unique_word
from helpers import assert_problem
from tongban.core.db.session import session_scope
from tongban.disclosure import search
from tongban.disclosure.search import SearchableDocument
from tongban.disclosure.search_models import SearchEntry

URL = "/api/v1/disclosure/search"


@pytest.fixture
def published(database):
    """Three published documents of two departments sharing a word no other document has."""
    word = unique_word()
    serial = uuid.uuid4().int % 90000 + 10000  # a 文号 no other test's document has
    documents = [
        SearchableDocument(index_number=f"API-{uuid.uuid4().hex[:10]}", title=f"关于{word}养老服务补贴的通知", document_number=number,
                           department_code=code, department_name=name, issued_on=date(year, 3, 1), published_on=date(year, 3, day),
                           theme="民政、扶贫、救灾", genre=genre, validity=validity,
                           body_text=f"{word}养老服务补贴标准为每人每月500元。<script>alert(1)</script>",
                           url="/disclosure/documents/placeholder")
        for number, code, name, year, day, genre, validity in (
            (f"浦民〔2025〕{serial}号", "PD-MZ", "浦东新区民政局", 2025, 3, "通知公告", "有效"),
            (f"浦民〔2024〕{serial + 1}号", "PD-MZ", "浦东新区民政局", 2024, 5, "规范性文件", "失效"),
            (None, "PD-CZ", "浦东新区财政局", 2025, 9, "通知公告", "有效"))]
    documents = [SearchableDocument(**{**d.__dict__, "url": f"/disclosure/documents/{d.index_number}"}) for d in documents]
    with session_scope(database.sessionmaker()) as db:
        for document in documents:
            search.index(db, document)
    return word, documents


def test_anyone_searches_and_gets_the_documented_shape(client, published):
    word, documents = published
    answer = client.get(URL, params={"q": f"{word}养老服务补贴"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 3
    assert set(body) >= {"total", "items", "facets", "next_cursor"}
    item = body["items"][0]
    assert set(item) == {"index_number", "title", "document_number", "department", "issued_on", "published_on", "validity",
                         "snippet", "url"}
    assert item["url"] == f"/disclosure/documents/{item['index_number']}"
    assert "<mark>" in item["snippet"] and "<script>" not in item["snippet"]
    assert set(body["facets"]) == {"department", "year", "theme", "genre", "validity"}
    assert {v["value"]: v["count"] for v in body["facets"]["department"]["values"]} == {"PD-MZ": 2, "PD-CZ": 1}
    assert {v["label"] for v in body["facets"]["department"]["values"]} == {"浦东新区民政局", "浦东新区财政局"}
    assert {v["value"]: v["count"] for v in body["facets"]["validity"]["values"]} == {"有效": 2, "失效": 1}


def test_filters_sort_and_pages(client, published):
    word, documents = published
    filtered = client.get(URL, params={"q": word, "department": "PD-MZ", "year": 2025, "validity": "有效"}).json()
    assert [i["index_number"] for i in filtered["items"]] == [documents[0].index_number]
    newest = client.get(URL, params={"q": word, "sort": "date"}).json()
    assert [i["published_on"] for i in newest["items"]] == ["2025-03-09", "2025-03-03", "2024-03-05"]
    first = client.get(URL, params={"q": word, "limit": 2}).json()
    second = client.get(URL, params={"q": word, "limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert len({i["index_number"] for i in first["items"] + second["items"]}) == 3


def test_a_document_number_however_typed(client, published):
    _word, documents = published
    number = documents[1].document_number.removeprefix("浦民〔2024〕").removesuffix("号")
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for typed in (f"浦民[2024]{number}号", f"浦民（２０２４）{wide}号", f"浦民2024年{number}号", f"浦民〔2024〕第{number}号"):
        assert client.get(URL, params={"q": typed}).json()["items"][0]["index_number"] == documents[1].index_number, typed


def test_no_words_browses(client, published):
    answer = client.get(URL, params={"department": "PD-CZ"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["sort"] == "date" and body["total"] >= 1
    assert all(i["department"] == "浦东新区财政局" for i in body["items"])
    assert client.get(URL).status_code == 200  # nothing at all: the newest documents


@pytest.mark.parametrize(("params", "field", "code"), [
    ({"q": "养老" * 1000}, "query.q", "query-too-long"),
    ({"q": "养老", "sort": "hottest"}, "query.sort", "unknown_sort"),
    ({"theme": "不存在的主题"}, "query.theme", "unknown_theme"),
    ({"genre": "不存在的体裁"}, "query.genre", "unknown_genre"),
    ({"validity": "长期"}, "query.validity", "unknown_validity"),
    ({"department": "NOPE"}, "query.department", "unknown_department"),
    ({"year": 3000}, "query.year", "unknown_year"),
    ({"q": "养老", "cursor": "%%%"}, "query.cursor", "invalid_cursor"),
    ({"q": "养老", "cursor": "eyJrIjogWyJkYXRlIiwgIm5vdC1hLWRhdGUiLCAieCJdfQ"}, "query.cursor", "invalid_cursor"),
])
def test_bad_input_is_answered_in_chinese_and_changes_nothing(client, database, published, params, field, code):
    with session_scope(database.sessionmaker()) as db:
        before = db.scalar(select(func.count()).select_from(SearchEntry))
    slug = "query-too-long" if code == "query-too-long" else "validation-error"
    body = assert_problem(client.get(URL, params=params), 422, slug)
    assert body["errors"][0]["field"] == field and body["errors"][0]["code"] == code
    with session_scope(database.sessionmaker()) as db:
        assert db.scalar(select(func.count()).select_from(SearchEntry)) == before


def test_a_year_that_is_not_a_number_is_refused_by_the_schema(client):
    assert_problem(client.get(URL, params={"year": "去年"}), 422, "validation-error")


def test_the_page_searches_filters_and_links_to_documents(client, published):
    word, documents = published
    page = client.get("/disclosure/search", params={"q": f"{word}养老服务补贴"})
    assert page.status_code == 200
    html = page.text
    assert "共 3 件" in html and "<mark>" in html
    for document in documents:
        assert f'href="/disclosure/documents/{document.index_number}"' in html
    assert "浦东新区民政局（2）" in html and "失效" in html
    narrowed = client.get("/disclosure/search", params={"q": word, "department": "PD-CZ"})
    assert "共 1 件" in narrowed.text and documents[2].index_number in narrowed.text
    refused = client.get("/disclosure/search", params={"q": word, "theme": "不存在的主题"})
    assert refused.status_code == 200 and "没有「不存在的主题」这个主题分类" in refused.text
