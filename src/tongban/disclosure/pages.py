"""Pages of the disclosure catalog: the public 公开指南, 公开目录 (by department, by 主题), a
document's page and the subscriptions; the staff's drafting form, their lists (my drafts, the
review queue, awaiting publication), a document's workflow page with its versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.auth import Principal, deny, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.core.security import check_csrf
from tongban.core.templating import flash, render
from tongban.core.workdays import WorkingCalendar
from tongban.disclosure import doc_attachments, documents, service
from tongban.disclosure.doc_views import attachment_url, full_text_public
from tongban.disclosure.models import DisclosureAttachment, DisclosureDocument
from tongban.disclosure.schemas import (
    ATTACHMENT_KIND_LABELS, FIELD_LABELS, GENRE_LABELS, OPENNESS_LABELS, STATUS_LABELS, THEME_LABELS, VALIDITY_LABELS,
    VERSION_ACTION_LABELS, DocumentChange, DocumentFields, DocumentStatus, Genre, Openness, ReviewDecision,
    SubscriptionKind, Theme, Validity,
)
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MAX_FILES = 5
IndexNumber = Annotated[str, Path(max_length=40)]
PageCursor = Annotated[str | None, Query(max_length=200)]
LABELS = {"theme": THEME_LABELS, "genre": GENRE_LABELS, "openness": OPENNESS_LABELS, "validity": VALIDITY_LABELS,
          "status": STATUS_LABELS, "version": VERSION_ACTION_LABELS, "kind": ATTACHMENT_KIND_LABELS}


# ---- public ----------------------------------------------------------------------------------


@router.get("/disclosure", summary="政府信息公开：公开指南")
def guide(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "disclosure_guide.html", principal=principal, latest=service.latest(db, limit=8),
                  labels=LABELS)


@router.get("/disclosure/catalog", summary="政府信息公开目录")
def catalog(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "disclosure_catalog.html", principal=principal, departments=service.counts_by_department(db),
                  themes=service.counts_by_theme(db), latest=service.latest(db, limit=20), labels=LABELS)


def _listing(request: Request, db: Session, principal, *, heading: str, query, cursor: str | None, base: str,
             feed: str, subscribe: dict[str, str]):
    rows, next_cursor = paginate(db, query, DisclosureDocument.id, cursor=cursor, limit=PAGE_SIZE)
    return render(request, "disclosure_list.html", principal=principal, heading=heading, rows=rows, labels=LABELS,
                  next_url=f"{base}?cursor={next_cursor}" if next_cursor else None, feed=feed, subscribe=subscribe,
                  first_page=cursor is None,
                  may_subscribe=principal is not None and principal.can(Permission.NOTIFICATIONS_READ))


@router.get("/disclosure/catalog/department/{code}", summary="公开目录：按部门")
def by_department(request: Request, code: Annotated[str, Path(max_length=32)], db: DbSession,
                  principal: Annotated[Principal | None, require(Permission.PUBLIC)], cursor: PageCursor = None):
    department = org.get_by_code_or_404(db, code)
    return _listing(request, db, principal, heading=department.name, query=service.catalog_query(department_id=department.id),
                    cursor=cursor, base=f"/disclosure/catalog/department/{department.code}",
                    feed=f"/disclosure/feeds/department/{department.code}.atom",
                    subscribe={"kind": SubscriptionKind.DEPARTMENT.value, "target": department.code})


@router.get("/disclosure/catalog/theme/{theme}", summary="公开目录：按主题")
def by_theme(request: Request, theme: Annotated[str, Path(max_length=32)], db: DbSession,
             principal: Annotated[Principal | None, require(Permission.PUBLIC)], cursor: PageCursor = None):
    if theme not in THEME_LABELS:
        raise Problem("not-found", f"没有主题分类 {theme}")
    return _listing(request, db, principal, heading=f"主题：{THEME_LABELS[theme]}", query=service.catalog_query(theme=theme),
                    cursor=cursor, base=f"/disclosure/catalog/theme/{theme}", feed=f"/disclosure/feeds/theme/{theme}.atom",
                    subscribe={"kind": SubscriptionKind.THEME.value, "target": theme})


@router.get("/disclosure/documents/{index_number}", summary="公开文件")
def document_page(request: Request, index_number: IndexNumber, db: DbSession,
                  principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    document = documents.visible_or_404(db, principal, index_number)
    staff = documents.is_staff_of(principal, document.department_id)
    replacing = db.scalars(select(DisclosureDocument).where(DisclosureDocument.replaced_by_id == document.id,
                                                            DisclosureDocument.status == DocumentStatus.PUBLISHED)).all()
    return render(request, "disclosure_document.html", principal=principal, d=document, labels=LABELS,
                  shows_text=staff or full_text_public(document), staff=staff, replaces=replacing,
                  attachment_url=attachment_url)


@router.get("/disclosure/documents/{index_number}/attachments/{attachment_id}", summary="下载公开文件附件")
def download(index_number: IndexNumber, attachment_id: Id, request: Request, db: DbSession,
             principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    document = documents.visible_or_404(db, principal, index_number)
    found = db.get(DisclosureAttachment, attachment_id)
    if found is None or found.document_id != document.id or not (
            full_text_public(document) or documents.is_staff_of(principal, document.department_id)):
        raise Problem("not-found", f"文件 {index_number} 没有编号为 {attachment_id} 的附件")
    path = doc_attachments.folder(request.app.state.settings) / found.stored_as
    if not path.is_file():
        raise Problem("not-found", f"附件 {found.filename} 的文件已不在存储中")
    return FileResponse(path, media_type=found.media_type, filename=found.filename)


# ---- subscriptions ---------------------------------------------------------------------------


def _subscriptions_page(request: Request, db: Session, principal: Principal, *, status_code: int = 200,
                        error: str | None = None):
    mine = [(s, service.target_name(db, s.kind, s.target) or s.target) for s in service.subscriptions_of(db, principal)]
    return render(request, "disclosure_subscriptions.html", status_code=status_code, principal=principal, mine=mine,
                  departments=service.counts_by_department(db) or [(d.code, d.name, 0) for d in org.list_all(db)],
                  themes=list(THEME_LABELS.items()), error=error)


@router.get("/disclosure/subscriptions", summary="我的公开信息订阅")
def subscriptions(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    return _subscriptions_page(request, db, principal)


def _form_text(form, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.post("/disclosure/subscriptions", summary="订阅部门或主题")
async def subscribe(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, _form_text(form, "csrf_token", 100))
    try:
        kind = SubscriptionKind(_form_text(form, "kind", 16))
    except ValueError:
        return _subscriptions_page(request, db, principal, status_code=422, error="请选择订阅部门或主题")
    try:
        service.subscribe(db, principal, kind=kind, target=_form_text(form, "target", 32))
        db.commit()
    except Problem as problem:
        db.rollback()
        return _subscriptions_page(request, db, principal, status_code=problem.status, error=problem.detail)
    flash(request, "已订阅：新公开的文件将推送到您的通知。")
    back = _form_text(form, "back", 200)
    return RedirectResponse(back if back.startswith("/disclosure/") else "/disclosure/subscriptions", status_code=303)


@router.post("/disclosure/subscriptions/{subscription_id}/delete", summary="取消订阅")
async def unsubscribe(request: Request, subscription_id: Id, db: DbSession,
                      principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, _form_text(form, "csrf_token", 100))
    service.unsubscribe(db, principal, subscription_id)
    db.commit()
    flash(request, "已取消订阅。")
    return RedirectResponse("/disclosure/subscriptions", status_code=303)


# ---- staff -----------------------------------------------------------------------------------


def _ensure_staff(db: Session, principal: Principal, action: str) -> None:
    if not any(principal.can(p) for p in documents.STAFF_PERMISSIONS):
        raise deny(db, principal, slug="permission-denied", action=action,
                   detail=f"当前账户（{'、'.join(principal.role_labels) or '无角色'}）没有政府信息公开的起草、审查或发布权限")


VIEWS = {"mine": "我的草稿", "review": "待保密审查", "publish": "审查通过待发布", "published": "本部门已公开", "all": "全部未公开"}


def _manage_query(principal: Principal, view: str):
    if view == "published":
        query = documents.public_query()
        if principal.department_id is not None:
            query = query.where(DisclosureDocument.department_id == principal.department_id)
        return query
    query = documents.staff_query(principal)
    if view == "mine":
        return query.where(DisclosureDocument.drafted_by == principal.actor_id,
                           DisclosureDocument.status.in_([DocumentStatus.DRAFT, DocumentStatus.RETURNED,
                                                          DocumentStatus.IN_REVIEW, DocumentStatus.APPROVED]))
    if view == "review":
        return query.where(DisclosureDocument.status == DocumentStatus.IN_REVIEW)
    if view == "publish":
        return query.where(DisclosureDocument.status == DocumentStatus.APPROVED)
    return query


def _clock_view(db: Session, document: DisclosureDocument, calendar: WorkingCalendar, today: date) -> dict | None:
    found = documents.publication_clock(db, document)
    if found is None:
        return None
    open_ = found.status != "closed"
    left = None if not open_ else (
        calendar.working_days_between(today, found.due_on) if today <= found.due_on
        else -calendar.working_days_between(found.due_on, today))
    # The warning days are the clock's own (supervision computed them); the scan raises the warnings.
    level = found.level if not open_ else ("red" if today >= found.red_on else "yellow" if today >= found.yellow_on
                                           else found.level)
    return {"due_on": found.due_on, "level": level, "status": found.status, "left": left,
            "on_time": found.on_time, "outcome": found.outcome}


@router.get("/disclosure/manage", summary="政府信息公开工作台")
def manage(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.WORKBENCH)],
           view: Annotated[str, Query(pattern="^(mine|review|publish|published|all)$")] = "mine",
           cursor: PageCursor = None):
    _ensure_staff(db, principal, "disclosure.list")
    rows, next_cursor = paginate(db, _manage_query(principal, view), DisclosureDocument.id, cursor=cursor, limit=PAGE_SIZE)
    calendar, today = WorkingCalendar.load(db), clock.today()
    clocks = {d.id: _clock_view(db, d, calendar, today) for d in rows if d.status != DocumentStatus.PUBLISHED}
    return render(request, "disclosure_manage.html", principal=principal, rows=rows, labels=LABELS, views=VIEWS,
                  view=view, clocks=clocks, may_draft=principal.can(Permission.DISCLOSURE_DRAFT),
                  next_url=f"/disclosure/manage?view={view}&cursor={next_cursor}" if next_cursor else None)


def _form_page(request: Request, db: Session, principal: Principal, *, document: DisclosureDocument | None,
               form: dict[str, Any], status_code: int = 200, error: str | None = None, errors: list | None = None):
    return render(request, "disclosure_form.html", status_code=status_code, principal=principal, d=document, form=form,
                  labels=LABELS, themes=list(Theme), genres=list(Genre), opennesses=list(Openness), error=error,
                  errors=errors or [], field_labels=FIELD_LABELS, max_files=MAX_FILES,
                  max_mb=request.app.state.settings.attachment_max_mb)


def _blank_form() -> dict[str, Any]:
    return {"title": "", "document_number": "", "issued_on": clock.today().isoformat(), "theme": Theme.GENERAL.value,
            "genre": Genre.NOTICE.value, "openness": Openness.PROACTIVE.value, "withheld_ground": "", "body": "",
            "reason": ""}


def _form_of(document: DisclosureDocument) -> dict[str, Any]:
    return {"title": document.title, "document_number": document.document_number or "",
            "issued_on": document.issued_on.isoformat(), "theme": document.theme, "genre": document.genre,
            "openness": document.openness, "withheld_ground": document.withheld_ground or "", "body": document.body,
            "reason": ""}


async def _read_form(request: Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The drafting form's fields and its files (empty file inputs are not files)."""
    data = await request.form(max_files=MAX_FILES + 1, max_fields=30)
    check_csrf(request, _form_text(data, "csrf_token", 100))
    limits = {"body": 200_000, "title": 300, "withheld_ground": 500, "document_number": 60, "reason": 500}
    form = {name: (data.get(name) if isinstance(data.get(name), str) else "") for name in _blank_form()}
    form = {name: str(value)[:limits.get(name, 40)] for name, value in form.items()}
    settings = request.app.state.settings
    files: list[tuple[str, bytes]] = []
    for item in data.getlist("files"):
        if isinstance(item, str) or not item.filename:
            continue
        if len(files) >= MAX_FILES:
            raise Problem("validation-error", f"一次最多上传 {MAX_FILES} 个附件")
        files.append((item.filename, await item.read(settings.attachment_max_mb * 1024 * 1024 + 1)))
    return form, files


def _fields(form: dict[str, Any], model=DocumentFields):
    """The form as the API's body type: the same rules, the mistakes named by their labels."""
    values = {k: (v.strip() if k != "body" else v) for k, v in form.items() if k in model.model_fields}
    values = {k: v for k, v in values.items() if v != "" or k == "body"}
    try:
        return model(**values)
    except ValidationError as error:
        found = [{"field": str(e["loc"][0]), "message": FIELD_LABELS.get(str(e["loc"][0]), str(e["loc"][0]))}
                 for e in error.errors()]
        raise Problem("validation-error", "请检查：" + "、".join(dict.fromkeys(f["message"] for f in found)),
                      errors=found) from None


def _check_files(request: Request, files: list[tuple[str, bytes]]) -> None:
    """Every file checked before anything is kept: one refused file refuses the form."""
    for name, data in files:
        try:
            doc_attachments.check(request.app.state.settings, name, data)
        except Problem as problem:
            raise Problem(problem.slug, f"附件「{name[:60]}」：{problem.detail}") from None


@router.get("/disclosure/manage/new", summary="起草公开文件")
def new_form(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)]):
    return _form_page(request, db, principal, document=None, form=_blank_form())


@router.post("/disclosure/manage/new", summary="保存公开文件草稿", openapi_extra=uploads("attachment_max_mb", files=MAX_FILES))
async def create(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)]):
    form, files = await _read_form(request)
    try:
        if principal.department_code is None:
            raise Problem("validation-error", "公开文件须以部门名义起草，当前账户不属于任何部门")
        fields = _fields(form)
        _check_files(request, files)
        document = documents.create_draft(db, department=org.get_by_code_or_404(db, principal.department_code),
                                          fields=fields, actor=principal)
        for name, data in files:
            documents.attach(db, request.app.state.settings, document, filename=name, data=data, actor=principal)
        db.commit()
    except Problem as problem:
        if problem.status >= 500 or problem.slug in ("permission-denied", "department-scope"):
            raise
        db.rollback()
        return _form_page(request, db, principal, document=None, form=form, status_code=problem.status,
                          error=problem.detail, errors=problem.extensions.get("errors"))
    flash(request, f"草稿已保存，索引号 {document.index_number}。")
    return RedirectResponse(f"/disclosure/manage/{document.index_number}", status_code=303)


def _staff_document(db: Session, principal: Principal, index_number: str) -> DisclosureDocument:
    document = documents.visible_or_404(db, principal, index_number)
    if not documents.is_staff_of(principal, document.department_id):
        raise deny(db, principal, slug="department-scope", action="disclosure.read", object_type="disclosure_document",
                   object_id=document.index_number, detail=f"仅{document.department.name}的信息公开人员可办理该文件")
    return document


@router.get("/disclosure/manage/{index_number}/edit", summary="修改公开文件")
def edit_form(request: Request, index_number: IndexNumber, db: DbSession,
              principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_PUBLISH)]):
    document = _staff_document(db, principal, index_number)
    return _form_page(request, db, principal, document=document, form=_form_of(document))


@router.post("/disclosure/manage/{index_number}/edit", summary="保存修改",
             openapi_extra=uploads("attachment_max_mb", files=MAX_FILES))
async def edit(request: Request, index_number: IndexNumber, db: DbSession,
               principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_PUBLISH)]):
    document = _staff_document(db, principal, index_number)
    form, files = await _read_form(request)
    try:
        change = _fields(form, DocumentChange)
        _check_files(request, files)
        if document.status == DocumentStatus.PUBLISHED:
            if files:
                raise Problem("disclosure-state", "已公开文件的附件不能直接更换；请撤回后重新起草")
            documents.change_published(db, document, change, principal)
        else:
            documents.edit(db, document, change, principal)
            for name, data in files:
                documents.attach(db, request.app.state.settings, document, filename=name, data=data, actor=principal)
        db.commit()
    except Problem as problem:
        if problem.status >= 500 or problem.slug in ("permission-denied", "department-scope"):
            raise
        db.rollback()
        return _form_page(request, db, principal, document=documents.visible_or_404(db, principal, index_number),
                          form=form, status_code=problem.status, error=problem.detail,
                          errors=problem.extensions.get("errors"))
    flash(request, "修改已保存。")
    return RedirectResponse(f"/disclosure/manage/{index_number}", status_code=303)


def _detail(request: Request, db: Session, principal: Principal, index_number: str, *, status_code: int = 200,
            error: str | None = None):
    document = _staff_document(db, principal, index_number)
    can = principal.can_for_department
    editable = document.status in (DocumentStatus.DRAFT, DocumentStatus.RETURNED)
    return render(request, "disclosure_manage_document.html", status_code=status_code, principal=principal, d=document,
                  labels=LABELS, versions=documents.versions(db, document), error=error,
                  clock=_clock_view(db, document, WorkingCalendar.load(db), clock.today()),
                  attachment_url=attachment_url,
                  may_edit=editable and can(Permission.DISCLOSURE_DRAFT, document.department_id),
                  may_review=document.status == DocumentStatus.IN_REVIEW
                  and can(Permission.DISCLOSURE_REVIEW, document.department_id),
                  own_draft=document.drafted_by == principal.actor_id,
                  may_publish=document.status == DocumentStatus.APPROVED and document.openness != Openness.WITHHELD
                  and can(Permission.DISCLOSURE_PUBLISH, document.department_id),
                  may_change=document.status == DocumentStatus.PUBLISHED
                  and can(Permission.DISCLOSURE_PUBLISH, document.department_id),
                  validities=list(Validity), ReviewDecision=ReviewDecision)


@router.get("/disclosure/manage/{index_number}", summary="公开文件办理")
def detail(request: Request, index_number: IndexNumber, db: DbSession,
           principal: Annotated[Principal, require(Permission.WORKBENCH)]):
    _ensure_staff(db, principal, "disclosure.read")
    return _detail(request, db, principal, index_number)


async def _act(request: Request, db: Session, principal: Principal, index_number: str, work, done: str):
    """One workflow step from the document's page: on success back to it with a message; a refusal
    shown on it (a refused permission is the error page, and audited)."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, _form_text(form, "csrf_token", 100))
    document = _staff_document(db, principal, index_number)
    try:
        work(document, form)
        db.commit()
    except Problem as problem:
        if problem.status >= 500 or problem.slug in ("permission-denied", "department-scope", "disclosure-own-draft"):
            raise
        db.rollback()
        return _detail(request, db, principal, index_number, status_code=problem.status, error=problem.detail)
    flash(request, done)
    return RedirectResponse(f"/disclosure/manage/{index_number}", status_code=303)


@router.post("/disclosure/manage/{index_number}/submit", summary="提交保密审查")
async def submit(request: Request, index_number: IndexNumber, db: DbSession,
                 principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)]):
    return await _act(request, db, principal, index_number,
                      lambda d, f: documents.submit(db, d, principal), "已提交保密审查。")


@router.post("/disclosure/manage/{index_number}/review", summary="保密审查")
async def review(request: Request, index_number: IndexNumber, db: DbSession,
                 principal: Annotated[Principal, require(Permission.DISCLOSURE_REVIEW)]):
    def work(document, form):
        try:
            decision = ReviewDecision(_form_text(form, "decision", 16))
        except ValueError:
            raise Problem("validation-error", "请选择审查结论：通过或退回") from None
        documents.review(db, document, decision=decision, ground=_form_text(form, "ground", 2000), actor=principal)

    return await _act(request, db, principal, index_number, work, "保密审查意见已记录。")


@router.post("/disclosure/manage/{index_number}/publish", summary="发布公开文件")
async def publish(request: Request, index_number: IndexNumber, db: DbSession,
                  principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    return await _act(request, db, principal, index_number,
                      lambda d, f: documents.publish(db, d, principal), "已发布，公众可在公开目录中查阅。")


@router.post("/disclosure/manage/{index_number}/withdraw", summary="撤回公开文件")
async def withdraw(request: Request, index_number: IndexNumber, db: DbSession,
                   principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    return await _act(request, db, principal, index_number,
                      lambda d, f: documents.withdraw(db, d, reason=_form_text(f, "reason"), actor=principal),
                      "已撤回，公开目录中不再显示。")


@router.post("/disclosure/manage/{index_number}/validity", summary="变更有效性")
async def validity(request: Request, index_number: IndexNumber, db: DbSession,
                   principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    def work(document, form):
        try:
            chosen = Validity(_form_text(form, "validity", 16))
        except ValueError:
            raise Problem("validation-error", "请选择有效性") from None
        documents.set_validity(db, document, validity=chosen, replaced_by=_form_text(form, "replaced_by", 40) or None,
                               note=_form_text(form, "note"), actor=principal)

    return await _act(request, db, principal, index_number, work, "有效性已变更。")


