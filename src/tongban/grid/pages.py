"""The pages of city management (城市网格化管理), each as its person uses it: the supervisor's phone
report, the case lists by role, a case with the steps the signed-in person may take on it, the map
over the platform's own base layer (no remote tiles), and the period's evaluation.

The routes are thin: each step is the case engine's (``grid.service``), the facts of a case are
the API's (``grid.api.case_detail``); a refused step shows its reason on the page it came from,
the form as it was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import shapely
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import audit, clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.cache import per_generation
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import INTEGER_MAX
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import date_field, flash, render
from tongban.grid import api, service
from tongban.grid.models import (
    KIND_LABELS, OPEN_STATUSES, STATUS_LABELS, CaseStatus, GridCase, GridCell, Source,
)
from tongban.grid.schemas import CategoryRead, category_read
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
Version = Annotated[int | None, Form(ge=1, le=INTEGER_MAX)]
Photos = Annotated[list[UploadFile] | None, File()]
MAX_ROWS = 200
CONFLICT = "已被他人处理，请刷新"
CLOSE_GAP = 0.00004  # degrees, about 4 m: the base layer's outlines close gaps twice as wide


# ---- 信息收集: the supervisor's report ----------------------------------------------------------------


@dataclass(frozen=True)
class Major:
    """A major class (大类) with its subclasses, as the report form offers them."""

    key: str  # kind/major_code
    label: str
    subclasses: list[CategoryRead]


def majors(db: Session) -> list[Major]:
    found: dict[str, Major] = {}
    for category in service.categories(db):
        key = f"{category.kind}/{category.major_code}"
        if key not in found:
            found[key] = Major(key, f"{KIND_LABELS.get(category.kind, category.kind)} · {category.major}", [])  # type: ignore[call-overload]
        found[key].subclasses.append(category_read(category))
    return list(found.values())


def report_form_page(request: Request, db: Session, principal: Principal, *, public: bool = False,
                     form: dict | None = None, error: str | None = None, status_code: int = 200):
    """The report form, the supervisor's or (``public``) the portal's 随手拍: the classes grouped
    by major class, the map, the form as it was sent when refused."""
    return render(request, "grid_public_report.html" if public else "grid_report.html", status_code=status_code,
                  principal=principal, majors=majors(db), form=form or {}, error=error, max_photos=api.MAX_PHOTOS,
                  action="/grid/public-reports/new" if public else "/grid/report", public=public)


@router.get("/grid/report", summary="上报问题")
def report_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_REPORT)]):
    return report_form_page(request, db, principal)


def _coordinate(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


# The report form's fields, as both forms (the supervisor's and the portal's) take them.
CategoryField = Annotated[str, Form(max_length=20)]
CoordinateField = Annotated[str, Form(max_length=40)]
DescriptionField = Annotated[str, Form(max_length=2000)]
AddressField = Annotated[str, Form(max_length=200)]


def file_report(request: Request, db: Session, principal: Principal, form: dict[str, str],
                photos: list[UploadFile] | None, *, source: Source) -> GridCase:
    """A report from a form (``form``: category ``kind/code``, lon, lat, description, address)
    filed by the case engine in the caller's transaction; a refusal is a Problem."""
    kind, _, code = form["category"].partition("/")
    if not code:
        raise Problem("validation-error", "请选择问题分类（大类和小类）")
    w_lon, w_lat = _coordinate(form["lon"], -180, 180), _coordinate(form["lat"], -90, 90)
    if w_lon is None or w_lat is None:
        raise Problem("validation-error", "请确定问题位置：点「使用当前位置」，或在地图上点选问题所在处")
    if len(form["description"].strip()) < 2:
        raise Problem("validation-error", "请描述发现的问题（至少 2 个字）")
    data = api.read_photos(request, photos)
    case = service.report(db, principal, service.Report(kind=kind, code=code, lon=w_lon, lat=w_lat,
                                                        description=form["description"],
                                                        address=form["address"].strip() or None),
                          source=source, extent=api.extent_of(request), photos=data, settings=api.settings_of(request))
    return case


@router.post("/grid/report", summary="上报问题：提交", openapi_extra=uploads("attachment_max_mb", files=api.MAX_PHOTOS))
def report(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_REPORT)],
           category: CategoryField = "", lon: CoordinateField = "", lat: CoordinateField = "",
           description: DescriptionField = "", address: AddressField = "", photos: Photos = None,
           csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    form = {"category": category, "lon": lon, "lat": lat, "description": description, "address": address}
    try:
        case = file_report(request, db, principal, form, photos, source=Source.SUPERVISOR)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return report_form_page(request, db, principal, form=form, error=problem.detail, status_code=problem.status)
    flash(request, f"已上报，案件编号 {case.number}")
    return RedirectResponse(f"/grid/cases/{case.number}", status_code=303)


# ---- the case lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...]


def tabs(principal: Principal) -> list[Tab]:
    """「等我处理」 first (what waits on this person), then every status."""
    mine: tuple[str, ...] = ()
    if principal.can(Permission.GRID_COMMAND):
        mine = (CaseStatus.REPORTED, CaseStatus.REGISTERED)
    elif principal.can(Permission.GRID_HANDLE):
        mine = (CaseStatus.DISPATCHED,)
    elif principal.can(Permission.GRID_REPORT):
        mine = (CaseStatus.HANDLED,)
    found = [Tab("mine", "等我处理", mine)] if mine else []
    found.append(Tab("open", "全部未结案件", tuple(OPEN_STATUSES)))
    found.extend(Tab(status.value, label, (status.value,)) for status, label in STATUS_LABELS.items())
    return found


def late(case: GridCase, now: datetime) -> bool:
    """Being handled past its expected moment (what the map's GeoJSON calls ``late`` too)."""
    return case.status == CaseStatus.DISPATCHED and case.expected_at is not None and now > case.expected_at


def street_names(db: Session) -> dict[str, str]:
    return per_generation(db, "grid-street-names", lambda: dict(db.execute(
        select(GridCell.street_code, GridCell.street).where(GridCell.current.is_(True)).distinct()).all()))


@router.get("/grid/cases", summary="城管案件")
def cases_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)],
               tab: Annotated[str, Query(max_length=16)] = "", street: Annotated[str, Query(max_length=9)] = ""):
    choices = tabs(principal)
    chosen = next((t for t in choices if t.key == tab), choices[0])
    query = api._filtered(db, principal, None, street or None, None, None)
    if chosen.key == "mine":
        query = query.where(service.waiting_condition(principal))  # the workbench's count, the same rows
    else:
        query = query.where(GridCase.status.in_([str(s) for s in chosen.statuses]))
    rows = list(db.scalars(query.order_by(GridCase.urgent.desc(), GridCase.created_at).limit(MAX_ROWS + 1)))
    names = api._department_names(db, [c.department_id for c in rows] + [c.proposed_department_id for c in rows])
    now = wall.now()
    streets = street_names(db)
    items = [{"case": api.case_read(c, names), "street": streets.get(c.street_code or "", "网格外"),
              "late": late(c, now)}
             for c in rows[:MAX_ROWS]]
    return render(request, "grid_cases.html", principal=principal, tabs=choices, chosen=chosen, items=items,
                  more=len(rows) > MAX_ROWS, streets=sorted(streets.items()), street=street, max_rows=MAX_ROWS,
                  Permission=Permission)


# ---- a case and its steps ------------------------------------------------------------------------------


def _case_page(request: Request, db: Session, principal: Principal, number: str, *, error: str | None = None,
               failed: str | None = None, form: dict | None = None, status_code: int = 200):
    case = service.readable(db, principal, number)
    detail = api.case_detail(db, principal, case)
    may = {  # the steps this person may take on this case, in some state
        "command": principal.can(Permission.GRID_COMMAND),
        "handle": principal.can_for_department(Permission.GRID_HANDLE, case.department_id) and case.department_id is not None,
        "verify": principal.can(Permission.GRID_REPORT),
    }
    forms = {CaseStatus.REPORTED: ["register", "reject", "merge"] if may["command"] else [],
             CaseStatus.REGISTERED: ["dispatch"] if may["command"] else [],
             CaseStatus.DISPATCHED: ["handle", "return"] if may["handle"] else [],
             CaseStatus.HANDLED: ["verify"] if may["verify"] else []}.get(CaseStatus(case.status), [])
    departments = org.list_all(db) if "dispatch" in forms else []
    street = street_names(db).get(case.street_code or "", "网格外")
    page = render(request, "grid_case.html", status_code=status_code, principal=principal, case=detail, forms=forms,
                  departments=departments, street=street, error=error, failed=failed, form=form or {},
                  late=late(case, wall.now()),
                  max_photos=api.MAX_PHOTOS)
    db.commit()  # the audited read of the reporter's contact
    return page


@router.get("/grid/cases/{number}", summary="城管案件详情")
def case_page(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    if number.startswith("RX-"):  # a 12345 ticket: its steps are the hotline's page
        return RedirectResponse(f"/hotline/tickets/{number[:24]}", status_code=303)
    return _case_page(request, db, principal, number)


def _step(request: Request, db: Session, principal: Principal, number: str, step: str, csrf_token: str,
          version: int | None, done: str, form: dict, act):
    """One step from a form: the CSRF check, the engine's step, then back to the case (the message,
    or the refusal with the form as sent). A form read before someone else's step (its version no
    longer the case's) is told 「已被他人处理，请刷新」, whichever check refused it first."""
    check_csrf(request, csrf_token)
    service.not_a_ticket(db, number)
    try:
        act()
        db.commit()
    except StaleDataError:
        db.rollback()
        return _case_page(request, db, principal, number, error=CONFLICT, failed=step, form=form, status_code=409)
    except Problem as problem:
        if problem.status >= 500 or problem.status in (403, 404):
            raise
        db.rollback()
        moved = problem.slug == "conflict" or (
            problem.status == 409 and version is not None and service.case_by_number(db, number).version != version)
        message = f"{CONFLICT}（{problem.detail}）" if moved else problem.detail
        return _case_page(request, db, principal, number, error=message, failed=step, form=form, status_code=problem.status)
    flash(request, done)
    return RedirectResponse(f"/grid/cases/{number}", status_code=303)


@router.post("/grid/cases/{number}/register", summary="立案")
def register(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)],
             note: Annotated[str, Form(max_length=1000)] = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.register(db, principal, number, version=version, note=note.strip() or None)
    return _step(request, db, principal, number, "register", csrf_token, version, f"案件 {number} 已立案，待派遣", {"note": note}, act)


@router.post("/grid/cases/{number}/reject", summary="不予立案")
def reject(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)],
           reason: Annotated[str, Form(max_length=1000)] = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.reject(db, principal, number, reason=reason, version=version)
    return _step(request, db, principal, number, "reject", csrf_token, version, f"案件 {number} 不予立案", {"reason": reason}, act)


@router.post("/grid/cases/{number}/merge", summary="合并至已有案件")
def merge(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)],
          into: Annotated[str, Form(max_length=24)] = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        if not into:
            raise Problem("validation-error", "请选择要合并到的案件")
        service.merge(db, principal, number, into=into, version=version)
    return _step(request, db, principal, number, "merge", csrf_token, version, f"案件 {number} 已合并至 {into}", {"into": into}, act)


@router.post("/grid/cases/{number}/dispatch", summary="派遣")
def dispatch(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)],
             department: Annotated[str, Form(max_length=32)] = "", note: Annotated[str, Form(max_length=1000)] = "",
             version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.dispatch(db, principal, number, department_code=department or None, version=version,
                         note=note.strip() or None)
    return _step(request, db, principal, number, "dispatch", csrf_token, version, f"案件 {number} 已派遣",
                       {"department": department, "note": note}, act)


@router.post("/grid/cases/{number}/return", summary="退回指挥中心")
def return_case(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_HANDLE)],
                reason: Annotated[str, Form(max_length=1000)] = "", version: Version = None, csrf_token: Csrf = ""):
    def act():
        service.return_case(db, principal, number, reason=reason, version=version)
    return _step(request, db, principal, number, "return", csrf_token, version, f"案件 {number} 已退回指挥中心", {"reason": reason}, act)


@router.post("/grid/cases/{number}/handle", summary="反馈处置结果", openapi_extra=uploads("attachment_max_mb", files=api.MAX_PHOTOS))
def handle(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_HANDLE)],
           result: Annotated[str, Form(max_length=2000)] = "", version: Version = None, photos: Photos = None,
           csrf_token: Csrf = ""):
    def act():
        data = api.read_photos(request, photos)
        service.handle(db, principal, number, result=result, photos=data, settings=api.settings_of(request), version=version)
    return _step(request, db, principal, number, "handle", csrf_token, version, f"案件 {number} 的处置结果已反馈，待监督员核查",
                       {"result": result}, act)


@router.post("/grid/cases/{number}/verify", summary="核查", openapi_extra=uploads("attachment_max_mb", files=api.MAX_PHOTOS))
def verify(request: Request, number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_REPORT)],
           fixed: Annotated[str, Form(max_length=3)] = "", note: Annotated[str, Form(max_length=1000)] = "",
           version: Version = None, photos: Photos = None, csrf_token: Csrf = ""):
    def act():
        if fixed not in ("yes", "no"):
            raise Problem("validation-error", "请选择现场核查结果：已解决或未解决")
        data = api.read_photos(request, photos)
        service.verify(db, principal, number, fixed=fixed == "yes", note=note.strip() or None, photos=data,
                       settings=api.settings_of(request), version=version)
    done = f"案件 {number} 核查通过，已结案" if fixed == "yes" else f"案件 {number} 核查未通过，已返工"
    return _step(request, db, principal, number, "verify", csrf_token, version, done, {"fixed": fixed, "note": note}, act)


# ---- the map -----------------------------------------------------------------------------------------------


@router.get("/grid/map", summary="网格地图")
def map_page(request: Request, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    return render(request, "grid_map.html", principal=principal, statuses=STATUS_LABELS, open_statuses=list(OPEN_STATUSES),
                  kinds=KIND_LABELS, may_read_addresses=principal.can(Permission.REGISTRY_READ))


def base_layer(db: Session) -> bytes:
    """The map's base layer, from the current grid itself: each street's and community's outline
    (the union of its cells) and the roads (the union of the cells whose land use is 道路). Built
    once per generation of the reference data (an import of cells moves it)."""
    def build() -> bytes:
        streets: dict[str, list] = {}
        communities: dict[str, list] = {}
        names: dict[str, str] = {}
        roads = []
        for street_code, street, community_code, community, land_use, geometry in db.execute(
                select(GridCell.street_code, GridCell.street, GridCell.community_code, GridCell.community,
                       GridCell.land_use, GridCell.geometry).where(GridCell.current.is_(True))):
            polygon = shape(json.loads(geometry))
            streets.setdefault(street_code, []).append(polygon)
            communities.setdefault(community_code, []).append(polygon)
            names[street_code], names[community_code] = street, community
            if land_use == "道路":
                roads.append(polygon)
        features = []

        def outline(kind: str, code: str, polygons: list) -> None:
            # Communities may be drawn a few metres apart: closed over gaps up to ~8 m, corners kept.
            merged = shapely.union_all(polygons, grid_size=1e-7)
            if kind != "road":
                merged = merged.buffer(CLOSE_GAP, join_style="mitre").buffer(-CLOSE_GAP, join_style="mitre")
            merged = merged.simplify(0.00002)
            features.append({"type": "Feature", "geometry": mapping(merged),
                             "properties": {"layer": kind, "code": code, "name": names.get(code, "")}})
        for code, polygons in sorted(streets.items()):
            outline("street", code, polygons)
        for code, polygons in sorted(communities.items()):
            outline("community", code, polygons)
        if roads:
            outline("road", "", roads)
        return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                          separators=(",", ":")).encode()

    return per_generation(db, "grid-base-layer", build)


@router.get("/grid/base.geojson", summary="底图：街道、社区、道路（由现行网格生成）")
def base_geojson(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ, Permission.GRID_PUBLIC_REPORT)]):
    return Response(base_layer(db), media_type="application/geo+json", headers={"Cache-Control": "private, max-age=300"})


# ---- 综合评价 ---------------------------------------------------------------------------------------------

FIGURES = {
    "departments": [("dispatched", "派遣数"), ("returned", "退回数"), ("handled", "处置数"), ("handled_on_time", "按期处置数"),
                    ("reworked", "返工数"), ("closed", "结案数"), ("dispatch_accuracy", "派遣准确率"),
                    ("on_time_rate", "按期处置率"), ("rework_rate", "返工率"), ("closure_rate", "结案率")],
    "streets": [("reported", "上报数"), ("registered", "立案数"), ("rejected", "不予立案数"), ("closed", "结案数"),
                ("registration_rate", "立案率"), ("closure_rate", "结案率")],
    "supervisors": [("reported", "上报数"), ("registered", "上报后立案数"), ("valid_report_rate", "有效上报率"),
                    ("checked", "核查数")],
}
PARTS = {"departments": "处置部门", "streets": "街道", "supervisors": "监督员"}


def figure_text(value: float | int | None, key: str) -> str:
    if value is None:
        return "—"
    if key.endswith(("_rate", "_accuracy")):
        return f"{value * 100:.1f}%"
    return str(value)


@router.get("/grid/evaluation", summary="综合评价")
def evaluation_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)],
                    start: Annotated[str, Query(max_length=10)] = "", end: Annotated[str, Query(max_length=10)] = ""):
    first, last, since, until = api.period(date_field(start, "开始日期"), date_field(end, "结束日期"))
    result = service.evaluation(db, since, until)
    audit.record(db, actor=principal, action="grid.evaluation.read", object_type="grid_evaluation", object_id=f"{first}/{last}")
    db.commit()
    return render(request, "grid_evaluation.html", principal=principal, start=first, end=last, result=result,
                  figures=FIGURES, parts=PARTS, formulas=list(service.FORMULAS.values()), figure_text=figure_text)

