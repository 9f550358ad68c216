"""Backup and restore (公共数据中心 灾备) for both engines, online and consistent.

SQLite: the library's own backup API copies the live file page by page while the server runs and
restarts the copy if a writer changes a page it already copied, so the copy is one committed state.
PostgreSQL: ``pg_dump`` in custom format, run on a snapshot that this module exports from a
REPEATABLE READ transaction in which it also counts the rows: the manifest's counts and audit
head are exactly the dump's.

Each backup is a data file and a manifest beside it (``<name>.json``): time in Beijing time, the
engine, the migration revision, the row count of every table, the audit chain's head and the data
file's SHA-256. A restore checks the file against the manifest, refuses a database that holds
tables unless told to replace them, and afterwards proves the result: the same revision and
counts, and an audit chain that verifies up to the recorded head.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url

from tongban.core import audit
from tongban.core.config import Settings
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.clock import BEIJING

MANIFEST_VERSION = 1
PREFIX = "tongban-"
Progress = Callable[[int, int], None]  # (done, total): pages copied, or tables counted


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator, in Chinese."""


@dataclass
class Manifest:
    name: str
    created_at: str  # ISO 8601, Beijing time
    engine: str  # sqlite | postgresql
    revision: str | None  # the Alembic revision of the schema
    data_file: str  # beside the manifest
    sha256: str
    size: int
    schema: str | None = None  # PostgreSQL: the schema dumped
    counts: dict[str, int] = field(default_factory=dict)
    audit_head: dict | None = None  # {"seq": ..., "hash": ...}
    version: int = MANIFEST_VERSION

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as error:
            raise BackupError(f"备份清单 {path} 无法读取：{error}") from None


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    counts: dict[str, int]
    audit_entries: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_uri(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database URL as libpq (pg_dump, pg_restore) takes it, without its password, and the
    environment that carries the password: a command line is readable by every local user (ps)."""
    url = make_url(settings.sqlalchemy_url).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=False), env


def pg_schema(settings: Settings) -> str:
    """The schema the platform's tables live in: the first of the URL's search_path, else public."""
    options = " ".join(parse_qs(make_url(settings.sqlalchemy_url).render_as_string(hide_password=False)
                                .partition("?")[2]).get("options", []))
    for part in options.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0].strip() or "public"
    return "public"


def _counts(connection: Connection, progress: Progress | None = None) -> dict[str, int]:
    tables = sorted(inspect(connection).get_table_names())
    counts = {}
    for done, table in enumerate(tables, 1):
        counts[table] = connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        if progress:
            progress(done, len(tables))
    return counts


def _audit_head(connection: Connection) -> dict | None:
    if "audit_chain_head" not in inspect(connection).get_table_names():
        return None
    row = connection.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).first()
    return {"seq": row.seq, "hash": row.hash} if row else None


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def backup(settings: Settings, directory: Path, *, now: datetime, progress: Progress | None = None) -> Manifest:
    """Back the database up into ``directory``; returns the manifest (also written there)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{now.astimezone(BEIJING):%Y%m%d-%H%M%S-%f}"[:-3]  # to the millisecond: names sort by time
    created = now.astimezone(BEIJING).isoformat(timespec="seconds")
    if settings.is_sqlite:
        manifest = _backup_sqlite(settings, directory, name, created, progress)
    else:
        manifest = _backup_postgresql(settings, directory, name, created, progress)
    manifest.write(directory)
    return manifest


def _backup_sqlite(settings: Settings, directory: Path, name: str, created: str, progress) -> Manifest:
    source_path = settings.sqlite_path()
    if source_path is None or not source_path.exists():
        raise BackupError(f"数据库文件不存在：{source_path}")
    target = directory / f"{name}.sqlite3"
    partial = target.with_suffix(".partial")
    source, copy = sqlite3.connect(source_path), sqlite3.connect(partial)
    try:
        # 1,000 pages (4 MB) a step: the server's writers wait at most one step for the lock.
        source.backup(copy, pages=1000, progress=(lambda _s, remaining, total: progress(total - remaining, total))
                      if progress else None)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        source.close()
        copy.close()
    partial.rename(target)
    engine = make_engine(settings.model_copy(update={"database_url": f"sqlite:///{target}"}))
    try:
        with engine.connect() as connection:  # counted in the copy: exactly what was saved
            counts, head, revision = _counts(connection), _audit_head(connection), _revision(connection)
    finally:
        engine.dispose()
    return Manifest(name=name, created_at=created, engine="sqlite", revision=revision, data_file=target.name,
                    sha256=_sha256(target), size=target.stat().st_size, counts=counts, audit_head=head)


def _backup_postgresql(settings: Settings, directory: Path, name: str, created: str, progress) -> Manifest:
    target = directory / f"{name}.dump"
    schema = pg_schema(settings)
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            # The counts and the dump see one snapshot: the transaction that exported it stays open
            # until pg_dump has finished.
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            counts, head, revision = _counts(connection, progress), _audit_head(connection), _revision(connection)
            uri, env = _pg_uri(settings)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--schema={schema}", f"--file={target}", f"--dbname={uri}"], "pg_dump", env)
            connection.rollback()
    finally:
        engine.dispose()
    return Manifest(name=name, created_at=created, engine="postgresql", revision=revision, data_file=target.name,
                    sha256=_sha256(target), size=target.stat().st_size, schema=schema, counts=counts,
                    audit_head=head)


def _run(command: list[str], what: str, env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"找不到 {command[0]}：请安装与数据库服务器同版本的 PostgreSQL 客户端")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{what} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-500:]}")


def prune(directory: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups in ``directory`` (names sort by time); returns
    the names deleted."""
    manifests = sorted(directory.glob(f"{PREFIX}*.json"))
    deleted = []
    for path in manifests[:-keep] if keep > 0 else manifests:
        manifest = Manifest.read(path)
        (directory / manifest.data_file).unlink(missing_ok=True)
        path.unlink()
        deleted.append(manifest.name)
    return deleted


def table_names(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def restore(settings: Settings, manifest_path: Path, *, replace: bool = False,
            progress: Progress | None = None) -> Verification:
    """Restore the backup into the database of ``settings`` and verify it. A database that holds
    tables is refused unless ``replace``."""
    manifest = Manifest.read(manifest_path)
    data = manifest_path.parent / manifest.data_file
    if not data.exists():
        raise BackupError(f"备份数据文件不存在：{data}")
    if _sha256(data) != manifest.sha256:
        raise BackupError(f"备份数据文件 {data.name} 与清单的校验值不符，文件已损坏或被改动")
    engine_name = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest.engine != engine_name:
        raise BackupError(f"这是 {manifest.engine} 的备份，不能恢复到 {engine_name} 数据库")
    existing = table_names(settings)
    if existing and not replace:
        raise BackupError(f"目标数据库已有 {len(existing)} 张表，为防止覆盖已拒绝恢复；确需覆盖请加 --replace")
    if engine_name == "sqlite":
        _restore_sqlite(settings, data, progress)
    else:
        _restore_postgresql(settings, manifest, data)
    return verify(settings, manifest, progress=progress)


def _restore_sqlite(settings: Settings, data: Path, progress) -> None:
    target_path = settings.sqlite_path()
    if target_path is None:
        raise BackupError("内存数据库不能恢复")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(data), sqlite3.connect(target_path)
    try:
        # The backup API replaces the target's pages in one transaction, under its write lock.
        source.backup(target, pages=1000, progress=(lambda _s, remaining, total: progress(total - remaining, total))
                      if progress else None)
        target.execute("PRAGMA journal_mode=WAL")  # as the server runs it
    finally:
        source.close()
        target.close()


def _restore_postgresql(settings: Settings, manifest: Manifest, data: Path) -> None:
    schema = pg_schema(settings)
    if schema != manifest.schema:
        raise BackupError(f"备份的是模式 {manifest.schema}，目标连接的模式是 {schema}；请使目标的 search_path 与备份一致")
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            # The dump creates its schema itself (public too, when dumped by name); the target's,
            # empty or (with ``replace``) not, goes first, with everything in it.
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()
    uri, env = _pg_uri(settings)
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={uri}", str(data)]
    _run(command, "pg_restore", env)


def verify(settings: Settings, manifest: Manifest, *, progress: Progress | None = None) -> Verification:
    """The restored database against the manifest: revision, every table's count, the audit head,
    and the audit chain walked from its start."""
    problems: list[str] = []
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            counts, head, revision = _counts(connection, progress), _audit_head(connection), _revision(connection)
        if revision != manifest.revision:
            problems.append(f"迁移版本 {revision} 与备份的 {manifest.revision} 不符")
        for table in sorted(set(counts) | set(manifest.counts)):
            if counts.get(table) != manifest.counts.get(table):
                problems.append(f"表 {table}：恢复后 {counts.get(table)} 行，备份时 {manifest.counts.get(table)} 行")
        if head != manifest.audit_head:
            problems.append(f"审计链头 {head} 与备份时的 {manifest.audit_head} 不符")
        entries = 0
        if manifest.audit_head is not None:
            with make_sessionmaker(engine)() as db:
                result = audit.verify(db, key=audit.audit_key(settings.secret_key))
                db.rollback()
            entries = result.entries
            if result.first_break is not None:
                problems.append(f"审计日志校验未通过：{result.first_break.message}")
    finally:
        engine.dispose()
    return Verification(ok=not problems, problems=problems, counts=counts, audit_entries=entries)
