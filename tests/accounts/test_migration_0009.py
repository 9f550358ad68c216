"""Migration 0009 on a populated database: the lock-out columns nothing reads any more go, the
identity columns come, and the rows that refer to users (their roles) are untouched; and back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from tongban.core import migrate
from tongban.core.database import make_engine


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _downgrade(engine, revision: str) -> None:
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0009_drops_the_lock_out_columns_and_keeps_the_roles(fresh_database):
    engine = make_engine(fresh_database.settings)
    try:
        for table in ("users", "api_clients"):
            assert not {"failed_logins", "locked_until"} & _columns(engine, table), table
        assert "credential_generation" in _columns(engine, "api_clients")
        assert {"credential_generation", "must_change_password", "verified_at"} <= _columns(engine, "users")
        with engine.connect() as connection:
            roles_before = connection.execute(text("SELECT count(*) FROM user_roles")).scalar_one()
        assert roles_before > 0

        _downgrade(engine, "0008")
        for table in ("users", "api_clients"):
            assert {"failed_logins", "locked_until"} <= _columns(engine, table), table
        assert "must_change_password" not in _columns(engine, "users")
        migrate.upgrade(engine)
        for table in ("users", "api_clients"):
            assert not {"failed_logins", "locked_until"} & _columns(engine, table), table
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM user_roles")).scalar_one() == roles_before
            assert connection.execute(text("SELECT count(*) FROM users WHERE must_change_password")).scalar_one() == 0
    finally:
        engine.dispose()
