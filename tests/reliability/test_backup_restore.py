"""Backup and restore (灾备) on both engines, and the restore drill: back up the live database,
restore it into a fresh one, and prove it the same (revision, every table's rows, the audit
chain verified to the recorded head)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from tongban.cli import app as cli
from tongban.core import audit
from tongban.core import backup as backups
from tongban.core.db.session import session_scope
import conftest as root


def _env(settings) -> dict[str, str]:
    return {"TONGBAN_DATABASE_URL": settings.database_url, "TONGBAN_SECRET_KEY": settings.secret_key,
            "TONGBAN_ARGON2_PROFILE": "CHEAPEST", "TONGBAN_ENV": "test"}


def _target(database, tmp_path):
    """A fresh, empty database of the same engine, with its clean-up: a new file on SQLite, a new
    database ``tongban_restore_<random>`` on the shared PostgreSQL server (the dump's schema is
    created in it by the restore)."""
    if database.engine_name == "sqlite":
        return root.test_settings(f"sqlite:///{tmp_path / 'restored.db'}"), lambda: None
    name = f"tongban_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(root._pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = database.settings.database_url
    prefix, rest = base.split("://", 1)
    host, _, tail = rest.partition("/")
    url = f"{prefix}://{host}/{name}?{tail.partition('?')[2]}"  # the same search_path (schema)

    def cleanup() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return root.test_settings(url), cleanup


def test_backup_then_restore_drill_into_a_fresh_database(fresh_database, tmp_path):
    source = fresh_database.settings
    with session_scope(fresh_database.sessionmaker()) as db:  # something the audit chain must carry over
        audit.record(db, actor=audit.SystemActor(actor_name="灾备演练"), action="drill.mark", object_type="drill",
                     object_id="1", details={"note": "恢复演练"})
    runner = CliRunner()
    done = runner.invoke(cli, ["backup", str(tmp_path / "backups")], env=_env(source))
    assert done.exit_code == 0, done.output
    assert "已备份" in done.output
    [manifest_path] = (tmp_path / "backups").glob("tongban-*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["engine"] == fresh_database.engine_name
    assert manifest["created_at"].endswith("+08:00")  # Beijing time
    assert manifest["revision"] and manifest["audit_head"]["seq"] >= 1
    with session_scope(fresh_database.sessionmaker()) as db:
        assert manifest["counts"]["audit_events"] == db.scalar(select(func.count()).select_from(audit.AuditEvent))
        assert manifest["audit_head"]["seq"] == db.scalar(select(func.max(audit.AuditEvent.seq)))
    assert manifest["counts"]["departments"] > 0 and "alembic_version" in manifest["counts"]

    target, cleanup = _target(fresh_database, tmp_path)
    try:
        restored = runner.invoke(cli, ["restore", str(manifest_path)], env=_env(target))
        assert restored.exit_code == 0, restored.output
        assert "已恢复并校验" in restored.output
        check = backups.verify(target, backups.Manifest.read(manifest_path))
        assert check.ok, check.problems
        assert check.counts == manifest["counts"] and check.audit_entries == manifest["audit_head"]["seq"]

        # A database that holds tables is not overwritten unless told to.
        refused = runner.invoke(cli, ["restore", str(manifest_path)], env=_env(target))
        assert refused.exit_code == 1 and "拒绝恢复" in refused.output, refused.output
        assert backups.verify(target, backups.Manifest.read(manifest_path)).ok
        again = runner.invoke(cli, ["restore", str(manifest_path), "--replace"], env=_env(target))
        assert again.exit_code == 0, again.output
    finally:
        cleanup()


def test_a_damaged_backup_is_refused_and_keep_prunes_the_oldest(fresh_database, tmp_path):
    directory = tmp_path / "backups"
    start = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # a clock set, one backup a day
    made = [backups.backup(fresh_database.settings, directory, now=start + timedelta(days=day)) for day in range(3)]
    assert [m.name for m in made] == sorted(m.name for m in made)
    assert made[0].name == "tongban-20261202-020000-000"  # 18:00 UTC is 02:00 the next day in Beijing

    data = directory / made[2].data_file
    data.write_bytes(data.read_bytes()[:-16])
    target, cleanup = _target(fresh_database, tmp_path)
    try:
        damaged = CliRunner().invoke(cli, ["restore", str(directory / f"{made[2].name}.json")], env=_env(target))
        assert damaged.exit_code == 1 and "校验值不符" in damaged.output, damaged.output
        assert backups.table_names(target) == []  # nothing was restored
    finally:
        cleanup()

    assert backups.prune(directory, keep=2) == [made[0].name]
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        name for m in made[1:] for name in (m.data_file, f"{m.name}.json"))
