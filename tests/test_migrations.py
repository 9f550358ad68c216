"""The migrations make exactly the schema the models describe: a column, index or table added to a
model without its migration (or the other way round) fails here on both engines, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tongban.disclosure.search_models import FTS_TABLE, FTS_TABLES
from tongban.metadata import metadata


def _not_fts(name, type_, parent_names) -> bool:
    # SQLite's FTS5 index of the disclosure search is a virtual table (and the shadow tables SQLite
    # makes for it) that no model can describe: it is checked on its own below.
    return not (type_ == "table" and name in FTS_TABLES)


def test_the_migrated_database_is_what_the_models_describe(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _not_fts})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_sqlite_has_the_full_text_index_of_the_disclosure_search_and_postgresql_does_not_need_one(database):
    tables = set(inspect(database.engine).get_table_names())
    if database.engine.dialect.name == "sqlite":
        assert set(FTS_TABLES) - {f"{FTS_TABLE}_content", f"{FTS_TABLE}_docsize"} <= tables
        columns = [c["name"] for c in inspect(database.engine).get_columns(FTS_TABLE)]
        assert columns == ["title", "body"]
    else:
        assert not tables & set(FTS_TABLES)
