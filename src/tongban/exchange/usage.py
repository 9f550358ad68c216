"""Usage of shared data, from the exchange's own call log (``ExchangeCall``): who called which
resource how often and with what outcome, calls per day, and grants nobody uses. The catalog's
resources, the grants and the departments are read through the exchange's read models.

A provider department sees the use of its own resources only; roles holding ``usage:read``
platform-wide (电子政务办, 电子监察) see everything. Days are Beijing days (UTC+8, no daylight
saving): staff read "22 November" as their day, not the UTC one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Date, Row, case, cast, func, select
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog
from tongban.core import clock
from tongban.core.auth import Principal, ensure_department
from tongban.core.clock import BEIJING
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Scope
from tongban.exchange.models import ExchangeCall
from tongban.exchange.read_models import catalog_resources, departments, sharing_grants
from tongban.org import service as org

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year of daily bars is the most a page (and one aggregate query) should carry
# Days a period may name: the default start (30 days back) and the day after the end (the upper
# bound in UTC) must still be dates, which they are not next to 0001-01-01 or 9999-12-31.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)
OUTCOMES = ("ok", "not_found", "denied", "invalid", "failed")
OUTCOME_LABELS = {"ok": "成功", "not_found": "无此记录", "denied": "拒绝", "invalid": "请求有误", "failed": "出错"}


class Period(BaseModel):
    """Whole Beijing days, both ends included."""

    model_config = ConfigDict(frozen=True)

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, day after end 00:00) Beijing time, as the UTC instants the log stores."""
        low = datetime.combine(self.start, datetime.min.time(), BEIJING)
        high = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), BEIJING)
        return low.astimezone(UTC), high.astimezone(UTC)


def period(start: date | None, end: date | None) -> Period:
    """The period asked for; by default the last 30 days up to today."""
    for name, day in (("query.from", start), ("query.to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise Problem("validation-error", f"日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间",
                          errors=[{"field": name, "code": "out_of_range", "message": f"应在 {FIRST_DAY} 至 {LAST_DAY} 之间"}])
    end = end or clock.today()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Problem("validation-error", "开始日期不能晚于结束日期",
                      errors=[{"field": "query.from", "code": "invalid_period", "message": "开始日期晚于结束日期"}])
    if (end - start).days + 1 > MAX_DAYS:
        raise Problem("validation-error", f"统计期间最长 {MAX_DAYS} 天",
                      errors=[{"field": "query.from", "code": "period_too_long", "message": f"最长 {MAX_DAYS} 天"}])
    return Period(start=start, end=end)


class UsageRow(BaseModel):
    department: str | None
    department_name: str
    resource: str
    resource_name: str
    calls: int = 0
    ok: int = 0
    not_found: int = 0
    denied: int = 0
    invalid: int = 0
    failed: int = 0
    keys: int = Field(0, description="查询的主键总数")


class DepartmentUsage(BaseModel):
    department: str | None
    department_name: str
    calls: int
    ok: int
    keys: int


class DayUsage(BaseModel):
    day: date
    calls: int
    ok: int


class UnusedGrant(BaseModel):
    id: int
    department: str
    department_name: str
    resource: str
    resource_name: str
    items: list[str]
    purpose: str
    valid_from: date
    valid_to: date
    granted_by: str
    created_at: datetime


class UsageReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    scope: str = Field(description="all：全平台；department：本部门提供的资源")
    timezone: str = "Asia/Shanghai (UTC+8)"
    totals: dict[str, int]
    by_department_resource: list[UsageRow]
    by_department: list[DepartmentUsage]
    per_day: list[DayUsage]
    unused_grants: list[UnusedGrant]


def _beijing_day(db: Session):
    """The Beijing calendar day of a call, in SQL (the log stores UTC instants)."""
    if db.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", ExchangeCall.at), Date)
    return func.date(ExchangeCall.at, "+8 hours")  # SQLite keeps the UTC time as text


def _provided_resource_ids(principal: Principal):
    """The resources whose use this principal may see; None means every resource."""
    if principal.scope_for(Permission.USAGE_READ) == Scope.ALL:
        return None
    return catalog.provided_by(principal.department_id)


def resources(db: Session, principal: Principal) -> list[Row[tuple[str, str]]]:
    """The code and name of each resource whose use the principal may see, by code."""
    query = select(catalog_resources.c.code, catalog_resources.c.name).order_by(catalog_resources.c.code)
    provided = _provided_resource_ids(principal)
    if provided is not None:
        query = query.where(catalog_resources.c.id.in_(provided))
    return list(db.execute(query))


def item_names(db: Session, codes: set[str]) -> dict[str, dict[str, str]]:
    """The names of the items of these resources, by resource code and item code."""
    found = (catalog.get(db, code) for code in sorted(codes))
    return {resource.code: {item.code: item.name for item in resource.items} for resource in found if resource}


def report(db: Session, principal: Principal, *, within: Period, resource: str | None = None,
           department: str | None = None) -> UsageReport:
    """Usage figures of the period, limited to what the principal may see and to the filters given."""
    provided = _provided_resource_ids(principal)
    if resource:
        found = catalog.get(db, resource)
        if found is None and provided is not None:
            raise Problem("unknown-resource", f"目录中没有编码为 {resource} 的信息资源")
        if found is not None:  # someone else's resource: refused and audited, not silently empty
            ensure_department(db, principal, Permission.USAGE_READ, found.provider, action="usage.read")
    if department:
        org.get_by_code_or_404(db, department)

    low, high = within.utc_bounds()
    calls = [ExchangeCall.at >= low, ExchangeCall.at < high]
    if provided is not None:
        calls.append(ExchangeCall.resource_code.in_(select(catalog_resources.c.code)
                                                    .where(catalog_resources.c.id.in_(provided))))
    if resource:
        calls.append(ExchangeCall.resource_code == resource)
    if department:
        calls.append(ExchangeCall.department_code == department)

    rows: dict[tuple[str | None, str], UsageRow] = {}
    grouped = db.execute(select(ExchangeCall.department_code, ExchangeCall.resource_code, ExchangeCall.outcome,
                                func.count(), func.coalesce(func.sum(ExchangeCall.keys_count), 0))
                         .where(*calls)
                         .group_by(ExchangeCall.department_code, ExchangeCall.resource_code, ExchangeCall.outcome))
    for department_code, resource_code, outcome, count, keys in grouped:
        row = rows.setdefault((department_code, resource_code),
                              UsageRow(department=department_code, department_name="", resource=resource_code,
                                       resource_name=""))
        row.calls += count
        row.keys += int(keys)
        outcome = outcome if outcome in OUTCOMES else "failed"
        setattr(row, outcome, getattr(row, outcome) + count)

    day = _beijing_day(db)
    counted = {date.fromisoformat(str(d)): (n, int(ok or 0)) for d, n, ok in db.execute(
        select(day, func.count(), func.sum(case((ExchangeCall.outcome == "ok", 1), else_=0)))
        .where(*calls).group_by(day))}
    per_day = [DayUsage(day=d, calls=counted.get(d, (0, 0))[0], ok=counted.get(d, (0, 0))[1]) for d in within.days]

    unused = _unused_grants(db, within, provided, resource=resource, department=department)

    # Names for the codes in the log; a call to an unknown resource keeps its code as its name.
    short_names: dict[str | None, str] = {d.code: d.short_name for d in org.list_all(db)}
    resource_names = dict(db.execute(select(catalog_resources.c.code, catalog_resources.c.name)
                                     .where(catalog_resources.c.code.in_(sorted({code for _, code in rows})))).all())
    for row in rows.values():
        row.department_name = short_names.get(row.department, row.department or "（无部门）")
        row.resource_name = resource_names.get(row.resource, row.resource)
    table = sorted(rows.values(), key=lambda r: (-r.calls, r.department or "", r.resource))

    by_department: dict[str | None, DepartmentUsage] = {}
    for row in table:
        entry = by_department.setdefault(row.department, DepartmentUsage(
            department=row.department, department_name=row.department_name, calls=0, ok=0, keys=0))
        entry.calls, entry.ok, entry.keys = entry.calls + row.calls, entry.ok + row.ok, entry.keys + row.keys

    totals = {"calls": sum(r.calls for r in table), "keys": sum(r.keys for r in table),
              **{outcome: sum(getattr(r, outcome) for r in table) for outcome in OUTCOMES}}
    return UsageReport(from_=within.start, to=within.end, scope="all" if provided is None else "department",
                       totals=totals, by_department_resource=table,
                       by_department=sorted(by_department.values(), key=lambda d: (-d.calls, d.department or "")),
                       per_day=per_day, unused_grants=unused)


def _unused_grants(db: Session, within: Period, provided, *, resource: str | None,
                   department: str | None) -> list[UnusedGrant]:
    """Grants in force today that no successful call used during the period.

    A grant "in force" is what the exchange would accept today (not revoked, within its dates);
    one starting after the period could not have been used in it and is left out. A successful
    call names the grants that allowed it (``grant_ids``), so use is matched grant by grant.
    """
    today = clock.today()
    low, high = within.utc_bounds()
    used: set[int] = set()
    for (ids,) in db.execute(select(ExchangeCall.grant_ids).distinct().where(
            ExchangeCall.outcome == "ok", ExchangeCall.grant_ids.is_not(None), ExchangeCall.at >= low,
            ExchangeCall.at < high)):
        used.update(json.loads(ids or "[]"))
    grant, of, to = sharing_grants.c, catalog_resources.c, departments.c
    query = (select(grant.id, to.code.label("department"), to.short_name.label("department_name"),
                    of.code.label("resource"), of.name.label("resource_name"), grant["items"], grant.purpose,
                    grant.valid_from, grant.valid_to, grant.granted_by, grant.created_at)
             .select_from(sharing_grants.join(catalog_resources, of.id == grant.resource_id)
                          .join(departments, to.id == grant.department_id))
             .where(grant.revoked_at.is_(None), grant.valid_from <= today, grant.valid_to >= today,
                    grant.valid_from <= within.end)
             .order_by(grant.created_at, grant.id))
    if provided is not None:
        query = query.where(grant.resource_id.in_(provided))
    if resource:
        query = query.where(of.code == resource)
    if department:
        query = query.where(to.code == department)
    return [UnusedGrant(**{**row._mapping, "items": json.loads(row._mapping["items"])})
            for row in db.execute(query) if row.id not in used]
