"""Shared set-up for the benchmarks: a fresh, migrated database on the engine asked for."""

from __future__ import annotations

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tongban import demo
from tongban.core import audit, migrate
from tongban.core.config import Environment, Settings
from tongban.core.database import make_engine, make_sessionmaker, session_scope


@contextmanager
def fresh_database(database_url: str | None, workdir: Path):
    """Yields settings for an empty migrated database with the demo government loaded.

    SQLite: a new file in ``workdir``. PostgreSQL: a new schema in the given database,
    dropped afterwards (the benchmark never touches existing tables).
    """
    schema = None
    if database_url and database_url.startswith(("postgresql:", "postgres:")):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
        admin = create_engine(admin_url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    else:
        url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    settings = Settings(env=Environment.TEST, database_url=url, argon2_profile="CHEAPEST", data_dir=workdir,
                        log_level="WARNING", relay_enabled=False)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    audit.configure(settings.secret_key)
    with session_scope(make_sessionmaker(engine)) as db:
        demo.load(db, settings)
    engine.dispose()
    try:
        yield settings
    finally:
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def engine_name(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tongban-bench-"))
