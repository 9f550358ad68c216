"""Migration 0009 on a populated database of each engine: the lock-out columns nothing reads any
more go, the identity columns come, and the rows that refer to users (their roles) are untouched;
and back. Run from 0008 to 0009 and back only, whatever later revisions exist."""

from __future__ import annotations

from conftest import downgrade
from sqlalchemy import inspect, text

from tongban.core import migrate


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_0009_drops_the_lock_out_columns_and_keeps_the_roles(empty_engine):
    engine = empty_engine
    migrate.upgrade(engine, "0008")
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(text(
                "INSERT INTO users (id, kind, username, display_name, password_hash, is_active, failed_logins, created_at)"
                " VALUES (:id, 'staff', :name, '迁移测试', 'x', :yes, 2, CURRENT_TIMESTAMP)"),
                {"id": 100 + n, "name": f"m{n}", "yes": True})
            connection.execute(text("INSERT INTO user_roles (user_id, role) VALUES (:id, 'reviewer')"), {"id": 100 + n})

    migrate.upgrade(engine, "0009")
    for table in ("users", "api_clients"):
        assert not {"failed_logins", "locked_until"} & _columns(engine, table), table
    assert "credential_generation" in _columns(engine, "api_clients")
    assert {"credential_generation", "must_change_password", "verified_at"} <= _columns(engine, "users")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM user_roles")).scalar_one() == 3
        assert connection.execute(text("SELECT count(*) FROM users WHERE must_change_password")).scalar_one() == 0

    downgrade(engine, "0008")
    for table in ("users", "api_clients"):
        assert {"failed_logins", "locked_until"} <= _columns(engine, table), table
    assert "must_change_password" not in _columns(engine, "users")
    migrate.upgrade(engine, "0009")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM user_roles")).scalar_one() == 3
