"""The one-stop search of disclosure documents, on both engines: words, 文号 however typed, ranking,
filters with their counts, pages, and what may be found (indexed = published, withdrawn gone at once)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from tongban.core.db.session import session_scope
from tongban.core.errors import Problem
from tongban.demo import disclosure_corpus
from tongban.disclosure import search, search_text
from tongban.disclosure.search import SearchQuery, SearchableDocument
from tongban.disclosure.search_models import SearchEntry

CORPUS_SEED = 11
CORPUS_SIZE = 300


def _document(index_number: str, title: str, body: str, *, number: str | None = None, department: str = "PD-MZ",
              name: str = "浦东新区民政局", on: date = date(2026, 3, 2), theme: str = "民政、扶贫、救灾",
              genre: str = "通知公告", validity: str = "有效") -> SearchableDocument:
    return SearchableDocument(index_number=index_number, title=title, document_number=number, department_code=department,
                              department_name=name, issued_on=on, published_on=on, theme=theme, genre=genre,
                              validity=validity, body_text=body, url=f"/disclosure/documents/{index_number}")


def _unique(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def corpus(database) -> list[SearchableDocument]:
    """A few hundred generated documents of the demo district, indexed one by one as publication does."""
    documents = list(disclosure_corpus.documents(CORPUS_SEED, CORPUS_SIZE))
    with session_scope(database.sessionmaker()) as db:
        for document in documents:
            search.index(db, document)
    return documents


def _search(database, **query) -> search.SearchResult:
    with session_scope(database.sessionmaker()) as db:
        return search.search(db, SearchQuery(**query))


def _all_pages(database, **query) -> list[str]:
    seen, cursor = [], None
    while True:
        result = _search(database, cursor=cursor, **query)
        seen.extend(hit.index_number for hit in result.items)
        cursor = result.next_cursor
        if cursor is None:
            return seen


# ------------------------------------------------------------------ words

def test_documents_give_every_dictionary_word_and_queries_leave_out_what_people_add():
    words = search_text.words_of("关于做好居家养老服务补贴申领工作的通知")
    assert {"居家养老", "养老服务", "养老", "服务", "补贴", "申领", "通知"} <= set(words)
    analysis = search_text.analyse("请问浦东新区的养老服务补贴怎么申请？")
    shown = [c.shown for c in analysis.concepts]
    assert shown == ["养老服务", "补贴", "申请"]  # 请问, 浦东新区, 的, 怎么 left out
    # Characters jieba leaves single (a 文号 prefix, a name) are one word, in documents and queries alike.
    assert "浦府" in search_text.words_of("浦府办公室") or "浦府" in search_text.title_words("", "浦府〔2026〕1号")
    assert search_text.analyse("浦府").concepts[0].alternatives == [("浦府",)]


def test_latin_letters_and_full_width_forms_are_folded():
    assert search_text.words_of("ＡＢＣ１２３ 公司") == ["abc123", "公司"]
    assert search_text.normalise("  浦府（２０２６）１２号 ") == "浦府(2026)12号"


@pytest.mark.parametrize("typed", ["浦府[2026]12号", "浦府〔2026〕12号", "浦府（2026）12号", "浦府(2026)12号", "浦府2026年12号",
                                   "浦府〔2026〕第12号", "浦府［２０２６］１２号", "浦府【2026】012号", " 浦府 〔 2026 〕 12 号 "])
def test_a_document_number_has_one_key_however_it_is_typed(typed):
    assert search_text.number_key(typed) == "浦府202612"


def test_document_numbers_that_differ_keep_different_keys():
    keys = {search_text.number_key(n) for n in ("浦府〔2026〕12号", "浦府办〔2026〕12号", "浦府〔2025〕12号", "浦府〔2026〕1号",
                                                "浦府〔2026〕120号")}
    assert len(keys) == 5
    assert search_text.number_key("关于养老服务的通知") is None


# ------------------------------------------------------------------ finding and ranking

def test_each_way_of_typing_a_document_number_finds_that_document_first(database):
    prefix = "浦测" + uuid.uuid4().hex[:4].translate(str.maketrans("0123456789abcdef", "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"))
    wanted = _document(_unique(), "关于调整居家养老服务补贴标准的通知", "补贴标准每人每月300元。", number=f"{prefix}〔2026〕12号")
    # Documents sharing the prefix, the year and the number 12 in other ways: the exact one must still come first.
    others = [_document(_unique(), f"{prefix}2026年工作要点第12项", "2026年12项重点工作。", number=f"{prefix}〔2026〕1号"),
              _document(_unique(), "关于12号线施工的公告", f"{prefix}〔2026〕120号文件的补充。2026年。", number=f"{prefix}〔2026〕120号")]
    with session_scope(database.sessionmaker()) as db:
        for document in [*others, wanted]:
            search.index(db, document)
    for typed in (f"{prefix}[2026]12号", f"{prefix}〔2026〕12号", f"{prefix}（2026）12号", f"{prefix}2026年12号",
                  f"{prefix}〔2026〕第12号", f"{prefix}［２０２６］１２号"):
        result = _search(database, q=typed)
        assert result.items and result.items[0].index_number == wanted.index_number, typed


def test_a_title_hit_ranks_above_the_same_words_in_the_body(database):
    marker = "甲" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789abcdef", "乙丙丁戊己庚辛壬癸子丑寅卯辰巳午"))
    in_title = _document(_unique(), f"{marker}社区食堂运营补贴办法", "本办法自发布之日起施行。")
    in_body = _document(_unique(), "关于做好民生实事项目的通知", f"其中{marker}社区食堂运营补贴按月拨付，{marker}社区食堂运营补贴另行公布。")
    with session_scope(database.sessionmaker()) as db:
        search.index(db, in_body)
        search.index(db, in_title)
    result = _search(database, q=f"{marker}社区食堂运营补贴")
    assert [hit.index_number for hit in result.items] == [in_title.index_number, in_body.index_number]
    assert "<mark>" in result.items[1].snippet and "食堂" in result.items[1].snippet


def test_everyday_words_and_typos_find_the_formal_ones(database, corpus):
    formal = _document(_unique(), "关于调整本区最低生活保障标准的通知", "最低生活保障标准调整为每人每月1510元。")
    with session_scope(database.sessionmaker()) as db:
        search.index(db, formal)
    result = _search(database, q="低保标准调整", limit=50)
    assert formal.index_number in [hit.index_number for hit in result.items[:3]]
    assert any("最低生活保障" in note for note in result.notes)
    result = _search(database, q="养老补帖")  # 补帖: a typo of 补贴
    assert any("补贴" in note for note in result.notes)
    bodies = {d.index_number: d.title + d.body_text for d in corpus}
    assert result.total > 0 and all("补贴" in bodies.get(hit.index_number, hit.title + hit.snippet) for hit in result.items)


def test_snippets_escape_the_text_and_mark_only_the_query_words(database):
    document = _document(_unique(), "关于<script>标签的说明", "正文提到 <b>养老</b> 与 养老服务补贴 & 其他。")
    with session_scope(database.sessionmaker()) as db:
        search.index(db, document)
    [hit] = [h for h in _search(database, q="养老服务补贴 script", limit=50).items if h.index_number == document.index_number]
    assert "<b>" not in hit.snippet and "&lt;b&gt;" in hit.snippet and "&amp;" in hit.snippet
    assert "<mark>养老服务补贴</mark>" in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


# ------------------------------------------------------------------ filters, facets, pages

def test_every_facet_count_is_the_total_that_filter_gives(database, corpus):
    base = {"q": "通知"}
    result = _search(database, **base)
    assert result.total > 20
    for dimension, facet in result.facets.items():
        assert sum(v.count for v in facet.values) == result.total, dimension
        for value in facet.values[:4]:
            filtered = _search(database, **base, **{dimension: int(value.value) if dimension == "year" else value.value})
            assert filtered.total == value.count, (dimension, value)
            assert all(getattr(hit, {"department": "department_code", "year": "issued_on"}.get(dimension, dimension))
                       in (value.value, ) or (dimension == "year" and hit.issued_on.year == int(value.value))
                       for hit in filtered.items), (dimension, value)
    # With a filter chosen, its own dimension still offers the other values (counts without it).
    department = result.facets["department"].values[0].value
    narrowed = _search(database, **base, department=department)
    assert len(narrowed.facets["department"].values) == len(result.facets["department"].values)
    assert sum(v.count for v in narrowed.facets["genre"].values) == narrowed.total


def test_pages_follow_one_another_without_gaps_or_repeats(database, corpus):
    for sort in ("relevance", "date"):
        whole = [hit.index_number for hit in _search(database, q="工作", sort=sort, limit=50).items]
        paged = _all_pages(database, q="工作", sort=sort, limit=7)
        total = _search(database, q="工作", sort=sort).total
        assert len(paged) == len(set(paged)) == total, sort
        assert paged[:len(whole)] == whole, sort
    dates = [hit.published_on for hit in _search(database, q="工作", sort="date", limit=50).items]
    assert dates == sorted(dates, reverse=True)


def test_without_words_it_browses_newest_first_with_counts(database, corpus):
    result = _search(database, department="PD-MZ")
    assert result.sort == "date" and result.total >= 1
    assert all(hit.department_code == "PD-MZ" for hit in result.items)
    dates = [hit.published_on for hit in result.items]
    assert dates == sorted(dates, reverse=True)
    paged = _all_pages(database, department="PD-MZ", limit=9)
    assert len(paged) == len(set(paged)) == result.total


def _browse_counts_agree_with_the_documents(database) -> None:
    """Browsing reads the counts the index keeps: every facet must equal a count of the entries."""
    with session_scope(database.sessionmaker()) as db:
        rows = db.execute(select(SearchEntry.department_code, SearchEntry.year, SearchEntry.theme, SearchEntry.genre,
                                 SearchEntry.validity)).all()
    result = _search(database)
    assert result.total == len(rows)
    for i, dimension in enumerate(("department", "year", "theme", "genre", "validity")):
        expected: dict[str, int] = {}
        for row in rows:
            expected[str(row[i])] = expected.get(str(row[i]), 0) + 1
        assert {v.value: v.count for v in result.facets[dimension].values} == expected, dimension


def test_browsing_counts_follow_publication_changes_and_withdrawal(database, corpus):
    _browse_counts_agree_with_the_documents(database)
    moved = _document(_unique(), "关于核对计数的通知", "计数核对。", theme="综合政务", genre="规范性文件")
    with session_scope(database.sessionmaker()) as db:
        search.index(db, moved)
    _browse_counts_agree_with_the_documents(database)
    with session_scope(database.sessionmaker()) as db:  # changed while published: counted in its new place only
        search.index(db, replace(moved, validity="废止", department_code="PD-CZ", department_name="浦东新区财政局",
                                 issued_on=date(2019, 5, 6)))
    _browse_counts_agree_with_the_documents(database)
    with session_scope(database.sessionmaker()) as db:
        search.unindex(db, moved.index_number)
    _browse_counts_agree_with_the_documents(database)


def test_publishers_at_once_lose_no_count(database, corpus):
    """Eight documents of one combination indexed and four withdrawn at the same moment, each in its
    own transaction: the kept count is still the number of documents."""
    import threading

    documents = [_document(_unique("RACE"), f"关于并发计数第{n}号的通知", "并发计数。", theme="对外事务")
                 for n in range(8)]
    with session_scope(database.sessionmaker()) as db:
        for document in documents[:4]:
            search.index(db, document)

    def race(work) -> None:
        barrier, errors = threading.Barrier(len(work)), []

        def run(call) -> None:
            try:
                barrier.wait()
                with session_scope(database.sessionmaker()) as db:
                    call(db)
            except Exception as error:  # reported below: a lost update must not hide as a thread's death
                errors.append(error)

        threads = [threading.Thread(target=run, args=(call,)) for call in work]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not errors, errors

    race([lambda db, d=d: search.unindex(db, d.index_number) for d in documents[:4]]
         + [lambda db, d=d: search.index(db, d) for d in documents[4:]])
    _browse_counts_agree_with_the_documents(database)
    assert _search(database, theme="对外事务").total == 4


# ------------------------------------------------------------------ what can be found

def test_published_is_findable_at_once_and_withdrawn_is_gone_at_once(database):
    word = "乙" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789abcdef", "丙丁戊己庚辛壬癸子丑寅卯辰巳午未"))
    document = _document(_unique(), f"关于{word}试点的通知", f"{word}试点自即日起开始。", number="浦民〔2026〕88号")
    sessions = database.sessionmaker()
    with session_scope(sessions) as db:
        search.index(db, document)
        assert [h.index_number for h in search.search(db, SearchQuery(q=word)).items] == [document.index_number]
    assert _search(database, q=word).total == 1  # committed: every other session finds it
    # Rolled back with the publication that would have indexed it: never findable.
    hidden = replace(document, index_number=_unique(), title=f"{word}草稿")
    db = sessions()
    search.index(db, hidden)
    db.rollback()
    db.close()
    assert [h.index_number for h in _search(database, q=word).items] == [document.index_number]
    # Changed while published: the index holds the new text only.
    with session_scope(sessions) as db:
        search.index(db, replace(document, title="关于调整试点范围的通知", body_text="范围调整。"))
    assert document.index_number not in [h.index_number for h in _search(database, q=word, limit=50).items]
    assert _search(database, q="调整试点范围").items[0].index_number == document.index_number
    with session_scope(sessions) as db:
        search.unindex(db, document.index_number)
        found = search.search(db, SearchQuery(q="调整试点范围", limit=50))
        assert document.index_number not in [h.index_number for h in found.items]
    for q in ("调整试点范围", "浦民〔2026〕88号"):  # after the commit, in every session
        assert document.index_number not in [h.index_number for h in _search(database, q=q, limit=50).items]
    with session_scope(sessions) as db:
        search.unindex(db, document.index_number)  # already gone: nothing to do, no error


def test_search_returns_nothing_but_indexed_documents(database, corpus):
    with session_scope(database.sessionmaker()) as db:
        indexed = set(db.scalars(select(SearchEntry.index_number)))
    for q in ("通知", "补贴", "浦府〔2026〕1号", "行政处罚", ""):
        for sort in ("relevance", "date"):
            assert {h.index_number for h in _search(database, q=q, sort=sort, limit=50).items} <= indexed


def test_bad_queries_are_refused_with_their_field_and_change_nothing(database, corpus):
    with session_scope(database.sessionmaker()) as db:
        before = db.scalar(select(func.count()).select_from(SearchEntry))
    cases = [({"q": "养老" * 1000}, "query-too-long", "query.q"), ({"q": "x", "sort": "popular"}, "validation-error", "query.sort"),
             ({"theme": "没有的主题"}, "validation-error", "query.theme"), ({"genre": "小说"}, "validation-error", "query.genre"),
             ({"validity": "永久"}, "validation-error", "query.validity"), ({"year": 1800}, "validation-error", "query.year"),
             ({"department": "NO-SUCH"}, "validation-error", "query.department"),
             ({"q": "通知", "cursor": "not-a-cursor"}, "validation-error", "query.cursor")]
    relevance_cursor = _search(database, q="通知", limit=1).next_cursor
    cases.append(({"q": "通知", "sort": "date", "cursor": relevance_cursor}, "validation-error", "query.cursor"))
    for query, kind, field in cases:
        with session_scope(database.sessionmaker()) as db, pytest.raises(Problem) as raised:
            search.search(db, SearchQuery(**query))
        assert raised.value.slug == kind, query
        assert raised.value.extensions["errors"][0]["field"] == field, query
        assert any("\u4e00" <= ch <= "\u9fff" for ch in raised.value.detail), query
    with session_scope(database.sessionmaker()) as db:
        assert db.scalar(select(func.count()).select_from(SearchEntry)) == before


def test_rebuild_replaces_the_whole_index(fresh_database):
    documents = list(disclosure_corpus.documents(5, 120))
    with session_scope(fresh_database.sessionmaker()) as db:
        search.index(db, _document("OLD-1", "陈旧档案清理办法", "陈旧档案清理"))
        assert search.rebuild(db, documents) == 120
    result = _search(fresh_database)
    assert result.total == 120
    _browse_counts_agree_with_the_documents(fresh_database)
    assert "OLD-1" not in [h.index_number for h in _search(fresh_database, q="陈旧档案清理办法", limit=50).items]
    some = documents[17]
    assert some.index_number in [h.index_number for h in _search(fresh_database, q=some.title, limit=10).items]
    with session_scope(fresh_database.sessionmaker()) as db:  # the index keeps working one document at a time
        search.index(db, _document("NEW-1", "新增的文件", "新增的正文"))
    assert _search(fresh_database, q="新增的文件").items[0].index_number == "NEW-1"


def test_the_generator_is_deterministic_and_varied():
    first = list(disclosure_corpus.documents(3, 400))
    assert first == list(disclosure_corpus.documents(3, 400))
    assert first[:50] == list(disclosure_corpus.documents(3, 50))
    assert len({d.index_number for d in first}) == 400
    assert len({d.title for d in first}) > 300
    assert len({d.department_code for d in first}) > 15
    assert {d.validity for d in first} == {"有效", "失效", "废止"}
    prefixes = {search_text.number_key(d.document_number)[:3] for d in first if d.document_number}
    assert {"浦府2", "浦民2", "浦人社"} & prefixes
    numbered = [d.document_number for d in first if d.document_number]
    assert len(numbered) == len(set(numbered))  # a 文号 is never given twice
