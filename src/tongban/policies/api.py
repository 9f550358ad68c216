"""/api/v1/policies: 智能匹配 — the facts conditions may name, policies (drafted, reviewed, published),
who qualifies for each, and for a signed-in resident or enterprise the policies it qualifies for."""

from __future__ import annotations

import io
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from openpyxl import Workbook
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.pagination import Cursor, Limit, paginate
from tongban.core.permissions import Permission
from tongban.core.spreadsheets import neutralise_row
from tongban.policies import service
from tongban.policies.models import Match, Policy
from tongban.policies.schemas import (
    FactFieldRead, MatchPage, MatchRead, PolicyIn, PolicyPage, PolicyRead, ProfileIn, ProfileRead, SelfCheckIn, SelfCheckRead,
    Target, Verdict, ContactStatus,
)

router = APIRouter(prefix="/api/v1", tags=["智能匹配 policies"])
Manager = Annotated[Principal, require(Permission.POLICIES_MANAGE)]
Reviewer = Annotated[Principal, require(Permission.POLICIES_REVIEW)]
Anyone = Annotated[Principal | None, require(Permission.PUBLIC)]


class MatchSummaryRead(BaseModel):
    subjects: int = Field(description="参与匹配的对象数")
    eligible: int
    unknown: int
    near: int
    notified: int = Field(description="本次新告知的对象数")


class PublishedRead(BaseModel):
    policy: PolicyRead
    matched: MatchSummaryRead


class WithdrawIn(BaseModel):
    model_config = {"extra": "forbid"}
    reason: str = Field(min_length=2, max_length=500)


class ContactIn(BaseModel):
    model_config = {"extra": "forbid"}
    contact: ContactStatus = Field(description="notified 已告知 | applied 已申报 | awarded 已兑现（只能前进）")


class MyPolicy(BaseModel):
    policy: PolicyRead
    match: MatchRead
    claim_url: str | None


class MyPolicies(BaseModel):
    target: Target | None
    items: list[MyPolicy]


def policy_code(code: str) -> str:
    """A policy number, or 404 as for any number that is not one (not a 422: it is an address)."""
    if not re.fullmatch(r"ZC-\d{8}-[0-9A-Z]{6}", code):
        raise Problem("not-found", f"没有编号为 {code} 的政策")
    return code


@router.get("/policies/facts", response_model=list[FactFieldRead], summary="条件可用的事实字段（来源、类型、可用比较方式）")
def facts(_: Anyone, target: Annotated[Target | None, Query()] = None):
    return service.fact_fields(target)


@router.get("/policies", response_model=PolicyPage, summary="已发布的政策")
def published(db: DbSession, _: Anyone, target: Annotated[Target | None, Query()] = None, cursor: Cursor = None,
              limit: Limit = 50):
    rows, next_cursor = paginate(db, service.listing(db, None, target=target, published_only=True), Policy.id,
                                 cursor=cursor, limit=limit)
    return PolicyPage(items=[service.read(db, p) for p in rows], next_cursor=next_cursor)


@router.get("/policies/drafts", response_model=PolicyPage, summary="本部门的政策（含草稿、已撤回）")
def department_policies(db: DbSession, principal: Manager, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.listing(db, principal, published_only=False), Policy.id, cursor=cursor, limit=limit)
    return PolicyPage(items=[service.read(db, p, draft=True) for p in rows], next_cursor=next_cursor)


@router.get("/policies/profiles", response_model=list[ProfileRead], summary="条件画像（如 小微企业）")
def profile_list(db: DbSession, _: Manager):
    return [ProfileRead(code=code, label=label, target=target, conditions=group, updated_at=updated)
            for code, label, target, group, updated in service.profile_rows(db)]


@router.put("/policies/profiles/{code}", response_model=ProfileRead, summary="新建或修改条件画像（引用它的政策须仍然成立）")
def save_profile(code: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")], body: ProfileIn, db: DbSession,
                 principal: Reviewer):
    if body.code != code:
        raise Problem("validation-error", "地址中的画像编码与正文不一致",
                      errors=[{"field": "body.code", "code": "mismatch", "message": "画像编码与地址不一致"}])
    profile = service.save_profile(db, principal, body)
    db.commit()
    return ProfileRead(code=profile.code, label=profile.label, target=profile.target, conditions=body.conditions,
                       updated_at=profile.updated_at)


@router.post("/policies/self-check", response_model=list[SelfCheckRead], summary="自测：按填写的情况看可能符合哪些政策（不保存）")
def self_check(body: SelfCheckIn, db: DbSession, _: Anyone):
    return service.self_check(db, body)


@router.post("/policies", response_model=PolicyRead, status_code=201, summary="起草政策（条件在保存时即校验）")
def create(body: PolicyIn, db: DbSession, principal: Manager):
    policy = service.create(db, principal, body)
    db.commit()
    return service.read(db, policy, draft=True)


@router.get("/policies/{code}", response_model=PolicyRead, summary="一项已发布的政策")
def one(code: str, db: DbSession, _: Anyone):
    policy = service.get(db, policy_code(code))
    if policy.published is None:
        raise Problem("not-found", f"没有编号为 {code} 的已发布政策")
    return service.read(db, policy)


@router.get("/policies/{code}/draft", response_model=PolicyRead, summary="政策的草稿（无草稿时为已发布内容）")
def draft(code: str, db: DbSession, principal: Manager):
    return service.read(db, service.managed(db, principal, policy_code(code), Permission.POLICIES_MANAGE), draft=True)


@router.put("/policies/{code}/draft", response_model=PolicyRead, summary="修改草稿（整份；row_version 防止覆盖他人的修改）")
def update(code: str, body: PolicyIn, db: DbSession, principal: Manager,
           row_version: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="读取时的版本号；不一致时 409")] = None):
    policy = service.update_draft(db, principal, policy_code(code), body, row_version=row_version)
    db.commit()
    return service.read(db, policy, draft=True)


@router.post("/policies/{code}/publish", response_model=PublishedRead, summary="审核发布（起草人以外的人员），并匹配全部对象")
def publish(code: str, db: DbSession, principal: Reviewer):
    policy, summary = service.publish(db, principal, policy_code(code))
    db.commit()
    return PublishedRead(policy=service.read(db, policy), matched=MatchSummaryRead(**summary.__dict__))


@router.post("/policies/{code}/withdraw", response_model=PolicyRead, summary="撤回已发布的政策")
def withdraw(code: str, body: WithdrawIn, db: DbSession, principal: Reviewer):
    policy = service.withdraw(db, principal, policy_code(code), body.reason)
    db.commit()
    return service.read(db, policy)


@router.get("/policies/{code}/matches", response_model=MatchPage, summary="符合（及可能符合、差一项）的对象与原因")
def matches(code: str, db: DbSession, principal: Manager, verdict: Annotated[list[Verdict] | None, Query()] = None,
            cursor: Cursor = None, limit: Limit = 50):
    policy, query = service.policy_matches(db, principal, policy_code(code), verdicts=verdict or [])
    rows, next_cursor = paginate(db, query, Match.id, cursor=cursor, limit=limit, descending=False)
    db.commit()  # the read of personal data is audited
    title = service.content(policy).title
    return MatchPage(items=[service.match_read(m, policy, title) for m in rows], next_cursor=next_cursor)


@router.get("/policies/{code}/matches.xlsx", summary="导出符合条件的对象（XLSX）", response_class=Response)
def export(code: str, db: DbSession, principal: Manager):
    policy, query = service.policy_matches(db, principal, policy_code(code), verdicts=[])
    db.commit()
    return xlsx_response(db, policy, list(db.scalars(query.order_by(Match.id))))


def xlsx_response(db: Session, policy: Policy, rows: list[Match]) -> Response:
    title = service.content(policy).title
    book = Workbook()
    sheet = book.active
    sheet.title = "符合条件的对象"
    sheet.append(neutralise_row(["对象", "名称", "结论", "联系状态", "不符合或不明的条件", "评估时间"]))
    for match in rows:
        shown = service.match_read(match, policy, title)
        open_points = "；".join(f"{c.label}（{c.value or '无记录'}）" for c in shown.checks if c.result != "pass")
        sheet.append(neutralise_row([shown.subject_key, shown.subject_name or "", shown.verdict_label, shown.contact_label,
                                     open_points, wall.beijing_text(shown.evaluated_at)]))
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"{policy.code}-matches.xlsx"
    return Response(buffer.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.put("/policies/{code}/matches/{subject_key}/contact", response_model=MatchRead, summary="记录联系状态（已告知、已申报、已兑现）")
def contact(code: str, subject_key: Annotated[str, Path(pattern=r"^[0-9A-Z]{17}[0-9A-Z]$")], body: ContactIn, db: DbSession,
            principal: Manager):
    match = service.set_contact(db, principal, policy_code(code), body.contact, subject_key=subject_key)
    db.commit()
    policy = service.get(db, code)
    return service.match_read(match, policy, service.content(policy).title)


@router.get("/me/policies", response_model=MyPolicies, summary="我可以享受的政策（原因与申报方式）")
def mine(db: DbSession, principal: Annotated[Principal, require(Permission.POLICIES_OWN)]):
    target, pairs = service.my_matches(db, principal)
    return MyPolicies(target=target, items=[MyPolicy(policy=p, match=m, claim_url=f"/apply/{p.claim_item}" if p.claim_item else None)
                                            for p, m in pairs])

