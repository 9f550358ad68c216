"""智能匹配's demo: a profile (小微企业) and four policies of the district's 人社局 — two for
enterprises, two for residents — drafted by its reviewer, published by its head (a second person),
and so matched against the demo registries as they are published."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.demo.district import principal
from tongban.policies import service
from tongban.policies.models import Policy
from tongban.policies.schemas import Condition, Group, PolicyIn, ProfileIn, ProfileRef, Target

DRAFTER, PUBLISHER, ADMIN = "reviewer.rs", "head", "admin"


def _all(*items) -> Group:
    return Group(mode="all", items=list(items))


def _c(field: str, op: str, value=None) -> Condition:
    return Condition(field=field, op=op, value=value)


PROFILES = (
    ProfileIn(code="small-micro", label="小微企业（从业人数不足 100 人、注册资本不超过 1000 万元）", target=Target.ENTERPRISE,
              conditions=_all(_c("employees", "lt", 100), _c("registered_capital", "le", 1000))),
    ProfileIn(code="operating", label="正常经营（登记存续或在业、税务登记正常）", target=Target.ENTERPRISE,
              conditions=_all(_c("status", "in", ["存续", "在业"]), _c("tax_registration_status", "eq", "正常"))),
)

POLICIES = (
    PolicyIn(title="小微企业稳岗补贴", target=Target.ENTERPRISE,
             legal_basis="《关于做好失业保险稳岗位提技能防失业工作的通知》（人社部发〔2022〕23号）",
             valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31),
             benefit="按企业上年度实际缴纳失业保险费的 90% 返还", claim_item="000112004000",
             conditions=_all(ProfileRef(profile="small-micro"), ProfileRef(profile="operating"),
                             _c("social_insurance_registered", "eq", True))),
    PolicyIn(title="科技型初创企业一次性吸纳就业补贴", target=Target.ENTERPRISE,
             legal_basis="《浦东新区促进高校毕业生等青年就业创业若干措施》",
             valid_from=date(2026, 1, 1), benefit="每吸纳一名高校毕业生就业，一次性补贴 0.15 万元", amount=0.15,
             conditions=_all(_c("industry_code", "prefix", ["I65", "M73", "M75"]), _c("established_years", "lt", 6),
                             ProfileRef(profile="operating"))),
    PolicyIn(title="职工基本养老金申领提醒", target=Target.RESIDENT,
             legal_basis="《中华人民共和国社会保险法》第十六条",
             valid_from=date(2026, 1, 1), benefit="达到法定退休年龄、累计缴费满十五年的，按月领取基本养老金",
             claim_item="000112013000",
             conditions=_all(_c("age", "ge", 60), _c("alive", "eq", True), _c("residence_status", "eq", "户籍"),
                             _c("social_insurance_status", "in", ["正常缴费", "暂停缴费"]))),
    PolicyIn(title="就业困难人员灵活就业社会保险补贴", target=Target.RESIDENT,
             legal_basis="《就业补助资金管理办法》（财社〔2017〕164号）",
             valid_from=date(2026, 1, 1), valid_until=date(2028, 12, 31),
             benefit="按灵活就业缴纳社会保险费的 2/3 给予补贴，最长三年",
             conditions=_all(_c("age", "between", [40, 59]), _c("alive", "eq", True),
                             Group(mode="any", items=[_c("employment_status", "eq", "登记失业"),
                                                      _c("employment_status", "eq", "灵活就业")]))),
)


def load_policies(db: Session) -> None:
    if db.scalar(select(func.count()).select_from(Policy)):
        return
    admin, drafter, publisher = principal(db, ADMIN), principal(db, DRAFTER), principal(db, PUBLISHER)
    for profile in PROFILES:
        service.save_profile(db, admin, profile)
    for body in POLICIES:
        policy = service.create(db, drafter, body)
        service.publish(db, publisher, policy.code)


def match_policies(sessions) -> None:
    """After the registries are loaded: every subject matched against the published policies (what
    the running platform's rematch round would do within seconds of starting)."""
    service.follow_changes_job(sessions)
