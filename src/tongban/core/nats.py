"""NATS JetStream transport for the outbox, and a durable consumer for subscribers.

JetStream keeps the events on disk; the ``Nats-Msg-Id`` header is the event id, so a
re-published event inside the stream's duplicate window is stored once. Consumers use a
durable pull consumer and ack each event after handling it: a consumer that restarts
resumes where it stopped, and anything it did not ack is delivered again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

STREAM = "TONGBAN"


class _Loop:
    """A private event loop in a thread, so synchronous code can use the asyncio client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


async def ensure_stream(js, stream: str, subjects: list[str]) -> None:
    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(name=stream, subjects=subjects, duplicate_window=600.0))


class NatsTransport:
    def __init__(self, url: str, *, stream: str = STREAM, prefix: str = "tongban") -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.subjects = [f"{prefix}.>"]
        self._loop = _Loop()
        self._nc = None
        self._js = None

    async def _connect(self):
        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=3)
            self._js = self._nc.jetstream()
            await ensure_stream(self._js, self.stream, self.subjects)
        return self._js

    async def _publish_all(self, events: list[dict[str, Any]]) -> None:
        js = await self._connect()
        # One at a time, each acknowledged by the stream before the next: order is kept.
        for event in events:
            subject = self.prefix + event["subject"][event["subject"].index("."):]
            await js.publish(subject, json.dumps(event, ensure_ascii=False).encode(),
                             headers={"Nats-Msg-Id": event["event_id"]}, timeout=10)

    def deliver(self, events: list[dict[str, Any]]) -> None:
        self._loop.run(self._publish_all(events), timeout=120)

    def close(self) -> None:
        _close(self._loop, self._nc, drain=True)


def _close(loop: _Loop, connection, *, drain: bool) -> None:
    """Close a client (draining what it still has to send) and stop its loop."""
    async def close_connection():
        if connection is not None and not connection.is_closed:
            await (connection.drain() if drain else connection.close())

    try:
        loop.run(close_connection(), timeout=10)
    finally:
        loop.close()


class DurableConsumer:
    """``fetch()`` the next events for a named subscriber; ``ack`` those handled."""

    def __init__(self, url: str, durable: str, *, stream: str = STREAM, prefix: str = "tongban",
                 filter_subject: str | None = None, ack_wait: float = 30.0, max_ack_pending: int = 1) -> None:
        self.url = url
        self.durable = durable
        self.prefix = prefix
        self.filter_subject = filter_subject or f"{prefix}.>"
        self.stream = stream
        self.ack_wait = ack_wait
        # One unacknowledged event at a time keeps delivery in stream order, redeliveries too;
        # a subscriber that handles events idempotently by version may allow more for speed.
        self.max_ack_pending = max_ack_pending
        self._loop = _Loop()
        self._nc: Client | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._loop.run(self._connect())

    async def _connect(self) -> None:
        self._nc = nc = await nats.connect(self.url, connect_timeout=5)
        js = nc.jetstream()
        await ensure_stream(js, self.stream, [f"{self.prefix}.>"])
        config = ConsumerConfig(durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait, max_ack_pending=self.max_ack_pending,
                                filter_subject=self.filter_subject)
        self._sub = await js.pull_subscribe(self.filter_subject, durable=self.durable, stream=self.stream, config=config)

    async def _fetch(self, batch: int, timeout: float):
        if self._sub is None:  # connected in __init__: never None after it
            raise RuntimeError("the consumer is not connected")
        try:
            return await self._sub.fetch(batch, timeout=timeout)
        except nats.errors.TimeoutError:
            return []

    def fetch(self, batch: int = 100, timeout: float = 1.0) -> list[tuple[dict[str, Any], Callable[[], None]]]:
        """Events with their ack callbacks, oldest first (at most ``max_ack_pending`` at a time:
        a fetch waiting for more than may be pending would let the first ones time out)."""
        batch = min(batch, self.max_ack_pending)
        messages = self._loop.run(self._fetch(batch, timeout), timeout=timeout + 30)
        return [(json.loads(m.data), self._acker(m)) for m in messages]

    def _acker(self, message) -> Callable[[], None]:
        return lambda: self._loop.run(message.ack())

    def close(self) -> None:
        _close(self._loop, self._nc, drain=False)
