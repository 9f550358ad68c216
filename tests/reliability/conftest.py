"""Real faults need real processes: a PostgreSQL cluster of the test's own (so that stopping it
disturbs nobody else's tests), and the platform served by ``tongban serve`` in a child process
that can be killed with SIGKILL and started again."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SRC = Path(__file__).resolve().parents[2] / "src"
START_TIMEOUT_S = 60  # a server or a cluster that is not up by then has failed to start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_binaries(*paths: Path) -> None:
    """Skip, naming what is missing; in CI the binaries must be there, so fail instead."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        message = f"needs {', '.join(missing)} (Debian: apt-get install postgresql-15)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class PrivatePostgres:
    """A PostgreSQL 15 cluster in a temporary directory, on a free port. As root, its commands
    run as the ``postgres`` user (the server refuses to run as root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tongban-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                  "--locale", "C.UTF-8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args) -> None:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT_S, cwd=self.root)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-o", options, "-w",
                  "-t", str(START_TIMEOUT_S), "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    missing_binaries(PG_BIN / "initdb", PG_BIN / "pg_ctl", PG_BIN / "postgres")
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class Server:
    """``tongban serve`` in a child process, on a free port, with the given database."""

    def __init__(self, settings, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                    "TONGBAN_DATABASE_URL": settings.database_url, "TONGBAN_SECRET_KEY": settings.secret_key,
                    "TONGBAN_ENV": settings.env.value, "TONGBAN_ARGON2_PROFILE": settings.argon2_profile,
                    "TONGBAN_DATA_DIR": str(settings.data_dir), "TONGBAN_LOG_FORMAT": "text",
                    "TONGBAN_LOG_LEVEL": "WARNING", **env}
        self.log = Path(tempfile.mkstemp(prefix="tongban-server-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from tongban.cli import app; app()", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling a starting process: there is no clock to set
        raise AssertionError(f"the server did not start in {START_TIMEOUT_S} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no lifespan end, no flush, no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=START_TIMEOUT_S)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, username: str, password: str) -> dict[str, str]:
        response = httpx.post(f"{self.url}/api/v1/auth/token", timeout=30,
                              data={"grant_type": "password", "username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}
