"""One-stop search (一站式检索) of every published disclosure document, inside the platform database.

The catalog calls ``index`` when it publishes a document (or changes a published one) and
``unindex`` when it withdraws one, in its own transaction: a published document is findable as
soon as that transaction commits, a withdrawn one gone as soon as it commits. Only what is
indexed can be found, and only published documents are indexed.

Each engine keeps the words in its own full-text index, over words cut by ``search_text`` (jieba):

* **SQLite** — an FTS5 table (``disclosure_search_fts``, the ascii tokenizer only splitting our
  words at spaces), ranked by FTS5's BM25 with the title weighing ten times the body.
* **PostgreSQL** — a ``tsvector`` column under a GIN index, written as a tsvector literal (our
  words, title words with weight A, body words without) and queried with a tsquery literal, so
  PostgreSQL's own text parser never re-cuts Chinese; ranked by ``ts_rank`` (A counts ten times D).

On both, an exact 文号 match ranks first; filters are plain columns; facet counts for a dimension
are taken with every filter but that dimension's, so each count is the total the page would show
after choosing it. Pages are keyset cursors over (score or 发布日期, 索引号).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Annotated, Literal, cast

from pydantic import BaseModel, Field
from sqlalchemy import Column, Integer, MetaData, Table, Text, delete, insert, select, text, update
from sqlalchemy.orm import Session

from tongban.core.db.bulk import bulk_insert_values
from tongban.core.errors import Problem
from tongban.core.pagination import decode_cursor, encode_cursor, invalid_cursor
from tongban.disclosure import search_text
from tongban.disclosure.schemas import GENRE_LABELS, THEME_LABELS
from tongban.disclosure.search_models import FTS_TABLE, SearchCount, SearchEntry, SearchText
from tongban.org import service as org

__all__ = [
    "GENRES", "THEMES", "VALIDITIES", "Facet", "FacetValue", "SearchHit", "SearchQuery", "SearchResult",
    "SearchableDocument", "index", "rebuild", "search", "unindex", "warm",
]

# The catalog's own vocabulary (one for publishing, browsing and searching); a filter must name one
# of them or a value an indexed document carries.
THEMES = tuple(THEME_LABELS.values())
GENRES = tuple(GENRE_LABELS.values())
VALIDITIES = ("有效", "失效", "废止")
DIMENSIONS = ("department", "year", "theme", "genre", "validity")
DIMENSION_LABELS = {"department": "发布机构", "year": "年份", "theme": "主题分类", "genre": "体裁分类",
                    "validity": "有效性"}
_COLUMNS = {"department": "department_code", "year": "year", "theme": "theme", "genre": "genre", "validity": "validity"}
TITLE_WEIGHT = 10.0  # SQLite: a title word counts ten body words (as PostgreSQL's weight A against D)
EXACT_NUMBER_BONUS = 1000.0  # a document whose 文号 is the one typed comes before any other
_BATCH = 2000
_ENTRIES = cast(Table, SearchEntry.__table__)
_TEXTS = cast(Table, SearchText.__table__)
# The FTS5 table as bulk inserts see it; in a metadata of its own: no model describes it.
_FTS = Table(FTS_TABLE, MetaData(), Column("rowid", Integer, primary_key=True), Column("title", Text), Column("body", Text))


@dataclass(frozen=True)
class SearchableDocument:
    index_number: str  # 索引号, unique
    title: str
    document_number: str | None  # 文号 e.g. 浦府〔2026〕12号
    department_code: str  # org department code
    department_name: str  # 发布机构
    issued_on: date  # 成文日期
    published_on: date  # 发布日期
    theme: str  # 主题分类 (Chinese label)
    genre: str  # 体裁分类 (Chinese label)
    validity: str  # 有效 / 失效 / 废止
    body_text: str  # full text incl. extracted attachment text
    url: str  # site-relative page URL, "/disclosure/documents/{index_number}"


class SearchQuery(BaseModel):
    q: str = Field(default="", description="检索词：标题、正文或文号")
    department: str | None = Field(default=None, max_length=32, description="发布机构（部门编码）")
    year: int | None = Field(default=None, description="年份（成文日期）")
    theme: str | None = Field(default=None, max_length=50, description="主题分类")
    genre: str | None = Field(default=None, max_length=50, description="体裁分类")
    validity: str | None = Field(default=None, max_length=10, description="有效性：有效、失效、废止")
    sort: str = Field(default="relevance", description="排序：relevance（相关度）或 date（发布日期）")
    cursor: str | None = Field(default=None, max_length=200, description="上一页返回的 next_cursor")
    limit: int = Field(default=10, ge=1, le=50, description="每页条数，1–50")


class SearchHit(BaseModel):
    index_number: str = Field(description="索引号")
    title: str
    document_number: str | None = Field(description="文号")
    department: str = Field(description="发布机构")
    department_code: str
    issued_on: date = Field(description="成文日期")
    published_on: date = Field(description="发布日期")
    theme: str = Field(description="主题分类")
    genre: str = Field(description="体裁分类")
    validity: str = Field(description="有效性")
    snippet: str = Field(description="正文摘要，检索词以 <mark> 标出（已做 HTML 转义）")
    url: str


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class Facet(BaseModel):
    label: str
    values: list[FacetValue]


class SearchResult(BaseModel):
    total: int = Field(description="符合条件的文件数")
    items: list[SearchHit]
    facets: dict[Literal["department", "year", "theme", "genre", "validity"], Facet]
    next_cursor: str | None = Field(description="下一页的游标；最后一页为空")
    sort: str
    terms: Annotated[list[str], Field(description="检索使用的词（含同义词、纠正后的词），用于标出")]
    notes: list[str] = Field(description="检索说明，如同义词、错别字纠正")


# --------------------------------------------------------------------------------------------
# Writing the index
# --------------------------------------------------------------------------------------------

def _is_postgresql(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _check_document(document: SearchableDocument) -> None:
    if document.validity not in VALIDITIES:
        raise ValueError(f"有效性须为{'、'.join(VALIDITIES)}：{document.validity!r}")
    if not document.index_number or not document.title:
        raise ValueError("索引号和标题不能为空")


def _tsvector(title: list[str], body: list[str]) -> str:
    """A tsvector literal: each word with its positions (title ones weight A), at most 256 each."""
    positions: dict[str, list[str]] = {}
    at = 0
    for words, weight in ((title, "A"), (body, "")):
        for word in words:
            at += 1
            if at > 16383:  # the largest position a tsvector holds
                break
            found = positions.setdefault(word, [])
            if len(found) < 256:
                found.append(f"{at}{weight}")
    return " ".join(f"'{word}':{','.join(p)}" for word, p in positions.items())


def _row(document: SearchableDocument) -> dict:
    return {"index_number": document.index_number, "title": document.title,
            "document_number": document.document_number or None,
            "number_key": search_text.number_key(document.document_number),
            "department_code": document.department_code, "department_name": document.department_name,
            "issued_on": document.issued_on, "published_on": document.published_on,
            "year": document.issued_on.year, "theme": document.theme, "genre": document.genre,
            "validity": document.validity, "url": document.url}


def _short_names(db: Session, codes: Iterable[str]) -> dict[str, str]:
    """Departments' short names (民政局, 卫健委): people ask with them."""
    return {code: department.short_name for code, department in org.by_codes(db, set(codes)).items()}


def _words(document: SearchableDocument, short_name: str | None) -> tuple[list[str], list[str]]:
    """The title's words (with the 文号's) and the body's, with the publisher's name and short name
    (people ask for "卫健委 2025年预算", and a body need not sign with either)."""
    return (search_text.title_words(document.title, document.document_number),
            search_text.words_of(document.body_text)
            + search_text.words_of(f"{document.department_name} {short_name or ''}"))


def index(db: Session, document: SearchableDocument) -> None:
    """Add a published document to the index, or replace what it holds for it, in the caller's
    transaction."""
    _check_document(document)
    title, body = _words(document, _short_names(db, [document.department_code]).get(document.department_code))
    row = _row(document)
    table = _ENTRIES
    postgresql = _is_postgresql(db)
    if postgresql:
        row["search_vector"] = text("CAST(:vector AS tsvector)").bindparams(vector=_tsvector(title, body))
    existing = db.execute(select(SearchEntry.id, *_COUNTED).where(SearchEntry.index_number == document.index_number)).first()
    if existing is None:
        entry_id = db.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()
        db.execute(insert(_TEXTS).values(id=entry_id, body=document.body_text))
    else:
        entry_id = existing.id
        _count(db, tuple(existing)[1:], -1)
        db.execute(update(table).where(table.c.id == entry_id).values(**row))
        db.execute(update(_TEXTS).where(_TEXTS.c.id == entry_id).values(body=document.body_text))
    _count(db, tuple(row[column.key] for column in _COUNTED), +1, row["department_name"])
    if not postgresql:
        db.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": entry_id})
        db.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:id, :title, :body)"),
                   {"id": entry_id, "title": " ".join(title), "body": " ".join(body)})


# The five filters, in the order of a count's key.
_COUNTED = (SearchEntry.department_code, SearchEntry.year, SearchEntry.theme, SearchEntry.genre, SearchEntry.validity)
_COUNT_KEY = "department_code = :department_code AND year = :year AND theme = :theme AND genre = :genre AND validity = :validity"


def _count(db: Session, key: tuple, change: int, department_name: str | None = None) -> None:
    """One document more (or fewer) in its combination of filters; one statement each, so that
    two publishers at once both count (the row is locked by the first until it commits)."""
    values = dict(zip(("department_code", "year", "theme", "genre", "validity"), key, strict=True))
    if change > 0:
        db.execute(text("INSERT INTO disclosure_search_counts (department_code, year, theme, genre, validity, "
                        "department_name, documents) VALUES (:department_code, :year, :theme, :genre, :validity, "
                        ":department_name, :change) ON CONFLICT (department_code, year, theme, genre, validity) "
                        "DO UPDATE SET documents = disclosure_search_counts.documents + excluded.documents, "
                        "department_name = excluded.department_name"),
                   {**values, "department_name": department_name, "change": change})
        return
    db.execute(text(f"UPDATE disclosure_search_counts SET documents = documents + :change WHERE {_COUNT_KEY}"),
               {**values, "change": change})
    db.execute(text(f"DELETE FROM disclosure_search_counts WHERE {_COUNT_KEY} AND documents <= 0"), values)


def unindex(db: Session, index_number: str) -> None:
    """Take a document out of the index (withdrawn), in the caller's transaction; nothing if absent."""
    found = db.execute(select(SearchEntry.id, *_COUNTED).where(SearchEntry.index_number == index_number)).first()
    if found is None:
        return
    entry_id = found.id
    _count(db, tuple(found)[1:], -1)
    if not _is_postgresql(db):
        db.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": entry_id})
    db.execute(delete(_TEXTS).where(_TEXTS.c.id == entry_id))
    db.execute(delete(_ENTRIES).where(_ENTRIES.c.id == entry_id))


_ENTRY_COLUMNS = ["id", "index_number", "title", "document_number", "number_key", "department_code", "department_name",
                  "issued_on", "published_on", "year", "theme", "genre", "validity", "url"]


def _batches(documents: Iterable[SearchableDocument]) -> Iterator[list[SearchableDocument]]:
    iterator = iter(documents)
    while batch := list(islice(iterator, _BATCH)):
        yield batch


def rebuild(db: Session, documents: Iterable[SearchableDocument]) -> int:
    """The index holds exactly ``documents`` afterwards (bulk: a demo load, a benchmark, a repair),
    in the caller's transaction; returns how many. On PostgreSQL the GIN index is built once at the
    end rather than kept up row by row."""
    postgresql = _is_postgresql(db)
    table = _ENTRIES
    if postgresql:
        db.execute(text("DROP INDEX IF EXISTS ix_disclosure_search_entries_vector"))
    else:
        db.execute(text(f"DELETE FROM {FTS_TABLE}"))
    db.execute(delete(_TEXTS))
    db.execute(delete(table))
    db.execute(delete(SearchCount))
    count = 0
    for batch in _batches(documents):
        entries, words, texts = [], [], []
        short_names = _short_names(db, {document.department_code for document in batch})
        for document in batch:
            _check_document(document)
            count += 1
            row = _row(document)
            title, body = _words(document, short_names.get(document.department_code))
            if postgresql:
                row["search_vector"] = _tsvector(title, body)
            else:
                row["issued_on"], row["published_on"] = row["issued_on"].isoformat(), row["published_on"].isoformat()
                words.append((count, " ".join(title), " ".join(body)))
            row["id"] = count
            entries.append(row)
            texts.append((count, document.body_text))
        columns = _ENTRY_COLUMNS + (["search_vector"] if postgresql else [])
        bulk_insert_values(db, table, columns, [tuple(row[c] for c in columns) for row in entries])
        bulk_insert_values(db, _TEXTS, ["id", "body"], texts)
        if words:
            bulk_insert_values(db, _FTS, ["rowid", "title", "body"], words)
    db.execute(text("INSERT INTO disclosure_search_counts (department_code, year, theme, genre, validity, "
                    "department_name, documents) SELECT department_code, year, theme, genre, validity, "
                    "max(department_name), count(*) FROM disclosure_search_entries "
                    "GROUP BY department_code, year, theme, genre, validity"))
    if postgresql:
        db.execute(text("SELECT setval(pg_get_serial_sequence('disclosure_search_entries', 'id'), "
                        "GREATEST((SELECT max(id) FROM disclosure_search_entries), 1))"))
        db.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        db.execute(text("CREATE INDEX ix_disclosure_search_entries_vector ON disclosure_search_entries "
                        "USING gin (search_vector)"))
        db.execute(text("ANALYZE disclosure_search_entries"))
    else:
        db.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')"))
        db.execute(text("ANALYZE disclosure_search_entries"))
    return count


# --------------------------------------------------------------------------------------------
# Searching
# --------------------------------------------------------------------------------------------

def _problem(field: str, code: str, message: str, kind: str = "validation-error") -> Problem:
    return Problem(kind, message, errors=[{"field": f"query.{field}", "code": code, "message": message}])


def _carried(db: Session, dimension: str, value: str) -> bool:
    """Whether an indexed document carries this value (one index lookup)."""
    column = getattr(SearchEntry, _COLUMNS[dimension])
    return db.scalar(select(SearchEntry.id).where(column == value).limit(1)) is not None


def _check(db: Session, query: SearchQuery) -> None:
    """Refuse what cannot be searched, each with its own field and code (nothing is changed)."""
    problem = search_text.query_problem(query.q)
    if problem:
        raise _problem("q", "query-too-long", problem, kind="query-too-long")
    if query.sort not in ("relevance", "date"):
        raise _problem("sort", "unknown_sort", "排序方式只能是 relevance（相关度）或 date（发布日期）")
    if query.validity is not None and query.validity not in VALIDITIES:
        raise _problem("validity", "unknown_validity", f"没有「{query.validity}」这种有效性；可选：" + "、".join(VALIDITIES))
    if query.year is not None and not 1949 <= query.year <= 2100:
        raise _problem("year", "unknown_year", "年份须在 1949 至 2100 之间")
    if query.theme is not None and query.theme not in THEMES and not _carried(db, "theme", query.theme):
        raise _problem("theme", "unknown_theme", f"没有「{query.theme}」这个主题分类")
    if query.genre is not None and query.genre not in GENRES and not _carried(db, "genre", query.genre):
        raise _problem("genre", "unknown_genre", f"没有「{query.genre}」这个体裁分类")
    if query.department is not None and not _carried(db, "department", query.department) \
            and org.get_by_code(db, query.department) is None:
        raise _problem("department", "unknown_department", f"没有编码为「{query.department}」的发布机构")


def _filters(query: SearchQuery, *, alias: str = "e") -> tuple[list[str], dict]:
    """The chosen filters as conditions on the rows called ``alias``, with their parameters."""
    clauses, params = [], {}
    for dimension in DIMENSIONS:
        value = getattr(query, dimension)
        if value is None:
            continue
        clauses.append(f"{alias}.{_COLUMNS[dimension]} = :f_{dimension}")
        params[f"f_{dimension}"] = value
    return clauses, params


def _fts_match(concepts: list[search_text.Concept]) -> str:
    def phrase(word: str) -> str:
        if word.startswith(search_text.TITLE_PHRASE):
            return 'title : "' + " ".join(search_text.bigrams(word[1:])) + '"'
        return '"' + word.replace('"', '""') + '"'

    parts = []
    for concept in concepts:
        options = ["(" + " AND ".join(phrase(w) for w in alternative) + ")" for alternative in concept.alternatives]
        parts.append("(" + " OR ".join(options) + ")")
    return " AND ".join(parts)


def _lexeme(word: str, weight: str = "") -> str:
    """One word as a tsquery operand: quoted (a quote or backslash in it escaped), with a weight."""
    return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'" + (f":{weight}" if weight else "")


def _tsquery(concepts: list[search_text.Concept]) -> str:
    def lexeme(word: str) -> str:
        if word.startswith(search_text.TITLE_PHRASE):
            return "(" + " <-> ".join(_lexeme(b, "A") for b in search_text.bigrams(word[1:])) + ")"
        return _lexeme(word)

    parts = []
    for concept in concepts:
        options = ["(" + " & ".join(lexeme(w) for w in alternative) + ")" for alternative in concept.alternatives]
        parts.append("(" + " | ".join(options) + ")")
    return " & ".join(parts)


def _ranking_tsquery(concepts: list[search_text.Concept]) -> str:
    """Every word of the query as one OR: ``ts_rank`` then scores each word by its best place in
    the document (a title word 1.0, a body word 0.1) and averages over the words, so a document
    with more of the words in its title ranks higher. (On an AND query it scores the words'
    distances from each other instead, which favours long bodies that repeat them.)"""
    lexemes: dict[str, None] = {}
    for concept in concepts:
        for alternative in concept.alternatives:
            for word in alternative:
                if word.startswith(search_text.TITLE_PHRASE):
                    for bigram in search_text.bigrams(word[1:]):
                        lexemes[_lexeme(bigram, "A")] = None
                else:
                    lexemes[_lexeme(word)] = None
    return " | ".join(lexemes)


# PostgreSQL's documents matching a tsquery, for the probes that need only the first few. Planned
# for every match (a CTE of its own), so a word the statistics do not know is looked up in the GIN
# index rather than hunted by a sequential scan that a LIMIT makes look cheap (seconds for a word
# no document has); run lazily all the same, so the probe still stops at the first few rows.
_PG_MATCHES = ("WITH matches AS MATERIALIZED (SELECT e.id FROM disclosure_search_entries e "
               "WHERE e.search_vector @@ CAST(:q AS tsquery)) SELECT id FROM matches")


class _Plan:
    """The statements of one search on one engine: where the matching documents come from and
    how each one scores."""

    def __init__(self, db: Session, concepts: list[search_text.Concept] | None, key: str | None) -> None:
        self.postgresql = _is_postgresql(db)
        self.params: dict = {}
        self.text = concepts is not None
        self.found: list[tuple] | None = None
        if concepts is None:
            self.source = "disclosure_search_entries e"
            self.where = []
            self.score = "0.0"
        elif self.postgresql:
            self.source = "disclosure_search_entries e"
            self.where = ["e.search_vector @@ CAST(:tsq AS tsquery)"]
            self.params["tsq"] = _tsquery(concepts)
            self.params["rankq"] = _ranking_tsquery(concepts)
            self.score = "CAST(ts_rank(e.search_vector, CAST(:rankq AS tsquery)) AS double precision)"
        else:
            self.source = f"{FTS_TABLE} f JOIN disclosure_search_entries e ON e.id = f.rowid"
            self.where = [f"{FTS_TABLE} MATCH :match"]
            self.params["match"] = _fts_match(concepts)
            self.score = f"(-bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0))"
        if key:
            self.score = f"({self.score} + CASE WHEN e.number_key = :key THEN {EXACT_NUMBER_BONUS} ELSE 0.0 END)"
            self.params["key"] = key

    def combinations(self, db: Session) -> list[tuple]:
        """(department, its name, year, theme, genre, validity, count) of every combination the
        matching documents have, filters aside: facets and the total are worked out from them
        (on PostgreSQL, found by the page's own statement)."""
        if self.found is not None:
            return self.found
        if not self.text:  # every document: the counts the index keeps
            sql = ("SELECT department_code, department_name, year, theme, genre, validity, documents "
                   "FROM disclosure_search_counts")
            return [tuple(row) for row in db.execute(text(sql))]
        where = " AND ".join(self.where) or "1 = 1"
        sql = (f"SELECT e.department_code, max(e.department_name), e.year, e.theme, e.genre, e.validity, count(*) "
               f"FROM {self.source} WHERE {where} "
               "GROUP BY e.department_code, e.year, e.theme, e.genre, e.validity")
        return [tuple(row) for row in db.execute(text(sql), self.params)]

    def page(self, db: Session, query: SearchQuery, after: list | None) -> list:
        clauses, params = _filters(query)
        params = {**self.params, **params, "limit": query.limit + 1}
        by_date = query.sort == "date"
        first = "published_on" if by_date else "score"
        # Newest first, ties by 索引号 descending too (one direction: the index serves it); best
        # first, ties by 索引号 ascending.
        tie, later = ("DESC", "<") if by_date else ("ASC", ">")
        after_clause: list[str] = []
        if after is not None:
            params["after_value"] = date.fromisoformat(after[0]) if by_date else after[0]
            params["after_number"] = after[1]
            after_clause = [f"({{0}}{first} < :after_value OR ({{0}}{first} = :after_value "
                            f"AND {{0}}index_number {later} :after_number))"]
        columns = ("e.index_number, e.title, e.document_number, e.department_name, e.department_code, e.issued_on, "
                   "e.published_on, e.theme, e.genre, e.validity, t.body, e.url")
        texts = "JOIN disclosure_search_texts t ON t.id = e.id"
        order = f"ORDER BY {first} DESC, index_number {tie} LIMIT :limit"
        if not self.text:
            where = " AND ".join(clauses + [c.format("e.") for c in after_clause]) or "1 = 1"
            sql = (f"WITH chosen AS (SELECT e.id FROM disclosure_search_entries e WHERE {where} "
                   f"ORDER BY e.published_on DESC, e.index_number DESC LIMIT :limit) "
                   f"SELECT {columns}, 0.0 AS score FROM chosen JOIN disclosure_search_entries e ON e.id = chosen.id {texts} "
                   f"ORDER BY e.published_on DESC, e.index_number DESC")
            return list(db.execute(text(sql), params).mappings())
        if self.postgresql:
            return self._page_and_combinations(db, _filters(query, alias="h")[0], after_clause, params, first, tie)
        where = " AND ".join(self.where + clauses)
        # SQLite must not fold the CTE into the outer query: bm25() only works beside its MATCH.
        materialised = "" if self.postgresql else " MATERIALIZED"
        outer = ("WHERE " + after_clause[0].format("")) if after_clause else ""
        sql = (f"WITH hits AS{materialised} (SELECT e.id, e.index_number, e.published_on, {self.score} AS score "
               f"FROM {self.source} WHERE {where}), "
               f"chosen AS (SELECT * FROM hits {outer} {order}) "
               f"SELECT {columns}, chosen.score FROM chosen JOIN disclosure_search_entries e ON e.id = chosen.id {texts} "
               f"ORDER BY chosen.{first} DESC, chosen.index_number {tie}")
        return list(db.execute(text(sql), params).mappings())

    def _page_and_combinations(self, db: Session, clauses: list[str], after_clause: list[str], params: dict,
                               first: str, tie: str) -> list:
        """PostgreSQL: the page and the combinations in one statement, so that each matching row
        is fetched and scored once (on a common word, thousands of rows and their vectors)."""
        where = " AND ".join(clauses + [c.format("h.") for c in after_clause]) or "1 = 1"
        columns = ("e.index_number, e.title, e.document_number, e.department_name, e.department_code, e.issued_on, "
                   "e.published_on, e.theme, e.genre, e.validity, t.body, e.url")
        sql = (f"WITH hits AS MATERIALIZED (SELECT e.id, e.index_number, e.published_on, e.department_code, "
               f"e.department_name, e.year, e.theme, e.genre, e.validity, {self.score} AS score "
               f"FROM {self.source} WHERE {' AND '.join(self.where)}), "
               "combinations AS (SELECT coalesce(json_agg(json_build_array(department_code, name, year, theme, genre, "
               "validity, n)), '[]') AS found FROM (SELECT department_code, max(department_name) AS name, year, theme, "
               "genre, validity, count(*) AS n FROM hits GROUP BY department_code, year, theme, genre, validity) c), "
               f"chosen AS (SELECT h.id, h.score FROM hits h WHERE {where} "
               f"ORDER BY h.{first} DESC, h.index_number {tie} LIMIT :limit) "
               f"SELECT c.found AS combinations, page.* FROM combinations c LEFT JOIN ("
               f"SELECT {columns}, chosen.score FROM chosen JOIN disclosure_search_entries e ON e.id = chosen.id "
               f"JOIN disclosure_search_texts t ON t.id = e.id) page ON true "
               f"ORDER BY page.{first} DESC, page.index_number {tie}")
        rows = list(db.execute(text(sql), params).mappings())
        self.found = [tuple(found) for found in rows[0]["combinations"]]
        return [row for row in rows if row["index_number"] is not None]

    def uses(self, db: Session, concept: search_text.Concept, cap: int = 5000) -> int:
        """How many documents have the concept (up to ``cap``: "very many" is enough). Only the
        order matters (the commonest concept is left out first), so PostgreSQL answers from the
        word statistics ANALYZE keeps of the index (the commonest words exactly, the rest as
        rare) instead of counting tens of thousands of rows."""
        if self.postgresql:
            sql = "EXPLAIN (FORMAT JSON) SELECT 1 FROM disclosure_search_entries e WHERE e.search_vector @@ CAST(:q AS tsquery)"
            plan = db.execute(text(sql), {"q": _tsquery([concept])}).scalar_one()
            return min(int(plan[0]["Plan"]["Plan Rows"]), cap)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q LIMIT :cap)"
        return int(db.execute(text(sql), {"q": _fts_match([concept]), "cap": cap}).scalar_one())

    def matches_any(self, db: Session, concepts: list[search_text.Concept]) -> bool:
        if self.postgresql:
            sql = f"SELECT 1 FROM ({_PG_MATCHES}) found LIMIT 1"
            return db.execute(text(sql), {"q": _tsquery(concepts)}).first() is not None
        sql = f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q LIMIT 1"
        return db.execute(text(sql), {"q": _fts_match(concepts)}).first() is not None


def _title_pieces(db: Session, plan: _Plan, stretch: str) -> list[str]:
    """The longest stretches of ``stretch`` (two characters or more) that some title holds, as the
    words a query cut wrongly around a name no dictionary knows ("局唐轩" → 唐轩, "三公经费" →
    三公, 经费); at most a few lookups."""
    if len(stretch) < 2 or len(stretch) > 12:
        return []
    for size in range(len(stretch), 1, -1):
        for start in range(0, len(stretch) - size + 1):
            piece = stretch[start:start + size]
            probe = search_text.Concept(piece, [(search_text.TITLE_PHRASE + piece,)])
            if plan.matches_any(db, [probe]):
                return _title_pieces(db, plan, stretch[:start]) + [piece] + _title_pieces(db, plan, stretch[start + size:])
    return []


def _synonym_notes(concepts: list[search_text.Concept]) -> list[str]:
    return [f"「{c.shown}」同时按「{'、'.join(''.join(a) for a in c.alternatives[1:])}」查找"
            for c in concepts if c.kind == "synonym" and len(c.alternatives) > 1]


def _settle(db: Session, analysis: search_text.Analysis) -> tuple[list[search_text.Concept], list[str]]:
    """The concepts to search with. A word no indexed document has is looked for as stretches of a
    title (a name jieba cut together with its neighbours), else as a vocabulary word that sounds
    the same (a typo), else left out. When no document has every concept, the commonest ones are
    left out until some do; ``notes`` says what was done, in Chinese."""
    plan = _Plan(db, [], None)
    for concept in analysis.concepts:  # a 文号 whose key some document has: that key alone
        if concept.kind == "number" and plan.matches_any(db, [search_text.Concept(concept.shown, concept.alternatives[:1])]):
            concept.alternatives = concept.alternatives[:1]
    if plan.matches_any(db, analysis.concepts):  # the common case: every word is in some document
        return analysis.concepts, _synonym_notes(analysis.concepts)
    concepts: list[search_text.Concept] = []
    notes: list[str] = []
    for concept in analysis.concepts:
        if plan.matches_any(db, [concept]):
            concepts.append(concept)
            continue
        if concept.kind == "word" and len(concept.shown) >= 2 and not concept.shown.isascii():
            pieces = _title_pieces(db, plan, concept.shown)
            if pieces:
                concept.add(tuple(search_text.TITLE_PHRASE + piece for piece in pieces))
                concepts.append(concept)
                if pieces != [concept.shown]:
                    notes.append(f"「{concept.shown}」按「{'」「'.join(pieces)}」查找")
                continue
        if concept.kind == "word":
            for sound_alike in search_text.homophones(concept.shown):
                candidate = search_text.Concept(sound_alike, [(sound_alike,)])
                if plan.matches_any(db, [candidate]):
                    concept.add((sound_alike,))
                    concept.corrections.append(sound_alike)
            if concept.corrections:
                concepts.append(concept)
                notes.append(f"「{concept.shown}」按「{'、'.join(concept.corrections)}」查找（可能是错别字）")
                continue
        notes.append(f"没有文件含「{concept.shown}」，已忽略")
    notes.extend(_synonym_notes(concepts))
    if not concepts:
        return analysis.concepts, notes  # nothing matches: say so with the words as typed
    if len(concepts) > 1 and not plan.matches_any(db, concepts):
        # No document has every word: leave out the commonest words, one at a time, until some do.
        by_use = sorted(concepts, key=lambda c: -plan.uses(db, c))
        left_out = []
        while len(concepts) > 1 and not plan.matches_any(db, concepts):
            dropped = by_use.pop(0)
            concepts = [c for c in concepts if c is not dropped]
            left_out.append(dropped.shown)
        notes.append(f"没有同时含全部检索词的文件，以下结果不含「{'」「'.join(left_out)}」")
    return concepts, notes


def _facets(combinations: list[tuple], query: SearchQuery) -> tuple[dict, int]:
    """Each dimension's counts under every filter but its own (so a count is the total one gets by
    choosing it), and the total under all filters."""
    chosen = [getattr(query, d) for d in DIMENSIONS]
    chosen = [None if value is None else str(value) for value in chosen]
    counts: list[dict[str, int]] = [{} for _ in DIMENSIONS]
    names: dict[str, str] = {}
    total = 0
    for department, name, year, theme, genre, validity, count in combinations:
        values = (str(department), str(year), str(theme), str(genre), str(validity))
        names[values[0]] = str(name)
        misses = [i for i, value in enumerate(chosen) if value is not None and values[i] != value]
        if not misses:
            total += count
        if len(misses) > 1:
            continue
        for i, value in enumerate(values):
            if not misses or misses == [i]:
                counts[i][value] = counts[i].get(value, 0) + count
    facets = {}
    for i, dimension in enumerate(DIMENSIONS):
        if dimension == "year":
            ordered = sorted(counts[i].items(), key=lambda kv: -int(kv[0]))
        else:
            ordered = sorted(counts[i].items(), key=lambda kv: (-kv[1], kv[0]))
        label = {"department": lambda v: names.get(v, v), "year": lambda v: f"{v}年"}.get(dimension, lambda v: v)
        facets[dimension] = Facet(label=DIMENSION_LABELS[dimension],
                                  values=[FacetValue(value=v, label=label(v), count=n) for v, n in ordered])
    return facets, total


def _nothing(query: SearchQuery, notes: list[str]) -> SearchResult:
    return SearchResult(total=0, items=[], next_cursor=None, sort=query.sort, terms=[], notes=notes,
                        facets={d: Facet(label=DIMENSION_LABELS[d], values=[]) for d in DIMENSIONS})


def _decode(cursor: str, sort: str) -> list:
    value = decode_cursor(cursor, "query.cursor")
    valid = (isinstance(value, list) and len(value) == 3 and value[0] == sort and isinstance(value[2], str)
             and len(value[2]) <= 64)
    if valid and sort == "date":
        try:
            date.fromisoformat(value[1])
        except (TypeError, ValueError):
            valid = False
    elif valid:
        valid = isinstance(value[1], (int, float)) and not isinstance(value[1], bool)
    if not valid:
        raise invalid_cursor("query.cursor")
    return value[1:]


def warm() -> None:
    """Load jieba's dictionary and the pinyin table now (a second or two), so that the first
    citizen's search after a start does not wait for them."""
    search_text.tokenizer()
    search_text.homophones("补帖")


def search(db: Session, query: SearchQuery) -> SearchResult:
    """One page of the published documents that fit the query and filters, best first (or newest
    first), with facet counts and the total. Without words it browses (newest first)."""
    _check(db, query)
    browsing = not search_text.has_words(query.q)
    sort = "date" if browsing else query.sort
    query = query.model_copy(update={"sort": sort})
    after = _decode(query.cursor, sort) if query.cursor else None
    notes: list[str] = []
    terms: list[str] = []
    if browsing:
        plan = _Plan(db, None, None)
    else:
        analysis = search_text.analyse(query.q)
        if not analysis.concepts:  # single characters only ("房"): too short to be a word of any index
            return _nothing(query, ["检索词太短，请输入两个字以上的词语，如「住房保障」"])
        concepts, notes = _settle(db, analysis)
        analysis.concepts = concepts
        terms = analysis.highlight_terms()
        plan = _Plan(db, concepts, analysis.number_key)
    rows = plan.page(db, query, after)
    facets, total = _facets(plan.combinations(db), query)
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[:query.limit]
        last = rows[-1]
        value = last["published_on"] if sort == "date" else float(last["score"])
        if isinstance(value, str):
            value = value[:10]
        elif isinstance(value, date):
            value = value.isoformat()
        next_cursor = encode_cursor([sort, value, last["index_number"]])
    items = [SearchHit(index_number=r["index_number"], title=r["title"], document_number=r["document_number"],
                       department=r["department_name"], department_code=r["department_code"],
                       issued_on=r["issued_on"], published_on=r["published_on"], theme=r["theme"], genre=r["genre"],
                       validity=r["validity"], snippet=search_text.snippet(r["body"], terms), url=r["url"])
             for r in rows]
    return SearchResult(total=total, items=items, facets=facets, next_cursor=next_cursor, sort=sort, terms=terms,
                        notes=notes)
