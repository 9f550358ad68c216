"""The tongban command: db upgrade, demo load (idempotent), users create, production safety."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select
from typer.testing import CliRunner

from tongban.accounts.models import User
from tongban.cli import app as cli
from tongban.core.config import DEMO_SECRET_KEY
from tongban.core.db.session import session_scope
from tongban.org.models import Department


def _env(database) -> dict[str, str]:
    return {"TONGBAN_DATABASE_URL": database.settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST",
            "TONGBAN_ENV": "development"}


def _counts(database) -> tuple[int, int]:
    with session_scope(database.sessionmaker()) as db:
        return db.scalar(select(func.count()).select_from(Department)), db.scalar(select(func.count()).select_from(User))


def test_demo_load_is_idempotent_and_prints_the_accounts(fresh_database):
    before = _counts(fresh_database)
    assert before[0] >= 28  # city, district, 21 departments, 5 towns, 3 committees
    result = CliRunner().invoke(cli, ["demo", "load"], env=_env(fresh_database))
    assert result.exit_code == 0, result.output
    for username in ("clerk", "reviewer", "steward", "head", "admin", "inspector", "grid", "hotline"):
        assert username in result.output
    assert _counts(fresh_database) == before


def test_db_upgrade_on_an_upgraded_database_is_a_no_op(fresh_database):
    from alembic.script import ScriptDirectory

    from tongban.core.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=_env(fresh_database))
    assert result.exit_code == 0 and head in result.output


def test_users_create(fresh_database):
    result = CliRunner().invoke(cli, ["users", "create", "--username", "liu.fang", "--name", "刘芳", "--department", "PD-MZ",
                                      "--role", "window_clerk", "--role", "reviewer", "--password", "a-long-password-1"],
                                env=_env(fresh_database))
    assert result.exit_code == 0, result.output
    with session_scope(fresh_database.sessionmaker()) as db:
        user = db.scalar(select(User).where(User.username == "liu.fang"))
        assert user.roles == ["reviewer", "window_clerk"] and user.department.code == "PD-MZ"
    again = CliRunner().invoke(cli, ["users", "create", "--username", "liu.fang", "--name", "刘芳", "--department", "PD-MZ",
                                     "--role", "reviewer", "--password", "a-long-password-1"], env=_env(fresh_database))
    assert again.exit_code == 2 and "已存在" in again.output
    unknown = CliRunner().invoke(cli, ["users", "create", "--username", "x.y", "--name", "某", "--department", "NOPE",
                                       "--role", "reviewer", "--password", "a-long-password-1"], env=_env(fresh_database))
    assert unknown.exit_code == 2 and "NOPE" in unknown.output


def test_production_refuses_the_demo_secret(tmp_path):
    env = {**os.environ, "TONGBAN_ENV": "production", "TONGBAN_SECRET_KEY": DEMO_SECRET_KEY,
           "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    result = subprocess.run([sys.executable, "-m", "tongban.cli", "serve", "--port", "8999"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "TONGBAN_SECRET_KEY" in result.stdout + result.stderr
    env["TONGBAN_SECRET_KEY"] = "short"
    assert subprocess.run([sys.executable, "-m", "tongban.cli", "db", "upgrade"], env=env, capture_output=True,
                          timeout=60).returncode == 2


def test_production_refuses_demo_data(tmp_path):
    env = {"TONGBAN_ENV": "production", "TONGBAN_SECRET_KEY": "k" * 40, "TONGBAN_SMS_SENDER": "command",
           "TONGBAN_SMS_COMMAND": "/usr/local/bin/send-sms",
           "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    result = CliRunner().invoke(cli, ["demo", "load"], env=env)
    assert result.exit_code == 2 and "演示数据" in result.output


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except OSError:
                continue
    return found


def _listening_sockets(port: int) -> set[str]:
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return {row[9] for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A"}


def test_serve_keeps_its_workers_running_and_stops_them_all(fresh_database):
    """`tongban serve --workers 2`, on SQLite as on PostgreSQL: one listening socket per worker; the
    background work (here the outbox relay) runs, and runs again after its worker died and was
    started again; SIGTERM stops every process."""
    import signal
    import socket
    import time

    import httpx
    import pytest

    from tongban.core import events

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tongban.cli", "serve", "--port", str(port), "--workers", "2"],
                              env={**os.environ, **_env(fresh_database), "TONGBAN_LOG_LEVEL": "WARNING"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready() -> bool:
        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    return True
            except httpx.TransportError:
                time.sleep(0.2)
        return False

    def both_ready() -> bool:
        for _ in range(30):
            try:
                if all(httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200 for _ in range(10)):
                    return True
            except httpx.TransportError:
                time.sleep(0.5)
        return False

    def workers() -> set[int]:
        return {pid for pid in _children(server.pid) if "spawn_main" in open(f"/proc/{pid}/cmdline").read()}

    def published(subject: str) -> bool:
        """An event committed by another process leaves the outbox within a few seconds."""
        with session_scope(fresh_database.sessionmaker()) as db:
            events.publish(db, event_type="test.ping", subject=subject, record_key=None, data={})
        for _ in range(100):
            with session_scope(fresh_database.sessionmaker()) as db:
                if db.scalar(select(events.OutboxEvent.published_at).where(
                        events.OutboxEvent.subject == f"{events.SUBJECT_PREFIX}.{subject}")) is not None:
                    return True
            time.sleep(0.1)
        return False

    try:
        assert ready()
        first = workers()
        assert len(first) == 2, first
        assert len(_listening_sockets(port)) == 2  # one each: the kernel spreads connections across them
        assert published("test.before")
        os.kill(min(first), signal.SIGKILL)  # the first started: the one that runs the background work
        for _ in range(100):
            if len(workers() - {min(first)}) == 2:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the killed worker was not started again")
        # Connections that land on the dead worker's socket wait in its backlog until the new
        # worker serves: ready() alone may be answered by the other one. Wait for both, then ask.
        assert both_ready()
        assert all(httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200 for _ in range(10))
        assert published("test.after")
        everyone = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) is not None
        time.sleep(0.5)
        assert not [pid for pid in everyone if os.path.exists(f"/proc/{pid}") and
                    open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    finally:
        if server.poll() is None:
            server.kill()
