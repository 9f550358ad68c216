"""Fixtures shared by every test.

Every database test runs on SQLite and, when ``TONGBAN_TEST_DATABASE_URL`` is set, on
PostgreSQL too: the ``database`` fixture is parametrised over both engines. Each PostgreSQL
database lives in a schema of its own, created for the test run and dropped after it.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tongban import demo
from tongban.app import create_app
from tongban.core import audit, clock, migrate
from tongban.core.config import Environment, Settings
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope
from helpers import bearer
from kept import clean_up_all, kept
from browser_fixtures import ARTIFACTS, browser, live_server, page  # noqa: F401 (registered here, once)

PG_URL = os.environ.get("TONGBAN_TEST_DATABASE_URL")
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@dataclass
class Database:
    """A migrated, empty database of one engine, with the settings that point at it."""

    engine_name: str
    settings: Settings

    @functools.cached_property
    def engine(self):
        return make_engine(self.settings)

    def sessionmaker(self):
        # One engine per database: an engine made per call kept its pool's connections open until
        # collected, and the suite ran PostgreSQL out of connections.
        return make_sessionmaker(self.engine)


def test_settings(database_url: str) -> Settings:
    import tempfile

    return Settings(env=Environment.TEST, database_url=database_url, argon2_profile="CHEAPEST",
                    log_format="text", log_level="WARNING", data_dir=Path(tempfile.mkdtemp(prefix="tongban-test-")))


def _pg_admin_url() -> str:
    url = PG_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def _with_search_path(url: str, schema: str) -> str:
    # The schema is also the connections' application name, so its clean-up can end them all.
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}&application_name={schema}"


def create_database(engine_name: str, tmp_dir: Path) -> tuple[Database, callable]:
    """A fresh migrated database; returns it with its clean-up."""
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_dir / f'tongban-{uuid.uuid4().hex[:8]}.db'}"
        cleanup = lambda: None  # noqa: E731 — the tmp dir goes away by itself
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(_pg_admin_url())
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(PG_URL, schema)

        def cleanup() -> None:
            with admin.begin() as connection:
                # Apps and engines a test made on this database may still hold pooled connections:
                # end them with the schema, or the run exhausts the server's connection slots.
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                                   {"name": schema})
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    settings = test_settings(url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    return Database(engine_name, settings), cleanup


@pytest.fixture(scope="session", autouse=True)
def _kept_until_the_end() -> Iterator[None]:
    """What ``kept`` holds (per engine: the demo template, the shared database, its app, its
    server) is cleaned up after the last test."""
    yield
    clean_up_all()


@pytest.fixture(scope="session", params=ENGINES)
def demo_template(request, tmp_path_factory) -> DemoTemplate:
    """The demo loaded once per engine (and per xdist worker); every database with the demo is a copy."""
    return kept("template", request.param,
                lambda: build_demo_template(request.param, tmp_path_factory.mktemp(f"template-{request.param}")))


@pytest.fixture(scope="session")
def database(demo_template, tmp_path_factory) -> Database:
    """The shared database of one engine for the run, with the demo data."""
    def build() -> tuple[Database, callable]:
        db, cleanup = clone_demo_template(demo_template, tmp_path_factory.mktemp(demo_template.engine_name))

        def close() -> None:
            if "engine" in db.__dict__:
                db.engine.dispose()
            cleanup()
        return db, close

    db = kept("database", demo_template.engine_name, build)
    audit.configure(db.settings.secret_key)
    return db


@dataclass
class DemoTemplate:
    """A migrated database with the demo loaded, never opened by a test: each fresh database is
    a copy of it (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), which
    takes a fraction of a second where migrating and loading the demo took seconds."""

    engine_name: str
    settings: Settings
    pg_database: str | None = None  # PostgreSQL: the template database's name
    pg_schema: str | None = None  # PostgreSQL: the schema inside it that holds the tables


def _pg_url_of(database_name: str, schema: str) -> str:
    """The test server's URL for another database on it, its tables in ``schema``."""
    prefix, rest = PG_URL.split("://", 1)
    host = rest.split("/", 1)[0]
    return _with_search_path(f"{prefix}://{host}/{database_name}", schema)


def _admin_autocommit():
    return create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")


def build_demo_template(engine_name: str, tmp_dir: Path) -> tuple[DemoTemplate, callable]:
    if engine_name == "sqlite":
        settings = test_settings(f"sqlite:///{tmp_dir / 'demo-template.db'}")
        cleanup = lambda: None  # noqa: E731 — the tmp dir goes away by itself
        template = DemoTemplate(engine_name, settings)
    else:
        name, schema = f"tpl_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
        admin = _admin_autocommit()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        settings = test_settings(_pg_url_of(name, schema))

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        template = DemoTemplate(engine_name, settings, pg_database=name, pg_schema=schema)
    engine = make_engine(settings)
    if template.pg_schema:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{template.pg_schema}"'))
    migrate.upgrade(engine)
    audit.configure(settings.secret_key)
    with session_scope(make_sessionmaker(engine)) as session:
        demo.load(session, settings)
    engine.dispose()  # a PostgreSQL template must have no connections when it is copied
    return template, cleanup


def clone_demo_template(template: DemoTemplate, tmp_dir: Path) -> tuple[Database, callable]:
    """A database of its own, equal to the template: its tables and rows, and the files the demo
    left in the data directory."""
    settings = test_settings("sqlite://")
    shutil.copytree(template.settings.data_dir, settings.data_dir, dirs_exist_ok=True)
    if template.engine_name == "sqlite":
        path = tmp_dir / f"tongban-{uuid.uuid4().hex[:8]}.db"
        source = sqlite3.connect(template.settings.database_url.removeprefix("sqlite:///"))
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
        cleanup = lambda: None  # noqa: E731 — the tmp dir goes away by itself
        url = f"sqlite:///{path}"
    else:
        name = f"f_{uuid.uuid4().hex[:12]}"
        admin = _admin_autocommit()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template.pg_database}"'))
        url = _pg_url_of(name, template.pg_schema)

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    return Database(template.engine_name, settings.model_copy(update={"database_url": url})), cleanup


@pytest.fixture
def fresh_database(demo_template, tmp_path) -> Iterator[Database]:
    """A database of the same engine that no other test touches, demo data loaded."""
    db, cleanup = clone_demo_template(demo_template, tmp_path)
    audit.configure(db.settings.secret_key)
    yield db
    if "engine" in db.__dict__:
        db.engine.dispose()
    cleanup()


@pytest.fixture(scope="session")
def app(database):
    return kept("app", database.engine_name, lambda: (create_app(database.settings), lambda: None))


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def quiet_client(database) -> Iterator[TestClient]:
    """A client of an app without its background loops, for a test that moves the process-wide
    clock (``core.workdays``): a deadline scan started meanwhile would write that day's warnings
    and escalations into the shared database."""
    with TestClient(create_app(database.settings.model_copy(update={"relay_enabled": False}))) as test_client:
        yield test_client


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session on the app's database. On SQLite every transaction holds the write lock
    (BEGIN IMMEDIATE), so end reads with ``db.rollback()`` before the next request."""
    session = app.state.sessionmaker()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def as_role(client):
    """``as_role("inspector")`` → Authorization headers for that demo account."""
    return lambda username: bearer(client, username)


NATS_URL = os.environ.get("TONGBAN_TEST_NATS_URL")


@pytest.fixture
def nats_url() -> str:
    """The NATS JetStream server for tests that need one; CI sets it, and it must be there."""
    if not NATS_URL:
        if os.environ.get("CI"):
            pytest.fail("TONGBAN_TEST_NATS_URL is not set in CI")
        pytest.skip("TONGBAN_TEST_NATS_URL not set (set it to nats://127.0.0.1:4222 to run the JetStream tests)")
    return NATS_URL


@pytest.fixture(autouse=True)
def _system_clock_after_each_test() -> Iterator[None]:
    """A test that set the clock (``clock.set_clock``/``clock.frozen``) leaves the next one the system clock."""
    yield
    clock.set_clock(None)


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    """The platform's clock standing still (at the real now until the test moves it): ``fixed_clock.set(date(...))``."""
    stopped = clock.FixedClock(clock.now())
    clock.set_clock(stopped)
    yield stopped
    clock.set_clock(None)


# The longest files first: under pytest-xdist (make test) a worker that picks one of them up last
# keeps the whole run waiting for it. A stable sort: the order within each file stays as written.
SLOW_FIRST = ("tests/security/test_api_fuzz.py", "tests/web/", "tests/reliability/", "tests/test_cli.py",
              "tests/registry/test_import.py")


def pytest_collection_modifyitems(config, items) -> None:
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((n for n, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)


# ------------------------------------------------------------------ migrations run one by one

@pytest.fixture(params=ENGINES)
def empty_engine(request, tmp_path) -> Iterator:
    """An empty database of each engine of the run, no revision applied: a migration's own test
    runs it from the revision before and back (``migrate.upgrade``, ``downgrade``)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'migration.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url())
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(_with_search_path(_pg_admin_url(), schema))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def downgrade(engine, revision: str) -> None:
    """Take ``engine``'s database down to ``revision`` (the way back a migration's test checks)."""
    from alembic import command

    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
