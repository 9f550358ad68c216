"""Work the platform does by itself on a schedule (deadline scans), in a daemon thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("tongban.periodic")


class Periodic:
    """Calls ``work`` every ``seconds`` (first call at start) until stopped; a failure is logged
    and retried at the next tick, so one bad run never stops the schedule."""

    def __init__(self, name: str, seconds: float, work: Callable[[], object]) -> None:
        self.name, self.seconds, self.work = name, seconds, work
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.work()
                except Exception:  # logged, retried next tick
                    log.exception("periodic job %s failed", self.name)
                self._stop.wait(self.seconds)

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
