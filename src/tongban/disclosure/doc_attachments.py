"""A document's attachments: the declared type (the file name's suffix) must be what the file's
own bytes are, within the upload size limit and past the virus scanner; their text is extracted
for the one-stop search (PDF with pypdf, XLSX with openpyxl, XLS with xlrd, DOCX and OFD from their
zipped XML)."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core.uploads import check_size, keep

MEDIA_TYPES = {"pdf": "application/pdf",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ofd": "application/ofd",
               "xls": "application/vnd.ms-excel"}
KIND_NAMES = {"pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "xls": "XLS", "ofd": "OFD"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97–2003 (and Word 97–2003) compound files
TEXT_LIMIT = 500_000  # characters of one attachment kept for search
_MEMBER_LIMIT = 50 * 1024 * 1024  # an XML part bigger than this unpacked is not read (a zip bomb)


def declared_kind(filename: str) -> str:
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix not in MEDIA_TYPES:
        raise Problem("attachment-refused", "附件只接受 PDF、DOCX、XLSX、XLS、OFD 格式（以文件扩展名声明，并按文件内容核对）")
    return suffix


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_workbook(data: bytes) -> bool:
    import xlrd

    try:
        xlrd.open_workbook(file_contents=data, on_demand=True).release_resources()
    except Exception:  # xlrd raises its own errors and struct/index errors on a damaged file
        return False
    return True


def sniffed_kind(data: bytes) -> str | None:
    """What the bytes are: a PDF by its header, the zipped formats by the parts inside them, an
    Excel 97–2003 workbook by xlrd opening it (a Word 97–2003 file is a compound file too)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_OLE_MAGIC):
        return "xls" if _is_workbook(data) else None
    if not data.startswith(b"PK\x03\x04"):
        return None
    names = _zip_names(data)
    if names is None:
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return "docx"
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return "xlsx"
    return None


def check(settings: Settings, filename: str, data: bytes) -> str:
    """The checks an attachment passes before anything is kept; its kind."""
    kind = declared_kind(filename)
    check_size(settings, data)
    found = sniffed_kind(data)
    if found != kind:
        what = KIND_NAMES.get(found or "", "无法识别的格式")
        raise Problem("attachment-refused", f"文件内容与声明的类型不符：扩展名为 .{kind}，内容是{what}",
                      errors=[{"field": "file", "code": "type_mismatch", "message": f".{kind} ≠ {what}"}])
    return kind


def _member_xml_text(archive: zipfile.ZipFile, name: str) -> str:
    info = archive.getinfo(name)
    if info.file_size > _MEMBER_LIMIT:
        return ""
    try:
        root = ElementTree.fromstring(archive.read(name))
    except ElementTree.ParseError:
        return ""
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml") if archive.getinfo("word/document.xml").file_size <= _MEMBER_LIMIT else b""
    if not xml:
        return ""
    # Paragraphs (w:p) as lines, their runs' text (w:t) joined.
    root = ElementTree.fromstring(xml)
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    lines = ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p")]
    return "\n".join(line for line in lines if line.strip())


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    for sheet in workbook.worksheets:
        lines.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells = [str(v) for v in row if v is not None and str(v).strip()]
            if cells:
                lines.append(" ".join(cells))
    workbook.close()
    return "\n".join(lines)


def _xls_text(data: bytes) -> str:
    import xlrd

    workbook = xlrd.open_workbook(file_contents=data)
    lines: list[str] = []
    for sheet in workbook.sheets():
        lines.append(sheet.name)
        for row in range(sheet.nrows):
            # Excel 97–2003 keeps every number as a float: 880 is shown as 880, not 880.0.
            values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in sheet.row_values(row)]
            cells = [str(v) for v in values if v is not None and str(v).strip()]
            if cells:
                lines.append(" ".join(cells))
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join((page.extract_text() or "") for page in reader.pages)


def _ofd_text(data: bytes) -> str:
    """OFD keeps each page's text in TextCode elements of Doc_N/Pages/Page_N/Content.xml."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pages = sorted((n for n in archive.namelist() if re.search(r"Pages/Page_?\d+/Content\.xml$", n)),
                       key=lambda n: [int(x) for x in re.findall(r"\d+", n)])
        return "\n".join(_member_xml_text(archive, name) for name in pages)


_EXTRACTORS = {"pdf": _pdf_text, "docx": _docx_text, "xlsx": _xlsx_text, "xls": _xls_text, "ofd": _ofd_text}


def extract_text(kind: str, data: bytes) -> str:
    """The attachment's text for search; a file whose text cannot be read is kept without it (a
    scanned PDF has none), never refused for that."""
    try:
        text = _EXTRACTORS[kind](data)
    except Exception:  # a damaged or unusual file: the document is still published with it
        return ""
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()[:TEXT_LIMIT]


def folder(settings: Settings) -> Path:
    return settings.data_dir / "disclosure"


def store(settings: Settings, filename: str, data: bytes) -> dict:
    """Check and keep one attachment; what the document records of it."""
    kind = check(settings, filename, data)
    path = keep(settings, folder(settings), kind, data)
    return {"filename": Path(filename).name[:200], "stored_as": path.name, "kind": kind, "media_type": MEDIA_TYPES[kind],
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "text": extract_text(kind, data)}
