"""Bulk import of CSV and XLSX files into a registry.

Streams the file in batches (constant memory). Each batch — its inserts, changes, versions,
events, rejected lines and the job's checkpoint — commits in one transaction, so a killed
import, run again on the same file, resumes after the last committed line and ends exactly as
one clean run would. Duplicate keys inside one file are found through the records themselves
(``import_job``/``import_line``), not by holding the file's keys in memory.
"""

from __future__ import annotations

import codecs
import csv
import fcntl
import gc
import hashlib
import io
import json
import logging
import multiprocessing
import os
import queue as queue_module
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Column, CursorResult, Table, bindparam, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tongban.core import audit, clock, events
from tongban.core.config import Settings
from tongban.core.db.bulk import bulk_insert, bulk_insert_values, db_value
from tongban.core.errors import Problem
from tongban.core.spreadsheets import neutralise_row
from tongban.org import service as org
from tongban.registry import service
from tongban.registry.models import TABLES, ImportJob, ImportRejection, RecordVersion
from tongban.registry.schemas import REGISTRIES, Field, FieldError, Registry

log = logging.getLogger("tongban.registry.importer")

SNIFF_BYTES = 64 * 1024
STATUS_LABELS = {"running": "导入中", "completed": "已完成", "failed": "未完成（重新上传同一文件可续传）",
                 "refused": "已拒绝", "interrupted": "已中断（重新上传同一文件可续传）"}
csv.field_size_limit(1024 * 1024)  # one cell of a registry is never a megabyte


class ImportRefused(Exception):
    """The file as a whole cannot be imported; nothing was written. The message is Chinese."""


@dataclass(frozen=True, slots=True)
class _Source:
    """The importing department, read once per job (a ``service.Source``)."""

    code: str
    name: str
    duty: str | None


Cells = list[str]
Lines = Iterator[tuple[int, Cells, str | None]]  # (line number, cells, what the reader found wrong with the line)


@dataclass(slots=True)
class _Row:
    line: int
    key: str | None
    cells: list[str]
    error: str | None = None  # why the row is not imported
    # The typed values. Not sent across the process boundary (most rows only need what
    # follows); parsed again from the cells for the few rows that change existing records.
    values: dict[str, Any] | None = None
    # Prepared in the parsing process for the key's owner, since most rows of a big import
    # create records: the new record's stored values (text, in field order), its history
    # JSON, its event, or why the row could not create a record.
    new_texts: tuple[str | None, ...] | None = None
    new_snapshot: str | None = None
    new_event: tuple[str, str, str, str] | None = None  # (event id, type, subject, payload), as events.outbox_rows makes it
    create_error: str | None = None

    @property
    def raw(self) -> str:
        return ",".join(self.cells)[:2000]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_encoding(path: Path, encoding: str | None) -> str:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise ImportRefused("文件为空")
    if b"\x00" in head:
        raise ImportRefused("文件含有 NUL 字节，不是文本格式的 CSV（是否为 Excel 等二进制文件？请另存为 CSV UTF-8 或上传 .xlsx）")
    if encoding:
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except (LookupError, UnicodeDecodeError) as error:
            raise ImportRefused(f"文件无法按 {encoding} 解码：{error}") from None
        return encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        except UnicodeDecodeError:
            raise ImportRefused("文件不是 UTF-8 编码，也无法识别为 GBK/GB18030") from None
        raise ImportRefused("文件编码是 GBK/GB18030，不是 UTF-8。请另存为“CSV UTF-8”，或指定编码 gbk 导入（命令行 --encoding gbk）") from None


class _Reader:
    """Header and (line number, cells) of a CSV or XLSX file, plus how far it has read."""

    def __init__(self, path: Path, encoding: str | None) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.header: list[str] = []
        self.rows: Lines = iter(())
        self._binary: io.BufferedReader | None = None
        self._xlsx_progress = (0, 1)  # (rows read, rows in the sheet)
        if path.suffix.lower() == ".xlsx":
            self._open_xlsx()
        else:
            self._open_csv(_check_encoding(path, encoding))

    def _open_csv(self, encoding: str) -> None:
        self._binary = binary = open(self.path, "rb")
        text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
        reader = csv.reader(text, strict=True)
        try:
            self.header = next(reader)
        except StopIteration:
            raise ImportRefused("文件为空") from None
        except csv.Error as error:
            raise ImportRefused(f"第 1 行（表头）不是合法的 CSV：{error}") from None

        def rows() -> Lines:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise ImportRefused(f"第 {reader.line_num} 行附近不是合法的 CSV（{error}），此行及之后未导入") from None
                except UnicodeDecodeError:
                    raise ImportRefused(f"第 {reader.line_num + 1} 行附近含有非 {encoding} 字符，此行及之后未导入") from None
                if cells:
                    yield reader.line_num, cells, None

        self.rows = rows()

    def _open_xlsx(self) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils import get_column_letter

        try:
            # Formulas as written, not their cached results: a formula's result is not data its
            # department entered (and without a cache it would read as an empty cell).
            workbook = load_workbook(self.path, read_only=True, data_only=False)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise ImportRefused(f"无法读取 XLSX 文件：{type(error).__name__}") from None
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows()
        try:
            self.header = [_cell_text(c.value) for c in next(values)]
        except StopIteration:
            raise ImportRefused("工作表为空") from None
        while self.header and self.header[-1] == "":
            self.header.pop()
        total = max(sheet.max_row or 1, 1)
        self._xlsx_progress = (0, total)

        def rows() -> Lines:
            for number, row in enumerate(values, start=2):
                row = row[: len(self.header)]
                cells = [_cell_text(c.value) for c in row]
                self._xlsx_progress = (number, total)
                if any(cells):
                    formulas = [f"{get_column_letter(index + 1)}{number}（{self.header[index]}）"
                                for index, cell in enumerate(row) if cell.data_type == "f"]
                    problem = (f"单元格 {'、'.join(formulas[:5])} 是公式：导入不接受公式，请粘贴为数值后重新导入"
                               if formulas else None)
                    yield number, cells + [""] * (len(self.header) - len(cells)), problem

        self.rows = rows()

    def bytes_read(self) -> int:
        if self._binary is not None:
            return 0 if self._binary.closed else self._binary.tell()
        done, total = self._xlsx_progress
        return int(self.size * min(done / total, 1.0))

    def close(self) -> None:
        if self._binary is not None:
            self._binary.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(db: Session, registry: Registry, header: list[str], department: _Source) -> list[Field]:
    """The fields of the header, refusing unknown, repeated, missing-key and foreign columns
    (``service.write``'s authority rule, checked once for the whole file)."""
    fields: list[Field] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for title in header:
        field = registry.field_for(title.strip().lstrip("\ufeff"))
        if field is None:
            unknown.append(title)
            continue
        if field.name in seen:
            raise ImportRefused(f"表头中“{field.label}”出现了两次")
        seen.add(field.name)
        fields.append(field)
    if unknown:
        raise ImportRefused(f"未知的列：{'、'.join(unknown[:10])}。可用的列：{'、'.join(f.name for f in registry.fields)}")
    if registry.key not in seen:
        raise ImportRefused(f"缺少主键列 {registry.key}（{registry.by_name[registry.key].label}）")
    foreign = service.foreign_fields([f for f in fields if f.name != registry.key], department)
    if foreign:
        parts = "；".join(f"“{f.label}”的权威来源是{service.source_name(db, f.duty)}" for f in foreign[:5])
        raise ImportRefused(f"{department.name}不能导入这些列：{parts}")
    return fields


ProgressFn = Callable[[ImportJob, int], None]
Batches = Generator[tuple[list["_Row"], int], None, None]  # rows checked, and how far the file has been read


def run(sessions: sessionmaker[Session], *, registry: Registry, path: Path, department_code: str, actor: audit.Actor,
        file_name: str | None = None, encoding: str | None = None, batch_size: int = 20_000,
        progress: ProgressFn | None = None, lock_dir: Path | None = None) -> ImportJob:
    """Import ``path`` (resuming an unfinished job of the same file); returns the finished job."""
    if lock_dir is not None:
        mark_interrupted(sessions, lock_dir)
    try:
        sniff(Path(path), encoding)
    except ImportRefused as refusal:
        return refuse(sessions, registry=registry, path=path, department_code=department_code, actor=actor,
                      file_name=file_name, message=str(refusal))
    job_id = open_job(sessions, registry=registry, path=path, department_code=department_code, actor=actor,
                      file_name=file_name)
    return process(sessions, job_id, registry=registry, path=path, actor=actor, encoding=encoding,
                   batch_size=batch_size, progress=progress, lock_dir=lock_dir)


def recent_jobs(db: Session, department_code: str | None, *, limit: int = 50) -> list[ImportJob]:
    """A department's latest imports, newest first: what its import page lists (none for a
    principal of no department)."""
    if department_code is None:
        return []
    return list(db.scalars(select(ImportJob).where(ImportJob.source_department == department_code)
                           .order_by(ImportJob.started_at.desc()).limit(limit)))


def progress_of(job: ImportJob) -> float:
    """How much of the file has been read, 0–1 (a completed job is 1)."""
    done = 1.0 if job.status == "completed" else (job.bytes_read / job.file_size if job.file_size else 0.0)
    return round(min(done, 1.0), 4)


def start_upload(sessions: sessionmaker[Session], settings: Settings, *, registry: Registry, upload: BinaryIO,
                 file_name: str | None, actor: audit.Actor, encoding: str | None) -> tuple[str, threading.Thread]:
    """Keep an uploaded file (API or page) and import it in a thread of its own: the job's id and
    the thread. The same file again resumes its unfinished job; a file refused as a whole is
    ``import-refused``, one over the size limit ``payload-too-large``."""
    department_code = actor.department_code
    if department_code is None:  # importing is a department's role: a source imports what it holds
        raise Problem("department-scope", "导入须以部门身份进行：当前账号不属于任何部门")
    suffix = ".xlsx" if (file_name or "").lower().endswith(".xlsx") else ".csv"
    folder = settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4()}{suffix}"
    limit = settings.import_max_upload_mb * 1024 * 1024
    with open(target, "wb") as out:
        copied = 0
        while chunk := upload.read(1024 * 1024):
            copied += len(chunk)
            if copied > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise Problem("payload-too-large", f"文件超过 {settings.import_max_upload_mb} MB 上限；请拆分文件，或由管理员用命令行 tongban registry import 导入")
            out.write(chunk)
    mark_interrupted(sessions, folder)  # a job cut off by a dead process is resumed, not left "running"
    try:
        sniff(target, encoding)
        job_id = open_job(sessions, registry=registry, path=target, department_code=department_code, actor=actor,
                          file_name=file_name or target.name)
    except ImportRefused as refusal:
        refuse(sessions, registry=registry, path=target, department_code=department_code, actor=actor,
               file_name=file_name, message=str(refusal))
        target.unlink(missing_ok=True)
        raise Problem("import-refused", str(refusal)) from None

    def work() -> None:
        job = process(sessions, job_id, registry=registry, path=target, actor=actor, encoding=encoding,
                      batch_size=settings.import_batch_rows, lock_dir=folder)
        if job.status in ("completed", "refused"):  # a failed job keeps its file: uploading it again resumes
            target.unlink(missing_ok=True)

    worker = threading.Thread(target=work, name=f"import-{job_id[:8]}", daemon=True)
    worker.start()
    return job_id, worker


def sniff(path: Path, encoding: str | None) -> None:
    """Cheap checks before reading the whole file (an empty, binary or mis-encoded file)."""
    if path.suffix.lower() != ".xlsx":
        _check_encoding(path, encoding)
    elif path.stat().st_size == 0:
        raise ImportRefused("文件为空")


def refuse(sessions: sessionmaker[Session], *, registry: Registry, path: Path, department_code: str, actor: audit.Actor,
           file_name: str | None, message: str) -> ImportJob:
    """Record a file refused as a whole (no row read), so the refusal is in the job list and the audit log."""
    with open(path, "rb") as handle:
        head = hashlib.sha256(handle.read(SNIFF_BYTES)).hexdigest()
    with sessions() as db:
        job = ImportJob(id=str(uuid.uuid4()), registry_name=registry.name, source_department=department_code,
                        actor_name=actor.actor_name, file_name=file_name or Path(path).name, file_sha256=head,
                        file_size=Path(path).stat().st_size, status="running", committed_line=0, rows_accepted=0,
                        rows_unchanged=0, rows_rejected=0, bytes_read=0, started_at=clock.now())
        db.add(job)
        db.commit()
        job_id = job.id
    return _finish(sessions, job_id, "refused", message, actor)


def open_job(sessions: sessionmaker[Session], *, registry: Registry, path: Path, department_code: str, actor: audit.Actor,
             file_name: str | None = None) -> str:
    """The job for this file: the unfinished one of the same file and source, or a new one."""
    path = Path(path)
    sha = file_sha256(path)
    with sessions() as db:
        department = org.get_by_code(db, department_code)
        if department is None:
            raise ImportRefused(f"部门 {department_code} 不存在")
        job = db.scalar(select(ImportJob).where(ImportJob.registry_name == registry.name, ImportJob.file_sha256 == sha,
                                                ImportJob.source_department == department.code,
                                                ImportJob.status.in_(("running", "failed", "interrupted")))
                        .order_by(ImportJob.started_at.desc()))
        if job is None:
            job = ImportJob(id=str(uuid.uuid4()), registry_name=registry.name, source_department=department.code,
                            actor_name=actor.actor_name, file_name=file_name or path.name, file_sha256=sha,
                            file_size=path.stat().st_size, status="running", committed_line=0, rows_accepted=0,
                            rows_unchanged=0, rows_rejected=0, bytes_read=0, started_at=clock.now())
            db.add(job)
        job.status, job.message = "running", None
        db.commit()
        return job.id


PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # smaller files are parsed in-process: no process start-up


@contextmanager
def _job_lock(lock_dir: Path, job_id: str, *, wait: bool) -> Iterator[bool]:
    """Whether this process holds the job's lock file. The worker holds it while it imports; the
    kernel lets go when the process ends, however it ends (SIGKILL too), so a job still ``running``
    whose lock file is free was cut off. ``wait=False``: only look (an existing file, no waiting)."""
    path = lock_dir / f"{job_id}.lock"
    while True:
        try:
            if wait:
                lock_dir.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+b" if wait else "rb")
        except FileNotFoundError:
            yield False
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            yield False
            return
        try:  # the holder before us may have removed the file: a lock on a removed file counts for nothing
            current = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        handle.close()
        if not wait:
            yield False
            return
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def mark_interrupted(sessions: sessionmaker[Session], lock_dir: Path) -> list[str]:
    """Jobs left ``running`` by a process that died (killed, crashed, the machine restarted) become
    ``interrupted``, so the page and the API tell the truth; uploading the file again resumes them.
    A job another live process is importing keeps its status: its lock is held."""
    with sessions() as db:
        running = list(db.scalars(select(ImportJob.id).where(ImportJob.status == "running")))
    found = []
    for job_id in running:
        with _job_lock(lock_dir, job_id, wait=False) as ours:
            if not ours:
                continue
            with sessions() as db:
                job = db.get(ImportJob, job_id, with_for_update=True)
                if job is None or job.status != "running":
                    continue  # it finished before we looked
                job.status = "interrupted"
                job.message = (f"导入进程意外中止，已提交至文件第 {job.committed_line} 行（{job.rows_accepted} 条已导入）；"
                               "重新上传同一文件将从中断处继续，不会重复导入")
                audit.record(db, actor=audit.SYSTEM, action="registry.import", object_type="import_job", object_id=job.id,
                             outcome="failed", department_code=job.source_department,
                             details={"registry": job.registry_name, "file": job.file_name, "status": job.status,
                                      "committed_line": job.committed_line})
                db.commit()
                found.append(job_id)
    if found:
        log.warning("import jobs interrupted by a process that died: %s", ", ".join(found))
    return found


def process(sessions: sessionmaker[Session], job_id: str, *, registry: Registry, path: Path, actor: audit.Actor,
            encoding: str | None = None, batch_size: int = 20_000, progress: ProgressFn | None = None,
            lock_dir: Path | None = None) -> ImportJob:
    """Read the file from after the job's checkpoint to the end, batch by batch.

    ``lock_dir``: where the job's lock file is held while it runs (see ``mark_interrupted``); a job
    another process is running is waited for, then taken up where it stands."""
    if lock_dir is None:
        return _process(sessions, job_id, registry=registry, path=path, actor=actor, encoding=encoding,
                        batch_size=batch_size, progress=progress)
    with _job_lock(lock_dir, job_id, wait=True):
        return _process(sessions, job_id, registry=registry, path=path, actor=actor, encoding=encoding,
                        batch_size=batch_size, progress=progress)


def _process(sessions: sessionmaker[Session], job_id: str, *, registry: Registry, path: Path, actor: audit.Actor,
             encoding: str | None, batch_size: int, progress: ProgressFn | None) -> ImportJob:
    path = Path(path)
    with sessions() as db:
        job = _job(db, job_id)
        if job.status in ("completed", "refused"):  # another process finished it while we waited
            db.expunge(job)
            return job
        if job.status != "running":  # marked interrupted while its file was uploaded again: taken up now
            job.status, job.message = "running", None
            db.commit()
        source_code, resume_after = job.source_department, job.committed_line
        found = org.get_by_code(db, source_code)
        department = _Source(found.code, found.name, found.duty) if found is not None else None
    try:
        if department is None:  # open_job found it; departments are not deleted, but say so if one was
            raise ImportRefused(f"部门 {source_code} 不存在")
        reader = _Reader(path, encoding)
        with sessions() as db:
            _columns(db, registry, reader.header, department)
        reader.close()
    except ImportRefused as refusal:
        return _finish(sessions, job_id, "refused", str(refusal), actor)
    creator = department.code if service.may_create(registry, department) else None
    fields = _file_fields(registry, reader.header)
    batches = (_batches_in_process if path.stat().st_size < PARALLEL_FROM_BYTES else _batches_from_worker)(
        path, encoding, registry.name, resume_after, batch_size, creator)
    try:
        for batch, bytes_read in batches:
            _commit_batch(sessions, registry, fields, job_id, department, actor, batch, creator, bytes_read)
            if progress:
                with sessions() as db:
                    progress(_job(db, job_id), bytes_read)
    except ImportRefused as refusal:
        return _finish(sessions, job_id, "failed" if _committed(sessions, job_id) else "refused", str(refusal), actor)
    finally:
        batches.close()
    return _finish(sessions, job_id, "completed", None, actor)


def _batches_in_process(path: Path, encoding: str | None, registry_name: str, resume_after: int,
                        batch_size: int, creator: str | None) -> Batches:
    """Parsed and checked rows, ``batch_size`` at a time, with how far the file has been read."""
    registry = REGISTRIES[registry_name]
    reader = _Reader(path, encoding)
    try:
        fields = _file_fields(registry, reader.header)
        batch: list[_Row] = []
        for line, cells, problem in reader.rows:
            if line <= resume_after:
                continue
            batch.append(_parse(registry, fields, line, cells, creator=creator, problem=problem))
            if len(batch) >= batch_size:
                _new_record_events(registry, batch, creator)
                yield batch, reader.bytes_read()
                batch = []
        if batch:
            _new_record_events(registry, batch, creator)
            yield batch, reader.size
    finally:
        reader.close()


def _file_fields(registry: Registry, header: list[str]) -> list[Field]:
    """The fields of a header ``_columns`` accepted, in the file's order."""
    fields = []
    for title in header:
        field = registry.field_for(title.strip().lstrip("\ufeff"))
        if field is None:  # not after _columns: it refuses unknown columns
            raise ImportRefused(f"未知的列：{title}")
        fields.append(field)
    return fields


def _worker(path: Path, encoding: str | None, registry_name: str, resume_after: int, batch_size: int, creator: str | None,
            out) -> None:
    """The parsing process: feeds batches to the importer through a bounded queue."""
    gc.disable()  # rows are freed by reference counting; cyclic collection would only re-scan them
    try:
        for batch, bytes_read in _batches_in_process(path, encoding, registry_name, resume_after, batch_size, creator):
            # Plain tuples cross the process boundary at half the cost of dataclass instances.
            out.put(("batch", [(r.line, r.key, r.cells, r.error, None, r.new_texts, r.new_snapshot, r.new_event,
                                r.create_error) for r in batch], bytes_read))
        out.put(("end", None, 0))
    except ImportRefused as refusal:
        out.put(("refused", str(refusal), 0))
    except Exception as error:  # reported to the importer, which records it on the job
        out.put(("refused", f"读取文件出错：{type(error).__name__}: {error}", 0))


def _batches_from_worker(path: Path, encoding: str | None, registry_name: str, resume_after: int,
                         batch_size: int, creator: str | None) -> Batches:
    """Big files: reading and checking rows runs in a second process, on the other core,
    while this one writes; the queue holds two batches at most, so memory stays flat."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=2)
    worker = context.Process(target=_worker, args=(path, encoding, registry_name, resume_after, batch_size, creator, queue),
                             daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, payload, bytes_read = queue.get(timeout=1)
            except queue_module.Empty:
                if not worker.is_alive():  # died without a word (killed, out of memory)
                    raise ImportRefused(f"读取文件的进程意外退出（代码 {worker.exitcode}），已提交的批次保留，可重新运行续传") from None
                continue
            if kind == "end":
                return
            if kind == "refused":
                raise ImportRefused(payload)
            yield [_Row(*fields) for fields in payload], bytes_read
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=5)


def _job(db: Session, job_id: str) -> ImportJob:
    """A job this import opened (jobs are never deleted)."""
    job = db.get(ImportJob, job_id)
    if job is None:
        raise LookupError(f"import job {job_id} does not exist")
    return job


def _committed(sessions: sessionmaker[Session], job_id: str) -> int:
    with sessions() as db:
        return _job(db, job_id).committed_line


def _finish(sessions: sessionmaker[Session], job_id: str, status: str, message: str | None, actor: audit.Actor) -> ImportJob:
    with sessions() as db:
        job = _job(db, job_id)
        job.status, job.finished_at = status, clock.now()
        if status == "completed":
            job.bytes_read = job.file_size
            if job.committed_line == 0:
                message = "文件只有表头，没有数据行"
        job.message = message
        audit.record(db, actor=actor, action="registry.import", object_type="import_job", object_id=job.id,
                     outcome="success" if status == "completed" else "failed", department_code=job.source_department,
                     details={"registry": job.registry_name, "file": job.file_name, "status": status,
                              "accepted": job.rows_accepted, "unchanged": job.rows_unchanged,
                              "rejected": job.rows_rejected, "message": message})
        db.commit()
        db.refresh(job)
        db.expunge(job)
        return job


def _parse(registry: Registry, fields: list[Field], line: int, cells: list[str], *, creator: str | None = None,
           problem: str | None = None) -> _Row:
    """One row checked; ``problem`` is what the reader already found wrong with it (a formula cell)."""
    if len(cells) != len(fields):
        return _Row(line, None, cells, f"有 {len(cells)} 列，表头有 {len(fields)} 列")
    if problem:
        return _Row(line, cells[fields.index(registry.by_name[registry.key])] or None, cells, problem)
    values: dict[str, Any] = {}
    errors: list[str] = []
    for field, cell in zip(fields, cells):
        try:
            values[field.name] = field.parse(cell)
        except FieldError as error:
            errors.append(str(error))
    key = values.get(registry.key)
    if errors:
        return _Row(line, key or (cells[fields.index(registry.by_name[registry.key])] or None), cells, "；".join(errors))
    row = _Row(line, key, cells, values=values)
    if creator:  # the key's owner may be creating the record: fill what the key implies
        registry.derive(values)
        row.create_error = _create_error(registry, values)
        if row.create_error is None:
            texts = service.snapshot(registry, values)
            row.new_texts = tuple(texts.values())
            row.new_snapshot = json.dumps(texts, ensure_ascii=False)
    return row


IMPORT_REASON = "批量导入"  # the reason its events give (a version row also names the job and the line)


def _new_record_events(registry: Registry, batch: list[_Row], creator: str | None) -> None:
    """The events of the records this batch may create, made where rows are parsed (most rows of
    a big import create records): ``service.record_event``, as ``service.write`` publishes it, in
    the outbox rows ``events.outbox_rows`` makes of it."""
    made = [(row, row.key) for row in batch if row.new_texts is not None and row.key is not None]
    if creator is None or not made:
        return
    changed = list(registry.names)
    outbox = events.outbox_rows([service.record_event(registry, key, version=1, changed=changed, source=creator,
                                                      reason=IMPORT_REASON) for _, key in made])
    # One object for the type and subject every row shares: pickled once per batch, not per row.
    event_type, subject = outbox[0]["event_type"], outbox[0]["subject"]
    for (row, _), event in zip(made, outbox):
        row.new_event = (event["event_id"], event_type, subject, event["payload"])


_RECORD_TAIL = ("version", "updated_at", "updated_by", "import_job", "import_line")
_VERSION_COLUMNS = ["registry_name", "record_key", "version", "data", "changed_fields", "department_code",
                    "actor_name", "reason", "changed_at"]
_EVENT_COLUMNS = ["event_id", "event_type", "subject", "record_key", "occurred_at", "payload"]
# The tables as ``Table``s (``Model.__table__`` is typed as any FromClause).
_VERSIONS = RecordVersion.metadata.tables[RecordVersion.__tablename__]
_OUTBOX = events.OutboxEvent.metadata.tables[events.OutboxEvent.__tablename__]
_REJECTIONS = ImportRejection.metadata.tables[ImportRejection.__tablename__]


def _existing(db: Session, table: Table, key_column: Column[Any], keys: list[str | None]) -> dict[str | None, dict[str, Any]]:
    """The current rows of those keys that exist. Which exist is asked of the DB-API directly
    (a fresh import finds none, and SQLAlchemy's handling of 5,000 IN values costs more than
    the lookup); the rows found are read through SQLAlchemy for their Python types."""
    found_keys: list[str] = []
    driver = db.connection().connection.driver_connection
    assert driver is not None  # a live connection of this session's transaction
    cursor = driver.cursor()
    placeholder = "?" if db.get_bind().dialect.name == "sqlite" else "%s"
    if placeholder == "%s":
        # Thousands of keys against a young table (no statistics yet) make PostgreSQL's
        # planner choose whole-table scans, ever longer as the import grows; these are
        # primary-key probes, in this batch's transaction only.
        cursor.execute("SET LOCAL enable_seqscan = off")
    chunk = 5000  # under the bound-parameter limits of both engines (SQLite 3.32+: 32766)
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        cursor.execute(f'SELECT "{key_column.name}" FROM "{table.name}" WHERE "{key_column.name}" IN '
                       f'({", ".join([placeholder] * len(part))})', part)
        found_keys.extend(key for (key,) in cursor.fetchall())
    existing: dict[str | None, dict[str, Any]] = {}
    for start in range(0, len(found_keys), chunk):
        for found in db.execute(select(table).where(key_column.in_(found_keys[start:start + chunk]))).mappings():
            existing[found[key_column.name]] = dict(found)
    return existing


def _commit_batch(sessions: sessionmaker[Session], registry: Registry, fields: list[Field], job_id: str, department: _Source,
                  actor: audit.Actor, batch: list[_Row], creator: str | None, bytes_read: int) -> None:
    """Commit one batch; ``fields`` are the file's columns, ``creator`` the department code
    when it may create records."""
    table = TABLES[registry.name]
    key_column = table.c[registry.key]
    with sessions() as db:
        if db.get_bind().dialect.name == "sqlite":
            # Checkpoint the WAL every ~200 MB instead of every 4 MB: a page the import touches
            # again and again (index pages) is copied back once per checkpoint, not per batch.
            db.execute(text("PRAGMA wal_autocheckpoint=50000"))
        existing = _existing(db, table, key_column, list({row.key for row in batch if row.error is None}))
        now = clock.now()
        stamp = db_value(db, table.c.updated_at, now)  # the same on every row: converted once
        all_fields = json.dumps(list(registry.names))
        reason = f"{IMPORT_REASON} {job_id[:8]}"
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        touches: list[dict[str, Any]] = []
        versions: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        changes: list[tuple[int, dict[str, Any]]] = []  # where in ``outbox`` a changed record's event goes, and it
        rejected: list[_Row] = []
        accepted = unchanged = 0
        line_of_key: dict[str | None, int] = {}
        for row in batch:
            if row.error is not None:
                rejected.append(row)
                continue
            current = existing.get(row.key)
            first_line = line_of_key.get(row.key)
            if first_line is None and current is not None and current["import_job"] == job_id and current["import_line"] < row.line:
                first_line = current["import_line"]
            if first_line is not None:
                row.error = f"主键 {row.key} 与第 {first_line} 行重复，本行未导入"
                rejected.append(row)
                continue
            if current is None and creator is None:
                row.error = f"{registry.label}库中没有 {row.key}；只有{service.source_name(db, registry.owner)}可以新建记录"
                rejected.append(row)
                continue
            if current is None:
                if row.create_error is not None or row.new_texts is None or row.new_event is None:
                    row.error = row.create_error or f"主键 {row.key} 无法新建记录"  # (prepared with the row unless refused)
                    rejected.append(row)
                    continue
                line_of_key[row.key] = row.line
                inserts.append(row.new_texts + (1, stamp, department.code, job_id, row.line))
                versions.append((registry.name, row.key, 1, row.new_snapshot, all_fields, department.code,
                                 actor.actor_name, f"{reason} 第 {row.line} 行", stamp))
                event_id, event_type, subject, payload = row.new_event
                outbox.append((event_id, event_type, subject, row.key, stamp, payload))
                accepted += 1
                continue
            merged = {name: current.get(name) for name in registry.names}
            merged.update(row.values if row.values is not None
                          else _parse(registry, fields, row.line, row.cells, creator=creator).values or {})
            try:
                registry.check_record(merged)
            except FieldError as error:
                row.error = str(error)
                rejected.append(row)
                continue
            line_of_key[row.key] = row.line
            after = service.snapshot(registry, merged)
            changed = service.changed_fields(registry, service.snapshot(registry, current), after)
            if not changed:
                touches.append({"_key": row.key, "import_job": job_id, "import_line": row.line})
                unchanged += 1
                continue
            version = current["version"] + 1
            updates.append({**merged, "version": version, "updated_at": now, "updated_by": department.code,
                            "import_job": job_id, "import_line": row.line, "_key": row.key, "_version": current["version"]})
            versions.append((registry.name, row.key, version, json.dumps(after, ensure_ascii=False), json.dumps(changed),
                             department.code, actor.actor_name, f"{reason} 第 {row.line} 行", stamp))
            changes.append((len(outbox), service.record_event(registry, current[registry.key], version=version, changed=changed,
                                                              source=department.code, reason=IMPORT_REASON)))
            outbox.append(())  # made below, with the others: the events stay in the file's order
            accepted += 1
        for (position, _), event in zip(changes, events.outbox_rows([change for _, change in changes])):
            outbox[position] = (event["event_id"], event["event_type"], event["subject"], event["record_key"], stamp,
                                event["payload"])
        bulk_insert_values(db, table, [*registry.names, *_RECORD_TAIL], inserts)
        if updates:
            columns: dict[str, Any] = {c: bindparam(c) for c in updates[0] if not c.startswith("_")}
            result = db.execute(update(table).where(key_column == bindparam("_key"), table.c.version == bindparam("_version"))
                                .values(columns).execution_options(synchronize_session=False), updates)
            assert isinstance(result, CursorResult)  # an UPDATE's result (typed as any Result for many parameter sets)
            if result.rowcount != len(updates):  # a concurrent writer changed a record: redo the batch
                db.rollback()
                return _commit_batch(sessions, registry, fields, job_id, department, actor, batch, creator, bytes_read)
        if touches:
            db.execute(update(table).where(key_column == bindparam("_key"))
                       .values(import_job=bindparam("import_job"), import_line=bindparam("import_line"))
                       .execution_options(synchronize_session=False), touches)
        bulk_insert_values(db, _VERSIONS, _VERSION_COLUMNS, versions)
        bulk_insert_values(db, _OUTBOX, _EVENT_COLUMNS, outbox)
        bulk_insert(db, _REJECTIONS, [{"job_id": job_id, "line": r.line, "record_key": r.key,
                                       "reason": (r.error or "")[:1000], "raw": r.raw} for r in rejected])
        job = _job(db, job_id)
        job.committed_line = batch[-1].line
        job.rows_accepted += accepted
        job.rows_unchanged += unchanged
        job.rows_rejected += len(rejected)
        job.bytes_read = bytes_read
        db.commit()


def _create_error(registry: Registry, values: dict[str, Any]) -> str | None:
    """Why these values cannot make a new record on their own (``service.write``'s rules), or None."""
    try:
        registry.check_record(values)
    except FieldError as error:
        return str(error)
    missing = service.missing_required(registry, values)
    if missing:
        return f"新建记录缺少必填字段：{'、'.join(missing)}"
    return None


def rejected_csv(db: Session, job_id: str) -> Iterator[str]:
    """The rejected-rows report: line, key, reason (Chinese) and the original line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "主键", "原因", "原始内容"])
    yield "\ufeff" + buffer.getvalue()
    last = 0
    while True:
        chunk = list(db.scalars(select(ImportRejection).where(ImportRejection.job_id == job_id, ImportRejection.line > last)
                                .order_by(ImportRejection.line).limit(5000)))
        if not chunk:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for rejection in chunk:
            # The key and the original line are whatever the file held: never a formula in the report.
            writer.writerow(neutralise_row([rejection.line, rejection.record_key or "", rejection.reason,
                                            rejection.raw or ""]))
        last = chunk[-1].line
        yield buffer.getvalue()
