"""The demo district's government: its departments, one account per role, the systems that call the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core.auth import Principal
from tongban.core.permissions import Role
from tongban.org import service as org
from tongban.org.models import Department
from tongban.org.schemas import Level, Office
from tongban.registry.schemas import Duty

T = TypeVar("T")


DEMO_PASSWORD = "tongban-demo-2026"
DEMO_CLIENT_SECRET = "tongban-demo-client-secret-2026"

CITY = ("SH", "上海市人民政府", "上海市", Level.CITY, "310000", None)
DISTRICT = ("PD", "浦东新区人民政府", "浦东新区", Level.DISTRICT, "310115", "SH")

# (code, name, short name) of the district's departments, as a district government names them.
DISTRICT_DEPARTMENTS = [
    ("PD-EGOV", "浦东新区电子政务办公室", "电子政务办"),
    ("PD-GA", "上海市公安局浦东分局", "公安分局"),
    ("PD-RS", "浦东新区人力资源和社会保障局", "人社局"),
    ("PD-MZ", "浦东新区民政局", "民政局"),
    ("PD-SCJG", "浦东新区市场监督管理局", "市场监管局"),
    ("PD-SW", "国家税务总局上海市浦东新区税务局", "税务局"),
    ("PD-GHZY", "浦东新区规划和自然资源局", "规划资源局"),
    ("PD-STHJ", "浦东新区生态环境局", "生态环境局"),
    ("PD-JSJT", "浦东新区建设和交通委员会", "建设和交通委"),
    ("PD-CGZF", "浦东新区城市管理行政执法局", "城管执法局"),
    ("PD-WJW", "浦东新区卫生健康委员会", "卫健委"),
    ("PD-YB", "浦东新区医疗保障局", "医保局"),
    ("PD-GJJ", "上海市公积金管理中心浦东新区分中心", "公积金中心"),
    ("PD-CZ", "浦东新区财政局", "财政局"),
    ("PD-TJ", "浦东新区统计局", "统计局"),
    ("PD-KW", "浦东新区科技和经济委员会", "科委"),
    ("PD-FGW", "浦东新区发展和改革委员会", "发改委"),
    ("PD-JY", "浦东新区教育局", "教育局"),
    ("PD-ZJ", "浦东新区住房保障和房屋管理局", "住房保障局"),
    ("PD-WGZX", "浦东新区城市运行综合管理中心", "城运中心"),
    ("PD-JCJ", "浦东新区监察委员会", "监察委"),
    ("PD-TYJR", "浦东新区退役军人事务局", "退役军人事务局"),
    ("PD-CL", "浦东新区残疾人联合会", "残联"),
    ("PD-SF", "浦东新区司法局", "司法局"),
    ("PD-WTL", "浦东新区文化体育和旅游局", "文体旅游局"),
    ("PD-LHSR", "浦东新区绿化和市容管理局", "绿化市容局"),
]

# The organ code (机构标识, ``Department.organ_code``) of each department that implements service
# items: fixed, so the demo items' 实施编码 are deterministic and can be recomputed (and checked)
# from department and basic code alone.
ORGAN_CODES = {
    "PD-GA": "42500431",
    "PD-RS": "00250215",
    "PD-MZ": "00250302",
    "PD-SCJG": "MB2F1177",
    "PD-SW": "MB0Z2215",
    "PD-GHZY": "MB2F6520",
    "PD-STHJ": "MB2F4932",
    "PD-JSJT": "00250318",
    "PD-CGZF": "MB2F3306",
    "PD-WJW": "MB2F2284",
    "PD-YB": "MB2F8841",
    "PD-GJJ": "42500577",
    "PD-ZJ": "00250460",
    "PD-FGW": "00250107",
    "PD-JY": "00250123",
    "PD-KW": "00250131",
    "PD-TYJR": "MB2F9012",
    "PD-CL": "50250519",
    "PD-SF": "00250149",
    "PD-WTL": "MB2F5503",
}


def implementation_prefixes() -> dict[str, str]:
    """The demo district's departments → the start of their items' 实施编码, as
    ``org.service.implementation_prefixes`` reads them from the database the demo loads: for the
    demo's documents before (or without) a database."""
    return {code: org.implementation_prefix(DISTRICT[4], organ) for code, organ in ORGAN_CODES.items()}


# Streets and towns (街镇) with their GB/T 2260 town-level extension, and committees (居村) under them.
TOWNS = [
    ("PD-LJZ", "陆家嘴街道办事处", "陆家嘴街道", "310115004"),
    ("PD-WF", "潍坊新村街道办事处", "潍坊新村街道", "310115005"),
    ("PD-HM", "花木街道办事处", "花木街道", "310115009"),
    ("PD-ZJ-TOWN", "张江镇人民政府", "张江镇", "310115125"),
    ("PD-CS", "川沙新镇人民政府", "川沙新镇", "310115103"),
]
VILLAGES = [
    ("PD-LJZ-MS", "陆家嘴街道梅园三村居民委员会", "梅园三村居委会", "310115004001", "PD-LJZ"),
    ("PD-HM-LY", "花木街道联洋第一居民委员会", "联洋一居委会", "310115009012", "PD-HM"),
    ("PD-CS-CX", "川沙新镇城厢村村民委员会", "城厢村委会", "310115103201", "PD-CS"),
]


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    username: str
    name: str
    department_code: str | None


STAFF = [
    DemoAccount(Role.WINDOW_CLERK, "clerk", "王晓燕", "PD-SCJG"),
    DemoAccount(Role.REVIEWER, "reviewer", "李建国", "PD-SCJG"),
    # One reviewer in each department of the two demo bundles (企业开办, 道路挖掘).
    DemoAccount(Role.REVIEWER, "reviewer.ga", "马俊", "PD-GA"),
    DemoAccount(Role.REVIEWER, "reviewer.sw", "钱芳", "PD-SW"),
    DemoAccount(Role.REVIEWER, "reviewer.rs", "冯磊", "PD-RS"),
    DemoAccount(Role.REVIEWER, "reviewer.gjj", "何静", "PD-GJJ"),
    DemoAccount(Role.REVIEWER, "reviewer.ghzy", "罗斌", "PD-GHZY"),
    DemoAccount(Role.REVIEWER, "reviewer.jsjt", "高远", "PD-JSJT"),
    DemoAccount(Role.REVIEWER, "reviewer.cgzf", "梁晨", "PD-CGZF"),
    # 医保局: its items are applied for online like any other (the single-item process).
    DemoAccount(Role.REVIEWER, "reviewer.yb", "韩梅", "PD-YB"),
    DemoAccount(Role.REVIEWER, "reviewer.jy", "孙丽", "PD-JY"),
    DemoAccount(Role.REVIEWER, "reviewer.wjw", "周宁", "PD-WJW"),
    # 生态环境局: its 夜间施工证明 is among the demo month's applications, some still open.
    DemoAccount(Role.REVIEWER, "reviewer.sthj", "陶然", "PD-STHJ"),
    DemoAccount(Role.DATA_STEWARD, "steward", "陈思远", "PD-GA"),
    DemoAccount(Role.DATA_STEWARD, "steward.mz", "林雪", "PD-MZ"),
    DemoAccount(Role.DATA_STEWARD, "steward.scjg", "黄志强", "PD-SCJG"),
    DemoAccount(Role.DATA_STEWARD, "steward.rs", "徐静", "PD-RS"),
    DemoAccount(Role.DEPARTMENT_HEAD, "head", "赵立新", "PD-RS"),
    DemoAccount(Role.EGOV_ADMIN, "admin", "周敏", "PD-EGOV"),
    DemoAccount(Role.INSPECTOR, "inspector", "孙正", "PD-JCJ"),
    DemoAccount(Role.GRID_SUPERVISOR, "grid", "吴海", "PD-WGZX"),
    DemoAccount(Role.HOTLINE_AGENT, "hotline", "郑丽", "PD-WGZX"),
    # 城市网格化管理: the centre registers and dispatches; departments and street offices handle.
    DemoAccount(Role.GRID_OPERATOR, "grid.centre", "方志诚", "PD-WGZX"),
    DemoAccount(Role.GRID_HANDLER, "grid.cgzf", "蒋涛", "PD-CGZF"),
    DemoAccount(Role.GRID_HANDLER, "grid.lhsr", "袁芳", "PD-LHSR"),
    DemoAccount(Role.GRID_HANDLER, "grid.jsjt", "任杰", "PD-JSJT"),
    DemoAccount(Role.GRID_HANDLER, "grid.ga", "曹勇", "PD-GA"),
    DemoAccount(Role.GRID_HANDLER, "grid.ljz", "许敏", "PD-LJZ"),
    DemoAccount(Role.GRID_HANDLER, "grid.wf", "邓超", "PD-WF"),
    DemoAccount(Role.GRID_HANDLER, "grid.hm", "彭丽", "PD-HM"),
    # 政府信息公开 in 财政局: one drafts, another does the 保密审查 and publishes; 统计局 drafts its own.
    DemoAccount(Role.DISCLOSURE_DRAFTER, "gk.drafter", "刘洋", "PD-CZ"),
    DemoAccount(Role.DISCLOSURE_REVIEWER, "gk.reviewer", "沈卫东", "PD-CZ"),
    DemoAccount(Role.DISCLOSURE_DRAFTER, "gk.drafter.tj", "杜娟", "PD-TJ"),
    # The disclosure offices (政府信息公开工作机构) of two departments: requests, replies, extensions.
    DemoAccount(Role.DISCLOSURE_OFFICER, "gongkai.gh", "沈佳怡", "PD-GHZY"),
    DemoAccount(Role.DISCLOSURE_HEAD, "gongkai.gh.head", "陆文涛", "PD-GHZY"),
    DemoAccount(Role.DISCLOSURE_OFFICER, "gongkai.zj", "邱明", "PD-ZJ"),
    # 领导信箱: the letters office (信访办) works in the e-government office until the district has its own.
    DemoAccount(Role.LETTERS_OFFICER, "xinfang", "顾晓红", "PD-EGOV"),
]
CITIZEN = DemoAccount(Role.CITIZEN, "310115199306151236", "张伟", None)
ENTERPRISE = DemoAccount(Role.ENTERPRISE, "91310115MA1FL0001N", "上海浦江示范科技有限公司", None)
CLIENT_ID = "pd-ga-population-system"
MZ_CLIENT_ID = "pd-mz-assistance-system"  # 民政局's social-assistance system reads shared data


# The platform offices of the demo district: its e-government office.
OFFICES = {"PD-EGOV": Office.EGOV, "PD-WGZX": Office.CITY_OPERATIONS}
# Which department is the authoritative source (一数一源) for which duty.
DUTIES = {
    "PD-GA": Duty.PUBLIC_SECURITY,
    "PD-RS": Duty.HUMAN_RESOURCES,
    "PD-MZ": Duty.CIVIL_AFFAIRS,
    "PD-SCJG": Duty.MARKET_REGULATION,
    "PD-SW": Duty.TAXATION,
    "PD-GHZY": Duty.PLANNING_RESOURCES,
    "PD-JY": Duty.EDUCATION,
    "PD-GJJ": Duty.HOUSING_FUND,
    "PD-TJ": Duty.STATISTICS,
    "PD-WJW": Duty.HEALTH,
}


def present(value: T | None, what: str) -> T:
    """What the demo created a step before (a department, an account, a process): it is there."""
    if value is None:
        raise LookupError(f"演示数据缺少{what}")
    return value


def ensure_department(db: Session, code: str, name: str, short: str, level: Level, division: str,
                parent_code: str | None) -> Department:
    existing = org.get_by_code(db, code)
    if existing is not None:
        if existing.duty is None and code in DUTIES:  # databases loaded before duties existed
            existing.duty = DUTIES[code].value
        if existing.organ_code is None and code in ORGAN_CODES:  # and before organ codes (migration 0020)
            existing.organ_code = ORGAN_CODES[code]
        if existing.office is None and code in OFFICES and org.office(db, OFFICES[code]) is None:  # 0021
            existing.office = OFFICES[code].value
        return existing
    department = Department(code=code, name=name, short_name=short, level=level.value, division_code=division,
                            organ_code=ORGAN_CODES.get(code), duty=DUTIES[code].value if code in DUTIES else None,
                            office=OFFICES[code].value if code in OFFICES else None,
                            parent=org.get_by_code(db, parent_code) if parent_code else None)
    db.add(department)
    db.flush()
    return department


def principal(db: Session, username: str) -> Principal:
    """The demo account ``username`` as it acts (its roles and department), for the demo's own steps."""
    user = present(accounts.get_by_username(db, username), f"演示账号 {username}")
    return present(accounts.load_principal(db, f"user:{user.id}"), f"演示账号 {username} 的权限")
