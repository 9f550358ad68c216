"""core.backup: the database password reaches pg_dump and pg_restore in their environment, never
on their command line, which every local user can read (ps, /proc)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from tongban.core import backup as backups

PASSWORD = "not-on-the-command-line"


def test_pg_dump_gets_the_password_in_its_environment(database, tmp_path, monkeypatch):
    if database.engine_name != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    prefix, rest = database.settings.database_url.split("://", 1)
    user, _, host = rest.partition("@")
    # The test server trusts its clients: the password is accepted and not checked.
    settings = database.settings.model_copy(update={"database_url": f"{prefix}://{user}:{PASSWORD}@{host}"})
    runs = []

    def run(command, **options):
        runs.append((command, options))
        return subprocess.CompletedProcess(command, 1, "", "stopped by the test")

    monkeypatch.setattr(backups.subprocess, "run", run)
    with pytest.raises(backups.BackupError):
        backups.backup(settings, tmp_path, now=datetime(2031, 3, 3, tzinfo=UTC))
    [(command, options)] = runs
    assert command[0] == "pg_dump" and not any(PASSWORD in part for part in command)
    assert options["env"]["PGPASSWORD"] == PASSWORD
