"""Text messages (短信) to a phone: one-time codes for real-name binding and password reset.

A pluggable sender, chosen by ``settings.sms_sender``. ``file`` appends each message as a line of
JSON to ``<data_dir>/sms-outbox.jsonl``: development and the tests read codes from there (a
production start refuses it). ``command`` runs the deployment's own program (``sms_command``) with
the phone and the message as its last two arguments, so a gateway needs no code here.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import threading
from pathlib import Path
from typing import Protocol

from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core import clock

log = logging.getLogger(__name__)

OUTBOX_FILE = "sms-outbox.jsonl"


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class FileSmsSender:
    """Appends ``{"phone", "message", "sent_at"}`` lines to a file (development and tests)."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, phone: str, message: str) -> None:
        line = json.dumps({"phone": phone, "message": message, "sent_at": clock.now().isoformat()}, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class CommandSmsSender:
    """Runs ``command + [phone, message]`` directly (never through a shell: the message is data, not
    words to split or expand); exit 0 is sent. Anything else is a 503, so the caller's transaction,
    and the one-time code in it, is rolled back rather than kept for a message never sent."""

    def __init__(self, command: list[str], timeout_s: float) -> None:
        self.command = command
        self.timeout_s = timeout_s

    def send(self, phone: str, message: str) -> None:
        try:
            result = subprocess.run([*self.command, phone, message], capture_output=True, timeout=self.timeout_s,
                                    check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("sms command failed", extra={"error": type(error).__name__})
            raise Problem("service-unavailable", "短信发送服务暂不可用，验证码未发出，请稍后重试。",
                          headers={"Retry-After": "60"}) from None
        if result.returncode != 0:
            # The message (with its code) is not logged: only the exit status and the program's own words.
            log.warning("sms command refused", extra={"exit": result.returncode,
                                                      "stderr": result.stderr.decode(errors="replace")[:200]})
            raise Problem("service-unavailable", "短信发送失败，验证码未发出，请稍后重试。",
                          headers={"Retry-After": "60"})


def outbox_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / OUTBOX_FILE


def sender_for(settings: Settings) -> SmsSender:
    if settings.sms_sender == "file":
        return FileSmsSender(outbox_path(settings))
    if settings.sms_sender == "command":
        return CommandSmsSender(shlex.split(settings.sms_command or ""), settings.sms_command_timeout_s)
    raise ValueError(f"unknown TONGBAN_SMS_SENDER {settings.sms_sender!r}")
