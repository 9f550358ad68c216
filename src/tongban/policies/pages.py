"""The pages of 智能匹配: on the portal the published policies and a self-check anyone may take
without signing in; for a signed-in resident or enterprise 「我可以享受的政策」 with the reasons and
the way to claim; for a department's staff its policies, the drafting form (conditions as rows of
fact, comparison and threshold, or as JSON when groups nest), review and publication, and each
policy's list of who qualifies, with their contact status and an XLSX export.

The routes are thin: each step is ``policies.service``'s, each read the API's documents.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.pagination import Cursor, paginate
from tongban.core.permissions import Permission
from tongban.core.security import check_csrf
from tongban.core.templating import flash, render
from tongban.policies import api, service
from tongban.policies.models import Match, Policy
from tongban.policies.schemas import (
    CONTACT_LABELS, FACTS, FACTS_BY_NAME, OPERATOR_LABELS, TARGET_LABELS, VERDICT_LABELS, Condition, ContactStatus, FactKind,
    Group, PolicyIn, ProfileRef, SelfCheckIn, Target, Verdict,
)

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, require(Permission.POLICIES_MANAGE)]
Reviewer = Annotated[Principal, require(Permission.POLICIES_REVIEW)]
Anyone = Annotated[Principal | None, require(Permission.PUBLIC)]
ROWS = 8  # blank condition rows on the drafting form (no script needed)
MAX_FIELDS = 120
_SPLIT = re.compile(r"[,，、;；\s]+")


async def form_data(request: Request) -> FormData:
    return await request.form(max_fields=MAX_FIELDS, max_files=0)


Fields = Annotated[FormData, Depends(form_data)]


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit].strip() if isinstance(value, str) else ""


def _problem_words(problem: Problem, places: list[str] | None = None) -> list[str]:
    """Each fault of a refused draft, its place said as the form says it (条件 3, 画像 小微企业)."""
    words = []
    for error in problem.extensions.get("errors") or []:
        found = re.match(r"body\.conditions\.items\[(\d+)\]", error.get("field", ""))
        index = int(found.group(1)) if found else None
        prefix = f"{places[index]}：" if places is not None and index is not None and index < len(places) else ""
        words.append(prefix + error.get("message", ""))
    return words


# ---- the portal ------------------------------------------------------------------------------------


@router.get("/policies", summary="惠企惠民政策")
def portal(request: Request, db: DbSession, principal: Anyone,
           target: Annotated[Target | None, Query()] = None):
    policies = [service.read(db, p) for p in db.scalars(service.listing(db, None, target=target, published_only=True)
                                                       .order_by(Policy.published_at.desc()).limit(200))]
    return render(request, "policies_portal.html", principal=principal, policies=policies, target=target,
                  targets=TARGET_LABELS, can_own=bool(principal and principal.can(Permission.POLICIES_OWN)))


@router.get("/policies/check", summary="政策自测")
def check(request: Request, db: DbSession, principal: Anyone, target: Annotated[Target, Query()] = Target.ENTERPRISE):
    fields = [f for f in FACTS if f.target == target]
    stated: dict[str, Any] = {}
    given = {f.name: request.query_params.get(f.name, "").strip()[:40] for f in fields}
    results, error = None, None
    if any(given.values()):
        for fact in fields:
            raw = given[fact.name]
            if raw:
                stated[fact.name] = _stated(fact.kind, raw)
        try:
            results = service.self_check(db, SelfCheckIn(target=target, facts=stated))
        except Problem as problem:
            error = "；".join(_problem_words(problem)) or problem.detail
    return render(request, "policies_check.html", principal=principal, target=target, targets=TARGET_LABELS, fields=fields,
                  given=given, results=results, error=error, kinds=FactKind)


def _stated(kind: FactKind, raw: str) -> Any:
    if kind == FactKind.NUMBER:
        try:
            return float(raw)
        except ValueError:
            return raw  # refused by the check, in words
    if kind == FactKind.FLAG:
        return {"是": True, "否": False}.get(raw, raw)
    return raw


@router.get("/my/policies", summary="我可以享受的政策")
def mine(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.POLICIES_OWN)]):
    target, pairs = service.my_matches(db, principal)
    return render(request, "policies_mine.html", principal=principal, target=target, pairs=pairs)


# ---- the department --------------------------------------------------------------------------------


@router.get("/staff/policies", summary="政策管理")
def manage(request: Request, db: DbSession, principal: Manager):
    policies = [service.read(db, p, draft=True) for p in db.scalars(
        service.listing(db, principal, published_only=False).order_by(Policy.updated_at.desc()).limit(200))]
    return render(request, "policies_manage.html", principal=principal, policies=policies)


def _flat(group: Group) -> bool:
    return all(not isinstance(item, Group) for item in group.items)


def _form_of(body: PolicyIn | None) -> dict[str, Any]:
    if body is None:
        return {"title": "", "target": "enterprise", "legal_basis": "", "link": "", "valid_from": "", "valid_until": "",
                "benefit": "", "amount": "", "claim_item": "", "mode": "all", "profiles": [], "rows": [], "json": ""}
    flat = _flat(body.conditions)
    rows = [{"field": c.field, "op": c.op.value, "value": _value_text(c.value)}
            for c in body.conditions.items if isinstance(c, Condition)] if flat else []
    return {"title": body.title, "target": body.target.value, "legal_basis": body.legal_basis, "link": body.link or "",
            "valid_from": body.valid_from.isoformat(), "valid_until": body.valid_until.isoformat() if body.valid_until else "",
            "benefit": body.benefit, "amount": "" if body.amount is None else f"{body.amount:g}", "claim_item": body.claim_item or "",
            "mode": body.conditions.mode, "rows": rows,
            "profiles": [p.profile for p in body.conditions.items if isinstance(p, ProfileRef)] if flat else [],
            "json": "" if flat else body.conditions.model_dump_json(indent=2)}


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_value_text(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _editor(request: Request, db: Session, principal: Principal, form: dict[str, Any], *, policy: Policy | None = None,
            errors: list[str] | None = None, status_code: int = 200):
    rows = list(form["rows"]) + [{"field": "", "op": "eq", "value": ""}] * max(0, ROWS - len(form["rows"]))
    return render(request, "policies_form.html", status_code=status_code, principal=principal, form=form, policy=policy,
                  rows=rows, errors=errors or [], targets=TARGET_LABELS, operators=OPERATOR_LABELS,
                  facts={t: [f for f in FACTS if f.target == t] for t in Target},
                  profiles=service.profile_rows(db))


def _typed(target: Target, field: str, op: str, raw: str) -> Any:
    """A row's threshold as the JSON the API takes; what cannot be read is passed on for the check to refuse in words."""
    fact = FACTS_BY_NAME.get((target, field))
    if op == "exists":
        return None
    parts = [p for p in _SPLIT.split(raw) if p] if op in ("in", "prefix", "between") else [raw]
    values = [_stated(fact.kind, p) if fact else p for p in parts]
    return values if op in ("in", "prefix", "between") else values[0]


def _read(fields: FormData) -> tuple[dict[str, Any], PolicyIn]:
    """The drafting form as it was sent, and as the API's body (refused in Chinese when wrong)."""
    form: dict[str, Any] = {name: _text(fields, name, limit) for name, limit in (
        ("title", 200), ("target", 16), ("legal_basis", 500), ("link", 500), ("valid_from", 10), ("valid_until", 10),
        ("benefit", 1000), ("amount", 20), ("claim_item", 12), ("mode", 3), ("json", 20_000))}
    form["profiles"] = [p for p in fields.getlist("profiles") if isinstance(p, str)][:10]
    form["rows"], form["places"] = [], []
    for index in range(ROWS):
        row = {"field": _text(fields, f"field_{index}", 64), "op": _text(fields, f"op_{index}", 10) or "eq",
               "value": _text(fields, f"value_{index}", 2000)}
        form["rows"].append(row)  # blank ones too: shown again in their places, numbered as they were
        if row["field"]:
            form["places"].append(f"条件 {index + 1}")
    if form["target"] not in ("enterprise", "resident"):
        raise Problem("validation-error", "请选择政策对象（企业或居民）")
    target = Target(form["target"])
    try:
        if form["json"]:
            try:
                conditions = Group.model_validate_json(form["json"])
            except ValidationError:
                raise Problem("validation-error", "条件 JSON 的格式不正确：应为 {\"mode\": \"all\", \"items\": [...]}") from None
        else:
            items: list[Any] = [Condition(field=r["field"], op=r["op"], value=_typed(target, r["field"], r["op"], r["value"]))
                                for r in form["rows"] if r["field"]]
            items += [ProfileRef(profile=p) for p in form["profiles"]]
            conditions = Group(mode="any" if form["mode"] == "any" else "all", items=items)
        amount = float(form["amount"]) if form["amount"] else None
        body = PolicyIn(title=form["title"], target=target, legal_basis=form["legal_basis"], link=form["link"] or None,
                        valid_from=form["valid_from"] or None, valid_until=form["valid_until"] or None,
                        benefit=form["benefit"], amount=amount, claim_item=form["claim_item"] or None, conditions=conditions)
    except ValueError as error:  # pydantic's ValidationError is one
        messages = []
        labels = {"title": "政策名称", "legal_basis": "政策依据", "link": "原文链接", "valid_from": "生效日期", "valid_until": "有效期至",
                  "benefit": "支持内容", "amount": "定额", "claim_item": "申报事项编码", "op": "比较方式", "value": "阈值"}
        for item in (error.errors() if isinstance(error, ValidationError) else []):
            where = next((labels[str(p)] for p in reversed(item["loc"]) if str(p) in labels), "条件")
            messages.append(f"{where}：格式不正确")
        raise Problem("validation-error", "；".join(messages[:6]) or "定额应为数字",
                      errors=[{"field": "form", "code": "invalid", "message": m} for m in messages] or
                      [{"field": "form.amount", "code": "invalid", "message": "定额应为数字"}]) from None
    return form, body


def _save(request: Request, db: Session, principal: Principal, fields: Fields, policy: Policy | None):
    check_csrf(request, _text(fields, "csrf_token", 100))
    form: dict[str, Any] = _form_of(None)
    try:
        form, body = _read(fields)
        if policy is None:
            policy = service.create(db, principal, body)
        else:
            service.update_draft(db, principal, policy.code, body, row_version=int(_text(fields, "row_version", 10) or 0) or None)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        places = None if form.get("json") else form.get("places", []) + [f"画像 {p}" for p in form.get("profiles", [])]
        return _editor(request, db, principal, form, policy=policy, status_code=problem.status,
                       errors=_problem_words(problem, places) or [problem.detail])
    flash(request, "草稿已保存。请由本部门负责人（起草人以外的人员）审核发布")
    return RedirectResponse(f"/staff/policies/{policy.code}", status_code=303)


@router.get("/staff/policies/new", summary="起草政策")
def new(request: Request, db: DbSession, principal: Manager, json_editor: Annotated[bool, Query(alias="json")] = False):
    form = _form_of(None)
    if json_editor:
        form["json"] = json.dumps({"mode": "all", "items": [{"field": "registered_capital", "op": "le", "value": 1000}]},
                                  ensure_ascii=False, indent=2)
    return _editor(request, db, principal, form)


@router.post("/staff/policies/new", summary="起草政策：保存草稿")
def create(request: Request, db: DbSession, principal: Manager, fields: Fields):
    return _save(request, db, principal, fields, None)


@router.get("/staff/policies/{code}/edit", summary="修改政策草稿")
def edit_form(request: Request, code: str, db: DbSession, principal: Manager):
    policy = service.managed(db, principal, api.policy_code(code), Permission.POLICIES_MANAGE)
    return _editor(request, db, principal, _form_of(service.content(policy, draft=True)), policy=policy)


@router.post("/staff/policies/{code}/edit", summary="修改政策草稿：保存")
def edit(request: Request, code: str, db: DbSession, principal: Manager, fields: Fields):
    policy = service.managed(db, principal, api.policy_code(code), Permission.POLICIES_MANAGE)
    return _save(request, db, principal, fields, policy)


@router.get("/staff/policies/{code}", summary="政策与符合条件的对象")
def detail(request: Request, code: str, db: DbSession, principal: Manager,
           verdict: Annotated[Verdict | None, Query()] = None, cursor: Cursor = None):
    policy, query = service.policy_matches(db, principal, api.policy_code(code), verdicts=[verdict] if verdict else [])
    rows, next_cursor = paginate(db, query, Match.id, cursor=cursor, limit=50, descending=False)
    db.commit()  # the read of personal data is audited
    shown = service.read(db, policy)
    draft = service.read(db, policy, draft=True) if policy.draft else None
    title = shown.title
    reviewer = principal.can_for_department(Permission.POLICIES_REVIEW, policy.department_id)
    return render(request, "policies_detail.html", principal=principal, p=shown, draft=draft, policy=policy,
                  matches=[service.match_read(m, policy, title) for m in rows], next_cursor=next_cursor, verdict=verdict,
                  verdicts=VERDICT_LABELS, contacts=CONTACT_LABELS, reviewer=reviewer,
                  own_draft=policy.drafted_by == principal.actor_id)


def _step(request: Request, db: Session, code: str, done: str, action) -> RedirectResponse:
    try:
        action()
        db.commit()
        flash(request, done)
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        flash(request, problem.detail, kind="error")
    return RedirectResponse(f"/staff/policies/{code}", status_code=303)


@router.post("/staff/policies/{code}/publish", summary="审核发布政策")
def publish(request: Request, code: str, db: DbSession, principal: Reviewer, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))
    result: dict[str, Any] = {}

    def act():
        result["summary"] = service.publish(db, principal, api.policy_code(code))[1]

    response = _step(request, db, code, "已发布", act)
    if "summary" in result:
        s = result["summary"]
        flash(request, f"已发布并完成匹配：{s.subjects} 个对象中符合 {s.eligible} 个、可能符合 {s.unknown} 个、差一项 {s.near} 个；"
                       f"已通知 {s.notified} 个")
    return response


@router.post("/staff/policies/{code}/withdraw", summary="撤回政策")
def withdraw(request: Request, code: str, db: DbSession, principal: Reviewer, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))
    reason = _text(fields, "reason", 500)
    if len(reason) < 2:
        flash(request, "请填写撤回理由", kind="error")
        return RedirectResponse(f"/staff/policies/{code}", status_code=303)
    return _step(request, db, code, "已撤回", lambda: service.withdraw(db, principal, api.policy_code(code), reason))


@router.post("/staff/policies/{code}/contact", summary="记录联系状态")
def contact(request: Request, code: str, db: DbSession, principal: Manager, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))
    match_id, status = _text(fields, "match", 12), _text(fields, "contact", 16)
    if status not in {c.value for c in ContactStatus} or not match_id.isdigit():
        flash(request, "请选择联系状态", kind="error")
        return RedirectResponse(f"/staff/policies/{code}", status_code=303)
    return _step(request, db, code, f"已记录为“{CONTACT_LABELS[ContactStatus(status)]}”",
                 lambda: service.set_contact(db, principal, api.policy_code(code), ContactStatus(status), match_id=int(match_id)))


@router.get("/staff/policies/{code}/matches.xlsx", summary="导出符合条件的对象")
def export(code: str, db: DbSession, principal: Manager):
    policy, query = service.policy_matches(db, principal, api.policy_code(code), verdicts=[])
    db.commit()
    return api.xlsx_response(db, policy, list(db.scalars(query.order_by(Match.id))))

