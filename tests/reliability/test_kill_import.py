"""A registry import uploaded to the server, killed with the server (SIGKILL) mid-way. After the
restart the job is shown as interrupted (not ``running`` forever), and uploading the same file
again resumes it after its last committed batch: in the end every row is in the registry exactly
once, with one version and one change event each — none lost, none doubled."""

from __future__ import annotations

import csv
import io
import threading

import httpx
from sqlalchemy import func, select

from tongban import demo
from tongban.core import audit
from tongban.core.db.session import session_scope
from tongban.core.events import OutboxEvent
from tongban.registry.models import TABLES, ImportJob, RecordVersion
from helpers import resident_id

from .conftest import Server
from .test_kill import REQUEST_TIMEOUT_S, _until

ROWS = 10_000
BATCH = 100  # rows per committed batch on the server: the kill lands between checkpoints
KILL_AFTER = 2_000  # lines committed before the kill


def _file() -> tuple[bytes, list[str]]:
    out, keys = io.StringIO(), []
    writer = csv.writer(out)
    writer.writerow(["id_number", "name", "ethnicity", "household_address", "residence_status"])
    for index in range(ROWS):
        key = resident_id(birth=f"1985{index // 1000 % 12 + 1:02d}{index // 12000 + 1:02d}", seq=index % 1000,
                          region="310104")
        keys.append(key)
        writer.writerow([key, f"导入中断{index % 97}", "汉族", f"上海市徐汇区漕溪路{index}号", "户籍"])
    assert len(set(keys)) == ROWS
    return out.getvalue().encode(), keys


def test_an_upload_killed_mid_import_is_reported_and_resumed_without_loss_or_double(fresh_database):
    content, keys = _file()
    server = Server(fresh_database.settings, TONGBAN_IMPORT_BATCH_ROWS=str(BATCH))
    sessions = fresh_database.sessionmaker()

    def job() -> ImportJob | None:
        with sessions() as db:
            return db.scalar(select(ImportJob).where(ImportJob.file_name == "people.csv"))

    def upload(headers) -> httpx.Response:
        return httpx.post(f"{server.url}/api/v1/registries/persons/imports", headers=headers, timeout=REQUEST_TIMEOUT_S,
                          files={"file": ("people.csv", content, "text/csv")})

    server.start()
    try:
        steward = server.token("steward", demo.DEMO_PASSWORD)
        first: list = []
        uploading = threading.Thread(target=lambda: first.append(_answer_or_gone(upload, steward)))
        uploading.start()
        _until(lambda: (j := job()) is not None and j.committed_line >= KILL_AFTER, "the import to get going")
        server.kill()
        uploading.join(REQUEST_TIMEOUT_S * 2)
        assert not uploading.is_alive(), "the upload hung"
        cut = job()
        assert cut.status == "running" and KILL_AFTER <= cut.committed_line < ROWS + 1, (cut.status, cut.committed_line)

        server.start()
        with httpx.Client(base_url=server.url, headers=steward, timeout=REQUEST_TIMEOUT_S) as http:
            # The restarted server tells the truth about the dead process's job.
            shown = http.get(f"/api/v1/registries/imports/{cut.id}").json()
            assert shown["status"] == "interrupted" and f"第 {cut.committed_line} 行" in shown["message"], shown
            assert shown["committed_line"] == cut.committed_line
            page = http.get("/staff/registry/imports")
            assert page.status_code == 200 and "已中断（重新上传同一文件可续传）" in page.text
            # The same file again: the job resumes after its checkpoint.
            again = upload(steward)
            assert again.status_code == 202, again.text
            assert again.json()["id"] == cut.id
            _until(lambda: http.get(f"/api/v1/registries/imports/{cut.id}").json()["status"] == "completed",
                   "the resumed import to complete")
            done = http.get(f"/api/v1/registries/imports/{cut.id}").json()
    finally:
        server.stop()

    assert (done["rows_accepted"], done["rows_rejected"], done["rows_unchanged"]) == (ROWS, 0, 0), done
    table = TABLES["persons"]
    with session_scope(sessions) as db:
        for chunk in range(0, ROWS, 1000):
            part = keys[chunk:chunk + 1000]
            assert db.scalar(select(func.count()).select_from(table).where(table.c.id_number.in_(part))) == len(part)
            assert db.scalar(select(func.count()).select_from(RecordVersion).where(
                RecordVersion.registry_name == "persons", RecordVersion.record_key.in_(part))) == len(part)
            assert db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.record_key.in_(part))) == len(part)
        assert db.scalar(select(func.count()).select_from(ImportJob)) == 1  # resumed, not started over
        assert audit.verify(db).ok


def _answer_or_gone(call, *args):
    try:
        return call(*args)
    except httpx.TransportError:  # the kill came before the answer
        return None
