"""Demo data, in one place: the demo district's government and one account per role.

Idempotent: running it again creates only what is missing and changes nothing that exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tongban.accounts import service as accounts
from tongban.accounts.models import ApiClient
from tongban.core import audit, numbers
from tongban.core.config import Settings
from tongban.core.idnumbers import check_credit_code, check_resident_id
from tongban.core.permissions import ROLE_LABELS, Role
from tongban.org import service as org
from tongban.org.models import Department
from tongban.org.schemas import Level
from tongban.registry.schemas import Duty, Registry
from tongban.core import clock as wall

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
]

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
    DemoAccount(Role.DATA_STEWARD, "steward", "陈思远", "PD-GA"),
    DemoAccount(Role.DATA_STEWARD, "steward.mz", "林雪", "PD-MZ"),
    DemoAccount(Role.DATA_STEWARD, "steward.scjg", "黄志强", "PD-SCJG"),
    DemoAccount(Role.DATA_STEWARD, "steward.rs", "徐静", "PD-RS"),
    DemoAccount(Role.DEPARTMENT_HEAD, "head", "赵立新", "PD-RS"),
    DemoAccount(Role.EGOV_ADMIN, "admin", "周敏", "PD-EGOV"),
    DemoAccount(Role.INSPECTOR, "inspector", "孙正", "PD-JCJ"),
    DemoAccount(Role.GRID_SUPERVISOR, "grid", "吴海", "PD-WGZX"),
    DemoAccount(Role.HOTLINE_AGENT, "hotline", "郑丽", "PD-WGZX"),
]
CITIZEN = DemoAccount(Role.CITIZEN, "310115199306151236", "张伟", None)
ENTERPRISE = DemoAccount(Role.ENTERPRISE, "91310115MA1FL0001N", "上海浦江示范科技有限公司", None)
CLIENT_ID = "pd-ga-population-system"
MZ_CLIENT_ID = "pd-mz-assistance-system"  # 民政局's social-assistance system reads shared data


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


def _present(value: T | None, what: str) -> T:
    """What the demo created a step before (a department, an account, a process): it is there."""
    if value is None:
        raise LookupError(f"演示数据缺少{what}")
    return value


def _department(db: Session, code: str, name: str, short: str, level: Level, division: str,
                parent_code: str | None) -> Department:
    existing = org.get_by_code(db, code)
    if existing is not None:
        if existing.duty is None and code in DUTIES:  # databases loaded before duties existed
            existing.duty = DUTIES[code].value
        return existing
    department = Department(code=code, name=name, short_name=short, level=level.value, division_code=division,
                            duty=DUTIES[code].value if code in DUTIES else None,
                            parent=org.get_by_code(db, parent_code) if parent_code else None)
    db.add(department)
    db.flush()
    return department


def load(db: Session, settings: Settings) -> list[tuple[str, str, str, str]]:
    """Create what is missing; return (role label, username, password, department) for every demo account."""
    created = 0
    _department(db, *CITY)
    _department(db, *DISTRICT)
    for code, name, short in DISTRICT_DEPARTMENTS:
        _department(db, code, name, short, Level.DISTRICT, "310115", "PD")
    for code, name, short, division in TOWNS:
        _department(db, code, name, short, Level.TOWN, division, "PD")
    for code, name, short, division, parent in VILLAGES:
        _department(db, code, name, short, Level.VILLAGE, division, parent)

    listing = []
    for account in STAFF:
        department = org.get_by_code_or_404(db, _present(account.department_code, f"{account.username} 的部门"))
        if accounts.get_by_username(db, account.username) is None:
            accounts.create_staff(db, settings, username=account.username, display_name=account.name,
                                  password=DEMO_PASSWORD, department=department, roles=[account.role])
            created += 1
        listing.append((ROLE_LABELS[account.role], account.username, DEMO_PASSWORD, department.short_name))
    if accounts.get_by_username(db, CITIZEN.username) is None:
        accounts.register_citizen(db, settings, resident_id=check_resident_id(CITIZEN.username), display_name=CITIZEN.name,
                                  password=DEMO_PASSWORD)
        created += 1
    accounts.mark_verified(db, _present(accounts.get_by_username(db, CITIZEN.username), "演示个人账号"))  # it matches the registry (_demo_applicants)
    listing.append((ROLE_LABELS[Role.CITIZEN], CITIZEN.username, DEMO_PASSWORD, f"{CITIZEN.name}（身份证号登录）"))
    if accounts.get_by_username(db, ENTERPRISE.username) is None:
        accounts.register_enterprise(db, settings, credit_code=check_credit_code(ENTERPRISE.username), display_name=ENTERPRISE.name,
                                     password=DEMO_PASSWORD)
        created += 1
    accounts.mark_verified(db, _present(accounts.get_by_username(db, ENTERPRISE.username), "演示企业账号"))
    listing.append((ROLE_LABELS[Role.ENTERPRISE], ENTERPRISE.username, DEMO_PASSWORD, f"{ENTERPRISE.name}（信用代码登录）"))
    if db.scalar(select(ApiClient).where(ApiClient.client_id == CLIENT_ID)) is None:
        accounts.create_client(db, settings, name="公安分局人口管理系统", department=org.get_by_code_or_404(db, "PD-GA"),
                               client_id=CLIENT_ID, secret=DEMO_CLIENT_SECRET)
        created += 1
    listing.append((ROLE_LABELS[Role.DEPARTMENT_SYSTEM], CLIENT_ID, DEMO_CLIENT_SECRET, "公安分局（client_credentials）"))
    if db.scalar(select(ApiClient).where(ApiClient.client_id == MZ_CLIENT_ID)) is None:
        accounts.create_client(db, settings, name="民政局社会救助系统", department=org.get_by_code_or_404(db, "PD-MZ"),
                               client_id=MZ_CLIENT_ID, secret=DEMO_CLIENT_SECRET)
        created += 1
    listing.append((ROLE_LABELS[Role.DEPARTMENT_SYSTEM], MZ_CLIENT_ID, DEMO_CLIENT_SECRET, "民政局（client_credentials）"))
    _load_catalog(db, settings)
    _demo_applicants(db)  # the citizen and enterprise accounts have their registry records
    _load_services(db, settings)
    _load_supervised_month(db, settings)
    _load_supervision(db, settings)
    if created:
        audit.record(db, actor=audit.SystemActor(actor_name="tongban demo load"), action="demo.load",
                     details={"accounts_created": created})
    return listing


def _load_services(db: Session, settings: Settings) -> None:
    """The item base (42 published items, the search synonyms, the items' FAQ), the processes
    of applications, and the grants under which the one window fetches shared materials."""
    from tongban.items import consultation, content
    from tongban.items import service as items

    actor = audit.SystemActor(actor_name="tongban demo load")
    items.import_document(db, content.load(), actor=actor, publish=True)
    items.seed_synonyms(db, actor=actor)
    consultation.load_demo_faqs(db)
    from tongban.cases import service as cases

    cases.load_demo_definitions(db, actor=actor)
    _platform_grants(db, settings)


def _platform_grants(db: Session, settings: Settings) -> None:
    """The one-window platform (run by the e-government office) asks for the registry items it
    fetches instead of asking applicants for copies; the source departments grant them."""
    from datetime import timedelta

    from tongban.cases.service import PLATFORM_ITEMS
    from tongban.catalog import service as catalog
    from tongban.sharing import service as sharing
    from tongban.sharing.models import SharingRequest
    from tongban.sharing.schemas import RequestStatus

    egov = org.get_by_code_or_404(db, "PD-EGOV")
    # The platform has fetched under these grants for a while (the demo's past cases fetched their
    # materials, and a replay of an earlier day still finds them): the longest period allowed,
    # three years, begun two years ago.
    valid_from = wall.today() - timedelta(days=2 * 365)
    for code, items in PLATFORM_ITEMS.items():
        resource = catalog.get_or_404(db, code)
        if db.scalar(select(SharingRequest.id).where(SharingRequest.requester_id == egov.id,
                                                     SharingRequest.resource_id == resource.id)) is not None:
            continue
        request = sharing.submit(db, resource=resource, requester=egov, item_codes=items,
                                 duty="一网通办统一受理：核验申请人身份和登记信息，免除申请人重复提交材料",
                                 basis="《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
                                 purpose="政务服务办件受理时获取免提交材料", valid_from=valid_from,
                                 valid_to=valid_from + timedelta(days=3 * 365), actor=audit.SystemActor(actor_name="tongban demo load"),
                                 response_days=settings.sharing_response_days)
        if request.status == RequestStatus.PROVIDER:
            pending = [item.item_code for item in request.items if item.outcome == "pending"]
            sharing.provider_decide(db, request, approve=pending, refuse=[], reason=None,
                                    actor=audit.SystemActor(actor_name="tongban demo load（提供部门答复）"))


ASSISTANCE_RESOURCE: dict[str, Any] = {
    "code": "PD-MZ-DIBAO", "name": "最低生活保障对象名册", "classification": "department",
    "summary": "民政局认定的最低生活保障家庭及其成员：保障人数、月保障金额、起始日期和当前状态。每日更新。",
    "format": "库表", "update_cycle": "每日", "sharing_type": "conditional",
    "sharing_conditions": "用于社会救助、医疗救助、教育资助等履职审核", "openness": "not_open", "key_item": "id_number",
    "items": [
        {"code": "id_number", "name": "公民身份号码", "data_type": "C", "length": 18, "personal": True,
         "sharing_type": "conditional", "sharing_conditions": "履行社会救助相关职责"},
        {"code": "name", "name": "姓名", "data_type": "C", "length": 50, "personal": True,
         "sharing_type": "conditional", "sharing_conditions": "履行社会救助相关职责"},
        {"code": "household_size", "name": "保障人数", "data_type": "N", "length": 3, "sharing_type": "unconditional"},
        {"code": "monthly_amount", "name": "月保障金额（元）", "data_type": "N", "length": 10,
         "sharing_type": "conditional", "sharing_conditions": "仅限救助金额核算"},
        {"code": "start_date", "name": "保障起始日期", "data_type": "D", "length": 10, "sharing_type": "unconditional"},
        {"code": "status", "name": "保障状态", "data_type": "C", "length": 10, "sharing_type": "unconditional"},
        {"code": "case_notes", "name": "家庭经济状况核对明细", "data_type": "C", "length": 2000, "personal": True,
         "sharing_type": "not_shared", "legal_basis": "《社会救助暂行办法》第六十六条：对获得的信息予以保密"},
    ],
}


def _load_catalog(db: Session, settings: Settings) -> None:
    """The base registries in the catalog, one department dataset, and one pending request."""
    from datetime import timedelta

    from tongban.catalog import service as catalog
    from tongban.catalog.schemas import ResourceIn, ResourceStatus
    from tongban.sharing import service as sharing
    from tongban.sharing.models import SharingRequest

    actor = audit.SystemActor(actor_name="tongban demo load")
    catalog.sync_registries(db)
    if catalog.get(db, ASSISTANCE_RESOURCE["code"]) is None:
        resource = catalog.create(db, ResourceIn.model_validate(ASSISTANCE_RESOURCE),
                                  provider=org.get_by_code_or_404(db, "PD-MZ"), actor=actor)
        catalog.set_status(db, resource, ResourceStatus.PUBLISHED, actor=actor)
    if db.scalar(select(SharingRequest).limit(1)) is None:
        today = wall.today()
        sharing.submit(db, resource=catalog.get_or_404(db, "persons"), requester=org.get_by_code_or_404(db, "PD-MZ"),
                       item_codes=["name", "gender", "residence_status", "marital_status", "household_address"],
                       duty="最低生活保障申请家庭的户籍和婚姻状况核对", basis="《社会救助暂行办法》第十一条",
                       purpose="低保审核：核对申请人户籍、婚姻状况", valid_from=today,
                       valid_to=today + timedelta(days=365), actor=actor,
                       response_days=settings.sharing_response_days)


# The synthetic district loaded for the demo: big enough to search and page through.
DEMO_SEED = 2026
DEMO_PEOPLE, DEMO_ENTERPRISES, DEMO_ADDRESSES = 5_000, 500, 1_500


def load_registries(sessions: sessionmaker[Session], settings: Settings, *,
                    progress: Callable[[str, int], object] | None = None) -> dict[str, int]:
    """Import a synthetic district through the real import path: each department imports the
    columns it is the source of (the owner of the key first, who creates the records)."""
    from tongban.registry import importer, synthetic
    from tongban.registry.schemas import REGISTRIES

    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    plan = [("addresses", DEMO_ADDRESSES), ("persons", DEMO_PEOPLE), ("legal_entities", DEMO_ENTERPRISES)]
    counts: dict[str, int] = {}
    for name, count in plan:
        registry = REGISTRIES[name]
        rows = synthetic.rows(name, DEMO_SEED, count, people=DEMO_PEOPLE, addresses=DEMO_ADDRESSES)
        for duty, path in per_source_files(registry, rows, folder).items():
            with sessions() as db:
                source = _present(org.get_by_duty(db, duty.value), f"{duty.value} 的来源部门").code
            actor = audit.SystemActor(actor_name="tongban demo load", department_code=source)
            job = importer.run(sessions, registry=registry, path=path, department_code=source, actor=actor)
            if duty == registry.owner:
                counts[name] = job.rows_accepted + job.rows_unchanged
        if progress:
            progress(name, counts[name])
    with sessions() as db:
        _demo_applicants(db)
        db.commit()
    return counts


def per_source_files(registry: Registry, rows: Iterable[dict[str, str]], folder: Path) -> dict[Duty, Path]:
    """Split full rows into one CSV per source department: the key plus that source's fields."""
    import csv

    by_duty: dict[Duty, list[str]] = {}
    for field in registry.fields:
        if field.name != registry.key:
            by_duty.setdefault(field.duty, []).append(field.name)
    paths: dict[Duty, Path] = {}
    writers: dict[Duty, tuple[Any, list[str]]] = {}  # csv's writer type is private (_csv._writer)
    handles: list[IO[str]] = []
    try:
        for duty, names in sorted(by_duty.items(), key=lambda item: item[0] != registry.owner):
            paths[duty] = folder / f"{registry.name}.{duty.value}.csv"
            handle = open(paths[duty], "w", encoding="utf-8", newline="")
            handles.append(handle)
            writers[duty] = (csv.writer(handle), [registry.key, *names])
            writers[duty][0].writerow(writers[duty][1])
        for row in rows:
            for writer, columns in writers.values():
                writer.writerow([row[c] for c in columns])
    finally:
        for opened in handles:
            opened.close()
    return paths


def _demo_applicants(db: Session) -> None:
    """The demo citizen and enterprise accounts have records in the registries too."""
    from tongban.registry import service
    from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS

    actor = audit.SystemActor(actor_name="tongban demo load")
    if service.current_row(db, PERSONS, CITIZEN.username) is None:
        values = service.parse_values(PERSONS, {
            "id_number": CITIZEN.username, "name": CITIZEN.name, "gender": "男", "birth_date": "1993-06-15",
            "ethnicity": "汉族", "household_address": "上海市浦东新区花木街道锦绣路1001弄8号302室",
            "residence_address": "上海市浦东新区花木街道锦绣路1001弄8号", "residence_status": "户籍", "phone": "13916881234"})
        service.write(db, registry=PERSONS, key=CITIZEN.username, values=values,
                      department=org.get_by_code_or_404(db, "PD-GA"), actor=actor, reason="演示数据：户籍登记")
    if service.current_row(db, LEGAL_ENTITIES, ENTERPRISE.username) is None:
        values = service.parse_values(LEGAL_ENTITIES, {
            "credit_code": ENTERPRISE.username, "name": ENTERPRISE.name, "entity_type": "有限责任公司",
            "legal_representative_id": CITIZEN.username, "legal_representative_name": CITIZEN.name,
            "registered_capital": "500", "currency": "人民币", "established_on": "2021-03-18", "approved_on": "2021-03-18",
            "registered_address": "中国（上海）自由贸易试验区张江路665号3层", "business_scope": "软件开发；信息技术咨询服务；数据处理服务。",
            "industry_code": "I6513", "registration_authority": "浦东新区市场监督管理局", "status": "存续"})
        service.write(db, registry=LEGAL_ENTITIES, key=ENTERPRISE.username, values=values,
                      department=org.get_by_code_or_404(db, "PD-SCJG"), actor=actor, reason="演示数据：设立登记")


DEMO_CORRECTOR = "tongban demo load（电子监察演示）"


def _load_supervision(db: Session, settings: Settings) -> None:
    """Something for the inspectors to watch: 纠错 requests of the demo applicants filed some
    working days ago, so their clocks stand at every level (overdue, due soon, on track) and two
    are closed (on time and late); then one warning scan, as the server runs it."""
    from datetime import timedelta

    from tongban.core.workdays import WorkingCalendar
    from tongban.registry import corrections
    from tongban.registry.models import CorrectionRequest
    from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS
    from tongban.supervision import service as supervision

    if db.scalar(select(CorrectionRequest.id).where(CorrectionRequest.requester_name == DEMO_CORRECTOR).limit(1)):
        return
    calendar, today = WorkingCalendar.load(db), wall.today()

    def working_days_ago(count: int) -> date:
        day = today
        while count > 0:
            day -= timedelta(days=1)
            count -= calendar.is_working_day(day)
        return day

    requester = audit.SystemActor(actor_name=DEMO_CORRECTOR, department_code="PD-MZ")
    plan = [  # (registry, key, field, proposed, working days ago, decided as)
        (PERSONS, CITIZEN.username, "residence_address", "上海市浦东新区花木街道锦绣路1001弄9号", settings.correction_days + 3, None),
        (PERSONS, CITIZEN.username, "phone", "13916885678", settings.correction_days - 1, None),
        (LEGAL_ENTITIES, ENTERPRISE.username, "registered_address", "中国（上海）自由贸易试验区张江路665号5层", 0, None),
        (LEGAL_ENTITIES, ENTERPRISE.username, "phone", "021-58881234", 2, "rejected"),
        (LEGAL_ENTITIES, ENTERPRISE.username, "business_scope", "软件开发；信息技术咨询服务；数据处理和存储支持服务。",
         settings.correction_days + 4, "rejected"),
    ]
    for registry, key, field, proposed, ago, decided in plan:
        correction = corrections.request_correction(
            db, registry=registry, key=key, field_name=field, proposed=proposed, reason="群众反映信息有误（演示）",
            evidence=None, requester=requester, working_days=settings.correction_days, today=working_days_ago(ago))
        if decided:
            source = audit.SystemActor(actor_name="tongban demo load（来源部门）", department_code=correction.source_department)
            corrections.decide(db, correction_id=correction.id, accept=False, reason="经核实，登记信息无误（演示）",
                               decider=source, registries={registry.name: registry})
    supervision.scan(db, today=today)


DEMO_MONTH_KEY = "demo-supervised-month"  # the idempotency keys of the month's applications start with it
# Items the demo applicants use, by who applies: (basic code, applicant); limits come from the items.
DEMO_MONTH_ITEMS = [
    ("000112010000", CITIZEN), ("000107010000", CITIZEN), ("000121007000", CITIZEN), ("000112007000", CITIZEN),
    ("000126007000", CITIZEN), ("000117007000", CITIZEN), ("000113010000", CITIZEN), ("000114004000", ENTERPRISE),
    ("000125010000", CITIZEN), ("000121010000", CITIZEN), ("000115010000", ENTERPRISE), ("000112013000", CITIZEN),
    ("000121013000", ENTERPRISE), ("000107013000", CITIZEN),
]


def _load_supervised_month(db: Session, settings: Settings) -> None:
    """Something real for the dashboard: the demo applicants' online applications from the first
    day of last month to today, played day by day through the supervision clocks (accepted the
    same or the next working day; most finished on time, some late, some with a supplement that
    pauses the clock, a few refused, some still open and one of those overdue), rated 好差评 the
    working day after they finish (two poor ratings: one rectification 人社局's head has closed,
    one still open), the warning scan run at the end of every day; then last month's evaluation,
    computed and published on the portal."""
    import random
    from datetime import datetime, time, timedelta

    from tongban.accounts.service import load_principal
    from tongban.cases.models import Application, ApplicationStatus, CaseStep, ProcessDefinitionRow
    from tongban.cases.service import SINGLE_ITEM_PROCESS
    from tongban.core.workdays import WorkingCalendar
    from tongban.items import service as items
    from tongban.items.models import ServiceItem
    from tongban.supervision import clocks, evaluation, ratings
    from tongban.supervision import service as supervision
    from tongban.supervision.models import ClockKind

    people = {who: _present(accounts.get_by_username(db, who.username), who.name) for who in (CITIZEN, ENTERPRISE)}
    if db.scalar(select(Application.id).where(Application.idempotency_key.like(f"{DEMO_MONTH_KEY}%")).limit(1)):
        return
    calendar, today = WorkingCalendar.load(db), wall.today()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    work = [d for d in days if calendar.is_working_day(d)]
    last = len(work) - 1
    definition = _present(db.scalar(select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == SINGLE_ITEM_PROCESS)
                                    .order_by(ProcessDefinitionRow.version.desc()).limit(1)), "单事项办理流程")
    departments = dict(db.execute(select(ServiceItem.basic_code, ServiceItem.department_id)).all())
    rng = random.Random(2026)

    def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), wall.BEIJING)

    def planned(code: str, who: DemoAccount, submitted: int, accepted: int, used: int, *, pause: tuple[int, int] | None = None,
                outcome: str = "approved", score: int | None = None) -> dict[str, Any]:
        """One application: working-day indices of its steps, its limit from the item."""
        limit = items.published_item(db, code)[0]["committed_days"] or 1
        # A supplement is asked the day after acceptance; the work goes on at least a day after it.
        finished = accepted + (max(used, 1) + pause[1] if pause else used)
        return {"code": code, "who": who, "limit": limit, "submitted": submitted, "accepted": accepted, "pause": pause,
                "finished": finished, "outcome": outcome, "score": score}

    plan = []
    for n in range(34):
        code, who = DEMO_MONTH_ITEMS[n % len(DEMO_MONTH_ITEMS)]
        limit = items.published_item(db, code)[0]["committed_days"] or 1
        submitted = n * (last - 1) // 33
        used = limit + rng.randint(1, 3) if n % 5 == 1 else rng.randint(max(limit // 3, 0), limit)  # one in five late
        plan.append(planned(code, who, submitted, min(submitted + n % 2, last), used,
                            pause=(min(submitted + n % 2, last) + 1, 2) if n % 5 == 2 else None,
                            outcome="refused" if n % 9 == 7 else "approved",
                            score=rng.choices((3, 4, 5), (1, 3, 6))[0] if n % 3 else None))
    # 人社局: two poor ratings, one rectified and closed by its head, one still open; and a case overdue now.
    plan.append(planned("000112013000", CITIZEN, last // 3, last // 3, 8, outcome="refused", score=1))
    plan.append(planned("000112010000", CITIZEN, last - 9, last - 9, 6, score=2))
    plan.append(planned("000107013000", CITIZEN, last - 19, last - 19, 30))

    by_day: dict[int, list[tuple[str, Application, dict[str, Any]]]] = {}
    for entry in plan:
        name = items.published_item(db, entry["code"])[0]["name"]
        submitted = work[entry["submitted"]]
        number = numbers.compose("BJ", submitted, rng.choice)
        user = people[entry["who"]]
        application = Application(
            number=number, subject_kind="item", subject_code=entry["code"], name=name, channel="online",
            applicant_type="自然人" if entry["who"] is CITIZEN else "法人", applicant_id=user.resident_id or user.credit_code,
            applicant_name=user.display_name, applicant_account=str(user.id), submitted_by=str(user.id),
            idempotency_key=f"{DEMO_MONTH_KEY}-{number}", form="{}", materials="[]", status=ApplicationStatus.SUBMITTED,
            definition_id=definition.id, limit_days=entry["limit"], created_at=at(submitted, 9, 30))
        db.add(application)
        steps = [("submit", entry["submitted"]), ("accept", entry["accepted"])]
        if entry["pause"]:
            steps += [("pause", entry["pause"][0]), ("resume", entry["pause"][0] + entry["pause"][1])]
        steps.append(("finish", entry["finished"]))
        if entry["score"]:
            steps.append(("rate", entry["finished"] + 1))
        for action, index in steps:
            if index <= last:  # what lies beyond today has not happened yet
                by_day.setdefault(index, []).append((action, application, entry))
    db.flush()

    head_user = _present(accounts.get_by_username(db, "head"), "head")
    head = _present(load_principal(db, f"user:{head_user.id}"), "head")
    comments = {1: "材料清单写得不清楚，跑了三趟才补齐，最后还不予许可，也没说清原因。",
                2: "等了很久才办结，中间没人告知进度。"}
    reasons = {1: ["unclear_materials", "many_trips"], 2: ["slow"], 3: [], 4: ["efficient"], 5: ["efficient", "one_visit"]}
    for index, day in enumerate(work):
        for action, application, entry in by_day.get(index, []):
            number, department_id, limit, score = application.number, departments[entry["code"]], entry["limit"], entry["score"]
            if action == "submit":
                clocks.start(db, kind=ClockKind.ACCEPTANCE, subject=number, title=f"受理「{application.name}」（办件 {number}）",
                             department_id=department_id, limit_days=5, started_on=day, link="/staff/window",
                             calendar=calendar)
                db.add(CaseStep(application_id=application.id, at=at(day, 9, 30), actor=application.applicant_name,
                                kind="submitted", text=f"网上申请：{application.name}"))
            elif action == "accept":
                clocks.close(db, ClockKind.ACCEPTANCE, number, on=day, outcome="accepted", calendar=calendar)
                clock = clocks.start(db, kind=ClockKind.APPLICATION, subject=number,
                                     title=f"办结「{application.name}」（办件 {number}）", department_id=department_id,
                                     limit_days=limit, started_on=day, link=f"/applications/{number}", calendar=calendar)
                application.status, application.accepted_on = ApplicationStatus.PROCESSING, day
                db.add(CaseStep(application_id=application.id, at=at(day, 11), actor="王晓燕", kind="accepted",
                                text=f"已受理，承诺 {limit} 个工作日内办结（至 {clock.due_on}）"))
            elif action == "pause":
                clocks.pause(db, ClockKind.APPLICATION, number, on=day, note="申请人补正")
                application.status = ApplicationStatus.SUPPLEMENT
                db.add(CaseStep(application_id=application.id, at=at(day, 14), actor="审查部门", kind="decided",
                                text="退回补正：请补充相关证明材料"))
            elif action == "resume":
                _present(clocks.resume(db, ClockKind.APPLICATION, number, on=day, calendar=calendar), number)
                application.status = ApplicationStatus.PROCESSING
                db.add(CaseStep(application_id=application.id, at=at(day, 10), actor=application.applicant_name,
                                kind="supplied", text="申请人已补正"))
            elif action == "finish":
                outcome = entry["outcome"]
                _present(clocks.close(db, ClockKind.APPLICATION, number, on=day, outcome=outcome, calendar=calendar), number)
                application.status = ApplicationStatus.APPROVED if outcome == "approved" else ApplicationStatus.REFUSED
                application.finished_at = at(day, 16)
                db.add(CaseStep(application_id=application.id, at=at(day, 16), actor="审查部门", kind="finished",
                                text=f"办结：{'准予' if outcome == 'approved' else '不予许可'}"))
            elif action == "rate":
                applicant = _present(load_principal(db, f"user:{people[entry['who']].id}"), entry["who"].name)
                _rating, rectification = ratings.rate(
                    db, settings, number, applicant, score=score, reasons=reasons[score], comment=comments.get(score),
                    now=at(day, 10, 15))
                if rectification is not None and score == 1 and index + 2 <= last:  # the head puts it right
                    note = ratings.follow_up(db, rectification.id, head, text="已约谈窗口负责人，重新梳理该事项的材料清单。")
                    note.at = at(work[index + 1], 15)
                    closed = ratings.close(db, rectification.id, head, today=work[index + 2],
                                           result="材料清单已按情形细化并在办事指南公布；已电话回访申请人，说明不予许可的依据。")
                    closed.closed_at = at(work[index + 2], 16)
        db.flush()
        supervision.scan(db, today=day)
    # The last full month, evaluated and published on the portal.
    month_end = today.replace(day=1) - timedelta(days=1)
    evaluation.evaluate(db, period_start=first, period_end=month_end, computed_by="电子监察（演示数据）")
    evaluation.publish(db, period_start=first, period_end=month_end, actor=audit.SystemActor(actor_name="tongban demo load"))
