"""Pages of the item base: the public service guide (search, item, navigation, notice, consultation)
and the staff pages (item versions and review, synonyms, the consultation queue)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tongban.core.security import check_csrf
from tongban.core import audit
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id, normalise_code
from tongban.core.permissions import Permission
from tongban.core.templating import flash, render
from tongban.items import consultation, content, navigation, service
from tongban.items.models import CONSULTATION_STATUS_LABELS, VERSION_STATUS_LABELS, ConsultationStatus
from tongban.items.search import SearchHit

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]


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


@router.get("/staff/items/{code}", summary="事项版本与审核")
def item_versions_page(request: Request, code: str, db: DbSession,
                       principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)]):
    item = service.managed_item(db, principal, code, action="items.versions")
    versions = service.versions(db, item)
    latest = json.dumps(json.loads(versions[0].content), ensure_ascii=False, indent=1)
    return render(request, "items_versions.html", principal=principal, item=item, versions=versions, latest=latest,
                  labels=VERSION_STATUS_LABELS, Permission=Permission)


@router.post("/staff/items/{code}/draft", summary="保存草稿")
def save_draft(request: Request, code: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.ITEMS_MANAGE)],
               document: Annotated[str, Form(max_length=200_000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    try:
        parsed = json.loads(document)
    except ValueError:
        raise Problem("malformed-json", "事项内容不是合法的 JSON") from None
    if not isinstance(parsed, dict) or parsed.get("basic_code") != code:
        raise Problem("item-invalid", "事项内容的 basic_code 必须与本事项一致")
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
    flash(request, "已答复" + ("，并收入常见问题" if promote else ""))
    return RedirectResponse(f"/staff/consultations/{row.number}", status_code=303)
