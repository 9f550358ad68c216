"""The policies API: drafts checked as they are written (bad input refused in Chinese, nothing
changed), publication by a second person with every subject matched, who qualifies and why,
contact status that only moves forward, XLSX export, the department's scope, the self-check, and
a registry change or a birthday matched again by the rematch round, the subject told once."""

from __future__ import annotations

import io
from datetime import date

from helpers import assert_problem, credit_code
from openpyxl import load_workbook
from sqlalchemy import func, select

from tongban.core import audit, clock
from tongban.core.events import InProcessBus, OutboxRelay
from tongban.notifications.models import Notification
from tongban.org import service as org
from tongban.policies import service
from tongban.policies.models import Match, Policy
from tongban.registry import service as registry
from tongban.registry.models import TABLES
from tongban.registry.schemas import LEGAL_ENTITIES

from .conftest import CITIZEN, DRAFTER, ENTERPRISE, OTHER_DEPARTMENT, POLICIES, PUBLISHER

CAPITAL = {"field": "registered_capital", "op": "le", "value": 800}


def body(**extra) -> dict:
    return {"title": "小型企业吸纳就业奖励", "target": "enterprise", "legal_basis": "《浦东新区就业促进办法》第十二条",
            "valid_from": "2026-01-01", "benefit": "每吸纳一人奖励 0.2 万元",
            "conditions": {"mode": "all", "items": [CAPITAL, {"profile": "operating"}]}, **extra}


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(Policy))


def test_the_demo_enterprise_sees_the_policies_it_qualifies_for_and_why(client, as_role):
    mine = client.get("/api/v1/me/policies", headers=as_role(ENTERPRISE))
    assert mine.status_code == 200, mine.text
    found = {item["policy"]["title"]: item for item in mine.json()["items"]}
    assert mine.json()["target"] == "enterprise"
    jobs = found["小微企业稳岗补贴"]
    assert jobs["match"]["verdict"] == "eligible" and jobs["claim_url"] == "/apply/000112004000"
    checks = {c["field"]: c for c in jobs["match"]["checks"]}
    assert checks["employees"]["value"] == "36 人" and checks["employees"]["source"] == "法人库（统计局）"
    assert checks["registered_capital"]["threshold"] == "1,000 万元" and checks["registered_capital"]["result"] == "pass"
    assert found["科技型初创企业一次性吸纳就业补贴"]["match"]["verdict"] == "eligible"
    assert not any(i["policy"]["target"] == "resident" for i in mine.json()["items"])
    assert_problem(client.get("/api/v1/me/policies"), 401, "not-authenticated")
    assert_problem(client.get("/api/v1/me/policies", headers=as_role(DRAFTER)), 403, "permission-denied")


def test_bad_drafts_are_refused_in_chinese_and_change_nothing(client, as_role, db):
    before = _count(db)
    staff = as_role(DRAFTER)
    cases = [
        (body(conditions={"mode": "all", "items": [{"field": "turnover", "op": "gt", "value": 1}]}), "unknown_field"),
        (body(conditions={"mode": "all", "items": [{"field": "registered_capital", "op": "gt", "value": "很多"}]}), "wrong_value"),
        (body(conditions={"mode": "all", "items": []}), "empty"),
        (body(conditions={"mode": "all", "items": [{"profile": "nobody"}]}), "unknown_profile"),
        (body(conditions={"mode": "all", "items": [{"field": "age", "op": "ge", "value": 60}]}), "unknown_field"),
        (body(claim_item="999999999999"), "unknown_item"),
        (body(valid_until="2025-01-01"), "before_start"),
    ]
    for sent, code in cases:
        refused = assert_problem(client.post(POLICIES, json=sent, headers=staff), 422, "validation-error")
        assert code in [e["code"] for e in refused["errors"]], (code, refused)
    assert_problem(client.post(POLICIES, json={**body(), "extra": 1}, headers=staff), 422, "validation-error")
    assert_problem(client.post(POLICIES, content=b"{not json", headers={**staff, "content-type": "application/json"}),
                   422, "malformed-json")
    assert_problem(client.post(POLICIES, json=body(), headers=as_role(CITIZEN)), 403, "permission-denied")
    assert_problem(client.post(POLICIES, json=body()), 401, "not-authenticated")
    db.expire_all()
    assert _count(db) == before


def test_a_profile_that_would_close_a_circle_is_refused(client, as_role, db):
    admin = as_role("admin")
    looped = {"code": "operating", "label": "正常经营", "target": "enterprise",
              "conditions": {"mode": "all", "items": [{"profile": "small-micro"}]}}
    first = client.put("/api/v1/policies/profiles/loop-a", json={**looped, "code": "loop-a",
                                                                  "conditions": {"mode": "all", "items": [CAPITAL]}}, headers=admin)
    assert first.status_code == 200, first.text
    circle = client.put("/api/v1/policies/profiles/loop-a", json={**looped, "code": "loop-a",
                                                                   "conditions": {"mode": "all", "items": [{"profile": "loop-a"}]}},
                        headers=admin)
    assert "circular" in [e["code"] for e in assert_problem(circle, 422, "validation-error")["errors"]]
    # The demo policies include these profiles: a change that breaks them is refused too.
    broken = client.put("/api/v1/policies/profiles/operating", json={**looped, "conditions": {"mode": "all", "items": [
        {"field": "age", "op": "ge", "value": 60}]}}, headers=admin)
    assert_problem(broken, 422, "validation-error")
    assert_problem(client.put("/api/v1/policies/profiles/x-y", json=looped, headers=admin), 422, "validation-error")
    assert_problem(client.put("/api/v1/policies/profiles/loop-a", json=looped, headers=as_role(DRAFTER)), 403, "permission-denied")
    # A department head reviews the department's policies, not the profiles every department shares.
    assert_problem(client.put("/api/v1/policies/profiles/loop-a", json={**looped, "code": "loop-a"}, headers=as_role(PUBLISHER)),
                   403, "department-scope")


def test_a_draft_is_published_by_a_second_person_and_everyone_is_matched(client, as_role, db):
    staff, head = as_role(DRAFTER), as_role(PUBLISHER)
    created = client.post(POLICIES, json=body(), headers=staff)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert created.json()["status"] == "draft" and created.json()["conditions_text"][0] == "注册资本 不大于 800 万元"
    assert client.get(f"{POLICIES}/{code}").status_code == 404  # not public before it is published
    # The drafter cannot publish it; a department head can.
    assert_problem(client.post(f"{POLICIES}/{code}/publish", headers=staff), 403, "permission-denied")
    own = client.post(POLICIES, json=body(title="负责人自己起草的政策"), headers=head).json()["code"]
    assert_problem(client.post(f"{POLICIES}/{own}/publish", headers=head), 403, "permission-denied")
    published = client.post(f"{POLICIES}/{code}/publish", headers=head)
    assert published.status_code == 200, published.text
    matched = published.json()["matched"]
    assert matched["subjects"] == db.scalar(select(func.count()).select_from(TABLES["legal_entities"])) and matched["eligible"] > 0
    assert published.json()["policy"]["version"] == 1 and published.json()["policy"]["eligible"] == matched["eligible"]
    listed = client.get(f"{POLICIES}/{code}/matches", headers=staff, params={"verdict": "eligible", "limit": 500}).json()
    assert len(listed["items"]) == matched["eligible"]
    demo_enterprise = next(m for m in listed["items"] if m["subject_key"] == ENTERPRISE)
    # The demo enterprise has an account: it was told, once, with a link to why.
    assert demo_enterprise["contact"] == "notified"
    told = db.scalars(select(Notification).where(Notification.kind == "policy_match",
                                                 Notification.title.contains("小型企业吸纳就业奖励"))).all()
    assert len(told) == 1 and told[0].link == "/my/policies"
    # Contact status moves forward only.
    url = f"{POLICIES}/{code}/matches/{ENTERPRISE}/contact"
    assert client.put(url, json={"contact": "applied"}, headers=staff).json()["contact"] == "applied"
    assert_problem(client.put(url, json={"contact": "notified"}, headers=staff), 409, "conflict")
    assert_problem(client.put(url, json={"contact": "lost"}, headers=staff), 422, "validation-error")
    # Another department's staff see neither its list nor its contacts.
    assert_problem(client.get(f"{POLICIES}/{code}/matches", headers=as_role(OTHER_DEPARTMENT)), 403, "department-scope")
    assert_problem(client.put(url, json={"contact": "awarded"}, headers=as_role(OTHER_DEPARTMENT)), 403, "department-scope")
    # The export holds every stored match.
    export = client.get(f"{POLICIES}/{code}/matches.xlsx", headers=staff)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert [c.value for c in sheet[1]][:4] == ["对象", "名称", "结论", "联系状态"]
    assert sheet.max_row - 1 == sum(published.json()["policy"][k] for k in ("eligible", "unknown", "near"))
    # Published: public, with its conditions in words.
    public = client.get(f"{POLICIES}/{code}").json()
    assert public["status"] == "published" and "注册资本 不大于 800 万元" in public["conditions_text"]
    assert code in [p["code"] for p in client.get(POLICIES, params={"limit": 500}).json()["items"]]
    assert_problem(client.get(f"{POLICIES}/ZC-19990101-AAAAAA"), 404, "not-found")
    # Publishing again without a new draft is refused; a stale version of the draft is refused.
    assert_problem(client.post(f"{POLICIES}/{code}/publish", headers=head), 409, "conflict")
    draft = client.get(f"{POLICIES}/{code}/draft", headers=staff)
    row_version = db.scalar(select(Policy.row_version).where(Policy.code == code))
    assert client.put(f"{POLICIES}/{code}/draft", json=body(benefit="每吸纳一人奖励 0.3 万元"), headers=staff,
                      params={"row_version": row_version}).status_code == 200, draft.text
    assert_problem(client.put(f"{POLICIES}/{code}/draft", json=body(), headers=staff, params={"row_version": row_version}),
                   409, "conflict")
    # Withdrawn: off the public list; who was told stays on record.
    assert client.post(f"{POLICIES}/{code}/withdraw", json={"reason": "政策调整"}, headers=head).status_code == 200
    assert client.get(f"{POLICIES}/{code}").json()["status"] == "withdrawn"  # still readable, marked withdrawn
    assert code not in [p["code"] for p in client.get(POLICIES, params={"limit": 500}).json()["items"]]
    db.expire_all()
    kept = db.scalars(select(Match).join(Policy, Policy.id == Match.policy_id).where(Policy.code == code)).all()
    assert [m.subject_key for m in kept] == [ENTERPRISE]


def test_the_self_check_needs_no_sign_in_and_stores_nothing(client, db):
    before = db.scalar(select(func.count()).select_from(Match))
    answer = client.post(f"{POLICIES}/self-check", json={"target": "resident", "facts": {
        "age": 61, "alive": True, "residence_status": "户籍", "social_insurance_status": "正常缴费"}})
    assert answer.status_code == 200, answer.text
    pension = next(r for r in answer.json() if r["title"] == "职工基本养老金申领提醒")
    assert pension["verdict"] == "eligible"
    flexible = next(r for r in answer.json() if r["title"] == "就业困难人员灵活就业社会保险补贴")
    assert flexible["verdict"] == "ineligible"  # 61 is past 59, and no employment status given: false beats unknown
    refused = assert_problem(client.post(f"{POLICIES}/self-check", json={"target": "resident", "facts": {"turnover": 1}}),
                             422, "validation-error")
    assert refused["errors"][0]["field"] == "body.facts.turnover"
    assert_problem(client.post(f"{POLICIES}/self-check", json={"target": "resident", "facts": {"age": "老"}}), 422, "validation-error")
    assert db.scalar(select(func.count()).select_from(Match)) == before


def _relay(quiet_app) -> None:
    """What the running relay does: committed events get their positions in the change feed."""
    OutboxRelay(quiet_app.state.sessionmaker, InProcessBus()).drain()


def _registered(quiet_app, key: str, raw: dict, *, create: bool) -> None:
    """市场监管局 writes the enterprise's record; the relay and one rematch round follow, as when running."""
    sessions = quiet_app.state.sessionmaker
    with sessions() as writer:
        registry.write(writer, registry=LEGAL_ENTITIES, key=key, values=registry.parse_values(LEGAL_ENTITIES, raw),
                       department=org.get_by_code_or_404(writer, "PD-SCJG"), actor=audit.SystemActor(actor_name="test"),
                       reason="登记事项变更", create=create)
        writer.commit()
    _relay(quiet_app)
    service.follow_changes_job(sessions)


def test_a_registry_change_is_matched_again_and_told_once(quiet_app, client, as_role, db):
    sessions = quiet_app.state.sessionmaker
    service.follow_changes_job(sessions)  # the first round: everything matched, the feed's position kept
    policy = db.scalar(select(Policy).where(Policy.published.contains("小微企业稳岗补贴")))
    verdict = lambda key: db.scalar(select(Match.verdict).where(Match.policy_id == policy.id, Match.subject_key == key))  # noqa: E731
    assert verdict(ENTERPRISE) == "eligible"
    # The registered capital rises above 1,000 万元: no longer 小微, one condition short.
    _registered(quiet_app, ENTERPRISE, {"registered_capital": "3000"}, create=False)
    db.expire_all()
    assert verdict(ENTERPRISE) == "near"
    mine = client.get("/api/v1/me/policies", headers=as_role(ENTERPRISE)).json()["items"]
    assert next(i for i in mine if i["policy"]["title"] == "小微企业稳岗补贴")["match"]["verdict"] == "near"
    # Back under: eligible again, but the enterprise was told already: no second notice.
    told = lambda: db.scalar(select(func.count()).select_from(Notification).where(  # noqa: E731
        Notification.kind == "policy_match", Notification.title.contains("小微企业稳岗补贴")))
    before = told()
    _registered(quiet_app, ENTERPRISE, {"registered_capital": "600"}, create=False)
    db.expire_all()
    assert verdict(ENTERPRISE) == "eligible" and told() == before
    # A new enterprise registered in the registry is matched as it arrives.
    newcomer = credit_code(org="MA1NEW001")
    _registered(quiet_app, newcomer, {"credit_code": newcomer, "name": "新设测试有限公司", "registered_capital": "100",
                                      "status": "存续"}, create=True)
    db.expire_all()
    assert verdict(newcomer) == "unknown"  # no tax, social-insurance or statistics record yet: 可能符合


def test_a_resident_turning_60_is_matched_on_the_day(quiet_app, db):
    """Ages move with the calendar, not with a registry change: a new day matches everyone again."""
    from tongban.registry.schemas import PERSONS

    from helpers import resident_id

    sessions = quiet_app.state.sessionmaker
    key = resident_id(birth="19661210", seq=777, region="310104")
    with clock.frozen(date(2026, 12, 9)):
        with sessions() as writer:
            for department, values in (("PD-GA", {"id_number": key, "name": "钱老伯", "residence_status": "户籍"}),
                                       ("PD-RS", {"social_insurance_status": "正常缴费"})):
                registry.write(writer, registry=PERSONS, key=key, values=registry.parse_values(PERSONS, values),
                               department=org.get_by_code_or_404(writer, department), actor=audit.SystemActor(actor_name="test"),
                               reason="登记", create=department == "PD-GA")
            writer.commit()
        _relay(quiet_app)
        service.follow_changes_job(sessions)
        policy = db.scalar(select(Policy).where(Policy.published.contains("职工基本养老金申领提醒")))
        found = lambda: db.scalar(select(Match.verdict).where(Match.policy_id == policy.id, Match.subject_key == key))  # noqa: E731
        db.expire_all()
        assert found() == "near"  # 59 today
    with clock.frozen(date(2026, 12, 10)):
        service.follow_changes_job(sessions)  # the new day's first round matches everyone again
        db.expire_all()
        assert found() == "eligible"
