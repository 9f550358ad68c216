"""NATS down: the outbox holds every event while the broker is away and the relay, which keeps
running, delivers them in order when it returns. The broker is the test's own ``nats-server -js``
with a store directory that survives its restart."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tongban.core.db.session import session_scope
from tongban.core.events import OutboxEvent, OutboxRelay
from tongban.org import service as org
from tongban.registry import service
from tongban.registry.schemas import PERSONS
from helpers import fresh_resident_id

from .conftest import START_TIMEOUT_S, free_port, missing_binaries

NATS_SERVER = Path(shutil.which("nats-server") or "/usr/sbin/nats-server")


class Steward:
    actor_type, actor_id, actor_name, department_code = "user", "t", "测试管理员", "PD-GA"


class Broker:
    def __init__(self) -> None:
        self.store = Path(tempfile.mkdtemp(prefix="tongban-nats-"))
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import socket

        self.process = subprocess.Popen([str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                         "-sd", str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # a starting process: there is no clock to set
        raise AssertionError("nats-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)


@pytest.fixture
def broker():
    missing_binaries(NATS_SERVER)
    own = Broker()
    own.start()
    yield own
    own.remove()


def _write(sessions, number: str, **values) -> None:
    with session_scope(sessions) as db:
        department = org.get_by_duty(db, "public_security")
        parsed = service.parse_values(PERSONS, {"id_number": number, **values} if "name" in values else values)
        service.write(db, registry=PERSONS, key=number, values=parsed, department=department, actor=Steward(),
                      reason="测试")


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.05)  # another thread's progress, not a clock


def test_the_outbox_holds_events_while_nats_is_down_and_delivers_them_in_order(fresh_database, broker, caplog):
    from tongban.core.nats import DurableConsumer, NatsTransport

    prefix = f"t{uuid.uuid4().hex[:10]}"
    stream = prefix.upper()
    sessions = fresh_database.sessionmaker()

    def unpublished(numbers) -> int:
        with sessions() as db:
            return len(db.scalars(select(OutboxEvent.id).where(OutboxEvent.record_key.in_(numbers),
                                                               OutboxEvent.published_at.is_(None))).all())

    before = [fresh_resident_id() for _ in range(2)]
    for number in before:
        _write(sessions, number, name="断网前", residence_status="户籍")
    relay = OutboxRelay(sessions, NatsTransport(broker.url, stream=stream, prefix=prefix), batch=3)
    relay.start(poll_seconds=0.1)
    try:
        _until(lambda: unpublished(before) == 0, "the first events to be published")

        broker.stop()
        caplog.set_level(logging.ERROR, logger="tongban.events")
        during = [fresh_resident_id() for _ in range(3)]
        for round_ in range(3):  # three versions of each record, interleaved
            for number in during:
                if round_ == 0:
                    _write(sessions, number, name="断网中", residence_status="户籍")
                else:
                    _write(sessions, number, residence_status=("居住证", "来沪人员")[round_ - 1])
            relay.notify()
        _until(lambda: any("outbox relay failed" in r.getMessage() for r in caplog.records), "a failed delivery")
        assert unpublished(during) == 9  # held, none lost, none marked published

        broker.start()  # the same store: what was delivered before is still there
        _until(lambda: unpublished(during) == 0, "delivery after the broker returned")
    finally:
        relay.stop()

    consumer = DurableConsumer(broker.url, "outage-test", stream=stream, prefix=prefix, max_ack_pending=100)
    received = []
    try:
        while messages := consumer.fetch(batch=100, timeout=2):
            for event, ack in messages:
                received.append(event)
                ack()
    finally:
        consumer.close()
    ours = [e for e in received if e["key"] in before + during]
    assert len(ours) == 2 + 9, [e["key"] for e in ours]
    assert len({e["event_id"] for e in received}) == len(received)  # no event twice in the stream
    sequences = [e["sequence"] for e in received]
    assert sequences == sorted(sequences)
    with sessions() as db:  # the stream's order is the outbox's order
        outbox_order = [event_id for (event_id,) in db.execute(
            select(OutboxEvent.event_id).where(OutboxEvent.record_key.in_(before + during)).order_by(OutboxEvent.id))]
    assert [e["event_id"] for e in ours] == outbox_order
    for number in during:
        assert [e["data"]["version"] for e in ours if e["key"] == number] == [1, 2, 3]
