"""PostgreSQL restarted under load: while it is down every request is answered at once with 503
``service-unavailable`` (problem+json, Chinese), never a 500 and never a hang; when it is back
the same server process serves again, with no restart. The cluster is the test's own (the shared
one on 5432 is other tests' to use)."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import func, select

from tongban import demo
from tongban.core import audit, migrate
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope
from tongban.registry.models import RecordVersion
import conftest as root
from helpers import fresh_resident_id

from .conftest import START_TIMEOUT_S, Server

WORKERS = 4
REQUEST_TIMEOUT_S = 20  # a request that takes longer has hung
DOWN_ANSWERS = 12  # 503s seen while the database is down before it is started again


def test_requests_fail_cleanly_while_postgresql_restarts_and_the_server_recovers(private_postgres):
    settings = root.test_settings(private_postgres.url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    audit.configure(settings.secret_key)
    with session_scope(make_sessionmaker(engine)) as session:
        demo.load(session, settings)
    server = Server(settings)
    server.start()
    try:
        headers = server.token("steward", demo.DEMO_PASSWORD)
        stop, answers, lock = threading.Event(), [], threading.Lock()

        def load() -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=REQUEST_TIMEOUT_S) as http:
                while not stop.is_set():
                    number = fresh_resident_id()
                    started = time.monotonic()
                    try:
                        response = http.post("/api/v1/registries/persons", json={
                            "values": {"id_number": number, "name": "重启测试人", "ethnicity": "汉族",
                                       "residence_status": "户籍", "household_address": "上海市浦东新区花木路100弄1号101室"},
                            "reason": "户籍登记"})
                        read = http.get("/api/v1/notifications")
                    except httpx.TimeoutException as error:
                        with lock:
                            answers.append(("timeout", number, repr(error), None))
                        continue
                    with lock:
                        for r in (response, read):
                            answers.append((r.status_code, number if r is response else None,
                                            r.headers.get("content-type", ""), r.text[:300]))
                    assert time.monotonic() - started < REQUEST_TIMEOUT_S

        def count(status) -> int:
            with lock:
                return sum(1 for a in answers if a[0] == status)

        def wait_for(condition, what: str) -> None:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not condition():
                assert time.monotonic() < deadline, f"waited in vain for {what}: {answers[-5:]}"
                time.sleep(0.05)  # waiting for other threads' answers, not for a clock

        threads = [threading.Thread(target=load) for _ in range(WORKERS)]
        [t.start() for t in threads]
        wait_for(lambda: count(201) >= WORKERS, "writes before the restart")
        private_postgres.stop("fast")  # terminates every connection, as a restart does
        wait_for(lambda: count(503) >= DOWN_ANSWERS, "answers while the database is down")
        private_postgres.start()
        before = count(201)
        wait_for(lambda: count(201) >= before + 2 * WORKERS, "writes after the restart")
        stop.set()
        [t.join(timeout=REQUEST_TIMEOUT_S * 2) for t in threads]
        assert not any(t.is_alive() for t in threads), "a client hung"

        unexpected = [a for a in answers if a[0] not in (200, 201, 503)]
        assert not unexpected, (unexpected[:5], server.log.read_text()[-6000:])
        for status, _, content_type, body in answers:
            if status == 503:
                assert content_type.startswith("application/problem+json"), body
                assert '"type":"/problems/service-unavailable"' in body and "数据库" in body, body
        # The server recovered by itself: a fresh request succeeds, and readiness says so.
        assert httpx.get(f"{server.url}/readyz", timeout=REQUEST_TIMEOUT_S).status_code == 200
        written = [number for status, number, *_ in answers if status == 201]
    finally:
        server.stop()
    engine.dispose()  # its connections from before the restart are gone
    with session_scope(make_sessionmaker(engine)) as session:
        for number in written:  # every acknowledged write is there, once
            assert session.scalar(select(func.count()).select_from(RecordVersion)
                                  .where(RecordVersion.record_key == number)) == 1, number
        assert audit.verify(session).ok
    engine.dispose()
