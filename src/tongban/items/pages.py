"""Pages of the item base: the public service guide (search, item, navigation, notice, consultation)
and the staff pages (item versions and review, synonyms, the consultation queue)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tongban.core.security import Csrf, check_csrf
from tongban.core import audit
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id, normalise_code
from tongban.core.permissions import Permission
from tongban.core.templating import flash, render
from tongban.core.limits import uploads
from tongban.items import consultation, content, editor, material_forms, navigation, service, workbook
from tongban.items.models import (
    CONSULTATION_STATUS_LABELS, VERSION_STATUS_LABELS, ConsultationStatus, ServiceItem, VersionStatus,
)
from tongban.org import service as org
from tongban.items.search import SearchHit

router = APIRouter(include_in_schema=False)


def _departments(db) -> list[tuple[str, str]]:
    names = service.department_names(db)
    codes = sorted({hit.department for hit in service.browse(db)})  # the index knows them: no document parsed
    return [(code, names.get(code, code)) for code in codes]


@router.get("/services", summary="办事指南：查找事项")
def search_page(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                q: Annotated[str, Query(max_length=4000)] = "",
                service_object: Annotated[str, Query(pattern="^(自然人|法人|)$")] = "",
                department: Annotated[str, Query(max_length=32)] = "",
                theme: Annotated[str, Query(max_length=10)] = ""):
    # With words, the best answers (and the bundles that fit); without, a department's or a theme's
    # whole list: browsing by life event or by department needs no words.
    hits: list[SearchHit] = []
    error = None
    theme = theme if theme in content.THEMES else ""
    browsing = not q.strip() and bool(department or theme)
    try:
        if q.strip():
            _query, hits = service.search(db, q, service_object=service_object or None, department=department or None,
                                          theme=theme or None, bundles=2)
        elif browsing:
            hits = service.browse(db, service_object=service_object or None, department=department or None,
                                  theme=theme or None)
    except Problem as problem:
        error = problem.detail
    departments = _departments(db)
    return render(request, "services_search.html", principal=principal, q=q[:100],
                  hits=[h for h in hits if h.kind == "item"], bundles=[h for h in hits if h.kind == "bundle"],
                  error=error, searched=bool(q.strip()), browsing=browsing,
                  filters={"service_object": service_object, "department": department, "theme": theme},
                  departments=departments, person_themes=content.PERSON_THEMES,
                  enterprise_themes=content.ENTERPRISE_THEMES, department_name=dict(departments).get(department, ""))


@router.get("/services/{code}", summary="事项详情")
def item_page(request: Request, code: str, db: DbSession,
              principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    item, version = service.published_item(db, code)
    names = service.department_names(db)
    published = service.published_items(db)
    prerequisites = [published[c] for c in content.prerequisite_order(list(published.values()), code)]
    return render(request, "services_item.html", principal=principal, item=item, version=version,
                  department_name=names.get(item["department"], item["department"]),
                  prerequisites=[navigation.item_summary(p, names) for p in prerequisites],
                  sub_cases=len(content.leaf_paths(item)), faqs=consultation.faqs(db, code))


def _answers(item: dict, chosen: list[str]) -> dict[str, str]:
    """The answers a page carries as a list of answer ids, by the question each belongs to."""
    owner = {a["id"]: q["id"] for q in item.get("situations") or [] for a in q["answers"]}
    return {owner[a]: a for a in chosen if a in owner}


@router.get("/services/{code}/materials/{material_id}/{kind}.pdf", summary="材料的空白表格或样表")
def material_form(code: str, material_id: str, kind: str, db: DbSession,
                  _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    item, _version = service.published_item(db, code)
    material = next((m for m in item["materials"] if m["id"] == material_id), None)
    if material is None or kind not in ("blank-form", "sample") or not material["blank_form" if kind == "blank-form" else "sample"]:
        raise Problem("not-found", "该材料没有此表格")
    data = material_forms.render(item, material, sample=kind == "sample")
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={code}-{material_id}-{kind}.pdf"})


@router.get("/services/{code}/guide", summary="智能导航")
def guide_page(request: Request, code: str, db: DbSession,
               principal: Annotated[Principal | None, require(Permission.PUBLIC)],
               a: Annotated[list[str] | None, Query(max_length=40)] = None):
    item, version = service.published_item(db, code)
    state = navigation.navigate(item, _answers(item, (a or [])[:50]))
    materials = [navigation.material_view(m) for m in content.materials_for(item, state.path)] if state.done else []
    return render(request, "services_guide.html", principal=principal, item=item, state=state, materials=materials)


@router.post("/services/{code}/notices", summary="生成告知单")
def create_notice(request: Request, code: str, db: DbSession,
                  principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                  a: Annotated[list[str] | None, Form(max_length=40)] = None, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    item, _version = service.published_item(db, code)
    row = service.create_notice(db, code, _answers(item, (a or [])[:50]))
    db.commit()
    return RedirectResponse(f"/notices/{row.number}", status_code=303)


@router.get("/notices", summary="凭编号打开告知单")
def notice_lookup(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                  number: Annotated[str, Query(max_length=32)] = ""):
    return RedirectResponse(f"/notices/{normalise_code(number)}" if number.strip() else "/services", status_code=303)


@router.get("/notices/{number}", summary="告知单")
def notice_page(request: Request, number: str, db: DbSession,
                principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return render(request, "services_notice.html", principal=principal, notice=service.notice_or_404(db, number[:32]))


@router.post("/services/{code}/ask", summary="咨询")
def ask(request: Request, code: str, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
        question: Annotated[str, Form(max_length=2000)] = "", contact: Annotated[str, Form(max_length=100)] = "",
        csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    row, _suggestions = consultation.ask(db, request.app.state.settings, question=question, item_code=code,
                                         contact=contact, asker=principal)
    db.commit()
    return RedirectResponse(f"/consultations/{row.number}", status_code=303)


@router.get("/consultations", summary="凭编号查看咨询答复")
def consultation_lookup(request: Request, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                        number: Annotated[str, Query(max_length=32)] = ""):
    return RedirectResponse(f"/consultations/{normalise_code(number)}" if number.strip() else "/services", status_code=303)


@router.get("/consultations/{number}", summary="咨询结果")
def consultation_page(request: Request, number: str, db: DbSession,
                      principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    row = consultation.consultation_or_404(db, number[:32])
    suggestions = consultation.best_answers(db, row.question, row.item_code)
    return render(request, "services_consultation.html", principal=principal, row=row, suggestions=suggestions,
                  labels=CONSULTATION_STATUS_LABELS)


# ------------------------------------------------------------------ staff

@router.get("/staff/items", summary="事项管理")
def items_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
               status: Annotated[str, Query(pattern="^(draft|in_review|returned|published|)$")] = ""):
    rows = service.item_rows(db, principal, status=status or None)
    return render(request, "items_list.html", principal=principal, rows=rows, status=status, labels=VERSION_STATUS_LABELS,
                  Permission=Permission)


MAX_WORKBOOK_BYTES = 20 * 1024 * 1024
MAX_FIELD = 20_000  # characters of one form field: a law's article, a long note
IMPORT_OUTCOMES = {"created": "新建", "updated": "更新", "unchanged": "无变化", "rejected": "不予导入"}


@router.get("/staff/items/import", summary="Excel 导入事项")
def import_page(request: Request, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return render(request, "items_import.html", principal=principal, rows=None, problems=None)


@router.post("/staff/items/import", summary="Excel 导入：预览", openapi_extra=uploads(MAX_WORKBOOK_BYTES))
async def import_preview(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    upload = form.get("file")
    data = await upload.read(MAX_WORKBOOK_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    if len(data) > MAX_WORKBOOK_BYTES:
        raise Problem("payload-too-large", "Excel 文件超过 20 MB，请拆分后导入")
    try:
        document, row_numbers = workbook.import_workbook_with_rows(data)
    except workbook.WorkbookError as error:
        return render(request, "items_import.html", status_code=422, principal=principal, rows=None,
                      problems=error.problems[:200], filename=getattr(upload, "filename", ""))
    rows = service.import_preview(db, document, row_numbers, principal)
    accepted = [row.item for row in rows if row.outcome in ("created", "updated")]
    carried = json.dumps({"format": content.FORMAT, "version": content.VERSION, "items": accepted}, ensure_ascii=False)
    return render(request, "items_import.html", principal=principal, rows=rows, problems=None, outcomes=IMPORT_OUTCOMES,
                  carried=carried, accepted=len(accepted), filename=getattr(upload, "filename", ""))


@router.post("/staff/items/import/confirm", summary="Excel 导入：确认", openapi_extra=uploads(MAX_WORKBOOK_BYTES))
async def import_confirm(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    try:
        document = json.loads(str(form.get("document") or ""))
    except ValueError:
        raise Problem("malformed-json", "导入内容已损坏，请重新上传 Excel 文件") from None
    counts = service.import_document(db, document, actor=principal, principal=principal)
    db.commit()
    flash(request, f"已导入：新建 {counts['created']} 项、更新 {counts['revised']} 项，均为草稿，请逐项提交审核")
    return RedirectResponse("/staff/items?status=draft", status_code=303)


def _versions_page(request: Request, db, principal: Principal, item: ServiceItem, *, text: str | None = None,
                   json_error: str | None = None, problems: list[str] | None = None, status_code: int = 200):
    versions = service.versions(db, item)
    latest = text if text is not None else json.dumps(json.loads(versions[0].content), ensure_ascii=False, indent=1)
    return render(request, "items_versions.html", status_code=status_code, principal=principal, item=item,
                  versions=versions, latest=latest, labels=VERSION_STATUS_LABELS, Permission=Permission,
                  json_error=json_error, problems=problems or [], editable=versions[0].status != VersionStatus.IN_REVIEW)


@router.get("/staff/items/new", summary="新建事项")
def new_item_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return _editor(request, db, principal, editor.blank_item(), new=True)


@router.post("/staff/items/new", summary="新建事项：保存")
async def new_item(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return await _edit(request, db, principal, editor.blank_item(), new=True)


@router.get("/staff/items/{code}", summary="事项版本与审核")
def item_versions_page(request: Request, code: str, db: DbSession,
                       principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return _versions_page(request, db, principal, service.managed_item(db, principal, code, action="items.versions"))


def _editor(request: Request, db, principal: Principal, item: dict, *, new: bool = False,
            problems: list[str] | None = None, status_code: int = 200):
    names = service.department_names(db)
    implementing = org.implementation_prefixes(db)  # the departments that implement service items
    departments = [(d.code, d.name) for d in org.list_all(db)
                   if d.code in implementing and (principal.can_for_department(Permission.ITEMS_MANAGE, d.id)
                                                  or d.code == item.get("department"))]
    situations = [q for q in item.get("situations") or [] if isinstance(q, dict)]
    answers = [(a.get("id"), f"{a.get('label') or a.get('id')}（{q.get('question') or q.get('id')}）")
               for q in situations for a in q.get("answers") or [] if isinstance(a, dict)]
    published = service.published_items(db)
    return render(request, "items_edit.html", status_code=status_code, principal=principal, item=item, new=new,
                  action="/staff/items/new" if new else f"/staff/items/{item['basic_code']}/edit",
                  problems=problems or [], errors=editor.errors_by_field(problems or []),
                  item_types=[(t, t) for t in sorted(content.ITEM_TYPES)],
                  departments=departments or [(c, names.get(c, c)) for c in implementing],
                  online_depths=list(editor.ONLINE_DEPTH_LABELS.items()),
                  material_forms=[(f, f) for f in sorted(content.MATERIAL_FORMS)],
                  required_labels=list(editor.REQUIRED_LABELS.items()), source_labels=list(editor.SOURCE_LABELS.items()),
                  shared_labels=list(editor.SHARED_LABELS.items()), relation_labels=list(editor.RELATION_LABELS.items()),
                  result_kinds=[(k, k) for k in sorted(content.RESULT_KINDS)],
                  question_choices=[(q.get("id"), q.get("question") or q.get("id")) for q in situations],
                  answer_choices=answers, answer_ids={a for a, _ in answers},
                  item_choices=[(c, f"{p['name']}（{c}）") for c, p in published.items() if c != item.get("basic_code")])


async def _edit(request: Request, db, principal: Principal, base: dict, *, new: bool = False):
    form = await request.form(max_fields=20_000)
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form.keys()}
    if any(len(v) > MAX_FIELD for vs in values.values() for v in vs):
        raise Problem("validation-error", f"有一项内容超过 {MAX_FIELD} 个字，请精简")
    operation = (values.get("op") or ["save"])[-1]
    try:
        item = editor.from_form(values, base, org.implementation_prefixes(db))
        if operation != "save":
            editor.apply_operation(item, operation)
            return _editor(request, db, principal, item, new=new)
    except editor.FormError as error:
        raise Problem("validation-error", str(error)) from None
    problems = service.problems_of(db, [item])
    if new and isinstance(item.get("basic_code"), str) and (taken := service.find_item(db, item["basic_code"])):
        problems.insert(0, content.Issue("", f"基本编码「{item['basic_code']}」已被事项「{taken.name}」使用", "basic_code"))
    if problems:
        return _editor(request, db, principal, item, new=new, problems=problems, status_code=422)
    draft = service.save_draft(db, item, actor=principal, principal=principal)
    db.commit()
    flash(request, f"已保存为第 {draft.version} 版草稿，确认无误后请提交审核")
    return RedirectResponse(f"/staff/items/{item['basic_code']}", status_code=303)


def _editable_document(db, principal: Principal, code: str) -> dict:
    item = service.managed_item(db, principal, code, action="items.edit")
    latest = service.version_of(db, item, item.latest_version)
    if latest.status == VersionStatus.IN_REVIEW:
        raise Problem("version-not-editable", f"事项「{item.name}」第 {latest.version} 版正在审核，审核完成前不能修改")
    return json.loads(latest.content)


@router.get("/staff/items/{code}/edit", summary="编辑事项")
def edit_page(request: Request, code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return _editor(request, db, principal, _editable_document(db, principal, code))


@router.post("/staff/items/{code}/edit", summary="编辑事项：保存或增删行")
async def edit(request: Request, code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    return await _edit(request, db, principal, _editable_document(db, principal, code))


@router.get("/staff/items/{code}/versions/{version}", summary="审核：与已发布版本逐项对照")
def version_page(request: Request, code: str, version: Id, db: DbSession,
                 principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    item = service.managed_item(db, principal, code, action="items.versions")
    row = service.version_of(db, item, version)
    compared = item.published_version if item.published_version not in (None, version) else None
    if compared is None and version > 1:
        compared = version - 1  # the published one itself, or a first publication: against what came before
    before = json.loads(service.version_of(db, item, compared).content) if compared else None
    after = json.loads(row.content)
    published = service.published_items(db)
    changes = editor.diff(before, after, service.department_names(db), {c: p["name"] for c, p in published.items()})
    return render(request, "items_review.html", principal=principal, item=item, row=row, compared=compared,
                  published=compared == item.published_version, diff=changes, labels=VERSION_STATUS_LABELS,
                  can_review=row.status == VersionStatus.IN_REVIEW and principal.can(Permission.ITEMS_REVIEW))


@router.post("/staff/items/{code}/draft", summary="保存草稿（JSON）")
def save_draft(request: Request, code: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
               document: Annotated[str, Form(max_length=200_000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    item = service.managed_item(db, principal, code, action="items.draft")
    if (problem := editor.json_problem(document)) is not None:
        return _versions_page(request, db, principal, item, text=document, json_error=problem, status_code=422)
    parsed = json.loads(document)
    if not isinstance(parsed, dict) or parsed.get("basic_code") != code:
        return _versions_page(request, db, principal, item, text=document, status_code=422,
                              json_error="事项内容必须是一个 JSON 对象，且基本编码（basic_code）与本事项一致")
    if problems := service.problems_of(db, [parsed]):
        return _versions_page(request, db, principal, item, text=document, problems=problems, status_code=422)
    draft = service.save_draft(db, parsed, actor=principal, principal=principal)
    db.commit()
    flash(request, f"已保存为第 {draft.version} 版草稿")
    return RedirectResponse(f"/staff/items/{code}", status_code=303)


@router.post("/staff/items/{code}/submit", summary="提交审核")
def submit(request: Request, code: str, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
           csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    row = service.submit(db, service.managed_item(db, principal, code, action="items.submit"), actor=principal)
    db.commit()
    flash(request, f"第 {row.version} 版已提交审核")
    return RedirectResponse(f"/staff/items/{code}", status_code=303)


@router.post("/staff/items/{code}/versions/{version}/review", summary="审核")
def review(request: Request, code: str, version: Id, db: DbSession,
           principal: Annotated[Principal, require(Permission.ITEMS_REVIEW)],
           decision: Annotated[str, Form(pattern="^(approve|return)$")] = "approve",
           comment: Annotated[str, Form(max_length=1000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    row = service.review(db, service.item_or_404(db, code), version, approve=decision == "approve", comment=comment,
                         actor=principal)
    db.commit()
    flash(request, f"第 {row.version} 版已{'发布' if decision == 'approve' else '退回'}")
    return RedirectResponse(f"/staff/items/{code}", status_code=303)


@router.get("/staff/synonyms", summary="同义词管理")
def synonyms_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SYNONYMS_MANAGE)]):
    rows = [(s, json.loads(s.expansions)) for s in service.synonyms(db)]
    return render(request, "items_synonyms.html", principal=principal, rows=rows)


@router.post("/staff/synonyms", summary="保存同义词")
def save_synonym(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.SYNONYMS_MANAGE)],
                 phrase: Annotated[str, Form(max_length=50)] = "", expansions: Annotated[str, Form(max_length=500)] = "",
                 delete: Annotated[str, Form(max_length=10)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    if delete:
        service.delete_synonym(db, phrase, actor=principal)
        flash(request, f"已删除「{phrase}」")
    else:
        words = [w for w in expansions.replace("，", ",").replace("、", ",").split(",")]
        row = service.save_synonym(db, phrase, words, actor=principal)
        flash(request, f"已保存「{row.phrase}」")
    db.commit()
    return RedirectResponse("/staff/synonyms", status_code=303)


@router.get("/staff/consultations", summary="咨询队列")
def queue_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)],
               status: Annotated[str, Query(pattern="^(open|answered|faq|)$")] = "open"):
    return render(request, "items_consultations.html", principal=principal, rows=consultation.queue(db, principal, status=status or None),
                  status=status, labels=CONSULTATION_STATUS_LABELS)


@router.get("/staff/consultations/{number}", summary="答复咨询")
def consultation_staff_page(request: Request, number: str, db: DbSession,
                            principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)]):
    row = consultation.consultation_or_404(db, number[:32])
    ensure_department(db, principal, Permission.CONSULTATION_ANSWER, row.department, action="consultation.read")
    if row.contact:  # the asker's phone or e-mail is personal data: every read is logged
        audit.record(db, actor=principal, action="consultation.read_contact", object_type="consultation",
                     object_id=row.number, purpose="答复咨询")
        db.commit()
    suggestions = consultation.best_answers(db, row.question, row.item_code)
    return render(request, "items_consultation.html", principal=principal, row=row, suggestions=suggestions,
                  labels=CONSULTATION_STATUS_LABELS, open=row.status == ConsultationStatus.OPEN)


@router.post("/staff/consultations/{number}/answer", summary="提交答复")
def answer(request: Request, number: str, db: DbSession,
           principal: Annotated[Principal, require(Permission.CONSULTATION_ANSWER)],
           text: Annotated[str, Form(max_length=2000)] = "", promote: Annotated[str, Form(max_length=10)] = "",
           csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    row = consultation.consultation_or_404(db, number[:32])
    if row.status != ConsultationStatus.ANSWERED:
        consultation.answer(db, row, text, actor=principal)
    if promote:
        consultation.promote(db, row, question=None, actor=principal)
    db.commit()
    flash(request, "已答复" + ("，并提交收入常见问题，审核通过后公开" if promote else ""))
    return RedirectResponse(f"/staff/consultations/{row.number}", status_code=303)


@router.get("/staff/faqs", summary="常见问题审核")
def faq_drafts_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_REVIEW)]):
    names = {code: item["name"] for code, item in service.published_items(db).items()}
    return render(request, "items_faqs.html", principal=principal, rows=consultation.faq_drafts(db), names=names)


@router.post("/staff/faqs/{faq_id}/review", summary="常见问题审核：公开或不采用")
def review_faq(request: Request, faq_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.ITEMS_REVIEW)],
               decision: Annotated[str, Form(pattern="^(approve|reject)$")] = "approve", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    faq = consultation.review_faq(db, faq_id, approve=decision == "approve", actor=principal)
    db.commit()
    flash(request, f"常见问题「{faq.question[:30]}」{'已公开' if decision == 'approve' else '未采用'}")
    return RedirectResponse("/staff/faqs", status_code=303)
