"""The proactive-disclosure catalog's documents and their publication: a drafter prepares, a
second person does the 保密审查 (with the ground recorded), a publisher publishes; changes and
withdrawal are versioned and audited. A 主动公开 document is timed from its 成文日期 (20 working
days, a supervised clock). Nothing unpublished is visible outside its department."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

from sqlalchemy import Integer, Select, String, Table, and_, false, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import audit, clock
from tongban.core.auth import Principal, deny
from tongban.core.config import Settings
from tongban.core.db.base import insert_for
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Role, Scope
from tongban.disclosure import doc_attachments, search
from tongban.disclosure.models import (
    DisclosureAttachment, DisclosureDocument, DisclosureSubscription, DisclosureVersion, IndexSequence,
)
from tongban.disclosure.schemas import (
    FIELD_LABELS, GENRE_LABELS, STATUS_LABELS, THEME_LABELS, VALIDITY_LABELS, DocumentChange, DocumentFields, DocumentStatus, Openness,
    ReviewDecision, SubscriptionKind, Validity,
)
from tongban.notifications import service as notifications
from tongban.supervision import service as supervision

PUBLICATION_DAYS = 20  # 主动公开: within 20 working days of 成文日期 (《政府信息公开条例》第二十六条)
STAFF_PERMISSIONS = (Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_REVIEW, Permission.DISCLOSURE_PUBLISH)
_EDITABLE = (DocumentStatus.DRAFT, DocumentStatus.RETURNED)
_SEQUENCES = cast(Table, IndexSequence.__table__)


def document_url(index_number: str) -> str:
    return f"/disclosure/documents/{index_number}"


# ---- 索引号 -------------------------------------------------------------------------------------


def allocate_index_number(db: Session, department_code: str, department_id: int, year: int) -> str:
    """The department's next 索引号 of the year: ``PD-CZ-2026-00012``. The counter row is created
    if missing (a concurrent creation does nothing), then incremented in one UPDATE … RETURNING:
    its row lock orders concurrent drafters on PostgreSQL, the write lock on SQLite."""
    db.execute(insert_for(db, _SEQUENCES).values(department_id=department_id, year=year, last=0)
               .on_conflict_do_nothing())
    last = db.execute(update(_SEQUENCES).where(_SEQUENCES.c.department_id == department_id, _SEQUENCES.c.year == year)
                      .values(last=_SEQUENCES.c.last + 1).returning(_SEQUENCES.c.last)).scalar_one()
    return f"{department_code}-{year}-{last:05d}"


# ---- who sees what ---------------------------------------------------------------------------


def is_staff_of(principal: Principal | None, department_id: int) -> bool:
    """Staff of the document's department who work on disclosure (or hold it platform-wide)."""
    return principal is not None and any(principal.can_for_department(p, department_id) for p in STAFF_PERMISSIONS)


def public_query() -> Select:
    """Published documents: the one condition every public list, page, feed and API applies."""
    return select(DisclosureDocument).where(DisclosureDocument.status == DocumentStatus.PUBLISHED)


def staff_query(principal: Principal) -> Select:
    """The unpublished documents this person may see: their department's (every department's
    for a platform-wide holder), never another's."""
    query = select(DisclosureDocument).where(DisclosureDocument.status != DocumentStatus.PUBLISHED)
    scopes = {principal.scope_for(p) for p in STAFF_PERMISSIONS}
    if Scope.ALL in scopes:
        return query
    if Scope.DEPARTMENT in scopes and principal.department_id is not None:
        return query.where(DisclosureDocument.department_id == principal.department_id)
    return query.where(false())


def find(db: Session, index_number: str) -> DisclosureDocument | None:
    return db.scalar(select(DisclosureDocument).where(DisclosureDocument.index_number == index_number))


def visible_or_404(db: Session, principal: Principal | None, index_number: str) -> DisclosureDocument:
    """A published document to anyone; an unpublished one only to its department's disclosure staff
    (to everyone else it does not exist: not even its 索引号 is confirmed)."""
    document = find(db, index_number)
    if document is None or (document.status != DocumentStatus.PUBLISHED
                            and not is_staff_of(principal, document.department_id)):
        raise Problem("not-found", f"没有索引号为 {index_number} 的公开文件")
    return document


def lock(db: Session, document: DisclosureDocument) -> DisclosureDocument:
    """The row held until commit, refreshed: decisions at once are taken one after the other and
    the later ones see the first's outcome (409), not a stale row."""
    try:
        locked = db.get(DisclosureDocument, document.id, with_for_update={"of": DisclosureDocument},
                        populate_existing=True)
    except StaleDataError:  # changed by someone else since this request read it
        db.rollback()
        raise Problem("disclosure-state", f"文件 {document.index_number} 已被他人处理，请刷新后重试") from None
    assert locked is not None
    return locked


def _require(db: Session, principal: Principal, permission: Permission, document: DisclosureDocument,
             action: str) -> None:
    """The permission within the document's department; a refusal is audited (``deny``)."""
    if not principal.can_for_department(permission, document.department_id):
        raise deny(db, principal, slug="department-scope" if principal.can(permission) else "permission-denied",
                   detail=f"当前账户没有对{document.department.name}文件「{permission.label}」的权限",
                   action=f"disclosure.{action}", object_type="disclosure_document", object_id=document.index_number)


def _state(document: DisclosureDocument, *allowed: DocumentStatus, doing: str) -> None:
    if document.status not in allowed:
        raise Problem("disclosure-state", f"文件 {document.index_number} 当前为「{STATUS_LABELS[document.status]}」，不能{doing}",
                      status_now=document.status)


# ---- versions, clock, audit ------------------------------------------------------------------


def snapshot(document: DisclosureDocument) -> dict[str, Any]:
    return {"title": document.title, "document_number": document.document_number,
            "issued_on": document.issued_on.isoformat(), "theme": document.theme, "genre": document.genre,
            "openness": document.openness, "withheld_ground": document.withheld_ground, "validity": document.validity,
            "replaced_by": document.replaced_by.index_number if document.replaced_by else None,
            "status": document.status, "body": document.body,
            "attachments": [{"filename": a.filename, "sha256": a.sha256} for a in document.attachments]}


def _version(db: Session, document: DisclosureDocument, action: str, actor: Principal | audit.Actor,
             note: str | None = None) -> None:
    if document.id is None:
        db.flush()
    else:
        document.version += 1
    db.add(DisclosureVersion(document_id=document.id, version=document.version, action=action,
                             actor_id=actor.actor_id or actor.actor_name, actor_name=actor.actor_name, note=note,
                             snapshot=json.dumps(snapshot(document), ensure_ascii=False), at=clock.now()))


def _audit(db: Session, document: DisclosureDocument, action: str, actor, **details: Any) -> None:
    audit.record(db, actor=actor, action=f"disclosure.{action}", object_type="disclosure_document",
                 object_id=document.index_number, department_code=document.department.code,
                 details={"title": document.title[:100], "version": document.version, **details})


def _clock_subject(document: DisclosureDocument) -> str:
    # The 成文日期 is part of the subject: a corrected date starts a new clock (the old one is cancelled).
    return f"{document.index_number}@{document.issued_on.isoformat()}"


def _start_clock(db: Session, document: DisclosureDocument, owner: str | None) -> None:
    if document.openness != Openness.PROACTIVE:
        return
    supervision.start_clock(db, kind=supervision.ClockKind.DISCLOSURE_PUBLICATION, subject=_clock_subject(document),
                            title=f"主动公开《{document.title[:80]}》（{document.index_number}）",
                            department_id=document.department_id, limit_days=PUBLICATION_DAYS,
                            started_on=document.issued_on, owner=owner, link=f"/disclosure/manage/{document.index_number}")


def _cancel_clock(db: Session, document: DisclosureDocument) -> None:
    supervision.cancel_clock(db, supervision.ClockKind.DISCLOSURE_PUBLICATION, _clock_subject(document),
                             on=clock.today())


def publication_clock(db: Session, document: DisclosureDocument):
    """The document's publication clock (None unless it is 主动公开)."""
    return supervision.find_clock(db, supervision.ClockKind.DISCLOSURE_PUBLICATION, _clock_subject(document))


def _flush(db: Session, document: DisclosureDocument) -> None:
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Problem("disclosure-state", f"文件 {document.index_number} 已被他人处理，请刷新后重试") from None


# ---- the search hook -------------------------------------------------------------------------


def searchable_text(document: DisclosureDocument) -> str:
    """The full text and the attachments' extracted text."""
    return "\n".join([document.body, *(a.text for a in document.attachments if a.text)])


def searchable(document: DisclosureDocument) -> search.SearchableDocument:
    """What the one-stop search indexes of a published document: the full text and the
    attachments' text of a 主动公开 document; only the catalog fields of a 依申请公开 one."""
    assert document.published_on is not None
    text = searchable_text(document) if document.openness == Openness.PROACTIVE else ""
    return search.SearchableDocument(
        index_number=document.index_number, title=document.title, document_number=document.document_number,
        department_code=document.department.code, department_name=document.department.name,
        issued_on=document.issued_on, published_on=document.published_on, theme=THEME_LABELS[document.theme],
        genre=GENRE_LABELS[document.genre], validity=VALIDITY_LABELS[document.validity], body_text=text,
        url=document_url(document.index_number))


def reindex(db: Session) -> int:
    """The search index again from every published document (a bulk load, a repair), in the
    caller's transaction; returns how many."""
    return search.rebuild(db, (searchable(document) for document in db.scalars(public_query())))


def on_published(db: Session, document: DisclosureDocument) -> None:
    """In the publishing transaction, whenever a document is published or changed while published:
    findable (as it now reads) the moment the transaction commits."""
    search.index(db, searchable(document))


def on_withdrawn(db: Session, document: DisclosureDocument) -> None:
    """In the withdrawing transaction: gone from search the moment it commits."""
    search.unindex(db, document.index_number)


# ---- drafting --------------------------------------------------------------------------------


def _check_fields(fields: DocumentFields | DocumentChange, openness: str | None, ground: str | None) -> None:
    if openness == Openness.WITHHELD and not (ground or "").strip():
        raise Problem("validation-error", "不予公开的文件必须写明法定依据",
                      errors=[{"field": "body.withheld_ground", "code": "ground_required", "message": "请填写不予公开的法定依据"}])


def create_draft(db: Session, *, department, fields: DocumentFields, actor: Principal) -> DisclosureDocument:
    if not actor.can_for_department(Permission.DISCLOSURE_DRAFT, department.id):
        raise deny(db, actor, slug="department-scope", action="disclosure.draft", object_type="department",
                   object_id=department.code, detail=f"只能为本部门起草公开文件（{actor.department_name or '无部门'}）")
    _check_fields(fields, fields.openness, fields.withheld_ground)
    index_number = allocate_index_number(db, department.code, department.id, fields.issued_on.year)
    document = DisclosureDocument(
        index_number=index_number, department_id=department.id, department=department, title=fields.title.strip(),
        document_number=(fields.document_number or "").strip() or None, issued_on=fields.issued_on,
        theme=fields.theme, genre=fields.genre, openness=fields.openness,
        withheld_ground=(fields.withheld_ground or "").strip() or None if fields.openness == Openness.WITHHELD else None,
        validity=Validity.IN_FORCE, body=fields.body, status=DocumentStatus.DRAFT, version=1,
        drafted_by=actor.actor_id, drafted_by_name=actor.actor_name, created_at=clock.now())
    db.add(document)
    _version(db, document, "drafted", actor)
    _start_clock(db, document, actor.actor_id if actor.actor_type == "user" else None)
    _audit(db, document, "draft", actor)
    db.flush()
    return document


def _apply(document: DisclosureDocument, change: DocumentChange) -> list[str]:
    changed = []
    for name in ("title", "document_number", "issued_on", "theme", "genre", "openness", "withheld_ground", "body"):
        value = getattr(change, name)
        if value is None:
            continue
        if isinstance(value, str) and name != "body":
            value = value.strip() or None
        if getattr(document, name) != value:
            setattr(document, name, value)
            changed.append(name)
    if document.openness != Openness.WITHHELD:
        document.withheld_ground = None
    return changed


def edit(db: Session, document: DisclosureDocument, change: DocumentChange, actor: Principal) -> DisclosureDocument:
    """A draft (or a returned one) changed by its department's drafters."""
    _require(db, actor, Permission.DISCLOSURE_DRAFT, document, "edit")
    document = lock(db, document)
    _state(document, *_EDITABLE, doing="修改")
    before_subject, before_openness = _clock_subject(document), document.openness
    _check_fields(change, change.openness or document.openness, change.withheld_ground or document.withheld_ground)
    changed = _apply(document, change)
    if not document.title:
        raise Problem("validation-error", "标题不能为空")
    if not changed:
        return document
    if (_clock_subject(document) != before_subject or document.openness != before_openness) \
            and before_openness == Openness.PROACTIVE:
        supervision.cancel_clock(db, supervision.ClockKind.DISCLOSURE_PUBLICATION, before_subject, on=clock.today())
    _start_clock(db, document, document.drafted_by)
    _version(db, document, "edited", actor, note="、".join(FIELD_LABELS[name] for name in changed))
    _audit(db, document, "edit", actor, fields=changed)
    _flush(db, document)
    return document


def attach(db: Session, settings: Settings, document: DisclosureDocument, *, filename: str, data: bytes,
           actor: Principal) -> DisclosureAttachment:
    _require(db, actor, Permission.DISCLOSURE_DRAFT, document, "attach")
    document = lock(db, document)
    _state(document, *_EDITABLE, doing="上传附件")
    stored = doc_attachments.store(settings, filename, data)
    attachment = DisclosureAttachment(document_id=document.id, created_at=clock.now(), **stored)
    document.attachments.append(attachment)
    _version(db, document, "attached", actor, note=stored["filename"])
    _audit(db, document, "attach", actor, filename=stored["filename"], sha256=stored["sha256"])
    _flush(db, document)
    return attachment


def submit(db: Session, document: DisclosureDocument, actor: Principal) -> DisclosureDocument:
    _require(db, actor, Permission.DISCLOSURE_DRAFT, document, "submit")
    document = lock(db, document)
    _state(document, *_EDITABLE, doing="提交保密审查")
    if document.openness == Openness.PROACTIVE and not document.body.strip() and not document.attachments:
        raise Problem("validation-error", "主动公开的文件须有正文或附件")
    document.status = DocumentStatus.IN_REVIEW
    _version(db, document, "submitted", actor)
    _audit(db, document, "submit", actor)
    _flush(db, document)
    notifications.notify(db, department_id=document.department_id, role=Role.DISCLOSURE_REVIEWER.value,
                         kind="disclosure.review",
                         link=f"/disclosure/manage/{document.index_number}",
                         title=f"公开文件待保密审查：{document.title[:60]}",
                         body=f"{document.drafted_by_name}提交了《{document.title[:80]}》（{document.index_number}），请作保密审查。")
    return document


def review(db: Session, document: DisclosureDocument, *, decision: ReviewDecision, ground: str,
           actor: Principal) -> DisclosureDocument:
    """保密审查: a second person approves or returns, the ground recorded. The drafter never
    reviews their own draft; a second decision is refused."""
    _require(db, actor, Permission.DISCLOSURE_REVIEW, document, "review")
    document = lock(db, document)
    _state(document, DocumentStatus.IN_REVIEW, doing="作保密审查")
    if actor.actor_id == document.drafted_by:
        raise deny(db, actor, slug="disclosure-own-draft", detail="保密审查须由起草人以外的人员进行，不能审查本人起草的文件",
                   action="disclosure.review", object_type="disclosure_document", object_id=document.index_number)
    if len(ground.strip()) < 2:
        raise Problem("validation-error", "请填写审查意见及依据",
                      errors=[{"field": "body.ground", "code": "ground_required", "message": "请填写审查意见及依据"}])
    approve = decision == ReviewDecision.APPROVE
    document.status = DocumentStatus.APPROVED if approve else DocumentStatus.RETURNED
    document.reviewed_by, document.reviewed_by_name = actor.actor_id, actor.actor_name
    document.review_ground, document.reviewed_at = ground.strip(), clock.now()
    _version(db, document, "approved" if approve else "returned", actor, note=ground.strip())
    _audit(db, document, "approve" if approve else "return", actor, ground=ground.strip()[:500])
    _flush(db, document)
    notifications.notify(db, department_id=document.department_id, account_id=document.drafted_by,
                         kind="disclosure.reviewed", link=f"/disclosure/manage/{document.index_number}",
                         title=f"保密审查{'通过' if approve else '退回'}：{document.title[:60]}",
                         body=f"审查人 {actor.actor_name}：{ground.strip()[:300]}")
    return document


def publish(db: Session, document: DisclosureDocument, actor: Principal) -> DisclosureDocument:
    _require(db, actor, Permission.DISCLOSURE_PUBLISH, document, "publish")
    document = lock(db, document)
    _state(document, DocumentStatus.APPROVED, doing="发布")
    if document.openness == Openness.WITHHELD:
        raise Problem("disclosure-state", f"文件 {document.index_number} 定为不予公开（{document.withheld_ground}），不能发布")
    today = clock.today()
    document.status, document.published_on, document.published_at = DocumentStatus.PUBLISHED, today, clock.now()
    supervision.close_clock(db, supervision.ClockKind.DISCLOSURE_PUBLICATION, _clock_subject(document), on=today,
                            outcome="published")
    _version(db, document, "published", actor)
    _audit(db, document, "publish", actor)
    _flush(db, document)
    on_published(db, document)
    _tell_subscribers(db, document)
    return document


def _tell_subscribers(db: Session, document: DisclosureDocument) -> int:
    """市民信箱: everyone following the department or the theme, one notice each (a person
    following both is told once), in one INSERT … SELECT."""
    followed = or_(and_(DisclosureSubscription.kind == SubscriptionKind.DEPARTMENT,
                        DisclosureSubscription.target == document.department.code),
                   and_(DisclosureSubscription.kind == SubscriptionKind.THEME,
                        DisclosureSubscription.target == document.theme))
    chosen = (select(literal(None, Integer).label("department_id"), literal(None, String).label("role"),
                     DisclosureSubscription.account_id,
                     literal(f"新公开文件：{document.title}"[:200]).label("title"),
                     literal(f"{document.department.name}发布了{GENRE_LABELS[document.genre]}《{document.title[:120]}》"
                             f"（主题：{THEME_LABELS[document.theme]}，索引号 {document.index_number}）。"[:2000]).label("body"),
                     literal(document_url(document.index_number)).label("link"),
                     literal("disclosure.published").label("kind"))
              .where(followed).group_by(DisclosureSubscription.account_id))
    return notifications.notify_selected(db, chosen)


# ---- after publication -----------------------------------------------------------------------


def change_published(db: Session, document: DisclosureDocument, change: DocumentChange,
                     actor: Principal) -> DisclosureDocument:
    """A correction of a published document by a publisher, with the reason; the public sees the
    new version at once and the history keeps the old one."""
    _require(db, actor, Permission.DISCLOSURE_PUBLISH, document, "change")
    document = lock(db, document)
    _state(document, DocumentStatus.PUBLISHED, doing="变更")
    if not (change.reason or "").strip():
        raise Problem("validation-error", "变更已公开的文件须说明理由",
                      errors=[{"field": "body.reason", "code": "reason_required", "message": "请填写变更理由"}])
    if change.openness is not None and change.openness != document.openness:
        raise Problem("disclosure-state", "已公开文件不能改变公开方式；如需不再公开，请撤回")
    if change.issued_on is not None and change.issued_on != document.issued_on:
        raise Problem("disclosure-state", "已公开文件不能改变成文日期；如有错误，请撤回后重新起草")
    changed = _apply(document, change)
    if not changed:
        return document
    _version(db, document, "changed", actor,
             note=f"{'、'.join(FIELD_LABELS[name] for name in changed)}：{(change.reason or '').strip()}")
    _audit(db, document, "change", actor, fields=changed, reason=(change.reason or "").strip())
    _flush(db, document)
    on_published(db, document)
    return document


def set_validity(db: Session, document: DisclosureDocument, *, validity: Validity, replaced_by: str | None,
                 note: str | None, actor: Principal) -> DisclosureDocument:
    _require(db, actor, Permission.DISCLOSURE_PUBLISH, document, "validity")
    document = lock(db, document)
    _state(document, DocumentStatus.PUBLISHED, doing="变更有效性")
    replacement = None
    if replaced_by:
        replacement = find(db, replaced_by.strip())
        if replacement is None or replacement.status != DocumentStatus.PUBLISHED:
            raise Problem("validation-error", f"替代文件 {replaced_by} 不存在或尚未公开",
                          errors=[{"field": "body.replaced_by", "code": "unknown_document", "message": replaced_by}])
        if replacement.id == document.id:
            raise Problem("validation-error", "文件不能被自身替代")
        if validity == Validity.IN_FORCE:
            raise Problem("validation-error", "有效的文件没有替代文件；废止或失效时才可填写")
    document.validity, document.replaced_by = validity, replacement
    document.replaced_by_id = replacement.id if replacement else None
    label = VALIDITY_LABELS[validity] + (f"，由 {replacement.index_number} 替代" if replacement else "")
    _version(db, document, "validity", actor, note=label + (f"：{note.strip()}" if note and note.strip() else ""))
    _audit(db, document, "validity", actor, validity=validity.value,
           replaced_by=replacement.index_number if replacement else None)
    _flush(db, document)
    on_published(db, document)
    return document


def withdraw(db: Session, document: DisclosureDocument, *, reason: str, actor: Principal) -> DisclosureDocument:
    _require(db, actor, Permission.DISCLOSURE_PUBLISH, document, "withdraw")
    document = lock(db, document)
    _state(document, DocumentStatus.PUBLISHED, doing="撤回")
    if len(reason.strip()) < 2:
        raise Problem("validation-error", "撤回须说明理由",
                      errors=[{"field": "body.reason", "code": "reason_required", "message": "请填写撤回理由"}])
    document.status, document.withdrawn_at, document.withdraw_reason = DocumentStatus.WITHDRAWN, clock.now(), reason.strip()
    _version(db, document, "withdrawn", actor, note=reason.strip())
    _audit(db, document, "withdraw", actor, reason=reason.strip())
    _flush(db, document)
    on_withdrawn(db, document)
    return document


def versions(db: Session, document: DisclosureDocument) -> list[DisclosureVersion]:
    return list(db.scalars(select(DisclosureVersion).where(DisclosureVersion.document_id == document.id)
                           .order_by(DisclosureVersion.version.desc())))


def publish_due_on(db: Session, document: DisclosureDocument) -> date | None:
    found = publication_clock(db, document)
    return found.due_on if found is not None else None
