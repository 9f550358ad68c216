"""/api/v1/items: search, navigation and notices (public); authoring and review (staff);
/api/v1/consultations: questions, the FAQ and the consultation queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit
from tongban.core.permissions import Permission
from tongban.items import consultation, content, navigation, notice_pdf, schemas, service, workbook
from tongban.items.models import VERSION_STATUS_LABELS, ServiceItemVersion, VersionStatus
from tongban.org import service as org

router = APIRouter(prefix="/api/v1/items", tags=["办事事项 service items"])
consultations = APIRouter(prefix="/api/v1/consultations", tags=["智能咨询 consultation"])

MAX_WORKBOOK_BYTES = 20 * 1024 * 1024
Answers = Annotated[dict[str, Annotated[str, Field(max_length=40)]], Field(max_length=50)]


class NavigationIn(BaseModel):
    answers: Answers = Field(default_factory=dict, description="已回答的情形：问题编号 → 选项编号")


class ReviewIn(BaseModel):
    approve: bool
    comment: str | None = Field(default=None, max_length=1000)


class SynonymIn(BaseModel):
    phrase: str = Field(min_length=1, max_length=50, description="群众的说法，如「开饭店」")
    expansions: list[Annotated[str, Field(max_length=50)]] = Field(min_length=1, max_length=20,
                                                                    description="对应的规范说法，如「食品经营许可」")


class QuestionIn(BaseModel):
    question: str = Field(max_length=2000)
    item: str | None = Field(default=None, max_length=12, description="事项基本编码；不填则按问题匹配事项")
    contact: str | None = Field(default=None, max_length=100, description="联系方式，人工答复时使用")


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=2000)


class PromoteIn(BaseModel):
    question: str | None = Field(default=None, max_length=300, description="收入常见问题时的问题表述；默认原问题")


def _version(row: ServiceItemVersion) -> dict[str, Any]:
    return {"version": row.version, "status": row.status, "status_label": VERSION_STATUS_LABELS[VersionStatus(row.status)],
            "author": row.author, "created_at": row.created_at, "updated_at": row.updated_at,
            "submitted_at": row.submitted_at, "reviewer": row.reviewer, "reviewed_at": row.reviewed_at,
            "review_comment": row.review_comment}


# ------------------------------------------------------------------ public

@router.get("/search", response_model=schemas.SearchAnswer, summary="查找办事事项（按群众的说法，免登录）")
def search(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
           q: Annotated[str, Query(max_length=4000, description="想办的事，如「开饭店要办什么证」")] = "",
           service_object: Annotated[str | None, Query(pattern="^(自然人|法人)$", description="申请人类型")] = None,
           department: Annotated[str | None, Query(max_length=32, description="部门编码")] = None,
           theme: Annotated[str | None, Query(max_length=10, description="主题，如「出生」「开办」")] = None,
           limit: Annotated[int, Query(ge=1, le=50)] = 10):
    query, hits = service.search(db, q, service_object=service_object, department=department, theme=theme,
                                 limit=limit, bundles=2)
    return {"query": query,
            "items": [{"code": h.code, "name": h.name, "department": h.department, "department_name": h.department_name,
                       "score": round(h.score, 4), "why": list(h.why)} for h in hits if h.kind == "item"],
            "bundles": [{"code": h.code, "name": h.name, "score": round(h.score, 4), "why": list(h.why)}
                        for h in hits if h.kind == "bundle"]}


@router.get("/published", response_model=schemas.CatalogPage, summary="已发布事项目录（按主题、部门、申请人类型筛选；分页；免登录）")
def published_catalog(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
                      theme: Annotated[str | None, Query(max_length=10, description="主题，如「出生」「开办」")] = None,
                      department: Annotated[str | None, Query(max_length=32, description="部门编码")] = None,
                      service_object: Annotated[str | None, Query(pattern="^(自然人|法人)$", description="申请人类型")] = None,
                      cursor: Cursor = None, limit: Limit = 50):
    documents, total, next_cursor = service.published_page(db, service_object=service_object, department=department,
                                                           theme=theme, cursor=cursor, limit=limit)
    names = service.department_names(db)
    return {"total": total, "next_cursor": next_cursor, "items": [
        {"code": d["basic_code"], "name": d["name"], "type": d["type"], "department": d["department"],
         "department_name": names.get(d["department"], d["department"]), "service_objects": d["service_objects"],
         "themes": d.get("themes") or [], "statutory_days": d["statutory_days"], "committed_days": d["committed_days"],
         "online_depth": d["online_depth"], "version": d["version"]} for d in documents]}


@router.get("/published/{code}", response_model=schemas.PublishedItem, summary="已发布事项的完整内容（免登录）")
def published(code: str, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    item, version = service.published_item(db, code)
    return {**item, "version": version,
            "department_name": service.department_names(db).get(item["department"], item["department"])}


@router.post("/published/{code}/navigation", response_model=schemas.NavigationAnswer,
             response_model_exclude_unset=True, summary="智能导航：按已答情形给出下一个问题或本情形材料（免登录）")
def navigate(code: str, body: NavigationIn, db: DbSession,
             _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    item, version, state = service.navigate(db, code, body.answers)
    answer: dict[str, Any] = {"item": code, "version": version, "asked": state.asked, "done": state.done,
                              "question": state.next_question}
    if state.done:
        answer["materials"] = [navigation.material_view(m) for m in content.materials_for(item, state.path)]
    return answer


@router.post("/published/{code}/notices", status_code=201, response_model=schemas.Notice, summary="生成告知单（带编号，可凭编号重新打开；免登录）")
def create_notice(code: str, body: NavigationIn, db: DbSession,
                  _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    row = service.create_notice(db, code, body.answers)
    db.commit()
    return service.notice_or_404(db, row.number)


@router.get("/notices/{number}", response_model=schemas.Notice, summary="按编号打开告知单（免登录）")
def read_notice(number: Annotated[str, Field(max_length=32)], db: DbSession,
                _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return service.notice_or_404(db, number[:32])


@router.get("/notices/{number}/pdf", summary="告知单 PDF（A4，可打印；免登录）", response_class=Response)
def notice_pdf_file(number: str, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    notice = service.notice_or_404(db, number[:32])
    return Response(notice_pdf.render(notice), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{notice["number"]}.pdf"'})


@router.get("/published/{code}/faq", response_model=schemas.FaqList, summary="事项的常见问题（免登录）")
def faq(code: str, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    service.published_item(db, code)
    return {"items": [{"id": f.id, "question": f.question, "answer": f.answer, "origin": f.origin}
                      for f in consultation.faqs(db, code)]}


# ------------------------------------------------------------------ authoring and review

@router.get("", response_model=schemas.ItemList, summary="事项清单（含草稿与待审核）")
def list_items(db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
               status: Annotated[str | None, Query(pattern="^(draft|in_review|returned|published)$")] = None):
    rows = service.item_rows(db, principal, status=status)
    return {"items": [{"code": item.basic_code, "name": item.name, "department": item.department.code,
                       "published_version": item.published_version, "latest_version": item.latest_version,
                       "latest_status": latest.status, "updated_at": item.updated_at} for item, latest in rows]}


@router.get("/{code}/versions", response_model=schemas.VersionList, summary="事项的全部版本")
def item_versions(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    item = service.managed_item(db, principal, code, action="items.versions")
    return {"code": code, "name": item.name, "items": [_version(v) for v in service.versions(db, item)]}


@router.get("/{code}/versions/{version}", response_model=schemas.VersionContent, summary="某一版本的内容")
def item_version(code: str, version: Id, db: DbSession,
                 principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    item = service.managed_item(db, principal, code, action="items.versions")
    row = service.version_of(db, item, version)
    return {**_version(row), "content": service.loads(row.content)}


@router.put("/{code}/draft", response_model=schemas.VersionView, summary="保存事项草稿（新事项或新版本）")
def save_draft(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
               document: Annotated[Any, Body()]):
    if not isinstance(document, dict) or document.get("basic_code") != code:
        raise Problem("item-invalid", "请求体须为事项 JSON，且 basic_code 与地址中的编码一致",
                      errors=[{"field": "body.basic_code", "code": "mismatch", "message": "与地址中的编码不一致"}])
    draft = service.save_draft(db, document, actor=principal, principal=principal)
    db.commit()
    return _version(draft)


@router.post("/{code}/submit", response_model=schemas.VersionView, summary="提交审核")
def submit(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    item = service.managed_item(db, principal, code, action="items.submit")
    row = service.submit(db, item, actor=principal)
    db.commit()
    return _version(row)


@router.post("/{code}/versions/{version}/review", response_model=schemas.VersionView, summary="审核：发布或退回")
def review(code: str, version: Id, body: ReviewIn, db: DbSession,
           principal: Annotated[Principal, require(Permission.ITEMS_REVIEW)]):
    item = service.item_or_404(db, code)
    row = service.review(db, item, version, approve=body.approve, comment=body.comment, actor=principal)
    db.commit()
    return _version(row)


@router.get("/export/json", response_model=schemas.ItemsDocument, summary="导出已发布事项 (JSON)")
def export_json(db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return service.export_document(db)


@router.get("/export/xlsx", summary="导出已发布事项 (Excel，供批量编辑)", response_class=Response)
def export_xlsx(db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return Response(workbook.export_workbook(service.export_document(db), departments=list(org.implementation_prefixes(db))),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="service-items.xlsx"'})


@router.post("/import/json", response_model=schemas.ImportCounts, summary="导入事项 (JSON)：全部校验通过才写入，成为草稿")
def import_json(db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
                document: Annotated[Any, Body()]):
    counts = service.import_document(db, document, actor=principal, principal=principal)
    db.commit()
    return counts


@router.post("/import/xlsx", response_model=schemas.ImportCounts, summary="导入事项 (Excel)：全部校验通过才写入，成为草稿",
             openapi_extra=uploads(MAX_WORKBOOK_BYTES))
async def import_xlsx(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
                      file: Annotated[UploadFile, File(description="由「导出 Excel」得到并编辑过的 .xlsx")]):
    data = await file.read(MAX_WORKBOOK_BYTES + 1)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise Problem("payload-too-large", "Excel 文件超过 20 MB，请拆分后导入")
    try:
        document = workbook.import_workbook(data)
    except workbook.WorkbookError as error:
        raise Problem("workbook-invalid", f"Excel 文件有 {len(error.problems)} 处问题，未导入：" + "；".join(error.problems[:3]),
                      errors=[{"field": "file", "code": "workbook", "message": p} for p in error.problems[:200]]) from None
    counts = service.import_document(db, document, actor=principal, principal=principal)
    db.commit()
    return counts


@router.get("/synonyms", response_model=schemas.SynonymList, summary="搜索同义词与群众说法")
def list_synonyms(db: DbSession, principal: Annotated[Principal, require(Permission.SYNONYMS_MANAGE)]):
    return {"items": [{"phrase": s.phrase, "expansions": service.loads(s.expansions), "updated_by": s.updated_by,
                       "updated_at": s.updated_at} for s in service.synonyms(db)]}


@router.put("/synonyms", response_model=schemas.SynonymView, summary="新增或修改同义词")
def put_synonym(body: SynonymIn, db: DbSession, principal: Annotated[Principal, require(Permission.SYNONYMS_MANAGE)]):
    row = service.save_synonym(db, body.phrase, body.expansions, actor=principal)
    db.commit()
    return {"phrase": row.phrase, "expansions": service.loads(row.expansions)}


@router.delete("/synonyms/{phrase}", status_code=204, summary="删除同义词")
def delete_synonym(phrase: str, db: DbSession, principal: Annotated[Principal, require(Permission.SYNONYMS_MANAGE)]):
    service.delete_synonym(db, phrase, actor=principal)
    db.commit()
    return Response(status_code=204)


# ------------------------------------------------------------------ consultation

def _consultation(row) -> dict[str, Any]:
    return {"number": row.number, "item": row.item_code, "department": row.department.code,
            "department_name": row.department.name, "question": row.question, "status": row.status,
            "confidence": row.confidence, "due_on": row.due_on, "answer": row.answer, "answered_by": row.answered_by,
            "answered_at": row.answered_at, "created_at": row.created_at}


@consultations.post("", status_code=201, response_model=schemas.Asked, summary="提问：常见问题自动答复，置信度不足转人工（免登录）")
def ask(request: Request, body: QuestionIn, db: DbSession,
        principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    row, suggestions = consultation.ask(db, request.app.state.settings, question=body.question, item_code=body.item,
                                        contact=body.contact, asker=principal)
    db.commit()
    return {**_consultation(row), "handed_over": row.status == "open",
            "suggestions": [{"faq_id": s.faq_id, "item": s.item_code, "question": s.question, "answer": s.answer,
                             "confidence": s.confidence} for s in suggestions]}


@consultations.get("/{number}", response_model=schemas.ConsultationView, summary="按编号查看咨询及答复（免登录）")
def read_consultation(number: str, db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    row = consultation.consultation_or_404(db, number[:32])
    return {k: v for k, v in _consultation(row).items() if k != "contact"}


@consultations.get("", response_model=schemas.ConsultationList, summary="咨询队列（本部门）")
def consultation_queue(db: DbSession, principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)],
                       status: Annotated[str | None, Query(pattern="^(open|answered|faq)$")] = "open"):
    return {"items": [_consultation(row) for row in consultation.queue(db, principal, status=status)]}


@consultations.post("/{number}/answer", response_model=schemas.ConsultationView, summary="人工答复")
def answer(number: str, body: AnswerIn, db: DbSession,
           principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)]):
    row = consultation.answer(db, consultation.consultation_or_404(db, number), body.answer, actor=principal)
    db.commit()
    return _consultation(row)


@consultations.post("/{number}/promote", status_code=201, response_model=schemas.PromotedFaq, summary="将人工答复收入事项的常见问题")
def promote(number: str, body: PromoteIn, db: DbSession,
            principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)]):
    faq = consultation.promote(db, consultation.consultation_or_404(db, number), question=body.question,
                               actor=principal)
    db.commit()
    return _faq(faq)


def _faq(faq) -> dict:
    return {"id": faq.id, "item": faq.item_code, "question": faq.question, "answer": faq.answer, "status": faq.status}


class FaqReviewIn(BaseModel):
    approve: bool


@consultations.post("/faqs/{faq_id}/review", response_model=schemas.PromotedFaq,
                    summary="审核收入常见问题的答复：公开或不采用（须由答复人以外的人员审核）")
def review_faq(faq_id: Id, body: FaqReviewIn, db: DbSession,
               principal: Annotated[Principal, require(Permission.ITEMS_REVIEW)]):
    faq = consultation.review_faq(db, faq_id, approve=body.approve, actor=principal)
    db.commit()
    return _faq(faq)
