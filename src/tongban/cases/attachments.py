"""Uploaded materials: checked by type (the file's own bytes, not its name), by size, and by the
configured virus scanner before anything is kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core.uploads import check_size, keep

# What a material may be, recognised by its first bytes: scans and photos of documents, PDFs, OFD.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"PK\x03\x04", "application/ofd", "ofd"),  # OFD (GB/T 33190) is a zip; checked further below
)


def _kind(data: bytes) -> tuple[str, str] | None:
    for magic, media_type, suffix in SIGNATURES:
        if data.startswith(magic):
            if suffix == "ofd" and b"OFD.xml" not in data[:4096]:
                return None  # some other zip (a .docx, an archive): not a material format
            return media_type, suffix
    return None


def check(settings: Settings, data: bytes) -> tuple[str, str]:
    """The checks a file passes before anything is kept: not empty, within the size, a material
    format by its own bytes. (media type, suffix). Run on every file of a form before any is kept."""
    check_size(settings, data)
    kind = _kind(data)
    if kind is None:
        raise Problem("attachment-refused", "只接受 PDF、OFD、JPG、PNG 格式的材料（按文件内容识别，不看扩展名）")
    return kind


def store(settings: Settings, application_number: str, filename: str, data: bytes) -> dict:
    """Check and keep one uploaded file; returns what the application records of it."""
    media_type, suffix = check(settings, data)
    path = keep(settings, settings.data_dir / "attachments" / application_number, suffix, data)
    return {"file": path.name, "filename": Path(filename or "").name[:200] or path.name, "media_type": media_type,
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def discard(settings: Settings, application_number: str, stored: list[dict]) -> None:
    """Remove files kept for a form that was then refused as a whole: nothing of it stays."""
    folder = settings.data_dir / "attachments" / application_number
    for entry in stored:
        (folder / entry["file"]).unlink(missing_ok=True)
