"""Demo data, in one place: the demo district's government and one account per role.

Idempotent: running it again creates only what is missing and changes nothing that exists.
``district`` holds the departments and accounts, ``services`` the items, processes, catalogue and
grants, ``registries`` the synthetic district's import, ``history`` the supervised corrections and
month, ``disclosure`` the proactive-disclosure catalog; ``synthetic`` and ``filler_items`` generate reproducible registry rows and service items.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.accounts.models import ApiClient
from tongban.core import audit
from tongban.core.config import Settings
from tongban.core.idnumbers import check_credit_code, check_resident_id
from tongban.core.permissions import ROLE_LABELS, Role
from tongban.org import service as org
from tongban.org.schemas import Level
from tongban.demo.district import (
    CITIZEN, CITY, CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DISTRICT, DISTRICT_DEPARTMENTS, DUTIES, ENTERPRISE,
    MZ_CLIENT_ID, STAFF, TOWNS, VILLAGES, DemoAccount, ensure_department, present,
)
from tongban.demo.disclosure import load as load_disclosure
from tongban.demo.history import (
    DEMO_CORRECTOR, DEMO_MONTH_ITEMS, DEMO_MONTH_KEY, load_supervised_month, load_supervision, publish_last_month,
)
from tongban.demo.registries import (
    DEMO_ADDRESSES, DEMO_ENTERPRISES, DEMO_PEOPLE, DEMO_SEED, load_applicants, load_registries, per_source_files,
)
from tongban.demo.disclosure_requests import load_disclosure_requests
from tongban.demo.hotline import load_hotline
from tongban.demo.mailbox import load_mailbox
from tongban.demo.grid import load_grid
from tongban.demo.open311 import load_open311_client
from tongban.demo.participation import load_participation
from tongban.demo.policies import load_policies, match_policies
from tongban.demo.services import demo_catalog, load_catalog, load_services

__all__ = [
    "CITIZEN", "CITY", "CLIENT_ID", "DEMO_ADDRESSES", "DEMO_CLIENT_SECRET", "DEMO_CORRECTOR", "DEMO_ENTERPRISES",
    "DEMO_MONTH_ITEMS", "DEMO_MONTH_KEY", "DEMO_PASSWORD", "DEMO_PEOPLE", "DEMO_SEED", "DISTRICT", "DISTRICT_DEPARTMENTS",
    "DUTIES", "ENTERPRISE", "MZ_CLIENT_ID", "STAFF", "TOWNS", "VILLAGES", "DemoAccount", "demo_catalog", "load", "load_registries",
    "match_policies",
    "per_source_files",
]


def load(db: Session, settings: Settings) -> list[tuple[str, str, str, str]]:
    """Create what is missing; return (role label, username, password, department) for every demo account."""
    created = 0
    ensure_department(db, *CITY)
    ensure_department(db, *DISTRICT)
    for code, name, short in DISTRICT_DEPARTMENTS:
        ensure_department(db, code, name, short, Level.DISTRICT, "310115", "PD")
    for code, name, short, division in TOWNS:
        ensure_department(db, code, name, short, Level.TOWN, division, "PD")
    for code, name, short, division, parent in VILLAGES:
        ensure_department(db, code, name, short, Level.VILLAGE, division, parent)

    listing = []
    for account in STAFF:
        department = org.get_by_code_or_404(db, present(account.department_code, f"{account.username} 的部门"))
        if accounts.get_by_username(db, account.username) is None:
            accounts.create_staff(db, settings, username=account.username, display_name=account.name,
                                  password=DEMO_PASSWORD, department=department, roles=[account.role])
            created += 1
        listing.append((ROLE_LABELS[account.role], account.username, DEMO_PASSWORD, department.short_name))
    if accounts.get_by_username(db, CITIZEN.username) is None:
        accounts.register_citizen(db, settings, resident_id=check_resident_id(CITIZEN.username), display_name=CITIZEN.name,
                                  password=DEMO_PASSWORD)
        created += 1
    accounts.mark_verified(db, present(accounts.get_by_username(db, CITIZEN.username), "演示个人账号"))  # it matches the registry (load_applicants)
    listing.append((ROLE_LABELS[Role.CITIZEN], CITIZEN.username, DEMO_PASSWORD, f"{CITIZEN.name}（身份证号登录）"))
    if accounts.get_by_username(db, ENTERPRISE.username) is None:
        accounts.register_enterprise(db, settings, credit_code=check_credit_code(ENTERPRISE.username), display_name=ENTERPRISE.name,
                                     password=DEMO_PASSWORD)
        created += 1
    accounts.mark_verified(db, present(accounts.get_by_username(db, ENTERPRISE.username), "演示企业账号"))
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
    load_catalog(db, settings)
    load_applicants(db)  # the citizen and enterprise accounts have their registry records
    load_services(db, settings)
    load_supervised_month(db, settings)
    load_disclosure(db, settings)  # before the supervision's scan: the catalog's near-deadline draft is warned
    load_disclosure_requests(db)  # requests in every state; their clocks count in the month's evaluation
    load_grid(db, settings)  # the unit grid and a day of city-management cases, before the scan warns the late ones
    load_open311_client(db)  # the 12345 app's Open311 key (DEMO_OPEN311_KEY)
    load_hotline(db, settings)  # 12345: ten weeks of calls for the analysis, today's tickets in the departments' queues
    load_mailbox(db)  # 领导信箱: letters in every state, one published
    load_participation(db)  # 政民互动: a survey, drafts under comment (one with its adoption summary), an interview
    load_policies(db)  # 智能匹配: four published policies, matched against the registries as they are published
    load_supervision(db, settings)
    publish_last_month(db)  # after every record of the month is in
    if created:
        audit.record(db, actor=audit.SystemActor(actor_name="tongban demo load"), action="demo.load",
                     details={"accounts_created": created})
    return listing
