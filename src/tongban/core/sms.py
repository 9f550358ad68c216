"""Text messages (短信) to a phone: one-time codes for real-name binding and password reset.

A pluggable sender, chosen by ``settings.sms_sender``. ``file`` appends each message as a line of
JSON to ``<data_dir>/sms-outbox.jsonl``: development and the tests read codes from there. A
production gateway is another class with the same ``send``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol

from tongban.core.config import Settings
from tongban.core.database import utcnow

OUTBOX_FILE = "sms-outbox.jsonl"


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class FileSmsSender:
    """Appends ``{"phone", "message", "sent_at"}`` lines to a file (development and tests)."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, phone: str, message: str) -> None:
        line = json.dumps({"phone": phone, "message": message, "sent_at": utcnow().isoformat()}, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def outbox_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / OUTBOX_FILE


def sender_for(settings: Settings) -> SmsSender:
    if settings.sms_sender == "file":
        return FileSmsSender(outbox_path(settings))
    raise ValueError(f"unknown TONGBAN_SMS_SENDER {settings.sms_sender!r}")
