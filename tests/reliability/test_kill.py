"""The server killed with SIGKILL in the middle of work: registry writes, sharing submissions and
provider decisions in flight from several clients. After it is started again, every request that
was answered 2xx is there exactly once, nothing is there twice, the audit chain verifies, and the
outbox relay of the new process delivers every committed change (the change events of the
acknowledged writes are there once each and all published)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from tongban import demo
from tongban.core import audit
from tongban.core.db.session import session_scope
from tongban.core.events import OutboxEvent
from tongban.registry.models import RecordVersion
from tongban.sharing.models import SharingRequest, SharingStep
from helpers import fresh_resident_id

from .conftest import START_TIMEOUT_S, Server
from tongban.core import clock

CLIENTS = 3
REQUEST_TIMEOUT_S = 30
PENDING = 12  # sharing requests waiting for the provider's decision when the load starts


def _ask(http: httpx.Client, items: list[str]) -> httpx.Response:
    today = clock.today()
    return http.post("/api/v1/sharing/requests", json={
        "resource": "persons", "items": items, "duty": "最低生活保障审核中核对申请家庭情况",
        "basis": "《社会救助暂行办法》第十一条", "purpose": "低保审核", "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=180)).isoformat()})


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.05)  # other threads' progress, not a clock


def test_sigkill_mid_work_loses_nothing_acknowledged_and_doubles_nothing(fresh_database):
    server = Server(fresh_database.settings)
    server.start()
    try:
        steward, requester = server.token("steward", demo.DEMO_PASSWORD), server.token("steward.mz", demo.DEMO_PASSWORD)
        with httpx.Client(base_url=server.url, headers=requester, timeout=REQUEST_TIMEOUT_S) as http:
            pending = []
            for _ in range(PENDING):
                response = _ask(http, ["name"])
                assert response.status_code == 201, response.text
                pending.append(response.json()["id"])
        acknowledged: dict[str, list] = {"persons": [], "requests": [], "decisions": []}
        lock, answers = threading.Lock(), Counter()
        queue = list(pending)

        def work(index: int) -> None:
            with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http:
                while True:
                    try:
                        number = fresh_resident_id()
                        done = http.post("/api/v1/registries/persons", headers=steward, json={
                            "values": {"id_number": number, "name": "中断测试人", "ethnicity": "汉族",
                                       "residence_status": "户籍", "household_address": "上海市浦东新区花木路100弄1号101室"},
                            "reason": "户籍登记"})
                        with lock:
                            answers[done.status_code] += 1
                            if done.status_code == 201:
                                acknowledged["persons"].append(number)
                        asked = http.post("/api/v1/sharing/requests", headers=requester, json={
                            "resource": "addresses", "items": ["full_address"], "duty": "核对地址",
                            "basis": "《社会救助暂行办法》第十一条", "purpose": "低保审核",
                            "valid_from": clock.today().isoformat(),
                            "valid_to": (clock.today() + timedelta(days=30)).isoformat()})
                        with lock:
                            answers[asked.status_code] += 1
                            if asked.status_code == 201:
                                acknowledged["requests"].append(asked.json()["number"])
                            request_id = queue.pop() if queue and index == 0 else None
                        if request_id is not None:
                            decided = http.post(f"/api/v1/sharing/requests/{request_id}/decision", headers=steward,
                                                json={"approve": ["id_number", "name"]})
                            with lock:
                                answers[decided.status_code] += 1
                                if decided.status_code == 200:
                                    acknowledged["decisions"].append(request_id)
                    except httpx.TransportError:  # the server is gone: what was not answered may or may not be there
                        return

        threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
        [t.start() for t in threads]
        _until(lambda: len(acknowledged["decisions"]) >= PENDING // 2 and len(acknowledged["persons"]) >= 10,
               "work in flight")
        server.kill()
        [t.join(timeout=REQUEST_TIMEOUT_S * 2) for t in threads]
        assert not any(t.is_alive() for t in threads), "a client hung"
        assert set(answers) <= {200, 201}, answers  # before the kill, nothing failed

        server.start()  # the same database, a new process: its relay takes up the outbox
        sessions = fresh_database.sessionmaker()

        def unpublished() -> int:
            with sessions() as db:
                return db.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None)))

        _until(lambda: unpublished() == 0, "the restarted relay to publish the outbox")
    finally:
        server.stop()

    with session_scope(sessions) as db:
        for number in acknowledged["persons"]:
            assert db.scalar(select(func.count()).select_from(RecordVersion)
                             .where(RecordVersion.record_key == number)) == 1, number
            assert db.scalar(select(func.count()).select_from(OutboxEvent)
                             .where(OutboxEvent.record_key == number)) == 1, number
        numbers = list(db.scalars(select(SharingRequest.number)))
        assert len(numbers) == len(set(numbers))
        assert set(acknowledged["requests"]) <= set(numbers)
        for request_id in pending:  # decided once or not at all
            decisions = db.scalar(select(func.count()).select_from(SharingStep).where(
                SharingStep.request_id == request_id, SharingStep.action == "provider_decided"))
            if request_id in acknowledged["decisions"]:
                assert decisions == 1, request_id
                assert db.get(SharingRequest, request_id).status != "provider"
            else:
                assert decisions <= 1, request_id
        assert audit.verify(db).ok
