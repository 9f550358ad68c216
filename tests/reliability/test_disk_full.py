"""The disk full under SQLite: SQLite's own limit (``PRAGMA max_page_count``) makes every write that
needs one more page fail with SQLITE_FULL, as a full disk does. The client is told so (507
``storage-full``, in Chinese), the failed write leaves nothing, the file stays sound, the audit
chain verifies, and writes succeed again once there is room, without a restart."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient
from helpers import assert_problem, bearer, fresh_resident_id
from sqlalchemy import event, func, select, text

from tongban import demo
from tongban.app import create_app
from tongban.core import audit
from tongban.core.db.session import session_scope
from tongban.registry.models import RecordVersion
from conftest import create_database

MAX_WRITES = 400  # far more than the free room in the last pages; the limit is met long before


def _person(client, headers, number: str):
    return client.post("/api/v1/registries/persons", headers=headers, json={
        "values": {"id_number": number, "name": "存储测试人", "ethnicity": "汉族", "residence_status": "户籍",
                   "household_address": "上海市浦东新区花木路100弄1号101室" + "甲" * 60},
        "reason": "户籍登记"})


def test_a_full_disk_is_a_clear_507_and_the_failed_write_leaves_nothing(tmp_path):
    database, cleanup = create_database("sqlite", tmp_path)
    audit.configure(database.settings.secret_key)
    with session_scope(database.sessionmaker()) as session:
        demo.load(session, database.settings)
    # No free pages inside the file either (the search index's merge leaves some): the full disk
    # is then met by the next write that needs a page, not hundreds of writes later.
    vacuum = sqlite3.connect(database.settings.database_url.removeprefix("sqlite:///"))
    vacuum.execute("VACUUM")
    vacuum.close()
    app = create_app(database.settings)
    with TestClient(app) as client:
        headers = bearer(client, "steward")
        engine = app.state.sessionmaker.kw["bind"]
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        full = {"on": True}

        @event.listens_for(engine, "connect")
        def _limit(dbapi_connection, _record):
            if full["on"]:  # the file may not grow: the disk is full
                dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        engine.dispose()  # every connection from now on sees the limit
        written, refused = [], None
        for _ in range(MAX_WRITES):
            number = fresh_resident_id()
            response = _person(client, headers, number)
            if response.status_code == 201:
                written.append(number)
                continue
            refused = number
            problem = assert_problem(response, 507, "storage-full")
            assert "存储空间已满" in problem["title"]
            break
        assert refused is not None, f"{MAX_WRITES} writes fitted in {pages} pages"

        # The disk is freed: the same server writes again.
        full["on"] = False
        engine.dispose()
        again = fresh_resident_id()
        assert _person(client, headers, again).status_code == 201

    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with session_scope(database.sessionmaker()) as session:
        assert session.scalar(select(func.count()).select_from(RecordVersion).where(RecordVersion.record_key == refused)) == 0
        for number in [*written, again]:  # every acknowledged write is there, once
            assert session.scalar(select(func.count()).select_from(RecordVersion).where(RecordVersion.record_key == number)) == 1
        # The refused write left no audit entry either, and the chain is whole.
        assert session.scalar(select(func.count()).select_from(audit.AuditEvent)
                              .where(audit.AuditEvent.details.contains(refused))) == 0
        assert audit.verify(session).ok
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    cleanup()
