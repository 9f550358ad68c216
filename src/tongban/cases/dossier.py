"""The case file as staff read it: the form under its own Chinese labels, the uploaded files (each
download permission-checked and audited), and the item's material list a supplement names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.cases.applications import _subject_of
from tongban.cases.models import Application
from tongban.cases.reading import may_read
from tongban.core import audit
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.idnumbers import mask_resident_id
from tongban.items import service as items

# Fields a step of the case adds to the form after submission (the new enterprise's code).
ADDED_FIELDS = {"credit_code": "统一社会信用代码（登记后）"}


@dataclass(frozen=True)
class FormEntry:
    label: str
    value: str


@dataclass(frozen=True)
class MaterialChoice:
    item_name: str
    name: str


def form_entries(db: Session, application: Application) -> list[FormEntry]:
    """The application's form in the order of its definition, each value under its label; a value
    the definition no longer names keeps a Chinese label (never its key)."""
    form = json.loads(application.form)
    fields = _subject_of(db, application).fields
    # A resident ID number is shown masked: the clerk checks the card itself; the documents print it.
    entries = [FormEntry(f.label, mask_resident_id(str(form[f.key])) if f.prefill == "persons.id_number" else str(form[f.key]))
               for f in fields if form.get(f.key) not in (None, "")]
    known = {f.key for f in fields}
    entries += [FormEntry(ADDED_FIELDS.get(key, "其他填报信息"), str(value)) for key, value in form.items()
                if key not in known and value not in (None, "")]
    return entries


def masked_applicant_id(application: Application) -> str:
    """A person's ID number masked (the page names the person; the receipt prints it in full); a credit code is public."""
    return mask_resident_id(application.applicant_id) if application.applicant_type == "自然人" else application.applicant_id


def material_choices(db: Session, application: Application) -> list[MaterialChoice]:
    """What a supplement may ask for: the items' own material lists (shared-data materials are fetched, not asked)."""
    choices: list[MaterialChoice] = []
    for code in _subject_of(db, application).items:
        document = items.published_document(db, code)
        choices += [MaterialChoice(document.name, m.name) for m in document.materials if m.source != "shared_data"]
    return choices


def read_case_file(db: Session, principal: Principal, application: Application, *, purpose: str) -> None:
    """A staff member opens the form and materials (personal data): the read is audited with its purpose."""
    if principal.kind == "staff":
        audit.record(db, actor=principal, action="cases.read", object_type="application", object_id=application.number,
                     purpose=purpose[:500])


def material_file(db: Session, data_dir: Path, principal: Principal, application: Application,
                  file: str) -> tuple[Path, str, str]:
    """(path, the name it was uploaded as, media type) of one uploaded file of the application: for
    its applicant and for staff who may read the case (the window; a department with a task of it);
    a staff read is audited."""
    if not may_read(db, principal, application):
        raise deny(db, principal, slug="department-scope", detail="无权查看该办件的材料", action="cases.attachment.read",
                   object_type="application", object_id=application.number)
    for material in json.loads(application.materials):
        for stored in material.get("files") or []:
            if stored.get("file") == file:
                path = data_dir / "attachments" / application.number / stored["file"]
                if not path.is_file():
                    break
                if principal.kind == "staff":
                    audit.record(db, actor=principal, action="cases.attachment.read", object_type="application",
                                 object_id=application.number, purpose=f"审查办件 {application.number} 的申请材料",
                                 details={"material": material["name"], "sha256": stored.get("sha256")})
                return path, stored.get("filename") or stored["file"], stored.get("media_type") or "application/octet-stream"
    raise Problem("not-found", f"办件 {application.number} 没有这份材料文件")
