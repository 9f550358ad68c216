"""Subscription (webhook) delivery with the server killed by SIGKILL while it is calling the receiver.

What the protocol promises (see the subscription API): **at least once, in feed order**. A batch
is only counted as delivered when the receiver's 2xx is recorded; a batch whose call was cut by
the kill is sent again by the restarted server (once the dead process's lease on the
subscription, 4 × the delivery timeout + a margin, 30 s by default, has run out). So a receiver may see a change twice
— then with the same ``event_id`` and ``position`` — and de-duplicates by them; it never misses one.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from sqlalchemy import func, select

from tongban import demo
from tongban.core import events
from tongban.core.events import OutboxEvent
from helpers import register_person

from .conftest import START_TIMEOUT_S, Server
from .test_kill import REQUEST_TIMEOUT_S, _until

CUT_AT = 3  # the receiver's third batch is the one the kill cuts
AFTER_RESTART = 5  # changes written after the restart: they flow too
LEASE_S = 4 * 1 + 2  # the dead process's claim on the subscription: a delivery timeout of 1 s, a margin of 2 s
PERSONS = f"{events.SUBJECT_PREFIX}.registry.persons"


class CuttingReceiver:
    """A subscriber's HTTP endpoint that keeps every batch it is sent (as a real one stores before it
    answers) and holds its answer to the ``CUT_AT``-th batch until the test has killed the sender."""

    def __init__(self) -> None:
        self.batches: list[dict] = []
        self.cut, self.release = threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.batches.append(body)
                if len(receiver.batches) == CUT_AT:
                    receiver.cut.set()
                    receiver.release.wait(START_TIMEOUT_S)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is dead: it never learns this batch arrived
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def changes(self) -> list[dict]:
        return [change for batch in list(self.batches) for change in batch["changes"]]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_sigkill_mid_delivery_loses_no_change_and_repeats_only_with_the_same_id(fresh_database):
    receiver = CuttingReceiver()
    server = Server(fresh_database.settings, TONGBAN_EXCHANGE_CALLBACK_HOSTS="127.0.0.1",
                    TONGBAN_EXCHANGE_DELIVERY_TIMEOUT_S="1", TONGBAN_EXCHANGE_LEASE_MARGIN_S=str(LEASE_S - 4))
    server.start()
    acknowledged: list[str] = []
    try:
        steward = server.token("steward", demo.DEMO_PASSWORD)
        system = httpx.post(f"{server.url}/api/v1/auth/token", timeout=REQUEST_TIMEOUT_S, data={
            "grant_type": "client_credentials", "client_id": demo.CLIENT_ID, "client_secret": demo.DEMO_CLIENT_SECRET})
        created = httpx.post(f"{server.url}/api/v1/exchange/subscriptions", timeout=REQUEST_TIMEOUT_S,
                             headers={"Authorization": f"Bearer {system.json()['access_token']}"},
                             json={"resource": "persons", "callback_url": receiver.url, "items": ["id_number", "name"],
                                   "purpose": "人口管理系统同步姓名变化"})
        assert created.status_code == 201, created.text
        subscription, start = created.json()["id"], created.json()["cursor"]

        def write() -> None:  # registry changes, one after the other, until the server is gone
            with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http:
                while True:
                    try:
                        acknowledged.append(register_person(http, steward, name="推送中断测试"))
                    except httpx.TransportError:
                        return

        writer = threading.Thread(target=write)
        writer.start()
        assert receiver.cut.wait(START_TIMEOUT_S), "no third batch was sent"
        server.kill()  # while the receiver holds its answer: the call is in flight
        receiver.release.set()
        writer.join(REQUEST_TIMEOUT_S * 2)
        assert not writer.is_alive(), "a client hung"
        assert len(acknowledged) >= CUT_AT

        server.start()
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http:
            acknowledged += [register_person(http, steward, name="重启后变更") for _ in range(AFTER_RESTART)]
        sessions = fresh_database.sessionmaker()

        def committed() -> dict[str, tuple]:
            with sessions() as db:
                return {e.event_id: (e.position, e.record_key) for e in db.scalars(
                    select(OutboxEvent).where(OutboxEvent.subject == PERSONS, OutboxEvent.position > start))}

        def unpublished() -> int:
            with sessions() as db:
                return db.scalar(select(func.count()).select_from(OutboxEvent).where(
                    OutboxEvent.subject == PERSONS, OutboxEvent.position.is_(None)))

        # Every write is done: once the relay has placed them all in the feed, the feed is final.
        # Bounded by the dead process's lease plus the time to start again and send.
        _until(lambda: unpublished() == 0 and set(committed()) <= {c["event_id"] for c in receiver.changes()},
               f"every change to reach the receiver (the lease is {LEASE_S} s)")
    finally:
        server.stop()
        receiver.close()

    received, events_in_db = receiver.changes(), committed()
    assert {key for _, key in events_in_db.values()} >= set(acknowledged)  # every 2xx write is a change
    seen: dict[str, list[tuple]] = defaultdict(list)
    for change in received:
        seen[change["event_id"]].append((change["position"], change["key"], change["version"]))
    # None lost; a repeat is the same change (same id, same position): the receiver de-duplicates by id.
    assert set(seen) == set(events_in_db)
    for event_id, copies in seen.items():
        assert len(set(copies)) == 1, (event_id, copies)
        assert copies[0][:2] == events_in_db[event_id], event_id
    # The batch cut by the kill was sent again, with its changes' ids, and the order held.
    cut = [c["event_id"] for c in receiver.batches[CUT_AT - 1]["changes"]]
    assert cut and all(len(seen[event_id]) >= 2 for event_id in cut)
    first_seen = list(dict.fromkeys(c["event_id"] for c in received))
    assert [seen[e][0][0] for e in first_seen] == sorted(seen[e][0][0] for e in first_seen)
    assert all(batch["subscription"] == subscription for batch in receiver.batches)
