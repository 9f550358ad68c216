"""热线分析: what the calls of a period say — hot topics, rising topics, repeat callers, repeat
places — and the departments' hotline figures for the grid's evaluation.

Every figure is a GROUP BY on the database (both engines), never a loop over every ticket:

- a period is Beijing dates [start, end], turned into UTC bounds once; weeks are Beijing weeks
  (Monday–Sunday) whose boundaries are computed here and bucketed in SQL with one CASE, so no
  engine's date functions or time zones are needed;
- 上升话题: a category whose count in the latest complete week is at least ``RISING_RATIO`` times
  its weekly average over the ``RISING_BASELINE_WEEKS`` weeks before, and at least
  ``RISING_MIN_COUNT`` (a new category with no earlier calls: the minimum alone);
- 重复来电: a phone with ``REPEAT_MIN`` tickets or more, shown masked (``tickets.mask_phone``);
- 重复地点: a grid cell with ``REPEAT_MIN`` cases or more of any source (tickets, supervisors'
  and citizens' reports), at least one a ticket; located tickets outside the grid are grouped
  within ``PLACE_RADIUS_M`` of each other (the few located out of the grid, read for the period);
- the departments: dispatched, returned, handled (on time) from the trail of the hotline's cases,
  and the follow-ups' satisfaction (5 非常满意 … 1 非常不满意) by the department that answered.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.hotline import tickets
from tongban.hotline.models import HotlineTicket, Satisfaction
from tongban.hotline.read_models import grid_case_events as events, grid_cases as cases, grid_cells as cells
from tongban.org import service as org

DEFAULT_WEEKS = 12
MAX_DAYS = 731  # two years
TOP_CATEGORIES = 15
SERIES_CATEGORIES = 5  # the weekly chart's lines
RISING_RATIO = 2.0
RISING_MIN_COUNT = 5
RISING_BASELINE_WEEKS = 4
REPEAT_MIN = 3
PLACE_RADIUS_M = 50.0
MAX_ROWS = 50  # repeat callers and places shown
MAX_OUTSIDE_POINTS = 5000  # located tickets outside the grid read for the 50 m grouping
HOTLINE = "hotline"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCORES = {Satisfaction.VERY_SATISFIED: 5, Satisfaction.SATISFIED: 4, Satisfaction.BASICALLY: 3,
          Satisfaction.DISSATISFIED: 2, Satisfaction.VERY_DISSATISFIED: 1}
RISING_RULE = (f"上升话题：最近一个完整周（周一至周日，北京时间）的工单数不少于前 {RISING_BASELINE_WEEKS} 周周均数的 "
               f"{RISING_RATIO:g} 倍，且不少于 {RISING_MIN_COUNT} 件；前 {RISING_BASELINE_WEEKS} 周没有工单的分类，"
               f"达到 {RISING_MIN_COUNT} 件即列为新出现的话题。")
CALLER_RULE = f"重复来电：期间内同一来电号码登记 {REPEAT_MIN} 件及以上工单（号码脱敏显示）。"
PLACE_RULE = (f"重复地点：同一单元网格内期间内有 {REPEAT_MIN} 件及以上工单或城管案件（其中至少 1 件为热线工单）；"
              f"网格外有定位的工单，彼此相距 {PLACE_RADIUS_M:g} 米以内的算作同一地点。")
SATISFACTION_RULE = "满意度均分：回访评价折算为分数（非常满意 5、满意 4、基本满意 3、不满意 2、非常不满意 1）后取平均，按回访时间计入期间。"
OUTSIDE = "网格外或未定位"


# ---- the answer ---------------------------------------------------------------------------------------


class CategoryCount(BaseModel):
    category: str = Field(description="热线分类编码")
    name: str = Field(description="分类名称")
    count: int
    share: float = Field(description="占期间工单总数的比例（0–1）")


class StreetCount(BaseModel):
    street_code: str | None = Field(description="街道代码；为空：网格外或未定位")
    name: str = Field(description="街道名称")
    count: int
    share: float


class WeekCount(BaseModel):
    week_start: date = Field(description="周一（北京时间）")
    week_end: date = Field(description="周日")
    label: str = Field(description="周的中文标注")
    total: int = Field(description="该周（期间内部分）全部工单数")
    by_category: dict[str, int] = Field(description="前几位分类的周工单数，键为分类编码")


class RisingTopic(BaseModel):
    category: str
    name: str
    latest: int = Field(description="最近一个完整周的工单数")
    baseline_average: float = Field(description="前 4 周的周均工单数")
    ratio: float | None = Field(description="最近一周 ÷ 前 4 周周均；前 4 周没有工单时为空（新出现）")


class RepeatCaller(BaseModel):
    caller_phone: str = Field(description="来电号码（脱敏）")
    count: int
    categories: dict[str, int] = Field(description="各分类名称的工单数")
    last_number: str = Field(description="最近一张工单的编号")
    last_at: datetime
    last_text: str = Field(description="最近一张工单的登记时间（北京时间）")


class PlaceCase(BaseModel):
    number: str
    source: str = Field(description="hotline 热线工单 | 其他：城管案件的来源")
    link: str


class RepeatPlace(BaseModel):
    kind: str = Field(description="cell 同一单元网格 | nearby 网格外 50 米以内")
    cell_code: str | None
    street: str = Field(description="所在街道")
    lon: float | None = Field(description="地点（网格外时为第一件的位置）")
    lat: float | None
    count: int = Field(description="工单和案件合计")
    tickets: int = Field(description="其中热线工单数")
    categories: dict[str, int] = Field(description="各分类名称的件数")
    latest: list[PlaceCase] = Field(description="最近的几件（至多 5 件）")


class DepartmentFigures(BaseModel):
    department: str = Field(description="部门编码")
    name: str
    dispatched: int = Field(description="派单（含重新派单、回访后重新交办）次数")
    returned: int = Field(description="退单次数")
    handled: int = Field(description="办理答复次数")
    handled_on_time: int = Field(description="按期答复次数")
    on_time_rate: float | None
    followed_up: int = Field(description="期间内回访的工单数")
    solved: int = Field(description="回访时已解决的工单数")
    satisfaction_average: float | None = Field(description="满意度均分（5 分制）")


class Analysis(BaseModel):
    start: date
    end: date
    total: int = Field(description="期间内登记的工单数")
    categories: list[CategoryCount] = Field(description="热点分类（前 15 位）")
    streets: list[StreetCount]
    weeks: list[WeekCount]
    series: list[CategoryCount] = Field(description="周走势所画的分类")
    latest_complete_week: date = Field(description="上升话题所比的最近一个完整周的周一（期间结束日及昨天之前结束的一周）")
    rising: list[RisingTopic]
    repeat_callers: list[RepeatCaller]
    repeat_places: list[RepeatPlace]
    departments: list[DepartmentFigures] = Field(description="承办部门的热线指标（供城市网格化管理综合评价）")
    rules: list[str] = Field(description="计算规则（中文）")


# ---- who and when -------------------------------------------------------------------------------------


def may_read(principal: Principal) -> bool:
    """The hotline centre, and those who supervise the whole district (leaders, inspectors); a
    department's own supervision right is not enough: the figures are every department's."""
    return tickets.is_centre(principal) or principal.can_for_department(Permission.SUPERVISION_READ, None)


def check_reader(db: Session, principal: Principal) -> None:
    if not may_read(principal):
        raise deny(db, principal, slug="permission-denied", detail="热线分析仅供热线中心和全区监察、领导查看",
                   action="hotline.analysis.read", object_type="hotline_analysis")


def _invalid(field: str, message: str) -> Problem:
    return Problem("validation-error", message, errors=[{"field": f"query.{field}", "message": message}])


def parse_day(text: str | None, field: str, label: str) -> date | None:
    """A date typed as YYYY-MM-DD (empty: the default)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if not DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(field, f"{label}应为“年-月-日”格式的日期，如 2026-01-05") from None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default the last ``DEFAULT_WEEKS`` Beijing weeks, this one included."""
    today = wall.today()
    if end is None:
        end = (monday(start) + timedelta(weeks=DEFAULT_WEEKS, days=-1)) if start else monday(today) + timedelta(days=6)
    if start is None:
        start = monday(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    if end < start:
        raise _invalid("end", "结束日期不能早于开始日期")
    if (end - start).days >= MAX_DAYS:
        raise _invalid("end", "分析期间不能超过两年")
    return start, end


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, wall.BEIJING)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


# ---- the figures --------------------------------------------------------------------------------------


def _bucket(bounds: list[datetime]):
    """The index of the week a ticket falls in (bounds: the Mondays, and the end)."""
    return case(*[(HotlineTicket.created_at < bound, i) for i, bound in enumerate(bounds[1:])], else_=len(bounds) - 1)


def _names(db: Session, codes) -> dict[str, str]:
    """Categories' names as the tickets carry them (the name when reported)."""
    if not codes:
        return {}
    rows = db.execute(select(HotlineTicket.category_code, func.max(cases.c.category_name))
                      .join(cases, cases.c.id == HotlineTicket.case_id)
                      .where(HotlineTicket.category_code.in_(list(codes))).group_by(HotlineTicket.category_code))
    return {code: name or code for code, name in rows}


def analyse(db: Session, start: date, end: date) -> Analysis:
    since, until = _utc(start), _utc(end + timedelta(days=1))
    in_period = (HotlineTicket.created_at >= since, HotlineTicket.created_at < until)
    per_category = db.execute(select(HotlineTicket.category_code, func.count()).where(*in_period)
                              .group_by(HotlineTicket.category_code).order_by(func.count().desc(), HotlineTicket.category_code)).all()
    total = sum(n for _, n in per_category)
    names = _names(db, [c for c, _ in per_category[:TOP_CATEGORIES]])
    categories = [CategoryCount(category=c, name=names.get(c, c), count=n, share=_share(n, total))
                  for c, n in per_category[:TOP_CATEGORIES]]

    street_rows = db.execute(select(cases.c.street_code, func.count()).select_from(HotlineTicket).join(cases, cases.c.id == HotlineTicket.case_id)
                             .where(*in_period).group_by(cases.c.street_code).order_by(func.count().desc())).all()
    street_names = dict(db.execute(select(cells.c.street_code, func.max(cells.c.street)).group_by(cells.c.street_code)).all())
    streets = [StreetCount(street_code=code, name=street_names.get(code, OUTSIDE) if code else OUTSIDE, count=n,
                           share=_share(n, total)) for code, n in street_rows]

    weeks = _weeks(db, start, end, since, until, [c.category for c in categories[:SERIES_CATEGORIES]])
    latest, rising = _rising(db, end, names)
    return Analysis(start=start, end=end, total=total, categories=categories, streets=streets, weeks=weeks,
                    series=categories[:SERIES_CATEGORIES], latest_complete_week=latest, rising=rising,
                    repeat_callers=_repeat_callers(db, in_period), repeat_places=_repeat_places(db, since, until, street_names),
                    departments=departments(db, since, until), rules=[RISING_RULE, CALLER_RULE, PLACE_RULE, SATISFACTION_RULE])


def _week_label(first: date, last: date) -> str:
    return f"{first.month}月{first.day}日–{last.month}月{last.day}日"


def _weeks(db: Session, start: date, end: date, since: datetime, until: datetime, top: list[str]) -> list[WeekCount]:
    mondays = []
    day = monday(start)
    while day <= end:
        mondays.append(day)
        day += timedelta(weeks=1)
    bounds = [max(_utc(m), since) for m in mondays] + [until]
    bucket = _bucket(bounds).label("week")
    rows = db.execute(select(bucket, HotlineTicket.category_code, func.count())
                      .where(HotlineTicket.created_at >= since, HotlineTicket.created_at < until)
                      .group_by(bucket, HotlineTicket.category_code)).all()
    totals: dict[int, int] = defaultdict(int)
    series: dict[int, dict[str, int]] = defaultdict(dict)
    for week, code, n in rows:
        totals[week] += n
        if code in top:
            series[week][code] = n
    out = []
    for i, first in enumerate(mondays):
        last = first + timedelta(days=6)
        out.append(WeekCount(week_start=first, week_end=last, label=_week_label(max(first, start), min(last, end)),
                             total=totals.get(i, 0), by_category={code: series[i].get(code, 0) for code in top}))
    return out


def latest_complete_week(end: date) -> date:
    """The Monday of the last Beijing week that ended by ``end`` and before today."""
    last_day = min(end, wall.today() - timedelta(days=1))
    sunday = last_day - timedelta(days=(last_day.weekday() + 1) % 7)
    return sunday - timedelta(days=6)


def _rising(db: Session, end: date, names: dict[str, str]) -> tuple[date, list[RisingTopic]]:
    latest = latest_complete_week(end)
    first = latest - timedelta(weeks=RISING_BASELINE_WEEKS)
    bounds = [_utc(first + timedelta(weeks=i)) for i in range(RISING_BASELINE_WEEKS + 2)]
    is_latest = case((HotlineTicket.created_at >= bounds[-2], 1), else_=0)
    rows = db.execute(select(HotlineTicket.category_code, func.sum(is_latest), func.count())
                      .where(HotlineTicket.created_at >= bounds[0], HotlineTicket.created_at < bounds[-1])
                      .group_by(HotlineTicket.category_code)).all()
    found = []
    for code, in_latest, both in rows:
        in_latest = int(in_latest or 0)
        average = (both - in_latest) / RISING_BASELINE_WEEKS
        if in_latest >= RISING_MIN_COUNT and (average == 0 or in_latest >= RISING_RATIO * average):
            found.append((code, in_latest, average))
    missing = {code for code, _, _ in found} - names.keys()
    names = {**names, **_names(db, missing)}
    topics = [RisingTopic(category=code, name=names.get(code, code), latest=n, baseline_average=round(avg, 2),
                          ratio=round(n / avg, 2) if avg else None) for code, n, avg in found]
    return latest, sorted(topics, key=lambda t: (t.ratio is not None, -(t.ratio or 0), -t.latest))


def _repeat_callers(db: Session, in_period) -> list[RepeatCaller]:
    repeat = db.execute(select(HotlineTicket.caller_phone, func.count(), func.max(HotlineTicket.created_at)).where(*in_period)
                        .group_by(HotlineTicket.caller_phone).having(func.count() >= REPEAT_MIN)
                        .order_by(func.count().desc(), func.max(HotlineTicket.created_at).desc()).limit(MAX_ROWS)).all()
    if not repeat:
        return []
    phones = [p for p, _, _ in repeat]
    mix: dict[str, dict[str, int]] = defaultdict(dict)
    for phone, name, n in db.execute(select(HotlineTicket.caller_phone, cases.c.category_name, func.count())
                                     .join(cases, cases.c.id == HotlineTicket.case_id)
                                     .where(*in_period, HotlineTicket.caller_phone.in_(phones))
                                     .group_by(HotlineTicket.caller_phone, cases.c.category_name)):
        mix[phone][name] = n
    newest = (select(HotlineTicket.caller_phone.label("phone"), func.max(HotlineTicket.created_at).label("at"))
              .where(*in_period, HotlineTicket.caller_phone.in_(phones)).group_by(HotlineTicket.caller_phone).subquery())
    last: dict[str, str] = dict(db.execute(select(HotlineTicket.caller_phone, func.max(cases.c.number))
                           .join(cases, cases.c.id == HotlineTicket.case_id)
                           .join(newest, and_(newest.c.phone == HotlineTicket.caller_phone, newest.c.at == HotlineTicket.created_at))
                           .group_by(HotlineTicket.caller_phone)).all())
    return [RepeatCaller(caller_phone=tickets.mask_phone(phone) or "", count=n,
                         categories=dict(sorted(mix[phone].items(), key=lambda kv: -kv[1])), last_number=last.get(phone, ""),
                         last_at=at, last_text=wall.beijing_text(at)) for phone, n, at in repeat]


def _link(number: str, source: str) -> str:
    return f"/hotline/tickets/{number}" if source == HOTLINE else f"/grid/cases/{number}"


def _repeat_places(db: Session, since: datetime, until: datetime, street_names: dict[str, str]) -> list[RepeatPlace]:
    period_cases = (cases.c.created_at >= since, cases.c.created_at < until)
    is_ticket = func.sum(case((cases.c.source == HOTLINE, 1), else_=0))
    repeat = db.execute(select(cases.c.cell_code, func.max(cases.c.street_code), func.count(), is_ticket)
                        .where(*period_cases, cases.c.cell_code.is_not(None)).group_by(cases.c.cell_code)
                        .having(func.count() >= REPEAT_MIN, is_ticket >= 1)
                        .order_by(func.count().desc(), cases.c.cell_code).limit(MAX_ROWS)).all()
    places: list[RepeatPlace] = []
    if repeat:
        codes = [code for code, _, _, _ in repeat]
        mix: dict[str, dict[str, int]] = defaultdict(dict)
        for code, name, n in db.execute(select(cases.c.cell_code, cases.c.category_name, func.count())
                                        .where(*period_cases, cases.c.cell_code.in_(codes))
                                        .group_by(cases.c.cell_code, cases.c.category_name)):
            mix[code][name] = n
        rank = func.row_number().over(partition_by=cases.c.cell_code, order_by=(cases.c.created_at.desc(), cases.c.id.desc()))
        ranked = (select(cases.c.cell_code, cases.c.number, cases.c.source, rank.label("rank"))
                  .where(*period_cases, cases.c.cell_code.in_(codes)).subquery())
        latest_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for code, number, source in db.execute(select(ranked.c.cell_code, ranked.c.number, ranked.c.source)
                                               .where(ranked.c.rank <= 5).order_by(ranked.c.cell_code, ranked.c.rank)):
            latest_of[code].append((number, source))
        for code, street, n, ticket_count in repeat:
            latest = latest_of[code]
            places.append(RepeatPlace(kind="cell", cell_code=code, street=street_names.get(street, OUTSIDE) if street else OUTSIDE,
                                      lon=None, lat=None, count=n, tickets=int(ticket_count),
                                      categories=dict(sorted(mix[code].items(), key=lambda kv: -kv[1])),
                                      latest=[PlaceCase(number=num, source=src, link=_link(num, src)) for num, src in latest]))
    places += _nearby_outside(db, period_cases)
    return sorted(places, key=lambda p: -p.count)[:MAX_ROWS]


M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on a local equirectangular plane (exact enough at 50 m)."""
    kx = M_PER_DEG_LON_EQUATOR * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon2 - lon1) * kx, (lat2 - lat1) * M_PER_DEG_LAT)


def _square(lon: float, lat: float) -> tuple[int, int]:
    """The 50 m square a point is in (a group's first point within 50 m is in this one or a neighbour)."""
    kx = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
    return math.floor(lon * kx / PLACE_RADIUS_M), math.floor(lat * M_PER_DEG_LAT / PLACE_RADIUS_M)


def _nearby_outside(db: Session, period_cases) -> list[RepeatPlace]:
    """Located tickets outside the grid, grouped around the first of each group within 50 m (they
    are few: the district's cells cover it; read for the period only, at most ``MAX_OUTSIDE_POINTS``)."""
    points = db.execute(select(cases.c.number, cases.c.source, cases.c.category_name, cases.c.lon, cases.c.lat)
                        .where(*period_cases, cases.c.cell_code.is_(None), cases.c.lon.is_not(None), cases.c.lat.is_not(None),
                               cases.c.source == HOTLINE)
                        .order_by(cases.c.created_at.desc()).limit(MAX_OUTSIDE_POINTS)).all()
    groups: list[list] = []
    seeds: dict[tuple[int, int], list[list]] = defaultdict(list)  # the groups by their first point's 50 m square
    for point in points:
        x, y = _square(point.lon, point.lat)
        near = (g for dx in (-1, 0, 1) for dy in (-1, 0, 1) for g in seeds.get((x + dx, y + dy), ()))
        group = next((g for g in near if _metres(g[0].lon, g[0].lat, point.lon, point.lat) <= PLACE_RADIUS_M), None)
        if group is None:
            group = [point]
            groups.append(group)
            seeds[(x, y)].append(group)
        else:
            group.append(point)
    places = []
    for group in groups:
        if len(group) < REPEAT_MIN:
            continue
        mix: dict[str, int] = defaultdict(int)
        for point in group:
            mix[point.category_name] += 1
        places.append(RepeatPlace(kind="nearby", cell_code=None, street=OUTSIDE, lon=group[0].lon, lat=group[0].lat,
                                  count=len(group), tickets=len(group), categories=dict(sorted(mix.items(), key=lambda kv: -kv[1])),
                                  latest=[PlaceCase(number=p.number, source=p.source, link=_link(p.number, p.source))
                                          for p in group[:5]]))
    return places


def departments(db: Session, since: datetime, until: datetime) -> list[DepartmentFigures]:
    """Per department, the hotline's own figures of [since, until): the steps of the hotline's cases
    in the trail, and the follow-ups' grades of the tickets the department answered."""
    steps = db.execute(select(events.c.department_id, events.c.action, func.count(),
                              func.sum(case((events.c.on_time.is_(True), 1), else_=0)))
                       .join(cases, cases.c.id == events.c.case_id)
                       .where(cases.c.source == HOTLINE, events.c.at >= since, events.c.at < until,
                              events.c.department_id.is_not(None),
                              events.c.action.in_(["dispatch", "reopen", "return", "handle"]))
                       .group_by(events.c.department_id, events.c.action)).all()
    score = case(*[(HotlineTicket.satisfaction == grade.value, points) for grade, points in SCORES.items()], else_=None)
    grades = db.execute(select(cases.c.department_id, func.count(), func.sum(case((HotlineTicket.solved.is_(True), 1), else_=0)),
                               func.avg(score))
                        .select_from(HotlineTicket).join(cases, cases.c.id == HotlineTicket.case_id)
                        .where(HotlineTicket.followed_up_at >= since, HotlineTicket.followed_up_at < until,
                               cases.c.department_id.is_not(None))
                        .group_by(cases.c.department_id)).all()
    rows: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for department_id, action, n, on_time in steps:
        rows[department_id][action] += n
        if action == "handle":
            rows[department_id]["on_time"] += int(on_time or 0)
    for department_id, n, solved, average in grades:
        rows[department_id]["followed_up"] = n
        rows[department_id]["solved"] = int(solved or 0)
        rows[department_id]["average"] = float(average) if average is not None else -1
    names = org.names_by_ids(db, list(rows))
    out = []
    for department_id, row in rows.items():
        code, name = names[department_id] if department_id in names else (str(department_id), "")
        handled, on_time = int(row["handle"]), int(row["on_time"])
        average = row.get("average", -1)
        out.append(DepartmentFigures(department=code, name=name, dispatched=int(row["dispatch"] + row["reopen"]),
                                     returned=int(row["return"]), handled=handled, handled_on_time=on_time,
                                     on_time_rate=round(on_time / handled, 4) if handled else None,
                                     followed_up=int(row["followed_up"]), solved=int(row["solved"]),
                                     satisfaction_average=round(average, 2) if average >= 0 else None))
    return sorted(out, key=lambda d: (-d.dispatched, d.department))
