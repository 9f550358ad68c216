"""A document as the API and the pages show it: what the public may see of it, and what its
department's staff see besides."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.core.auth import Principal
from tongban.disclosure.documents import document_url, is_staff_of, publish_due_on
from tongban.disclosure.models import DisclosureAttachment, DisclosureDocument, DisclosureVersion
from tongban.disclosure.schemas import (
    ATTACHMENT_KIND_LABELS, GENRE_LABELS, OPENNESS_LABELS, STATUS_LABELS, THEME_LABELS, VALIDITY_LABELS,
    VERSION_ACTION_LABELS, AttachmentRead, DocumentRead, DocumentSummary, Openness, VersionRead,
)


def attachment_url(document: DisclosureDocument, attachment: DisclosureAttachment) -> str:
    return f"{document_url(document.index_number)}/attachments/{attachment.id}"


def attachment_read(document: DisclosureDocument, a: DisclosureAttachment) -> AttachmentRead:
    return AttachmentRead(id=a.id, filename=a.filename, kind=a.kind, kind_label=ATTACHMENT_KIND_LABELS[a.kind],
                          bytes=a.bytes, sha256=a.sha256, url=attachment_url(document, a))


def full_text_public(document: DisclosureDocument) -> bool:
    """The text and attachments of a 主动公开 document are public; of a 依申请公开 one, only the
    catalog entry (the text is given on request)."""
    return document.openness == Openness.PROACTIVE


def document_read(db: Session, document: DisclosureDocument, principal: Principal | None) -> DocumentRead:
    staff = is_staff_of(principal, document.department_id)
    shows_text = staff or full_text_public(document)
    return DocumentRead(
        index_number=document.index_number, title=document.title, document_number=document.document_number,
        department_code=document.department.code, department_name=document.department.name,
        issued_on=document.issued_on, published_on=document.published_on, theme=document.theme,
        theme_label=THEME_LABELS[document.theme], genre=document.genre, genre_label=GENRE_LABELS[document.genre],
        openness=document.openness, openness_label=OPENNESS_LABELS[document.openness],
        withheld_ground=document.withheld_ground, validity=document.validity,
        validity_label=VALIDITY_LABELS[document.validity],
        replaced_by=document.replaced_by.index_number if document.replaced_by else None,
        status=document.status, status_label=STATUS_LABELS[document.status],
        body=document.body if shows_text else None,
        attachments=[attachment_read(document, a) for a in document.attachments] if shows_text else [],
        url=document_url(document.index_number),
        drafted_by=document.drafted_by_name if staff else None,
        reviewed_by=document.reviewed_by_name if staff else None,
        review_ground=document.review_ground if staff else None,
        publish_due_on=publish_due_on(db, document) if staff else None)


def summary(document: DisclosureDocument) -> DocumentSummary:
    return DocumentSummary(
        index_number=document.index_number, title=document.title, document_number=document.document_number,
        department_name=document.department.name, issued_on=document.issued_on, published_on=document.published_on,
        theme_label=THEME_LABELS[document.theme], genre_label=GENRE_LABELS[document.genre],
        validity_label=VALIDITY_LABELS[document.validity], status_label=STATUS_LABELS[document.status],
        url=document_url(document.index_number))


def version_read(version: DisclosureVersion) -> VersionRead:
    return VersionRead(version=version.version, action=version.action,
                       action_label=VERSION_ACTION_LABELS.get(version.action, version.action),
                       actor_name=version.actor_name, note=version.note, at=version.at)
