"""智能匹配: policies written, reviewed and published by departments; every subject matched against
every published policy in bulk; one subject matched again when its registry record changes; the
matches told to their subjects once, and followed by staff (told, applied, awarded).

Drafts are checked when they are written (an unknown field or a circular profile is refused at
once, not at publication). Publishing is a second person's act (``POLICIES_REVIEW``, never the
draft's author), copies the draft, keeps the version, and matches every subject again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, clock, events, numbers
from tongban.core.auth import Principal, deny
from tongban.core.db.engine import reading
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.items import service as items
from tongban.notifications import service as notifications
from tongban.org import service as org
from tongban.policies import conditions, facts
from tongban.policies.conditions import Tree
from tongban.policies.models import Match, Policy, PolicyVersion, Profile
from tongban.policies.schemas import (
    CONTACT_LABELS, FACTS, OPERATORS, VERDICT_LABELS, Check, ContactStatus, FactFieldRead, Group, MatchRead, PolicyIn,
    PolicyRead, ProfileIn, SelfCheckIn, SelfCheckRead, Target, Verdict,
)
from tongban.registry import service as registry
from tongban.registry.schemas import PERSONS

log = logging.getLogger("tongban.policies")

STATUS_LABELS = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}
FEED_SUBJECTS = {"registry.legal_entities": Target.ENTERPRISE, "registry.persons": Target.RESIDENT}
FEED_CURSOR = "policies.rematch"  # the change-feed position this domain has matched up to (core.events)


def fact_fields(target: Target | None = None) -> list[FactFieldRead]:
    return [FactFieldRead(name=f.name, label=f.label, kind=f.kind, target=f.target, source=f.source_label, unit=f.unit,
                          choices=list(f.choices), operators=list(OPERATORS[f.kind]), max_age_days=f.max_age_days)
            for f in FACTS if target is None or f.target == target]


# ---------------------------------------------------------------------------------------- profiles


def profiles(db: Session) -> dict[str, tuple[Target, Group]]:
    return {p.code: (Target(p.target), Group.model_validate_json(p.conditions)) for p in db.scalars(select(Profile))}


def profile_rows(db: Session):
    """(code, label, target, conditions, updated_at) of every profile."""
    return [(p.code, p.label, Target(p.target), Group.model_validate_json(p.conditions), p.updated_at)
            for p in db.scalars(select(Profile).order_by(Profile.code))]


def save_profile(db: Session, principal: Principal, body: ProfileIn) -> Profile:
    """Create or replace a profile; refused if it (or any policy through it) would no longer check.
    Profiles are shared by every department's policies: only a reviewer of all of them (the
    e-government office) writes them."""
    if not principal.can_for_department(Permission.POLICIES_REVIEW, None):
        raise deny(db, principal, slug="department-scope", detail="条件画像为各部门政策共用，由电子政务办维护",
                   action="policies.save_profile", object_type="policy_profile", object_id=body.code)
    known = profiles(db)
    known[body.code] = (body.target, body.conditions)
    conditions.compile_conditions(body.conditions, body.target, known, where="body.conditions")
    # A profile other profiles or policies include must still check with its new content.
    for code, (target, group) in known.items():
        if code != body.code:
            conditions.compile_conditions(group, target, known, where=f"profile:{code}")
    for policy in db.scalars(select(Policy).where(Policy.status != "withdrawn")):
        for content in (policy.draft, policy.published):
            if content:
                doc = PolicyIn.model_validate_json(content)
                conditions.compile_conditions(doc.conditions, doc.target, known, where=f"policy:{policy.code}")
    profile = db.get(Profile, body.code)
    if profile is None:
        profile = Profile(code=body.code)
        db.add(profile)
    elif profile.target != body.target.value:
        raise Problem("conflict", f"画像 {body.code} 适用于{'企业' if profile.target == 'enterprise' else '居民'}，不能改变适用对象")
    profile.label, profile.target = body.label, body.target.value
    profile.conditions = body.conditions.model_dump_json()
    profile.updated_by, profile.updated_at = principal.actor_name, clock.now()
    audit.record(db, actor=principal, action="policies.save_profile", object_type="policy_profile", object_id=body.code)
    return profile


# ---------------------------------------------------------------------------------------- policies


def get(db: Session, code: str) -> Policy:
    policy = db.scalar(select(Policy).where(Policy.code == code))
    if policy is None:
        raise Problem("not-found", f"没有编号为 {code} 的政策")
    return policy


def managed(db: Session, principal: Principal, code: str, permission: Permission) -> Policy:
    policy = get(db, code)
    if not principal.can_for_department(permission, policy.department_id):
        raise deny(db, principal, slug="department-scope", detail="只能管理本部门的政策", action=f"policies.{permission.value}",
                   object_type="policy", object_id=code)
    return policy


def _check(db: Session, body: PolicyIn) -> Tree:
    if body.valid_until is not None and body.valid_until < body.valid_from:
        raise Problem("validation-error", "有效期至早于生效日期",
                      errors=[{"field": "body.valid_until", "code": "before_start", "message": "有效期至早于生效日期"}])
    if body.claim_item and body.claim_item not in items.published_rows(db, [body.claim_item]):
        raise Problem("validation-error", f"没有编码为 {body.claim_item} 的已发布办事事项",
                      errors=[{"field": "body.claim_item", "code": "unknown_item", "message": "申报事项不存在或未发布"}])
    return conditions.compile_conditions(body.conditions, body.target, profiles(db))


def create(db: Session, principal: Principal, body: PolicyIn) -> Policy:
    _check(db, body)
    if principal.department_id is None:
        raise deny(db, principal, slug="department-scope", detail="政策由部门发布：账户须属于一个部门", action="policies.create")
    now = clock.now()
    policy = Policy(code=numbers.mint(db, Policy.code, "ZC"), department_id=principal.department_id,
                    target=body.target.value, status="draft", version=0, draft=body.model_dump_json(),
                    drafted_by=principal.actor_id, created_at=now, updated_at=now)
    db.add(policy)
    db.flush()
    audit.record(db, actor=principal, action="policies.create", object_type="policy", object_id=policy.code)
    return policy


def update_draft(db: Session, principal: Principal, code: str, body: PolicyIn, *, row_version: int | None) -> Policy:
    policy = managed(db, principal, code, Permission.POLICIES_MANAGE)
    if row_version is not None and row_version != policy.row_version:
        raise Problem("conflict", "政策已被他人修改，请刷新后重试", current_version=policy.row_version)
    if policy.version and body.target.value != policy.target:
        raise Problem("conflict", "已发布的政策不能改变适用对象；请另立新政策")
    _check(db, body)
    policy.draft, policy.target = body.model_dump_json(), body.target.value
    policy.drafted_by, policy.updated_at = principal.actor_id, clock.now()
    if policy.status == "withdrawn":
        policy.status = "draft"
    audit.record(db, actor=principal, action="policies.update_draft", object_type="policy", object_id=code)
    return policy


def publish(db: Session, principal: Principal, code: str) -> tuple[Policy, MatchSummary]:
    """The draft becomes the published version (a second person's act), and every subject is matched."""
    policy = managed(db, principal, code, Permission.POLICIES_REVIEW)
    if policy.draft is None:
        raise Problem("conflict", "没有待发布的草稿")
    if policy.drafted_by == principal.actor_id:
        raise deny(db, principal, slug="permission-denied", detail="政策须由起草人以外的人员审核发布：不能发布本人起草的草稿",
                   action="policies.publish", object_type="policy", object_id=code)
    body = PolicyIn.model_validate_json(policy.draft)
    tree = _check(db, body)
    now = clock.now()
    policy.published, policy.draft = policy.draft, None
    policy.claim_item = body.claim_item
    policy.version += 1
    policy.status, policy.published_at, policy.published_by, policy.updated_at = "published", now, principal.actor_id, now
    db.add(PolicyVersion(policy_id=policy.id, version=policy.version, content=policy.published, published_at=now,
                         published_by=principal.actor_id))
    audit.record(db, actor=principal, action="policies.publish", object_type="policy", object_id=code,
                 details={"version": policy.version})
    summary = match_policy(db, policy, tree)
    return policy, summary


def withdraw(db: Session, principal: Principal, code: str, reason: str) -> Policy:
    policy = managed(db, principal, code, Permission.POLICIES_REVIEW)
    if policy.status != "published":
        raise Problem("conflict", "只有已发布的政策可以撤回")
    policy.status, policy.updated_at = "withdrawn", clock.now()
    # Who was told or applied stays on record; who was only found eligible is forgotten.
    db.execute(delete(Match).where(Match.policy_id == policy.id, Match.contact == ContactStatus.UNTOLD.value))
    audit.record(db, actor=principal, action="policies.withdraw", object_type="policy", object_id=code,
                 details={"reason": reason})
    return policy


def content(policy: Policy, *, draft: bool = False) -> PolicyIn:
    text = (policy.draft or policy.published) if draft else (policy.published or policy.draft)
    return PolicyIn.model_validate_json(text or "")


def read(db: Session, policy: Policy, *, draft: bool = False) -> PolicyRead:
    body = content(policy, draft=draft)
    department = org.get(db, policy.department_id)
    counts = dict(db.execute(select(Match.verdict, func.count()).where(Match.policy_id == policy.id)
                             .group_by(Match.verdict)).all())
    try:
        labels = {code: label for code, label, *_ in profile_rows(db)}
        words = conditions.sentences(conditions.compile_conditions(body.conditions, body.target, profiles(db)), labels)
    except Problem:  # a profile changed under a withdrawn policy: shown as written
        words = []
    return PolicyRead(code=policy.code, version=policy.version, status=policy.status,
                      status_label=STATUS_LABELS[policy.status], department_code=department.code if department else "",
                      department_name=department.name if department else "", conditions_text=words,
                      published_at=policy.published_at, eligible=counts.get(Verdict.ELIGIBLE.value, 0),
                      unknown=counts.get(Verdict.UNKNOWN.value, 0), near=counts.get(Verdict.NEAR.value, 0),
                      **body.model_dump(exclude={"conditions"}), conditions=body.conditions)


def listing(db: Session, principal: Principal | None, *, target: Target | None = None, published_only: bool):
    query = select(Policy)
    if published_only:
        query = query.where(Policy.status == "published")
    elif principal is not None and not principal.can_for_department(Permission.POLICIES_MANAGE, None):
        query = query.where(Policy.department_id == principal.department_id)
    if target is not None:
        query = query.where(Policy.target == target.value)
    return query


def in_force(body: PolicyIn, on: date) -> bool:
    return body.valid_from <= on and (body.valid_until is None or on <= body.valid_until)


# ---------------------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchSummary:
    subjects: int
    eligible: int
    unknown: int
    near: int
    notified: int


def _published(db: Session, target: Target | None = None) -> list[tuple[Policy, PolicyIn, Tree]]:
    known = profiles(db)
    out = []
    query = select(Policy).where(Policy.status == "published").order_by(Policy.id)
    if target is not None:
        query = query.where(Policy.target == target.value)
    for policy in db.scalars(query):
        body = PolicyIn.model_validate_json(policy.published or "")
        out.append((policy, body, conditions.compile_conditions(body.conditions, body.target, known)))
    return out


def match_policy(db: Session, policy: Policy, tree: Tree | None = None, *, frame: pl.DataFrame | None = None,
                 on: date | None = None) -> MatchSummary:
    """Every subject of the policy's target evaluated at once; the stored matches brought up to date
    (a subject's contact status kept), and each newly eligible subject with an account told once."""
    on = on or clock.today()
    body = PolicyIn.model_validate_json(policy.published or "")
    tree = tree or conditions.compile_conditions(body.conditions, body.target, profiles(db))
    target = Target(policy.target)
    frame = frame if frame is not None else facts.frame(db, target, on)
    if not in_force(body, on):
        found = frame.clear()
    else:
        stage_one, [(result, near)] = conditions.verdict_columns([tree], on)
        found = (frame.lazy().with_columns(stage_one).with_columns(result.alias("_result"), near.alias("_near"))
                 .filter(pl.col("_result").is_null() | pl.col("_result") | pl.col("_near")).collect())
    rows = {row["subject_key"]: row for row in found.to_dicts()}
    summary = _store(db, policy, body, tree, target, rows, on, full=True)
    policy.matched_at = clock.now()
    return MatchSummary(subjects=frame.height, **summary)


def _facts_of_row(target: Target, row: Mapping) -> conditions.Facts:
    source = facts.REGISTRY[target].name
    return conditions.Facts(row, {source: row.get(conditions.as_of_column(source))})


def _store(db: Session, policy: Policy, body: PolicyIn, tree: Tree, target: Target, rows: Mapping[str, Mapping],
           on: date, *, full: bool) -> dict[str, int]:
    """``rows``: the facts of the subjects that match now (or, when not ``full``, of the subjects
    looked at, matching or not). Stored matches of other subjects are dropped only when ``full``."""
    now = clock.now()
    existing = {m.subject_key: m for m in db.scalars(
        select(Match).where(Match.policy_id == policy.id, *(() if full else (Match.subject_key.in_(list(rows)),))))}
    counts = {"eligible": 0, "unknown": 0, "near": 0}
    newly_eligible: list[Match] = []
    for key, row in rows.items():
        verdict, checks = conditions.verdict(tree, _facts_of_row(target, row), on)
        match = existing.pop(key, None)
        if verdict == Verdict.INELIGIBLE:
            if match is not None:
                existing[key] = match  # handled below, as no longer matching
            continue
        counts[verdict.value] += 1
        checks_json = json.dumps([c.model_dump(mode="json") for c in checks], ensure_ascii=False)
        if match is None:
            match = Match(policy_id=policy.id, subject_key=key, contact=ContactStatus.UNTOLD.value)
            db.add(match)
        was_eligible = match.verdict == Verdict.ELIGIBLE.value
        match.subject_name, match.verdict, match.checks = row.get("subject_name"), verdict.value, checks_json
        match.policy_version, match.evaluated_at = policy.version, now
        if verdict == Verdict.ELIGIBLE and not was_eligible and match.notified_at is None:
            newly_eligible.append(match)
    for match in existing.values():  # no longer eligible, unknown nor near
        if match.contact == ContactStatus.UNTOLD.value:
            db.delete(match)
        else:
            match.verdict, match.evaluated_at = Verdict.INELIGIBLE.value, now
    notified = _tell(db, policy, body, newly_eligible) if newly_eligible else 0
    return {**counts, "notified": notified}


def _tell(db: Session, policy: Policy, body: PolicyIn, matches: list[Match]) -> int:
    """Each newly eligible subject with a verified account is told once (a notification)."""
    holders = accounts.holders(db, [m.subject_key for m in matches])
    now = clock.now()
    told = 0
    for match in matches:
        account = holders.get(match.subject_key)
        if account is None:
            continue
        notifications.notify(db, department_id=None, account_id=str(account), kind="policy_match",
                             title=f"您可能符合政策：{body.title}",
                             body=f"根据基础库信息，您符合「{body.title}」的条件（{body.benefit[:200]}）。请查看原因和申报方式。",
                             link="/my/policies")
        match.notified_at, match.contact = now, ContactStatus.NOTIFIED.value
        told += 1
    return told


def rematch_subjects(db: Session, target: Target, keys: Iterable[str], on: date | None = None) -> int:
    """The subjects matched again against every published policy of their target (after their
    registry records changed); returns how many matches were written or dropped."""
    on = on or clock.today()
    keys = sorted(set(keys))
    if not keys:
        return 0
    frame = facts.frame(db, target, on, keys=keys)
    rows = {row["subject_key"]: row for row in frame.to_dicts()}
    changed = 0
    for policy, body, tree in _published(db, target):
        looked_at = rows if in_force(body, on) else {}
        gone = [k for k in keys if k not in looked_at]  # a record deleted, or the policy out of force
        summary = _store(db, policy, body, tree, target, looked_at, on, full=False)
        if gone:
            for match in db.scalars(select(Match).where(Match.policy_id == policy.id, Match.subject_key.in_(gone))):
                if match.contact == ContactStatus.UNTOLD.value:
                    db.delete(match)
        changed += summary["eligible"] + summary["unknown"] + summary["near"]
    return changed


def follow_changes(db: Session, *, limit: int = 5000) -> int:
    """Bring the stored matches up to date: every subject again on a new day (ages and years
    since founding move with the calendar) or on the first run; otherwise the subjects whose
    registry records changed since the last call (the change feed, from this domain's position,
    moved in the same transaction). Returns how many changes were read (0: up to date)."""
    after = events.cursor(db, FEED_CURSOR)  # locked: one process at a time follows the feed
    today = clock.today()
    if after is None or _full_match_due(db, today):
        head = events.head(db)
        match_all(db, today)
        events.move_cursor(db, FEED_CURSOR, max(head, after or 0))
        if after is None:
            return 0
        after = max(head, after)
    changes = events.changes_after(db, list(FEED_SUBJECTS), after, limit)
    if not changes:
        return 0
    by_target: dict[Target, set[str]] = {}
    for _position, subject, key in changes:
        if key:
            by_target.setdefault(FEED_SUBJECTS[subject], set()).add(key)
    for target, keys in by_target.items():
        rematch_subjects(db, target, keys, today)
    events.move_cursor(db, FEED_CURSOR, changes[-1][0])
    return len(changes)


def _full_match_due(db: Session, today: date) -> bool:
    """A published policy not yet matched today (Beijing): ages and years since founding moved."""
    return bool(db.scalar(select(func.count()).select_from(Policy).where(
        Policy.status == "published", (Policy.matched_at.is_(None)) | (Policy.matched_at < _day_start(today)))))


def _day_start(day: date):
    """The first moment of a Beijing day, as stored (UTC)."""
    return datetime.combine(day, time.min, clock.BEIJING).astimezone(UTC)


def _behind(db: Session) -> bool:
    """Whether a round has anything to do: read without the write lock (a reading session)."""
    position = db.scalar(select(events.FeedCursor.position).where(events.FeedCursor.name == FEED_CURSOR))
    if position is None or _full_match_due(db, clock.today()):
        return True
    return bool(events.changes_after(db, list(FEED_SUBJECTS), position, 1))


def follow_changes_job(sessionmaker) -> None:
    """The background loop's round: nothing when nothing changed (looked at without the write
    lock); otherwise until the feed is read to its end, a commit per batch."""
    with reading(sessionmaker)() as look:
        if not _behind(look):
            return
    with sessionmaker() as db:
        while True:
            read = follow_changes(db)
            db.commit()
            if not read:
                break


def match_all(db: Session, on: date | None = None) -> dict[str, MatchSummary]:
    """Every published policy against every subject: one facts frame per target, read once."""
    on = on or clock.today()
    frames: dict[Target, pl.DataFrame] = {}
    out = {}
    for policy, _body, tree in _published(db):
        target = Target(policy.target)
        if target not in frames:
            frames[target] = facts.frame(db, target, on)
        out[policy.code] = match_policy(db, policy, tree, frame=frames[target], on=on)
    return out


# ---------------------------------------------------------------------------------------- reading


def _match_read(match: Match, policy: Policy, title: str, *, clear: bool = True) -> MatchRead:
    key = match.subject_key if policy.target == Target.ENTERPRISE.value else registry.shown_key(PERSONS, match.subject_key, clear=clear)
    return MatchRead(id=match.id, policy_code=policy.code, policy_title=title, subject_key=key, subject_name=match.subject_name,
                     verdict=Verdict(match.verdict), verdict_label=VERDICT_LABELS[Verdict(match.verdict)],
                     contact=ContactStatus(match.contact), contact_label=CONTACT_LABELS[ContactStatus(match.contact)],
                     checks=[Check.model_validate(c) for c in json.loads(match.checks)], evaluated_at=match.evaluated_at)


def my_matches(db: Session, principal: Principal) -> tuple[Target | None, list[tuple[PolicyRead, MatchRead]]]:
    """The signed-in resident's or enterprise's matches with published policies, eligible first."""
    identity = accounts.applicant_identity(db, principal)
    if identity is None or not (identity.credit_code or identity.resident_id):
        return None, []
    key = identity.credit_code or identity.resident_id
    target = Target.ENTERPRISE if identity.credit_code else Target.RESIDENT
    order = {Verdict.ELIGIBLE.value: 0, Verdict.UNKNOWN.value: 1, Verdict.NEAR.value: 2}
    pairs = []
    for match, policy in db.execute(select(Match, Policy).join(Policy, Policy.id == Match.policy_id)
                                    .where(Match.subject_key == key, Policy.status == "published",
                                           Match.verdict != Verdict.INELIGIBLE.value)):
        shown = read(db, policy)
        pairs.append((shown, _match_read(match, policy, shown.title)))
    pairs.sort(key=lambda pair: (order[pair[1].verdict.value], pair[0].title))
    return target, pairs


def policy_matches(db: Session, principal: Principal, code: str, *, verdicts: list[Verdict]):
    """The stored matches of a policy, for its department (personal data: each read is audited)."""
    policy = managed(db, principal, code, Permission.POLICIES_MANAGE)
    query = select(Match).where(Match.policy_id == policy.id)
    if verdicts:
        query = query.where(Match.verdict.in_([v.value for v in verdicts]))
    if policy.target == Target.RESIDENT.value:
        audit.record(db, actor=principal, action="policies.read_matches", object_type="policy", object_id=code,
                     purpose="政策精准推送")
    return policy, query


def match_read(match: Match, policy: Policy, title: str) -> MatchRead:
    return _match_read(match, policy, title, clear=False)


def set_contact(db: Session, principal: Principal, code: str, contact: ContactStatus, *, subject_key: str | None = None,
                match_id: int | None = None) -> Match:
    """A subject's contact status moves forward (told, applied, awarded); named by its key (the API)
    or by its row on the page (a resident's ID number is shown masked there)."""
    policy = managed(db, principal, code, Permission.POLICIES_MANAGE)
    found = Match.subject_key == subject_key if subject_key is not None else Match.id == match_id
    match = db.scalar(select(Match).where(Match.policy_id == policy.id, found))
    if match is None:
        raise Problem("not-found", f"政策 {code} 的匹配名单中没有该对象")
    if _before(contact, ContactStatus(match.contact)):
        raise Problem("conflict", f"联系状态不能从“{CONTACT_LABELS[ContactStatus(match.contact)]}”退回“{CONTACT_LABELS[contact]}”")
    match.contact = contact.value
    if contact == ContactStatus.NOTIFIED and match.notified_at is None:
        match.notified_at = clock.now()
    audit.record(db, actor=principal, action="policies.set_contact", object_type="policy", object_id=code,
                 details={"subject": subject_key if policy.target == Target.ENTERPRISE.value else "（个人）",
                          "contact": contact.value})
    return match


def _before(one: ContactStatus, other: ContactStatus) -> bool:
    """Contact status only moves forward: 尚未告知 → 已告知 → 已申报 → 已兑现."""
    order = list(ContactStatus)
    return order.index(one) < order.index(other)


def claimed(db: Session, item_code: str, subject_key: str, *, awarded: bool = False) -> int:
    """An application for an item was submitted (``awarded``: approved): the subject's matches with
    the published policies claimed through that item move to 已申报 (已兑现), never back. Called
    by the cases domain in the application's transaction; returns how many moved."""
    moved = 0
    for match in db.scalars(select(Match).join(Policy, Policy.id == Match.policy_id).where(
            Policy.claim_item == item_code, Policy.status == "published", Match.subject_key == subject_key)):
        wanted = ContactStatus.AWARDED if awarded else ContactStatus.APPLIED
        if _before(ContactStatus(match.contact), wanted):
            match.contact = wanted.value
            moved += 1
    return moved


def self_check(db: Session, body: SelfCheckIn) -> list[SelfCheckRead]:
    """Every published policy in force for the target, against facts a visitor states (nothing stored)."""
    known = {f.name: f for f in FACTS if f.target == body.target}
    errors = []
    values: dict[str, object] = {}
    for name, value in body.facts.items():
        fact = known.get(name)
        if fact is None:
            errors.append({"field": f"body.facts.{name}", "code": "unknown_field", "message": f"未知的事实字段 {name}"})
            continue
        try:
            values[name] = None if value is None else conditions.typed_value(fact, value)
        except ValueError as error:
            errors.append({"field": f"body.facts.{name}", "code": "wrong_value", "message": f"{fact.label}{error}"})
    if errors:
        raise Problem("validation-error", errors[0]["message"], errors=errors)
    on = clock.today()
    stated = conditions.Facts(values, {facts.REGISTRY[body.target].name: on})
    out = []
    for policy, policy_body, tree in _published(db, body.target):
        if not in_force(policy_body, on):
            continue
        verdict, checks = conditions.verdict(tree, stated, on)
        out.append(SelfCheckRead(policy_code=policy.code, title=policy_body.title, verdict=verdict,
                                 verdict_label=VERDICT_LABELS[verdict], checks=checks))
    order = list(Verdict)
    return sorted(out, key=lambda r: (order.index(r.verdict), r.title))
