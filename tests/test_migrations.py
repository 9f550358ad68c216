"""The migrations make exactly the schema the models describe: a column, index or table added to a
model without its migration (or the other way round) fails here on both engines, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tongban.metadata import metadata


def test_the_migrated_database_is_what_the_models_describe(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
