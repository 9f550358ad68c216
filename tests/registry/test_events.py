"""Change events: the outbox guarantees, and delivery through a real NATS JetStream server."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from tongban.core import events
from tongban.core.db.session import session_scope
from tongban.core.events import InProcessBus, OutboxEvent, OutboxRelay
from tongban.org import service as org
from tongban.registry import service
from tongban.registry.schemas import PERSONS
from helpers import fresh_resident_id


class Steward:
    actor_type, actor_id, actor_name, department_code = "user", "t", "测试管理员", "PD-GA"


def _write(db, number: str, **values):
    department = org.get_by_duty(db, "public_security" if "marital_status" not in values else "civil_affairs")
    parsed = service.parse_values(PERSONS, {"id_number": number, **values} if "name" in values else values)
    return service.write(db, registry=PERSONS, key=number, values=parsed, department=department, actor=Steward(),
                         reason="测试")


def _events_for(sessions, number: str) -> list[OutboxEvent]:
    with sessions() as db:
        return list(db.scalars(select(OutboxEvent).where(OutboxEvent.record_key == number).order_by(OutboxEvent.id)))


def test_no_event_for_a_rolled_back_write(fresh_database):
    sessions = fresh_database.sessionmaker()
    number = fresh_resident_id()
    with sessions() as db:
        _write(db, number, name="回滚者", residence_status="户籍")
        db.flush()
        assert db.scalar(select(func.count()).where(OutboxEvent.record_key == number)) == 1  # visible inside
        db.rollback()
    assert _events_for(sessions, number) == []


def test_a_change_only_write_creates_nothing_where_there_is_no_record(fresh_database):
    sessions = fresh_database.sessionmaker()
    number = fresh_resident_id()
    with session_scope(sessions) as db:
        department = org.get_by_duty(db, "public_security")
        values = service.parse_values(PERSONS, {"name": "不存在"})
        assert service.write(db, registry=PERSONS, key=number, values=values, department=department, actor=Steward(),
                             reason="测试", create=False) is None
        assert service.current_row(db, PERSONS, number) is None
    assert _events_for(sessions, number) == []
    with session_scope(sessions) as db:
        _write(db, number, name="存在者", residence_status="户籍")
    with session_scope(sessions) as db:
        result = service.write(db, registry=PERSONS, key=number, values=service.parse_values(PERSONS, {"name": "改名者"}),
                               department=org.get_by_duty(db, "public_security"), actor=Steward(), reason="测试", create=False)
        assert (result.version, result.changed_fields) == (2, ["name"])


def test_a_failed_transaction_leaves_no_event(fresh_database):
    sessions = fresh_database.sessionmaker()
    number = fresh_resident_id()
    with pytest.raises(RuntimeError):
        with session_scope(sessions) as db:
            _write(db, number, name="半途而废", residence_status="户籍")
            raise RuntimeError("crash before commit")
    assert _events_for(sessions, number) == []


def test_every_committed_change_has_its_event_in_order(fresh_database):
    sessions = fresh_database.sessionmaker()
    number = fresh_resident_id()
    with session_scope(sessions) as db:
        _write(db, number, name="顺序", residence_status="户籍")
    for status in ("居住证", "来沪人员", "户籍"):
        with session_scope(sessions) as db:
            _write(db, number, residence_status=status)
    with session_scope(sessions) as db:
        _write(db, number, marital_status="已婚")
    rows = _events_for(sessions, number)
    assert [r.event_type for r in rows] == ["PersonRegistered"] + ["PersonChanged"] * 4
    envelopes = [events.envelope(r) for r in rows]
    assert [e["data"]["version"] for e in envelopes] == [1, 2, 3, 4, 5]
    assert len({e["event_id"] for e in envelopes}) == 5


def test_relay_delivers_at_least_once_in_order_and_retries_after_a_failure(fresh_database):
    sessions = fresh_database.sessionmaker()
    numbers = [fresh_resident_id() for _ in range(3)]
    for number in numbers:
        with session_scope(sessions) as db:
            _write(db, number, name="投递", residence_status="户籍")
        with session_scope(sessions) as db:
            _write(db, number, residence_status="居住证")

    received, fail = [], {"left": 1}

    def handler(event):
        if fail["left"]:
            fail["left"] -= 1
            raise ConnectionError("subscriber down")
        received.append(event)

    bus = InProcessBus()
    bus.subscribe("tongban.registry.persons", handler)
    relay = OutboxRelay(sessions, bus, batch=4)
    with pytest.raises(ConnectionError):
        relay.run_once()
    with sessions() as db:  # nothing marked published after the failure
        assert db.scalar(select(func.count()).where(OutboxEvent.published_at.is_not(None))) == 0
    assert relay.drain() >= 6
    ours = [e for e in received if e["key"] in numbers]
    assert len(ours) == 6
    for number in numbers:
        assert [e["data"]["version"] for e in ours if e["key"] == number] == [1, 2]
    sequences = [e["sequence"] for e in received]
    assert sequences == sorted(sequences)
    assert relay.drain() == 0  # all published, nothing twice


def test_concurrent_writers_never_lose_an_update(fresh_database):
    sessions = fresh_database.sessionmaker()
    number = fresh_resident_id()
    with session_scope(sessions) as db:
        _write(db, number, name="并发", residence_status="户籍")
    errors = []

    def writer(field: str, values: tuple[str, ...]) -> None:
        try:
            for value in values:
                with session_scope(sessions) as db:
                    _write(db, number, **{field: value})
        except Exception as error:
            errors.append(error)

    # 民政 and 公安 change the same record at the same time, each its own field.
    threads = [threading.Thread(target=writer, args=("marital_status", ("已婚", "离婚", "已婚", "丧偶", "已婚"))),
               threading.Thread(target=writer, args=("residence_status", ("居住证", "户籍", "来沪人员", "户籍", "居住证")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as db:
        row = service.current_row(db, PERSONS, number)
    assert (row["marital_status"], row["residence_status"]) == ("已婚", "居住证")
    assert row["version"] == 11
    assert [events.envelope(r)["data"]["version"] for r in _events_for(sessions, number)] == list(range(1, 12))


def test_delivery_through_nats_jetstream_with_a_consumer_restart(fresh_database, nats_url):
    from tongban.core.nats import DurableConsumer, NatsTransport

    prefix = f"t{uuid.uuid4().hex[:10]}"
    stream = prefix.upper()
    sessions = fresh_database.sessionmaker()
    # Other tests' events are in this fresh database too; publish everything, check ours.
    numbers = [fresh_resident_id() for _ in range(3)]
    for round_ in range(4):
        for number in numbers:
            with session_scope(sessions) as db:
                if round_ == 0:
                    _write(db, number, name="订阅", residence_status="户籍")
                else:
                    _write(db, number, residence_status=("居住证", "来沪人员", "户籍")[round_ - 1])

    transport = NatsTransport(nats_url, stream=stream, prefix=prefix)
    relay = OutboxRelay(sessions, transport, batch=5)
    try:
        published = relay.drain()
        assert published >= 12
        # A relay that crashed after publishing but before marking publishes again: JetStream
        # keeps one copy per event id.
        with sessions() as db:
            again = [events.envelope(r) for r in db.scalars(select(OutboxEvent).order_by(OutboxEvent.id).limit(3))]
        transport.deliver(again)
    finally:
        relay.stop()

    first = DurableConsumer(nats_url, "registry-test", stream=stream, prefix=prefix, ack_wait=1.0)
    handled = []
    for _ in range(4):  # handle four events, acking each
        [(event, ack)] = first.fetch(batch=1, timeout=5)
        handled.append(event)
        ack()
    [(crashed_on, _unacked)] = first.fetch(batch=1, timeout=5)  # then crash before acking the fifth
    first.close()

    second = DurableConsumer(nats_url, "registry-test", stream=stream, prefix=prefix, ack_wait=1.0)
    delivered = []
    while messages := second.fetch(batch=50, timeout=3):
        for event, ack in messages:
            delivered.append(event)
            ack()
    second.close()
    assert delivered[0]["event_id"] == crashed_on["event_id"]  # the unacked one comes again, first
    everything = handled + delivered
    assert len({e["event_id"] for e in everything}) == published == len(everything)  # no duplicate stored
    sequences = [e["sequence"] for e in everything]
    assert sequences == sorted(sequences)  # stream order, hence per-record order
    for number in numbers:
        versions = [e["data"]["version"] for e in everything if e["key"] == number]
        assert versions == [1, 2, 3, 4]
