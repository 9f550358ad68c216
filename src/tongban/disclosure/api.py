"""/api/v1/disclosure/documents: the public catalog (published documents only) and the
publication workflow of the departments' staff; /api/v1/disclosure/subscriptions: 市民信箱."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.disclosure import documents, service
from tongban.disclosure.doc_views import attachment_read, document_read, summary, version_read
from tongban.disclosure.models import DisclosureDocument
from tongban.disclosure.schemas import (
    AttachmentRead, DocumentChange, DocumentCreate, DocumentFields, DocumentRead, DocumentStatus, DocumentSummary, Genre, Review,
    SubscriptionCreate, SubscriptionRead, Theme, ValidityChange, VersionRead, Withdrawal,
)
from tongban.org import service as org

router = APIRouter(prefix="/api/v1/disclosure", tags=["政府信息公开 disclosure"])
IndexNumber = Annotated[str, Path(max_length=40, description="索引号")]


@router.get("/documents", response_model=Page[DocumentSummary], summary="公开目录：已公开的文件（按部门、主题、体裁筛选）")
def catalog(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
            department: Annotated[str | None, Query(max_length=32, description="部门代码")] = None,
            theme: Theme | None = None, genre: Genre | None = None, cursor: Cursor = None, limit: Limit = 50):
    department_id = org.get_by_code_or_404(db, department).id if department else None
    query = service.catalog_query(department_id=department_id, theme=theme.value if theme else None)
    if genre is not None:
        query = query.where(DisclosureDocument.genre == genre.value)
    rows, next_cursor = paginate(db, query, DisclosureDocument.id, cursor=cursor, limit=limit)
    return Page[DocumentSummary](items=[summary(d) for d in rows], next_cursor=next_cursor)


@router.get("/drafts", response_model=Page[DocumentSummary], summary="本部门未公开的文件（草稿、待审查、待发布、已撤回）")
def drafts(db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_REVIEW,
                                                                  Permission.DISCLOSURE_PUBLISH)],
           status: DocumentStatus | None = None, cursor: Cursor = None, limit: Limit = 50):
    query = documents.staff_query(principal)
    if status is not None:
        query = query.where(DisclosureDocument.status == status.value)
    rows, next_cursor = paginate(db, query, DisclosureDocument.id, cursor=cursor, limit=limit)
    return Page[DocumentSummary](items=[summary(d) for d in rows], next_cursor=next_cursor)


@router.post("/documents", response_model=DocumentRead, status_code=201, summary="起草公开文件（分配索引号；主动公开的开始计时）")
def create(body: DocumentCreate, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)]):
    code = body.department or principal.department_code
    if code is None:
        raise Problem("validation-error", "公开文件须以部门名义起草，当前账户不属于任何部门")
    department = org.get_by_code_or_404(db, code)
    fields = DocumentFields(**body.model_dump(exclude={"department"}))
    document = documents.create_draft(db, department=department, fields=fields, actor=principal)
    db.commit()
    return document_read(db, document, principal)


@router.get("/documents/{index_number}", response_model=DocumentRead, summary="公开文件（未公开的仅本部门可见）")
def read(index_number: IndexNumber, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return document_read(db, documents.visible_or_404(db, principal, index_number), principal)


@router.patch("/documents/{index_number}", response_model=DocumentRead,
              summary="修改草稿；已公开的文件由发布人员变更（须说明理由）")
def change(index_number: IndexNumber, body: DocumentChange, db: DbSession,
           principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_PUBLISH)]):
    document = documents.visible_or_404(db, principal, index_number)
    if document.status == DocumentStatus.PUBLISHED:
        document = documents.change_published(db, document, body, principal)
    else:
        document = documents.edit(db, document, body, principal)
    db.commit()
    return document_read(db, document, principal)


@router.post("/documents/{index_number}/attachments", response_model=AttachmentRead, status_code=201,
             summary="上传附件（PDF、DOCX、XLSX、XLS、OFD；按内容核对类型，限制大小，提取文字供检索）",
             openapi_extra=uploads("attachment_max_mb"))
async def attach(index_number: IndexNumber, request: Request, db: DbSession,
                 principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)],
                 file: Annotated[UploadFile, File(description="附件文件")]):
    settings = request.app.state.settings
    document = documents.visible_or_404(db, principal, index_number)
    data = await file.read(settings.attachment_max_mb * 1024 * 1024 + 1)
    attachment = documents.attach(db, settings, document, filename=file.filename or "", data=data, actor=principal)
    db.commit()
    return attachment_read(document, attachment)


@router.post("/documents/{index_number}/submission", response_model=DocumentRead, summary="提交保密审查")
def submit(index_number: IndexNumber, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT)]):
    document = documents.submit(db, documents.visible_or_404(db, principal, index_number), principal)
    db.commit()
    return document_read(db, document, principal)


@router.post("/documents/{index_number}/review", response_model=DocumentRead,
             summary="保密审查：通过或退回，须写明意见及依据（起草人不能审查本人的文件）")
def review(index_number: IndexNumber, body: Review, db: DbSession,
           principal: Annotated[Principal, require(Permission.DISCLOSURE_REVIEW)]):
    document = documents.review(db, documents.visible_or_404(db, principal, index_number), decision=body.decision,
                                ground=body.ground, actor=principal)
    db.commit()
    return document_read(db, document, principal)


@router.post("/documents/{index_number}/publication", response_model=DocumentRead, summary="发布（须已通过保密审查）")
def publish(index_number: IndexNumber, db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    document = documents.publish(db, documents.visible_or_404(db, principal, index_number), principal)
    db.commit()
    return document_read(db, document, principal)


@router.post("/documents/{index_number}/validity", response_model=DocumentRead, summary="变更有效性（失效、废止及替代文件）")
def validity(index_number: IndexNumber, body: ValidityChange, db: DbSession,
             principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    document = documents.set_validity(db, documents.visible_or_404(db, principal, index_number),
                                      validity=body.validity, replaced_by=body.replaced_by, note=body.note, actor=principal)
    db.commit()
    return document_read(db, document, principal)


@router.post("/documents/{index_number}/withdrawal", response_model=DocumentRead, summary="撤回已公开的文件（须说明理由）")
def withdraw(index_number: IndexNumber, body: Withdrawal, db: DbSession,
             principal: Annotated[Principal, require(Permission.DISCLOSURE_PUBLISH)]):
    document = documents.withdraw(db, documents.visible_or_404(db, principal, index_number), reason=body.reason,
                                  actor=principal)
    db.commit()
    return document_read(db, document, principal)


@router.get("/documents/{index_number}/versions", response_model=list[VersionRead], summary="版本记录（本部门信息公开人员）")
def history(index_number: IndexNumber, db: DbSession,
            principal: Annotated[Principal, require(Permission.DISCLOSURE_DRAFT, Permission.DISCLOSURE_REVIEW,
                                                    Permission.DISCLOSURE_PUBLISH)]):
    document = documents.visible_or_404(db, principal, index_number)
    if not documents.is_staff_of(principal, document.department_id):
        raise Problem("department-scope", f"版本记录仅{document.department.name}的信息公开人员可查看")
    return [version_read(v) for v in documents.versions(db, document)]


# ---- subscriptions ---------------------------------------------------------------------------


def _subscription_read(db, subscription) -> SubscriptionRead:
    return SubscriptionRead(id=subscription.id, kind=subscription.kind, target=subscription.target,
                            target_name=service.target_name(db, subscription.kind, subscription.target) or subscription.target,
                            created_at=subscription.created_at)


@router.get("/subscriptions", response_model=list[SubscriptionRead], summary="我订阅的部门和主题")
def my_subscriptions(db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    return [_subscription_read(db, s) for s in service.subscriptions_of(db, principal)]


@router.post("/subscriptions", response_model=SubscriptionRead, status_code=201,
             summary="订阅部门或主题：新公开的文件推送到我的通知")
def subscribe(body: SubscriptionCreate, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    subscription = service.subscribe(db, principal, kind=body.kind, target=body.target)
    db.commit()
    return _subscription_read(db, subscription)


@router.delete("/subscriptions/{subscription_id}", status_code=204, response_class=Response, summary="取消订阅")
def unsubscribe(subscription_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.NOTIFICATIONS_READ)]):
    service.unsubscribe(db, principal, subscription_id)
    db.commit()
    return Response(status_code=204)

