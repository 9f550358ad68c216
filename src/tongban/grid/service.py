"""城市网格化管理: the unit grid, categories and routing, and the case engine of the seven steps.

The case engine is the one other channels reuse (the 12345 hotline and the mayor's mailbox file
cases with their own ``Source``): a case moves only by ``_move``, which checks the step is allowed
from the case's state, writes the trail, and starts and closes the step's supervision clock in the
caller's transaction. Every step is one of:

    信息收集 report → 案卷建立 register | reject | merge → 任务派遣 dispatch → 任务处理 handle
    (or return to the command centre) → 处理反馈 (the handling's result, with photos, goes to the
    supervisor) → 核查结案 verify (closed) | rework (back to the department) → 综合评价 (``evaluation``)

Routing proposes the department: point → cell (``geo.GridIndex``) → the category's handler →
the department set for that handler in the cell's street, else district-wide, else the street's
own office (属地兜底), the way FixMyStreet routes by body × category.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from tongban.core import audit, clock as wall, numbers
from tongban.core.auth import Principal, deny
from tongban.core.config import Settings
from tongban.core.db.base import affected
from tongban.core.db.cache import per_generation, per_generation_lookup, per_transaction
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.uploads import check_size, keep
from tongban.grid import geo, resident_notice
from tongban.grid.models import (
    ACTION_LABELS, OPEN_STATUSES, Action, CaseEvent, CasePhoto, CaseStatus, CategoryKind, Component, GridCase, GridCategory,
    GridCell, GridRoute, GridVersion, LimitUnit, Source,
)
from tongban.org import service as org
from tongban.org.schemas import Office
from tongban.supervision import service as supervision
from tongban.supervision.schemas import ClockKind, HourBasis

CATEGORIES_FILE = Path(__file__).with_name("data") / "categories.json"
BBOX_PATTERN, parse_bbox = geo.BBOX_PATTERN, geo.parse_bbox  # for the exchange's layer reads
DISTRICT_CODE_LENGTH = 6
# How long the centre and the supervisors have for their steps; urgent categories run round the clock.
REGISTER_HOURS, DISPATCH_HOURS, VERIFY_HOURS = 1, 1, 4
# 12345 tickets (cases of ``Source.HOTLINE``): the department signs within a few working hours; the
# centre calls the caller back within working days of the reply.
TICKET_SIGN_HOURS, TICKET_FOLLOW_UP_DAYS = 2, 2
# A report of the same category this close to an open case, this soon after it, is likely the same problem.
DUPLICATE_RADIUS_M, DUPLICATE_DAYS = 50.0, 7
MAX_GRID_FILE_MB = 60
PHOTO_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PHOTO_PIXELS = 50_000_000


# ---- the unit grid -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    version: int
    cells: int
    communities: list[str]
    replaced: int
    crs: geo.Crs


def import_grid(db: Session, principal: Principal, data: bytes, *, crs: geo.Crs, source: str,
                extent: geo.Extent, district_code: str) -> ImportResult:
    """A GeoJSON FeatureCollection of cells, checked whole, as a new version of the grid: the cells
    of the communities it covers replace theirs; other communities keep theirs. Nothing is written
    unless every cell passes."""
    features, crs = geo.read_collection(data, crs, max_mb=MAX_GRID_FILE_MB, what="网格")
    shapes: list[geo.CellShape] = []
    rows: list[dict] = []
    seen: set[str] = set()
    for number, feature in enumerate(features, start=1):
        where = f"第 {number} 个网格"
        if not isinstance(feature, dict) or feature.get("type") != "Feature" or not isinstance(feature.get("properties"), dict):
            raise geo.invalid("grid-invalid-geojson", f"{where}：应为带 properties 的 Feature")
        properties = feature["properties"]
        code = geo.property_text(properties, "code", where, limit=15)
        where = f"网格 {code}"
        street_code, community_code = geo.property_text(properties, "street_code", where, limit=9), geo.property_text(properties, "community_code", where, limit=12)
        if not (code.isdigit() and len(code) == 15):
            raise geo.invalid("grid-invalid-code", f"{where}：网格编码应为 15 位数字（区 6 + 街道 3 + 社区 3 + 顺序号 3）")
        if not code.startswith(community_code) or len(community_code) != 12 or not community_code.startswith(street_code) \
                or len(street_code) != 9 or not street_code.startswith(district_code):
            raise geo.invalid("grid-invalid-code", f"{where}：编码与所属社区 {community_code}、街道 {street_code}、本区 {district_code} 不一致")
        if code in seen:
            raise geo.invalid("grid-invalid-code", f"网格编码 {code} 在文件中重复")
        seen.add(code)
        polygon = geo.polygon_of(feature.get("geometry"), where)
        if crs == geo.Crs.GCJ02:
            polygon = _to_wgs84(polygon)
        shapes.append(geo.CellShape(code, community_code, polygon))
        responsible = geo.property_text(properties, "responsible_department", where, required=False, limit=32)
        rows.append({"code": code, "street_code": street_code, "street": geo.property_text(properties, "street", where, limit=64),
                     "community_code": community_code, "community": geo.property_text(properties, "community", where, limit=64),
                     "land_use": geo.property_text(properties, "land_use", where, required=False, limit=16) or "混合",
                     "responsible": responsible, "polygon": polygon})
    areas = geo.check_shapes(shapes, extent)
    departments = org.ids_by_codes(db, {row["responsible"] for row in rows if row["responsible"]})
    for row in rows:
        if row["responsible"] and row["responsible"] not in departments:
            raise geo.invalid("grid-invalid-geojson", f"网格 {row['code']}：责任部门 {row['responsible']} 不存在")
    communities = sorted({row["community_code"] for row in rows})
    version = (db.scalar(select(func.max(GridVersion.version))) or 0) + 1
    now = wall.now()
    db.add(GridVersion(version=version, source=source[:200], crs=crs.value, cells=len(rows),
                       communities=json.dumps(communities), imported_by=principal.actor_name[:64], imported_at=now))
    db.flush()
    replaced = 0
    for start in range(0, len(communities), 500):
        replaced += affected(db, update(GridCell).where(GridCell.current.is_(True),
                                                        GridCell.community_code.in_(communities[start:start + 500]))
                             .values(current=False))
    db.execute(insert(GridCell), [{
        "code": row["code"], "version": version, "current": True, "street_code": row["street_code"],
        "street": row["street"][:64], "community_code": row["community_code"], "community": row["community"][:64],
        "land_use": row["land_use"][:16], "responsible_department_id": departments.get(row["responsible"]),
        "geometry": json.dumps(_geojson(row["polygon"]), separators=(",", ":")), "area_m2": round(areas[row["code"]], 1),
        "min_lon": row["polygon"].bounds[0], "min_lat": row["polygon"].bounds[1],
        "max_lon": row["polygon"].bounds[2], "max_lat": row["polygon"].bounds[3]} for row in rows])
    audit.record(db, actor=principal, action="grid.import", object_type="grid_version", object_id=str(version),
                 details={"cells": len(rows), "communities": len(communities), "replaced": replaced, "crs": crs.value,
                          "source": source[:200]})
    return ImportResult(version, len(rows), communities, replaced, crs)


def _to_wgs84(polygon):
    rings = []
    for ring in [polygon.exterior, *polygon.interiors]:
        xy = np.asarray(ring.coords)
        lon, lat = geo.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        rings.append(np.column_stack((lon, lat)))
    from shapely.geometry import Polygon
    return Polygon(rings[0], rings[1:])


def _geojson(polygon) -> dict:
    def ring(coords) -> list[list[float]]:
        return [[round(x, 7), round(y, 7)] for x, y in coords]
    return {"type": "Polygon", "coordinates": [ring(polygon.exterior.coords), *(ring(r.coords) for r in polygon.interiors)]}


_INDEX = "grid-index"


def grid_index(db: Session) -> geo.GridIndex:
    """The current grid, indexed once per generation of the reference data (an import moves it)."""
    def build() -> geo.GridIndex:
        from shapely.geometry import shape
        refs, polygons = [], []
        for code, street_code, responsible, geometry in db.execute(
                select(GridCell.code, GridCell.street_code, GridCell.responsible_department_id, GridCell.geometry)
                .where(GridCell.current.is_(True))):
            refs.append(geo.CellRef(code, street_code, responsible))
            polygons.append(shape(json.loads(geometry)))
        return geo.GridIndex(refs, polygons)

    return per_generation(db, _INDEX, build)


def cell(db: Session, code: str) -> GridCell | None:
    return db.scalar(select(GridCell).where(GridCell.code == code, GridCell.current.is_(True)))


# ---- categories and routing ------------------------------------------------------------------------


def seed_categories(db: Session, *, actor: str = "系统初始化") -> int:
    """The national classes (``data/categories.json``) for a district that has none yet."""
    if db.scalar(select(func.count()).select_from(GridCategory)):
        return 0
    document = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    now = wall.now()
    for entry in document["classes"]:
        db.add(GridCategory(kind=entry["kind"], code=entry["code"], major_code=entry["major_code"], major=entry["major"],
                            name=entry["name"], register_condition=entry["register_condition"],
                            close_condition=entry["close_condition"], limit_value=int(entry["limit"]["value"]),
                            limit_unit=entry["limit"]["unit"], urgent=bool(entry["urgent"]), handler=entry["handler"],
                            active=True, updated_at=now, updated_by=actor))
    db.flush()
    return len(document["classes"])


def categories(db: Session, *, kind: str | None = None, active_only: bool = True) -> list[GridCategory]:
    query = select(GridCategory).order_by(GridCategory.kind, GridCategory.code)
    if kind:
        query = query.where(GridCategory.kind == kind)
    if active_only:
        query = query.where(GridCategory.active.is_(True))
    return list(db.scalars(query))


@dataclass(frozen=True)
class Category:
    """An active category as the case engine uses it: plain data, kept per generation of the
    reference data (the categories are reference data: an edit moves the generation)."""

    kind: str
    code: str
    major: str
    name: str
    register_condition: str
    limit_value: int
    limit_unit: str
    urgent: bool
    handler: str


def category(db: Session, kind: str, code: str) -> Category:
    """The active category ``kind``/``code``: every report and dispatch asks it, so the active ones
    are read once per generation (one statement for all of them) rather than once a step."""
    def read_all() -> dict[tuple[str, str], Category]:
        return {(c.kind, c.code): Category(kind=c.kind, code=c.code, major=c.major, name=c.name,
                                           register_condition=c.register_condition, limit_value=c.limit_value,
                                           limit_unit=c.limit_unit, urgent=c.urgent, handler=c.handler)
                for c in categories(db)}
    found = per_generation(db, "grid-categories", read_all).get((kind, code))
    if found is None:
        raise Problem("not-found", f"没有分类「{kind}/{code}」（或已停用）", errors=[{"field": "body.category", "message": "未知分类"}])
    return found


def update_category(db: Session, principal: Principal, kind: str, code: str, changes: dict) -> GridCategory:
    """The city edits a class's conditions, limit or handler; the change is audited with its old values."""
    found = db.scalar(select(GridCategory).where(GridCategory.kind == kind, GridCategory.code == code))
    if found is None:
        raise Problem("not-found", f"没有分类「{kind}/{code}」")
    before = {field: getattr(found, field) for field in changes}
    for field, value in changes.items():
        if value is not None:
            setattr(found, field, value)
    found.urgent = found.limit_unit == LimitUnit.CLOCK_HOURS
    found.updated_at, found.updated_by = wall.now(), principal.actor_name[:64]
    audit.record(db, actor=principal, action="grid.category.update", object_type="grid_category", object_id=f"{kind}/{code}",
                 details={"before": {k: v for k, v in before.items()}, "after": changes})
    db.flush()
    return found


def set_route(db: Session, principal: Principal, *, handler: str, street_code: str, department_code: str) -> GridRoute:
    department = org.get_by_code_or_404(db, department_code)
    route = db.scalar(select(GridRoute).where(GridRoute.handler == handler, GridRoute.street_code == street_code))
    if route is None:
        route = GridRoute(handler=handler, street_code=street_code, department_id=department.id)
        db.add(route)
    else:
        route.department_id = department.id
    audit.record(db, actor=principal, action="grid.route.set", object_type="grid_route", object_id=f"{handler}/{street_code or '全区'}",
                 details={"department": department_code})
    db.flush()
    return route


_ROUTES = "grid-routes"


def _routes(db: Session) -> dict[tuple[str, str], int]:
    return per_generation(db, _ROUTES, lambda: {(h, s): d for h, s, d in db.execute(
        select(GridRoute.handler, GridRoute.street_code, GridRoute.department_id))})


def route_department(db: Session, handler: str, found: geo.CellRef | None) -> int | None:
    """The department proposed for a handler's problem in a cell (None: outside the grid and no
    district-wide department for the handler: the command centre chooses)."""
    routes = _routes(db)
    street = found.street_code if found else ""
    if handler == "street" and found is not None and found.responsible_department_id is not None:
        return found.responsible_department_id  # the cell's own responsible body
    chosen = routes.get((handler, street)) or routes.get((handler, ""))
    if chosen is not None and handler != "street":
        return chosen
    if found is None:
        return chosen
    if found.responsible_department_id is not None:
        return found.responsible_department_id
    office = _street_office(db, found.street_code)
    return office if office is not None else chosen


def route_many(db: Session, index: geo.GridIndex, cells: np.ndarray, handlers: Sequence[str],
               handler_of: np.ndarray) -> np.ndarray:
    """``route_department`` for many problems at once: the department proposed for the problem of
    handler ``handlers[handler_of[i]]`` found in cell ``cells[i]`` (an index into ``index.refs``,
    -1 outside the grid, as ``GridIndex.locate_many`` gives); -1 where none is proposed. Decided
    by ``route_department`` once per handler and distinct (street, responsible body) of the
    cells, then looked up for every problem."""
    owners: list[geo.CellRef | None] = [None]  # key 0: outside the grid
    keys: dict[tuple[str, int | None], int] = {}
    key_of_cell = np.zeros(len(index.refs) + 1, dtype=np.int64)  # by cell index + 1
    for position, ref in enumerate(index.refs, start=1):
        key = (ref.street_code, ref.responsible_department_id)
        if key not in keys:
            keys[key] = len(owners)
            owners.append(ref)
        key_of_cell[position] = keys[key]
    table = np.array([[-1 if (chosen := route_department(db, handler, owner)) is None else chosen for owner in owners]
                      for handler in handlers], dtype=np.int64).reshape(len(handlers), len(owners))
    return table[np.asarray(handler_of, dtype=np.int64), key_of_cell[np.asarray(cells, dtype=np.int64) + 1]]


def _street_office(db: Session, street_code: str) -> int | None:
    """The street's own office (属地), by its town code."""
    def fetch(missing: list[str]):
        for code in missing:
            department = org.by_division(db, code)
            if department is not None:
                yield code, department.id
    return per_generation_lookup(db, "grid-street-offices", [street_code], fetch).get(street_code)


def locate(db: Session, lon: float, lat: float) -> geo.CellRef | None:
    return grid_index(db).locate(lon, lat)


# ---- cases -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    kind: str
    code: str
    lon: float
    lat: float
    description: str
    address: str | None = None
    crs: geo.Crs = geo.Crs.WGS84
    component_code: str | None = None
    contact: str | None = None  # a member of the public's phone or e-mail, when not signed in
    name: str | None = None


def _centre(db: Session) -> int:
    """The city operations centre's id, kept per generation of the reference data (departments
    are reference data: a change of the office moves the generation): every step asks it."""
    def look_up() -> int | None:
        found = org.office(db, Office.CITY_OPERATIONS)
        return found.id if found is not None else None
    centre = per_generation(db, "grid-centre", look_up)
    if centre is None:
        raise Problem("service-unavailable", "尚未指定城运中心：请由平台管理员在机构信息中设置")
    return centre


def _basis(case: GridCase) -> HourBasis:
    return HourBasis.CLOCK if case.urgent else HourBasis.WORKING


def _title(case: GridCase, step: str) -> str:
    return f"{step}：{case.category_name}（{case.number}）"


def _link(case: GridCase) -> str:
    return _channel(case).link.format(number=case.number)


def report(db: Session, principal: Principal | None, filed: Report, *, source: Source, extent: geo.Extent,
           client_id: str | None = None, photos: Sequence[bytes] = (), settings: Settings | None = None) -> GridCase:
    """信息收集: a problem reported with its category, position and description (and photos)."""
    found_category = category(db, filed.kind, filed.code)
    checked = check_photos(settings, photos)
    lon, lat = (float(v) for v in geo.to_wgs84(filed.crs, filed.lon, filed.lat))
    if not extent.contains(lon, lat):
        raise geo.invalid("grid-outside-district", f"位置（{lon:.6f}, {lat:.6f}）不在本区范围内（{extent.text}）",
                          field="body.lat")
    if not filed.description.strip():
        raise geo.invalid("validation-error", "请描述发现的问题", field="body.description")
    if filed.component_code:
        part = db.scalar(select(Component).where(Component.code == filed.component_code))
        if part is None or found_category.kind != CategoryKind.COMPONENT or part.category_code != found_category.code:
            raise geo.invalid("validation-error", f"部件 {filed.component_code} 不存在或不属于「{found_category.name}」",
                              field="body.component_code")
    found = locate(db, lon, lat)
    now = wall.now()
    case = GridCase(number=numbers.mint(db, GridCase.number, "WG"), source=source.value, category_kind=found_category.kind,
                    category_code=found_category.code, category_name=found_category.name, urgent=found_category.urgent,
                    lon=round(lon, 7), lat=round(lat, 7), address=(filed.address or None), description=filed.description.strip(),
                    cell_code=found.code if found else None, street_code=found.street_code if found else None,
                    component_code=filed.component_code or None, status=CaseStatus.REPORTED,
                    proposed_department_id=route_department(db, found_category.handler, found),
                    reporter_account=principal.actor_id if principal else None,
                    reporter_name=(principal.actor_name if principal else filed.name) or None,
                    reporter_contact=filed.contact or None, client_id=client_id, token=secrets.token_hex(12),
                    duplicates=0, returns=0, reworks=0, created_at=now, updated_at=now)
    db.add(case)  # written with its first step, photos and clock at the answer's read (one flush)
    _written_here(db)[case] = Written()
    event = _trail(db, case, principal, Action.REPORT, None if found else "位置不在任何单元网格内，请指挥中心人工确定责任部门")
    _store_photos(db, settings, case, event, principal, "report", checked)
    _start_clock(db, case, kind=ClockKind.GRID_REGISTER, subject=case.number, title=_title(case, "立案"),
                            department_id=_centre(db), limit_days=0, started_on=wall.today(), link=_link(case),
                            new_subject=True, limit_hours=REGISTER_HOURS, hour_basis=_basis(case))
    audit.record(db, actor=principal or audit.ANONYMOUS, action="grid.case.report", object_type="grid_case",
                 object_id=case.number, details={"source": source.value, "category": f"{case.category_kind}/{case.category_code}",
                                                 "cell": case.cell_code})
    return case


@dataclass(frozen=True)
class Photo:
    """A photo that passed the checks, not yet stored."""

    data: bytes
    media_type: str
    suffix: str
    width: int
    height: int


def check_photos(settings: Settings | None, photos: Sequence[bytes]) -> list[Photo]:
    """Every photo checked before anything is written: an image Pillow reads whole (JPEG, PNG,
    WebP), of a sane size; one bad photo refuses the step."""
    if photos and settings is None:
        raise Problem("internal-error", "照片存储未配置")
    checked = []
    for data in photos:
        assert settings is not None
        check_size(settings, data)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise geo.invalid("grid-invalid-photo", f"照片像素过多（{width}×{height}），请缩小后上传", field="body.photos")
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise geo.invalid("grid-invalid-photo", "照片不是可识别的图片（支持 JPEG、PNG、WebP）", field="body.photos") from None
        if image_format not in PHOTO_FORMATS:
            raise geo.invalid("grid-invalid-photo", f"不支持 {image_format} 格式的照片（支持 JPEG、PNG、WebP）", field="body.photos")
        media_type, suffix = PHOTO_FORMATS[image_format]
        checked.append(Photo(data, media_type, suffix, width, height))
    return checked


def _store_photos(db: Session, settings: Settings | None, case: GridCase, event: CaseEvent, principal: Principal | None,
                  stage: str, photos: list[Photo]) -> None:
    stored = []
    for photo in photos:
        assert settings is not None  # check_photos refused photos without it
        path = keep(settings, settings.data_dir / "grid-photos" / case.number, photo.suffix, photo.data)
        stored.append(CasePhoto(case=case, event=event, stage=stage, path=str(path), media_type=photo.media_type,
                                width=photo.width, height=photo.height, size=len(photo.data),
                                uploaded_by=principal.actor_id if principal else None, at=wall.now()))
    db.add_all(stored)
    if (kept := _written_here(db).get(case)) is not None:
        kept.photos.extend(stored)


@dataclass
class Written:
    """What this transaction wrote of a case it created, in order."""

    events: list[CaseEvent] = dataclass_field(default_factory=list)
    photos: list[CasePhoto] = dataclass_field(default_factory=list)
    clocks: list[supervision.SupervisionClock] = dataclass_field(default_factory=list)


def _written_here(db: Session) -> dict[GridCase, Written]:
    """The trail, photos and clocks of each case this transaction created, as it wrote them: the
    answer to a report (a hundred a second) reads none back, as nothing else can have written to
    a case that did not exist before this transaction. A new transaction starts with none."""
    return per_transaction(db, "grid-written-here", dict)


def _start_clock(db: Session, case: GridCase, **clock) -> supervision.SupervisionClock:
    """A step's clock (``supervision.start_clock``), kept with what this transaction wrote of the case."""
    started = supervision.start_clock(db, **clock)
    if (kept := _written_here(db).get(case)) is not None:
        kept.clocks.append(started)
    return started


# The steps that concern the department handling the case (the evaluation counts them by it).
_HANDLING_STEPS = {Action.DISPATCH, Action.RETURN, Action.HANDLE, Action.VERIFY, Action.REWORK}


def _trail(db: Session, case: GridCase, principal: Principal | None, action: Action, note: str | None = None, *,
           department_id: int | None = None, on_time: bool | None = None) -> CaseEvent:
    if department_id is None:
        department_id = case.department_id if action in _HANDLING_STEPS else (principal.department_id if principal else None)
    event = CaseEvent(case=case, action=action.value, status=case.status,
                      actor_account=principal.actor_id if principal else None,
                      actor_name=(principal.actor_name if principal else case.reporter_name or "公众")[:64],
                      department_id=department_id, note=note[:1000] if note else None, on_time=on_time, at=wall.now())
    db.add(event)  # written at the step's next read or its commit, with the rest of the step
    if (kept := _written_here(db).get(case)) is not None:
        kept.events.append(event)
    return event


def not_a_ticket(db: Session, number: str) -> None:
    """The grid's own steps (its API and pages) move the city's cases, never a 12345 ticket or a
    letter: a ticket's steps carry rules of their own (its category's limit, 签收, 回访, the
    hotline's permissions) and are taken in 热线工单; a letter is the letters office's and is as
    unknown to the grid as a number never given. A number no case has is left to the step's own 404."""
    source = db.scalar(select(GridCase.source).where(GridCase.number == number[:24]))
    if source == Source.HOTLINE.value:
        raise Problem("grid-state", f"{number[:24]} 是 12345 热线工单，请在「热线工单」中办理（/hotline/tickets/{number[:24]}）")
    if source == Source.MAILBOX.value:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的案件")


# 领导信箱 letters are the letters office's and the departments they are assigned to: the grid's
# lists, queues and pages never show one (their writers wrote to the leader, not to the city's map).
NOT_A_LETTER = GridCase.source != Source.MAILBOX.value


def case_by_number(db: Session, number: str, *, for_update: bool = False) -> GridCase:
    query = select(GridCase).where(GridCase.number == number)
    if for_update and db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = db.scalar(query)
    if found is None:
        raise Problem("not-found", f"没有编号为 {number} 的案件")
    return found


def readable(db: Session, principal: Principal, number: str) -> GridCase:
    """A case as this person may see it: the centre and supervisors every case, a department the
    cases dispatched to it (now or before)."""
    case = case_by_number(db, number)
    if case.source == Source.MAILBOX:
        raise Problem("not-found", f"没有编号为 {number} 的案件")
    if principal.can_for_department(Permission.GRID_READ, case.department_id):
        return case
    if principal.can(Permission.GRID_READ) and principal.department_id is not None and db.scalar(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.department_id == principal.department_id).limit(1)):
        return case  # a department that returned it still sees what it did
    raise deny(db, principal, slug="department-scope", detail="该案件未派遣给本部门", action="grid.case.read",
               object_type="grid_case", object_id=number)


_ALLOWED = {
    Action.REGISTER: (CaseStatus.REPORTED,), Action.REJECT: (CaseStatus.REPORTED,), Action.MERGE: (CaseStatus.REPORTED,),
    Action.DISPATCH: (CaseStatus.REGISTERED,), Action.RETURN: (CaseStatus.DISPATCHED,), Action.HANDLE: (CaseStatus.DISPATCHED,),
    Action.VERIFY: (CaseStatus.HANDLED,), Action.REWORK: (CaseStatus.HANDLED,),
}
# A ticket is filed by the hotline centre already accepted (待派遣): it is answered, transferred,
# merged or dispatched from there; the department signs, may ask for more time, replies; the
# centre urges and calls back.
_TICKET_ALLOWED = {
    Action.ANSWER: (CaseStatus.REGISTERED,), Action.TRANSFER: (CaseStatus.REGISTERED,), Action.MERGE: (CaseStatus.REGISTERED,),
    Action.DISPATCH: (CaseStatus.REGISTERED,), Action.SIGN: (CaseStatus.DISPATCHED,), Action.RETURN: (CaseStatus.DISPATCHED,),
    Action.HANDLE: (CaseStatus.DISPATCHED,), Action.EXTEND_REQUEST: (CaseStatus.DISPATCHED,),
    Action.EXTEND_APPROVE: (CaseStatus.DISPATCHED,), Action.EXTEND_REFUSE: (CaseStatus.DISPATCHED,),
    Action.URGE: (CaseStatus.REGISTERED, CaseStatus.DISPATCHED), Action.FOLLOW_UP: (CaseStatus.HANDLED,),
    Action.REOPEN: (CaseStatus.HANDLED,),
}

# A letter (领导信箱) is filed by the letters office's mailbox already received (待派遣 is its 待处理):
# the office answers it or assigns it (交办 = dispatch); the department replies (handle); the office
# sends the reply (verify) or returns it to be redone (rework); it may be put before the leader at
# any time and published once answered.
_LETTER_ALLOWED = {
    Action.ANSWER: (CaseStatus.REGISTERED,), Action.DISPATCH: (CaseStatus.REGISTERED,),
    Action.HANDLE: (CaseStatus.DISPATCHED,), Action.VERIFY: (CaseStatus.HANDLED,), Action.REWORK: (CaseStatus.HANDLED,),
    Action.LEADER: (CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.HANDLED, CaseStatus.CLOSED),
    Action.PUBLISH: (CaseStatus.CLOSED,),
}


@dataclass(frozen=True)
class Channel:
    """How one channel's cases move on the engine: which steps from which states, the kind and
    name of the handling clock, the permission the handling department acts under, the clock the
    check after the handling runs on (None: the channel follows up otherwise), and where a case
    is worked."""

    allowed: Mapping[Action, tuple[CaseStatus, ...]]
    handle_clock: ClockKind
    handle_step: str
    handle_permission: Permission
    review_clock: ClockKind | None
    link: str
    # the audit line of each step: ``grid.case.<action>`` on the case, unless the channel names it
    # in its own words (a letter's steps are the letters office's: ``mailbox.letter.assign`` …)
    audit_object: str = "grid_case"
    audit_actions: tuple[tuple[Action, str], ...] = ()
    dispatched_to: str = "派遣至"  # the trail's words for a dispatch (a letter is 交办)

    def audited(self, action: Action) -> str:
        return dict(self.audit_actions).get(action, f"grid.case.{action.value}")


_CITY = Channel(_ALLOWED, ClockKind.GRID_HANDLE, "处置", Permission.GRID_HANDLE, ClockKind.GRID_VERIFY,
                "/grid/cases/{number}")
CHANNELS = {
    Source.SUPERVISOR: _CITY, Source.PUBLIC: _CITY, Source.OPEN311: _CITY,
    Source.HOTLINE: Channel(_TICKET_ALLOWED, ClockKind.GRID_HANDLE, "处置", Permission.HOTLINE_HANDLE, None,
                            "/hotline/tickets/{number}"),
    # the letters office reviews a department's reply on a clock the mailbox starts (its office, its days)
    Source.MAILBOX: Channel(_LETTER_ALLOWED, ClockKind.MAILBOX_REPLY, "来信答复", Permission.MAILBOX_REPLY,
                            ClockKind.MAILBOX_REVIEW, "/staff/mailbox/{number}", audit_object="mailbox_letter",
                            audit_actions=tuple((action, f"mailbox.letter.{name}") for action, name in (
                                (Action.REPORT, "write"), (Action.ANSWER, "answer"), (Action.DISPATCH, "assign"),
                                (Action.HANDLE, "reply"), (Action.VERIFY, "send"), (Action.REWORK, "return"),
                                (Action.LEADER, "leader"), (Action.PUBLISH, "publish"))), dispatched_to="交办"),
}


def _channel(case: GridCase) -> Channel:
    return CHANNELS[Source(case.source)]


def _check(db: Session, case: GridCase, action: Action, expected_version: int | None) -> None:
    allowed = _channel(case).allowed.get(action, ())
    if case.status not in allowed:
        from tongban.grid.models import STATUS_LABELS
        raise Problem("grid-state", f"案件 {case.number} 当前为「{STATUS_LABELS[CaseStatus(case.status)]}」，不能{ACTION_LABELS[action]}",
                      status_value=case.status)
    if expected_version is not None and expected_version != case.version:
        raise Problem("conflict", f"案件 {case.number} 已被他人处理（版本 {case.version}），请刷新后再操作",
                      current_version=case.version)


def round_of(case: GridCase) -> str:
    """The subject of a step's clock: each dispatch round of a case has its own clocks."""
    return f"{case.number}/{case.returns + case.reworks + 1}"


def _start_handling(db: Session, case: GridCase, found_category: Category) -> None:
    assert case.department_id is not None  # dispatched
    kwargs: dict = {}
    if found_category.limit_unit == LimitUnit.WORKING_DAYS:
        kwargs["limit_days"] = found_category.limit_value
    else:
        kwargs.update(limit_days=0, limit_hours=found_category.limit_value,
                      hour_basis=HourBasis.CLOCK if found_category.limit_unit == LimitUnit.CLOCK_HOURS else HourBasis.WORKING)
    channel = _channel(case)
    clock = _start_clock(db, case, kind=channel.handle_clock, subject=round_of(case), title=_title(case, channel.handle_step),
                                    department_id=case.department_id, started_on=wall.today(), link=_link(case), **kwargs)
    case.expected_at = _expected(clock)


def _expected(clock) -> datetime:
    """When a handling clock is due: its moment (a limit in hours), else 17:00 Beijing time of its due day."""
    return clock.due_at or datetime.combine(clock.due_on, datetime.min.time().replace(hour=17),
                                            wall.BEIJING).astimezone(wall.now().tzinfo)


def register(db: Session, principal: Principal, number: str, *, version: int | None = None, note: str | None = None) -> GridCase:
    """案卷建立: the report meets the category's 立案条件."""
    case = case_by_number(db, number, for_update=True)
    _check(db, case, Action.REGISTER, version)
    case.status = CaseStatus.REGISTERED
    supervision.close_clock(db, ClockKind.GRID_REGISTER, case.number, on=wall.today(), outcome="registered")
    _start_clock(db, case, kind=ClockKind.GRID_DISPATCH, subject=round_of(case), title=_title(case, "派遣"),
                            department_id=_centre(db), limit_days=0, started_on=wall.today(), link=_link(case),
                            limit_hours=DISPATCH_HOURS, hour_basis=_basis(case))
    _done(db, case, principal, Action.REGISTER, note)
    return case


def reject(db: Session, principal: Principal, number: str, *, reason: str, version: int | None = None) -> GridCase:
    """不予立案, with the reason (the category's 立案条件 not met, not the city's business …)."""
    if not reason.strip():
        raise geo.invalid("validation-error", "请说明不予立案的理由", field="body.reason")
    case = case_by_number(db, number, for_update=True)
    _check(db, case, Action.REJECT, version)
    case.status, case.closed_at = CaseStatus.REJECTED, wall.now()
    supervision.close_clock(db, ClockKind.GRID_REGISTER, case.number, on=wall.today(), outcome="rejected")
    _done(db, case, principal, Action.REJECT, reason)
    return case


def duplicates(db: Session, case: GridCase) -> list[GridCase]:
    """Open cases of the same category within ``DUPLICATE_RADIUS_M`` reported in the last days."""
    if case.lon is None or case.lat is None:
        return []  # a call that names no place
    if case.id is None:
        db.flush()  # a case reported in this transaction: its id, so as not to find itself
    local = geo.LocalMetres(case.lon, case.lat)
    d = local.metres_to_degrees(DUPLICATE_RADIUS_M)
    candidates = db.scalars(_NEARBY, {"kind": case.category_kind, "code": case.category_code, "west": case.lon - d,
                                      "east": case.lon + d, "south": case.lat - d, "north": case.lat + d,
                                      "since": case.created_at - timedelta(days=DUPLICATE_DAYS), "id": case.id})
    return [c for c in candidates
            if c.lon is not None and c.lat is not None and geo.distance_m(case.lon, case.lat, c.lon, c.lat) <= DUPLICATE_RADIUS_M]


# Built once: every report's answer looks for the open cases it may repeat.
_NEARBY = (select(GridCase).where(
    GridCase.category_kind == bindparam("kind"), GridCase.category_code == bindparam("code"),
    GridCase.lon.between(bindparam("west"), bindparam("east")), GridCase.lat.between(bindparam("south"), bindparam("north")),
    GridCase.status.in_([s.value for s in OPEN_STATUSES if s != CaseStatus.REPORTED]),
    GridCase.created_at >= bindparam("since"), GridCase.id != bindparam("id")).order_by(GridCase.created_at))


def merge(db: Session, principal: Principal, number: str, *, into: str, version: int | None = None) -> GridCase:
    """A duplicate report joins the open case it repeats; it ends there, counted on that case."""
    case = case_by_number(db, number, for_update=True)
    _check(db, case, Action.MERGE, version)
    target = case_by_number(db, into, for_update=True)
    if target.id == case.id or target.status not in [s.value for s in OPEN_STATUSES] or target.merged_into_id is not None:
        raise Problem("grid-state", f"只能合并到未结案的其他案件（{into} 不可合并）")
    if case.source != Source.HOTLINE and (target.category_kind, target.category_code) != (case.category_kind, case.category_code):
        raise Problem("grid-state", f"案件 {into} 的分类为「{target.category_name}」，与本案「{case.category_name}」不同，不能合并")
    case.status, case.merged_into_id, case.closed_at = CaseStatus.MERGED, target.id, wall.now()
    target.duplicates += 1
    target.updated_at = wall.now()
    supervision.close_clock(db, ClockKind.GRID_REGISTER, case.number, on=wall.today(), outcome="merged")
    _trail(db, target, principal, Action.DUPLICATE, f"重复上报 {case.number} 已合并至本案")
    _done(db, case, principal, Action.MERGE, f"合并至 {target.number}")
    return case


def dispatch(db: Session, principal: Principal, number: str, *, department_code: str | None = None,
             version: int | None = None, note: str | None = None, limit: Category | None = None) -> GridCase:
    """任务派遣 to the department routing proposed, or another the command centre chooses. A ticket
    (``Source.HOTLINE``) brings its category's limit (``limit``: the hotline's own classes are not
    the grid's) and is signed for (签收) on a clock of its own."""
    case = case_by_number(db, number, for_update=True)
    _check(db, case, Action.DISPATCH, version)
    if department_code:
        department_id = org.get_by_code_or_404(db, department_code).id
    elif case.proposed_department_id is not None:
        department_id = case.proposed_department_id
    else:
        raise geo.invalid("validation-error", "该案件位置不在网格内，没有建议的责任部门，请选择派遣部门", field="body.department_code")
    supervision.close_clock(db, ClockKind.GRID_DISPATCH, round_of(case), on=wall.today(), outcome="dispatched")
    case.status, case.department_id = CaseStatus.DISPATCHED, department_id
    if limit is not None and (limit.kind, limit.code) != (case.category_kind, case.category_code):
        # a ticket the centre re-routes under another class is a case of that class from now on
        case.category_kind, case.category_code, case.category_name = limit.kind, limit.code, limit.name
        case.urgent = limit.urgent
    _start_handling(db, case, limit or category(db, case.category_kind, case.category_code))
    if case.source == Source.HOTLINE:
        _start_clock(db, case, kind=ClockKind.HOTLINE_SIGN, subject=round_of(case), title=_title(case, "签收"),
                                department_id=department_id, limit_days=0, started_on=wall.today(), link=_link(case),
                                limit_hours=TICKET_SIGN_HOURS, hour_basis=HourBasis.WORKING)
    department = org.get(db, department_id)
    _done(db, case, principal, Action.DISPATCH, f"{_channel(case).dispatched_to}{department.name if department else department_id}"
          + (f"；{note}" if note else ""))
    return case


def _own(db: Session, principal: Principal, case: GridCase, action: str) -> None:
    if not principal.can_for_department(_channel(case).handle_permission, case.department_id):
        raise deny(db, principal, slug="department-scope", detail="该案件未派遣给本部门", action=action,
                   object_type="grid_case", object_id=case.number)


def return_case(db: Session, principal: Principal, number: str, *, reason: str, version: int | None = None) -> GridCase:
    """退回: not this department's business; back to the command centre to dispatch again."""
    if not reason.strip():
        raise geo.invalid("validation-error", "请说明退回理由（例如不属于本部门职责）", field="body.reason")
    case = case_by_number(db, number, for_update=True)
    _own(db, principal, case, "grid.case.return")
    _check(db, case, Action.RETURN, version)
    supervision.close_clock(db, _channel(case).handle_clock, round_of(case), on=wall.today(), outcome="returned")
    if case.source == Source.HOTLINE:
        supervision.close_clock(db, ClockKind.HOTLINE_SIGN, round_of(case), on=wall.today(), outcome="returned")
    returned_by = case.department_id
    case.returns += 1
    case.status, case.department_id, case.expected_at = CaseStatus.REGISTERED, None, None
    _start_clock(db, case, kind=ClockKind.GRID_DISPATCH, subject=round_of(case), title=_title(case, "重新派遣"),
                            department_id=_centre(db), limit_days=0, started_on=wall.today(), link=_link(case),
                            limit_hours=DISPATCH_HOURS, hour_basis=_basis(case))
    _done(db, case, principal, Action.RETURN, reason, department_id=returned_by)
    return case


def handle(db: Session, principal: Principal, number: str, *, result: str, photos: Sequence[bytes] = (),
           settings: Settings | None = None, version: int | None = None) -> GridCase:
    """任务处理 and 处理反馈: what the department did, with photos; the supervisor checks next."""
    if not result.strip():
        raise geo.invalid("validation-error", "请填写处置结果", field="body.result")
    checked = check_photos(settings, photos)
    case = case_by_number(db, number, for_update=True)
    _own(db, principal, case, "grid.case.handle")
    _check(db, case, Action.HANDLE, version)
    supervision.close_clock(db, _channel(case).handle_clock, round_of(case), on=wall.today(), outcome="handled")
    case.status, case.result = CaseStatus.HANDLED, result.strip()[:2000]
    on_time = case.expected_at is None or wall.now() <= case.expected_at
    event = _done(db, case, principal, Action.HANDLE, result, on_time=on_time)
    _store_photos(db, settings, case, event, principal, "handle", checked)
    if case.source == Source.HOTLINE:  # the centre tells the caller the reply and asks (回访)
        supervision.close_clock(db, ClockKind.HOTLINE_SIGN, round_of(case), on=wall.today(), outcome="handled")
        _start_clock(db, case, kind=ClockKind.HOTLINE_FOLLOW_UP, subject=round_of(case), title=_title(case, "回访"),
                                department_id=_centre(db), limit_days=TICKET_FOLLOW_UP_DAYS, started_on=wall.today(),
                                link=_link(case))
        return case
    if case.source == Source.MAILBOX:  # the letters office reviews it on the mailbox's own clock
        return case
    owner = case.reporter_account if case.source == Source.SUPERVISOR else None
    _start_clock(db, case, kind=ClockKind.GRID_VERIFY, subject=round_of(case), title=_title(case, "核查"),
                            department_id=_centre(db), limit_days=0, started_on=wall.today(), link=_link(case),
                            owner=owner, limit_hours=VERIFY_HOURS, hour_basis=_basis(case))
    return case


def verify(db: Session, principal: Principal, number: str, *, fixed: bool, note: str | None = None,
           photos: Sequence[bytes] = (), settings: Settings | None = None, version: int | None = None,
           limit: Category | None = None) -> GridCase:
    """核查: fixed → 结案; not fixed → 返工 (back to the same department, on a new clock: ``limit``,
    or the category's). A letter's review (审核) is this step: sent, or returned to be redone."""
    checked = check_photos(settings, photos)
    case = case_by_number(db, number, for_update=True)
    action = Action.VERIFY if fixed else Action.REWORK
    _check(db, case, action, version)
    if not fixed and not (note or "").strip():
        raise geo.invalid("validation-error", "核查未通过时请说明现场情况", field="body.note")
    review = _channel(case).review_clock
    if review is not None:
        supervision.close_clock(db, review, round_of(case), on=wall.today(), outcome="closed" if fixed else "rework")
    if fixed:
        case.status, case.closed_at = CaseStatus.CLOSED, wall.now()
    else:
        case.reworks += 1
        case.status = CaseStatus.DISPATCHED
        _start_handling(db, case, limit or category(db, case.category_kind, case.category_code))
    event = _done(db, case, principal, action, note)
    _store_photos(db, settings, case, event, principal, "verify", checked)
    return case


# ---- 12345 tickets: the hotline's steps on the same engine -------------------------------------------


@dataclass(frozen=True)
class Call:
    """What a hotline call files: its category (with the limit the hotline gives it) and, when the
    caller names one, the place."""

    category: Category
    description: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    caller_name: str | None = None


def district_extent(text: str) -> geo.Extent:
    """The district's extent (``Settings.grid_extent``) as the case engine checks positions."""
    return geo.Extent.parse(text)


def file_call(db: Session, principal: Principal | None, call: Call, *, extent: geo.Extent | None = None, prefix: str = "RX",
              source: Source = Source.HOTLINE, note: str | None = "12345 热线来电") -> GridCase:
    """A ticket (工单): a case of ``Source.HOTLINE`` the centre accepted as it took the call
    (待派遣); the agent's outcome is the next step, in the same transaction. A letter to the
    leader's mailbox is filed the same way (``Source.MAILBOX``, by its writer)."""
    if not call.description.strip():
        raise geo.invalid("validation-error", "请填写来电内容", field="body.said")
    lon = lat = None
    found = None
    if call.lon is not None and call.lat is not None:
        lon, lat = float(call.lon), float(call.lat)
        if extent is None or not extent.contains(lon, lat):
            raise geo.invalid("grid-outside-district", f"位置（{lon:.6f}, {lat:.6f}）不在本区范围内"
                              f"（{extent.text if extent else '—'}）", field="body.lat")
        found = locate(db, lon, lat)
    now = wall.now()
    case = GridCase(number=numbers.mint(db, GridCase.number, prefix), source=source.value,
                    category_kind=call.category.kind, category_code=call.category.code, category_name=call.category.name,
                    urgent=call.category.urgent, lon=round(lon, 7) if lon is not None else None,
                    lat=round(lat, 7) if lat is not None else None, address=call.address or None,
                    description=call.description.strip()[:2000], cell_code=found.code if found else None,
                    street_code=found.street_code if found else None, status=CaseStatus.REGISTERED,
                    reporter_account=None, reporter_name=call.caller_name or None, duplicates=0, returns=0, reworks=0,
                    created_at=now, updated_at=now)
    db.add(case)
    db.flush()
    _written_here(db)[case] = Written()
    _trail(db, case, principal, Action.REPORT, note)
    channel = _channel(case)
    audit.record(db, actor=principal or audit.ANONYMOUS, action=channel.audited(Action.REPORT),
                 object_type=channel.audit_object, object_id=case.number, details={"source": source.value, "category": f"{case.category_kind}/{case.category_code}",
                          "cell": case.cell_code})
    return case


def close_call(db: Session, principal: Principal, number: str, *, action: Action, note: str,
               version: int | None = None) -> GridCase:
    """直接办结 (the agent answered; the letters office answered a letter itself) or 转专线 (a
    specialised line took it): closed at once."""
    assert action in (Action.ANSWER, Action.TRANSFER)
    case = case_by_number(db, number, for_update=True)
    _check(db, case, action, version)
    case.status, case.closed_at = CaseStatus.CLOSED, wall.now()
    _done(db, case, principal, action, note)
    return case


def sign(db: Session, principal: Principal, number: str, *, version: int | None = None) -> GridCase:
    """签收: the department takes the ticket dispatched to it (the sign clock closes)."""
    case = case_by_number(db, number, for_update=True)
    _own(db, principal, case, "grid.case.sign")
    _check(db, case, Action.SIGN, version)
    clock = supervision.close_clock(db, ClockKind.HOTLINE_SIGN, round_of(case), on=wall.today(), outcome="signed")
    _done(db, case, principal, Action.SIGN, None, department_id=case.department_id,
          on_time=clock.on_time if clock is not None else None)
    return case


_NOTED = (Action.EXTEND_REQUEST, Action.EXTEND_REFUSE, Action.URGE)  # these steps say why


def note_step(db: Session, principal: Principal, number: str, *, action: Action, note: str | None,
              version: int | None = None, own: bool = False) -> GridCase:
    """A step that moves no state but is in the trail: 申请延期 (``own``: by the department the
    ticket is with), a refused extension, 督办; a letter's 呈报领导 and 选登."""
    assert action in (*_NOTED, Action.LEADER, Action.PUBLISH)
    if action in _NOTED and not (note or "").strip():
        raise geo.invalid("validation-error", "请填写理由或说明", field="body.reason")
    case = case_by_number(db, number, for_update=True)
    if own:
        _own(db, principal, case, f"grid.case.{action.value}")
    _check(db, case, action, version)
    _done(db, case, principal, action, note, department_id=case.department_id)
    return case


def extend(db: Session, principal: Principal, number: str, *, days: int, note: str | None = None,
           version: int | None = None) -> GridCase:
    """延期获批: the handling clock of the round runs ``days`` longer (working days, or its hours)."""
    if not 1 <= days <= 30:
        raise geo.invalid("validation-error", "延期天数应为 1 至 30 个工作日", field="body.days")
    case = case_by_number(db, number, for_update=True)
    _check(db, case, Action.EXTEND_APPROVE, version)
    clock = supervision.extend_clock(db, ClockKind.GRID_HANDLE, round_of(case), days=days, on=wall.today(), note=note)
    if clock is not None:
        case.expected_at = _expected(clock)
    _done(db, case, principal, Action.EXTEND_APPROVE, f"延期 {days} 个工作日" + (f"；{note}" if note else ""),
          department_id=case.department_id)
    return case


def follow_up(db: Session, principal: Principal, number: str, *, solved: bool, note: str, limit: Category,
              version: int | None = None) -> GridCase:
    """回访: the caller was told the reply; solved → 办结; not solved → back to the same department
    on a new round (new clocks, ``limit``: the category's)."""
    case = case_by_number(db, number, for_update=True)
    action = Action.FOLLOW_UP if solved else Action.REOPEN
    _check(db, case, action, version)
    supervision.close_clock(db, ClockKind.HOTLINE_FOLLOW_UP, round_of(case), on=wall.today(),
                            outcome="closed" if solved else "reopened")
    if solved:
        case.status, case.closed_at = CaseStatus.CLOSED, wall.now()
    else:
        case.reworks += 1
        case.status = CaseStatus.DISPATCHED
        _start_handling(db, case, limit)
    _done(db, case, principal, action, note, department_id=case.department_id)
    return case


def cases_by_ids(db: Session, ids: Sequence[int]) -> list[GridCase]:
    if not ids:
        return []
    return list(db.scalars(select(GridCase).where(GridCase.id.in_(list(ids))).order_by(GridCase.created_at.desc())))


def case_by_id(db: Session, case_id: int) -> GridCase | None:
    return db.get(GridCase, case_id)



def channel_cases(db: Session, source: Source, *, statuses: Sequence[str] | None = None, department_id: int | None = None,
                  overdue: bool = False, ids: Sequence[int] | None = None, near: tuple[float, float] | None = None,
                  limit: int = 200) -> list[GridCase]:
    """The cases one channel filed (the hotline's tickets), the newest first: in these states, with
    this department, late (past the handling's expected moment), among ``ids``, or within
    ``DUPLICATE_RADIUS_M`` of a point."""
    query = select(GridCase).where(GridCase.source == source.value).order_by(GridCase.created_at.desc()).limit(limit)
    if statuses:
        query = query.where(GridCase.status.in_(list(statuses)))
    if department_id is not None:
        query = query.where(GridCase.department_id == department_id)
    if overdue:
        query = query.where(GridCase.expected_at.is_not(None), GridCase.expected_at < wall.now())
    if ids is not None:
        query = query.where(GridCase.id.in_(list(ids)))
    if near is not None:
        lon, lat = near
        d = geo.LocalMetres(lon, lat).metres_to_degrees(DUPLICATE_RADIUS_M * 4)
        query = query.where(GridCase.lon.between(lon - d, lon + d), GridCase.lat.between(lat - d, lat + d))
    return list(db.scalars(query))


def channel_ids(source: Source, *, statuses: Sequence[str] | None = None, department_id: int | None = None) -> Select:
    """The ids of a channel's cases in these states, with this department: a subquery the channel
    narrows its own rows with (the letters office's queues page the letters, not the cases)."""
    query = select(GridCase.id).where(GridCase.source == source.value)
    if statuses:
        query = query.where(GridCase.status.in_(list(statuses)))
    if department_id is not None:
        query = query.where(GridCase.department_id == department_id)
    return query


def _done(db: Session, case: GridCase, principal: Principal, action: Action, note: str | None, *,
          department_id: int | None = None, on_time: bool | None = None) -> CaseEvent:
    """The step's trail entry and audit line (the case's state is already moved)."""
    case.updated_at = wall.now()
    event = _trail(db, case, principal, action, note, department_id=department_id, on_time=on_time)
    channel = _channel(case)
    audit.record(db, actor=principal, action=channel.audited(action), object_type=channel.audit_object,
                 object_id=case.number, details={"status": case.status})
    resident_notice.tell_reporter(db, case, action, note)  # a portal report's end: its reporter is told
    return event


def trail(db: Session, case: GridCase) -> list[CaseEvent]:
    if (kept := _written_here(db).get(case)) is not None:
        db.flush()  # what the step wrote, ids and all, in one go
        return list(kept.events)
    return list(db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def photos(db: Session, case: GridCase) -> list[CasePhoto]:
    if (kept := _written_here(db).get(case)) is not None:
        db.flush()
        return list(kept.photos)
    return list(db.scalars(select(CasePhoto).where(CasePhoto.case_id == case.id).order_by(CasePhoto.id)))


def clocks(db: Session, case: GridCase, kinds: Iterable[str]) -> list[supervision.SupervisionClock]:
    """The case's clocks of these kinds, its rounds' included, in the order they were started."""
    wanted = set(kinds)
    if (kept := _written_here(db).get(case)) is not None:
        return [c for c in kept.clocks if c.kind in wanted and c in db]  # not one a rolled-back savepoint took away
    return supervision.clocks_of_subjects(db, list(wanted), case.number)


def photo(db: Session, case: GridCase, photo_id: int) -> CasePhoto:
    found = db.scalar(select(CasePhoto).where(CasePhoto.case_id == case.id, CasePhoto.id == photo_id))
    if found is None:
        raise Problem("not-found", "没有这张照片")
    return found


def contact_of(db: Session, principal: Principal, case: GridCase) -> str | None:
    """The reporter's contact, read by staff for a call back: personal data, so the read is logged."""
    if not case.reporter_contact:
        return None
    audit.record(db, actor=principal, action="grid.case.read_contact", object_type="grid_case", object_id=case.number,
                 purpose="核实或回复举报人")
    return case.reporter_contact


def own_reports(principal: Principal):
    """公众举报: the query of the problems this resident or enterprise reported from the portal."""
    return select(GridCase).where(GridCase.source == Source.PUBLIC.value, GridCase.reporter_account == principal.actor_id)


def own_report(db: Session, principal: Principal, number: str) -> GridCase:
    """One of this person's own portal reports; anyone else's is as unknown as a number never
    given (404: a number tells nothing of another person's report)."""
    found = db.scalar(own_reports(principal).where(GridCase.number == number[:24]))
    if found is None:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的本人上报")
    return found


def queue(db: Session, principal: Principal, *, statuses: list[str] | None = None, limit: int = 200) -> list[GridCase]:
    """The cases waiting on this person: the centre's to register and dispatch, a department's to
    handle, a supervisor's to check."""
    query = select(GridCase).where(NOT_A_LETTER).order_by(GridCase.urgent.desc(), GridCase.created_at).limit(limit)
    if statuses:
        query = query.where(GridCase.status.in_(statuses))
    if not principal.can_for_department(Permission.GRID_READ, None):  # a department's own
        query = query.where(GridCase.department_id == principal.department_id)
    return list(db.scalars(query))


# ---- 综合评价 ---------------------------------------------------------------------------------------

FORMULAS = {
    "dispatch_accuracy": "派遣准确率 = (派遣数 − 退回数) ÷ 派遣数",
    "on_time_rate": "按期处置率 = 按期处置数 ÷ 处置数（处置数：部门反馈处置结果的次数）",
    "rework_rate": "返工率 = 返工数 ÷ 处置数",
    "closure_rate": "结案率 = 结案数 ÷ 派遣数（部门）；结案数 ÷ 立案数（街道）",
    "registration_rate": "立案率 = 立案数 ÷ 上报数",
    "valid_report_rate": "有效上报率 = 上报后立案数 ÷ 上报数（监督员）",
}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluation(db: Session, start: datetime, end: datetime) -> dict[str, list[tuple[str, str, dict]]]:
    """综合评价 of a period [start, end): per department, street and supervisor, counted from the
    trail of every case (the steps taken in the period), with the formulas of ``FORMULAS``."""
    in_period = (CaseEvent.at >= start, CaseEvent.at < end)
    counts = db.execute(select(CaseEvent.department_id, CaseEvent.action, func.count(), func.count().filter(CaseEvent.on_time.is_(True)))
                        .where(*in_period, CaseEvent.action.in_([a.value for a in _HANDLING_STEPS]))
                        .group_by(CaseEvent.department_id, CaseEvent.action)).all()
    per_department: dict[int, dict[str, int]] = {}
    for department_id, action, count, on_time in counts:
        if department_id is None:
            continue
        row = per_department.setdefault(department_id, {})
        row[action] = count
        if action == Action.HANDLE:
            row["on_time"] = on_time
    departments = []
    for department_id, row in per_department.items():
        department = org.get(db, department_id)
        dispatched, returned, handled = row.get(Action.DISPATCH, 0), row.get(Action.RETURN, 0), row.get(Action.HANDLE, 0)
        reworked, closed = row.get(Action.REWORK, 0), row.get(Action.VERIFY, 0)
        departments.append((department.code if department else str(department_id), department.name if department else "",
                            {"dispatched": dispatched, "returned": returned, "handled": handled,
                             "handled_on_time": row.get("on_time", 0), "reworked": reworked, "closed": closed,
                             "dispatch_accuracy": _ratio(dispatched - returned, dispatched),
                             "on_time_rate": _ratio(row.get("on_time", 0), handled),
                             "rework_rate": _ratio(reworked, handled), "closure_rate": _ratio(closed, dispatched)}))
    street_counts = db.execute(select(GridCase.street_code, CaseEvent.action, func.count())
                               .join(GridCase, GridCase.id == CaseEvent.case_id)
                               .where(*in_period, NOT_A_LETTER,  # a letter is no street's problem
                                      CaseEvent.action.in_([Action.REPORT.value, Action.REGISTER.value,
                                                            Action.REJECT.value, Action.VERIFY.value]))
                               .group_by(GridCase.street_code, CaseEvent.action)).all()
    names = dict(db.execute(select(GridCell.street_code, GridCell.street).distinct()).all())
    per_street: dict[str, dict[str, int]] = {}
    for street_code, action, count in street_counts:
        per_street.setdefault(street_code or "", {})[action] = count
    streets = []
    for street_code, row in sorted(per_street.items()):
        reported, registered, closed = row.get(Action.REPORT, 0), row.get(Action.REGISTER, 0), row.get(Action.VERIFY, 0)
        streets.append((street_code or "网格外", names.get(street_code, "网格外"),
                        {"reported": reported, "registered": registered, "rejected": row.get(Action.REJECT, 0),
                         "closed": closed, "registration_rate": _ratio(registered, reported),
                         "closure_rate": _ratio(closed, registered)}))
    reports = db.execute(select(GridCase.reporter_account, func.max(GridCase.reporter_name), func.count(),
                                func.count().filter(GridCase.status.not_in([CaseStatus.REJECTED.value, CaseStatus.REPORTED.value])))
                         .where(GridCase.source == Source.SUPERVISOR.value, GridCase.created_at >= start, GridCase.created_at < end)
                         .group_by(GridCase.reporter_account)).all()
    checks = dict(db.execute(select(CaseEvent.actor_account, func.count())
                             .where(*in_period, CaseEvent.action.in_([Action.VERIFY.value, Action.REWORK.value]))
                             .group_by(CaseEvent.actor_account)).all())
    supervisors = [(account or "", name or account or "", {
        "reported": reported, "registered": valid, "valid_report_rate": _ratio(valid, reported),
        "checked": checks.get(account, 0)}) for account, name, reported, valid in reports]
    return {"departments": sorted(departments), "streets": streets, "supervisors": sorted(supervisors)}


# ---- layers shared through the exchange ----------------------------------------------------------------

# The grid's layers as catalog resources (the codes the exchange's URLs name), and the items each
# answers: other departments read them as GeoJSON under their grants (嘉兴's shared GIS platform).
LAYER_ITEMS = {
    "GRID-CELLS": ("code", "street_code", "street", "community_code", "community", "land_use", "area_m2"),
    "GRID-COMPONENTS": ("code", "category_code", "name", "cell_code", "owner", "maintainer", "state"),
    "GRID-CASES": ("number", "status", "category_kind", "category_code", "category_name", "cell_code", "street_code",
                   "created_at", "closed_at"),
}


def is_layer(resource_code: str) -> bool:
    return resource_code in LAYER_ITEMS


def layer_features(db: Session, resource_code: str, box: tuple[float, float, float, float], items: list[str],
                   limit: int) -> list[dict]:
    """The layer's features in the box, each with exactly ``items`` as properties (the granted ones)."""
    min_lon, min_lat, max_lon, max_lat = box
    wanted = [item for item in LAYER_ITEMS[resource_code] if item in items]
    features: list[dict] = []
    if resource_code == "GRID-CELLS":
        for found in db.scalars(select(GridCell).where(GridCell.current.is_(True), GridCell.min_lon <= max_lon,
                                                       GridCell.max_lon >= min_lon, GridCell.min_lat <= max_lat,
                                                       GridCell.max_lat >= min_lat).order_by(GridCell.code).limit(limit)):
            features.append({"type": "Feature", "geometry": json.loads(found.geometry),
                             "properties": {item: getattr(found, item) for item in wanted}})
    elif resource_code == "GRID-COMPONENTS":
        for part in db.scalars(select(Component).where(Component.lon.between(min_lon, max_lon), Component.lat.between(min_lat, max_lat))
                               .order_by(Component.code).limit(limit)):
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [part.lon, part.lat]},
                             "properties": {item: getattr(part, item) for item in wanted}})
    else:
        for case in db.scalars(select(GridCase).where(GridCase.lon.is_not(None), NOT_A_LETTER,
                                                      GridCase.lon.between(min_lon, max_lon), GridCase.lat.between(min_lat, max_lat))
                               .order_by(GridCase.id.desc()).limit(limit)):
            values = {item: getattr(case, item) for item in wanted}
            for moment in ("created_at", "closed_at"):
                if isinstance(values.get(moment), datetime):
                    values[moment] = values[moment].isoformat()
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
                             "properties": values})
    return features


# ---- what waits on a person ----------------------------------------------------------------------------


def waiting_condition(principal: Principal):
    """The cases waiting on this person (the 「等我处理」 list and the workbench's count): the
    centre's to register and dispatch, a department's to handle, a supervisor's to check (those
    they reported, and those that came from the public or another system); None: nothing waits on
    this person in the grid. 12345 tickets are never among them: the hotline's queues hold them
    and the hotline centre follows them up."""
    not_ticket = GridCase.source.not_in([Source.HOTLINE.value, Source.MAILBOX.value])  # they wait in their own queues
    if principal.can(Permission.GRID_COMMAND):
        return GridCase.status.in_([CaseStatus.REPORTED.value, CaseStatus.REGISTERED.value]) & not_ticket
    if principal.can(Permission.GRID_HANDLE):
        return (GridCase.status == CaseStatus.DISPATCHED.value) & (GridCase.department_id == principal.department_id) & not_ticket
    if principal.can(Permission.GRID_REPORT):
        return (GridCase.status == CaseStatus.HANDLED.value) & not_ticket & (
            (GridCase.reporter_account == principal.actor_id) | (GridCase.source != Source.SUPERVISOR.value))
    return None


def count_waiting(db: Session, principal: Principal) -> int | None:
    condition = waiting_condition(principal)
    if condition is None:
        return None
    return db.scalar(select(func.count()).select_from(GridCase).where(condition)) or 0
