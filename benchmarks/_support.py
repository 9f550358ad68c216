"""Shared set-up for the benchmarks: a fresh, migrated database on the engine asked for."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tongban import demo
from tongban.core import audit, migrate
from tongban.core.config import Environment, Settings
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope


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


def import_people(settings: Settings, folder: Path, count: int, seed: int):
    """``count`` synthetic people imported as 公安 would (not timed), their change events
    delivered, so a measurement starts in a steady state; returns a sessionmaker."""
    from tongban.core.events import InProcessBus, OutboxRelay
    from tongban.demo import synthetic
    from tongban.registry import importer
    from tongban.registry.schemas import PERSONS, Duty

    rows = synthetic.rows("persons", seed, count, people=count, addresses=max(count // 3, 1))
    csv_path = demo.per_source_files(PERSONS, rows, folder)[Duty.PUBLIC_SECURITY]
    sessions = make_sessionmaker(make_engine(settings))
    job = importer.run(sessions, registry=PERSONS, path=csv_path, department_code="PD-GA",
                       actor=audit.SystemActor(actor_name="benchmark"), batch_size=10_000)
    assert job.rows_accepted == count, job.message
    OutboxRelay(sessions, InProcessBus(), batch=5000).drain()
    return sessions


@contextmanager
def served(settings: Settings, folder: Path, *, workers: int = 1):
    """`tongban serve` on a free port (a real process) for the settings' database; yields its
    base URL once /readyz answers, stops it afterwards. The server's log (warnings and errors,
    with tracebacks) goes to ``folder/server.log``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TONGBAN_DATABASE_URL": settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST",
           "TONGBAN_LOG_LEVEL": "WARNING", "TONGBAN_DATA_DIR": str(folder)}
    log = open(folder / "server.log", "ab")
    server = subprocess.Popen([sys.executable, "-m", "tongban.cli", "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _SERVERS[base] = server.pid
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


_SERVERS: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float:
    """CPU time (user + system) the platform served at ``base`` has used so far, all its worker
    processes together (Linux /proc): the cost of the work, whatever else the machine runs."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = set(), {_SERVERS[base]}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
    return sum(times.get(pid, 0.0) for pid in tree)


def engine_name(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tongban-bench-"))
