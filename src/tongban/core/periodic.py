"""The one background loop: work the platform does by itself (deadline scans, the outbox relay,
the exchange's usage log, subscription deliveries, import jobs), each in a daemon thread of its own.

``work`` is called every ``seconds`` and at once when someone ``wake``s the loop (new work was
queued); ``stop`` ends the loop after one last call, so whatever was queued before it is done
(a usage log flushed, an outbox drained). A failure is logged and retried at the next tick: one bad
run never stops the schedule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("tongban.periodic")


class Periodic:
    def __init__(self, name: str, seconds: float, work: Callable[[], object], *, final_run: bool = False) -> None:
        self.name, self.seconds, self.work, self.final_run = name, seconds, work, final_run
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the work now rather than at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run_once(self) -> None:
        try:
            self.work()
        except Exception:  # logged, retried next tick
            log.exception("periodic job %s failed", self.name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._run_once()
            self._wake.wait(self.seconds)
        if self.final_run:
            self._run_once()
