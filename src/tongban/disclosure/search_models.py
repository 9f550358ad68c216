"""The one-stop search's index rows (一站式检索): one row per published document, nothing else.

Only what search shows and filters on is kept here, with the full text for snippets. The words
themselves live in each engine's own full-text index: on PostgreSQL the ``search_vector`` column
(a ``tsvector`` under a GIN index); on SQLite an FTS5 table beside this one (``FTS_TABLE``, made
by the migration: SQLAlchemy cannot describe a virtual table), whose rowid is this row's id.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base

FTS_TABLE = "disclosure_search_fts"
# The tables SQLite makes for the FTS5 index (the virtual table and its shadow tables).
FTS_TABLES = (FTS_TABLE, f"{FTS_TABLE}_data", f"{FTS_TABLE}_idx", f"{FTS_TABLE}_content", f"{FTS_TABLE}_docsize",
              f"{FTS_TABLE}_config")


class SearchEntry(Base):
    __tablename__ = "disclosure_search_entries"
    __table_args__ = (
        Index("ix_disclosure_search_entries_published", "published_on", "index_number"),
        # Facets group by these five; browsing and a filter's check read this index alone.
        Index("ix_disclosure_search_entries_facets", "department_code", "year", "theme", "genre", "validity"),
        # Only PostgreSQL fills the vector; on SQLite the index stays empty (the words are in FTS5).
        Index("ix_disclosure_search_entries_vector", "search_vector", postgresql_using="gin",
              sqlite_where=text("search_vector IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    index_number: Mapped[str] = mapped_column(String(64), unique=True)  # 索引号
    title: Mapped[str] = mapped_column(String(500))
    document_number: Mapped[str | None] = mapped_column(String(100))  # 文号 as published
    number_key: Mapped[str | None] = mapped_column(String(100), index=True)  # 文号 however typed: one key
    department_code: Mapped[str] = mapped_column(String(32))
    department_name: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)  # 成文日期
    published_on: Mapped[date] = mapped_column(Date)  # 发布日期
    year: Mapped[int] = mapped_column(Integer)  # of 成文日期, the year a 文号 carries
    theme: Mapped[str] = mapped_column(String(50))  # 主题分类
    genre: Mapped[str] = mapped_column(String(50))  # 体裁分类
    validity: Mapped[str] = mapped_column(String(10))  # 有效 / 失效 / 废止
    url: Mapped[str] = mapped_column(String(300))
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))


class SearchText(Base):
    """A document's full text, for its snippet: apart from the entry, so that counting and ranking
    thousands of matches reads narrow rows (on SQLite a row with its text spans pages)."""

    __tablename__ = "disclosure_search_texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the entry's id
    body: Mapped[str] = mapped_column(Text)


class SearchCount(Base):
    """How many indexed documents one combination of the five filters has, kept by ``index`` and
    ``unindex``: browsing without words counts from these rows, not from every document."""

    __tablename__ = "disclosure_search_counts"

    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme: Mapped[str] = mapped_column(String(50), primary_key=True)
    genre: Mapped[str] = mapped_column(String(50), primary_key=True)
    validity: Mapped[str] = mapped_column(String(10), primary_key=True)
    department_name: Mapped[str] = mapped_column(String(200))
    documents: Mapped[int] = mapped_column(Integer)
