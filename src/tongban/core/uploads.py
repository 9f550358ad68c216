"""What every uploaded file passes before it is kept, whatever the domain: not empty, within the
size limit of the settings, and the configured virus scanner's consent. What a file may *be* is
each domain's own list (its formats, recognised by the file's own bytes)."""

from __future__ import annotations

import shlex
import subprocess
import uuid
from pathlib import Path

from tongban.core.config import Settings
from tongban.core.errors import Problem

SCAN_TIMEOUT_S = 60


def check_size(settings: Settings, data: bytes) -> None:
    """An empty file, or one over ``attachment_max_mb``, is refused before anything looks at it."""
    if not data:
        raise Problem("attachment-refused", "上传的文件是空的")
    if len(data) > settings.attachment_max_mb * 1024 * 1024:
        raise Problem("attachment-refused", f"文件超过 {settings.attachment_max_mb} MB，请压缩或分页上传")


def virus_scan(settings: Settings, path: Path) -> None:
    """The virus-scan hook: the configured command with the file's path; any exit but 0 refuses the file."""
    if not settings.virus_scan_command:
        return
    command = [part.replace("{path}", str(path)) for part in shlex.split(settings.virus_scan_command)]
    try:
        result = subprocess.run(command, capture_output=True, timeout=SCAN_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        raise Problem("service-unavailable", "病毒扫描服务暂不可用，请稍后再上传") from None
    if result.returncode != 0:
        raise Problem("attachment-refused", "文件未通过病毒扫描，已拒收")


def keep(settings: Settings, folder: Path, suffix: str, data: bytes) -> Path:
    """Write a checked file under ``folder`` with a random name, then ask the virus-scan hook; a
    file it refuses is removed before the refusal is raised."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.{suffix}"
    path.write_bytes(data)
    try:
        virus_scan(settings, path)
    except Problem:
        path.unlink(missing_ok=True)
        raise
    return path
