"""/api/v1/grid: the unit grid, categories, routing, and the seven steps of a city-management case."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select

from tongban.core import audit, clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import INTEGER_MAX, Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit, paginate
from tongban.core.permissions import Permission
from tongban.grid import components, geo, privacy, service
from tongban.grid.models import COMPONENT_STATE_LABELS, CaseStatus, GridCase, GridCell
from tongban.grid.schemas import (
    ACTION_LABELS, SOURCE_LABELS, STATUS_LABELS, CaseDetail, ComponentImportRead, ComponentRead, CasePage, CaseRead, CategoryRead, CategoryUpdate, CellRead,
    ClockRead, DispatchIn, Evaluation, EvaluationRow, EventRead, FeatureCollection, ImportRead, Located, MergeIn,
    PhotoRead, RejectIn, ReturnIn, StepIn, category_read, crs_label,
)
from tongban.org import service as org
from tongban.registry import service as registry_service
from tongban.registry.schemas import ADDRESSES
from tongban.supervision import service as supervision
from tongban.supervision.schemas import ClockKind

router = APIRouter(prefix="/api/v1/grid", tags=["城市网格化管理 grid"])
Lon = Annotated[float, Query(ge=-180, le=180, description="经度（WGS 84）")]
Lat = Annotated[float, Query(ge=-90, le=90, description="纬度（WGS 84）")]
BBox = Annotated[str | None, Query(max_length=100, pattern=geo.BBOX_PATTERN,
                                   description="min_lon,min_lat,max_lon,max_lat（WGS 84）")]
MAX_PHOTOS = 6


def settings_of(request: Request):
    return request.app.state.settings


def extent_of(request: Request) -> geo.Extent:
    return geo.Extent.parse(settings_of(request).grid_extent)


def _department_names(db, ids) -> dict[int, tuple[str, str]]:
    return dict(org.names_by_ids(db, ids))


def case_read(case: GridCase, names: dict[int, tuple[str, str]], merged_into: str | None = None) -> CaseRead:
    department = names.get(case.department_id) if case.department_id else None
    proposed = names.get(case.proposed_department_id) if case.proposed_department_id else None
    return CaseRead(
        number=case.number, status=case.status, status_label=STATUS_LABELS[CaseStatus(case.status)], source=case.source,
        source_label=SOURCE_LABELS.get(case.source, case.source), category_kind=case.category_kind,  # type: ignore[call-overload]
        category_code=case.category_code, category_name=case.category_name, urgent=case.urgent, lon=case.lon, lat=case.lat,
        address=case.address, description=case.description, cell_code=case.cell_code, street_code=case.street_code,
        department=department[0] if department else None, department_name=department[1] if department else None,
        proposed_department=proposed[0] if proposed else None, proposed_department_name=proposed[1] if proposed else None,
        reporter_name=case.reporter_name, duplicates=case.duplicates, returns=case.returns, reworks=case.reworks,
        expected_at=case.expected_at, expected_text=wall.beijing_text(case.expected_at), created_at=case.created_at,
        created_text=wall.beijing_text(case.created_at), updated_at=case.updated_at, closed_at=case.closed_at,
        result=case.result, version=case.version, merged_into=merged_into)


STEP_OF = {ClockKind.GRID_REGISTER: "立案", ClockKind.GRID_DISPATCH: "派遣", ClockKind.GRID_HANDLE: "处置",
           ClockKind.GRID_VERIFY: "核查"}


def case_detail(db, principal: Principal, case: GridCase) -> CaseDetail:
    events = service.trail(db, case)
    pictures = service.photos(db, case)
    names = _department_names(db, [case.department_id, case.proposed_department_id, *(e.department_id for e in events)])
    merged_into = db.scalar(select(GridCase.number).where(GridCase.id == case.merged_into_id)) if case.merged_into_id else None
    by_event: dict[int, list[int]] = {}
    for picture in pictures:
        by_event.setdefault(picture.event_id or 0, []).append(picture.id)
    clocks = []
    for clock in service.clocks(db, case, [k.value for k in STEP_OF]):
        clocks.append(ClockRead(step=STEP_OF[ClockKind(clock.kind)], limit=supervision.clock_limit_text(clock),
                                due=supervision.clock_due_text(clock), level=clock.level, status=clock.status))
    base = case_read(case, names, merged_into)
    return CaseDetail(
        **base.model_dump(),
        trail=[EventRead(action=e.action, action_label=ACTION_LABELS.get(e.action, e.action), status=e.status,  # type: ignore[call-overload]
                         status_label=STATUS_LABELS[CaseStatus(e.status)], actor_name=e.actor_name,
                         department=names[e.department_id][1] if e.department_id in names else None, note=e.note, at=e.at,
                         at_text=wall.beijing_text(e.at), photos=by_event.get(e.id, [])) for e in events],
        photos=[PhotoRead(id=p.id, stage=p.stage, media_type=p.media_type, width=p.width, height=p.height,
                          url=f"/api/v1/grid/cases/{case.number}/photos/{p.id}") for p in pictures],
        clocks=clocks,
        possible_duplicates=[c.number for c in service.duplicates(db, case)] if case.status == CaseStatus.REPORTED else [],
        reporter_contact=service.contact_of(db, principal, case) if principal.can(Permission.GRID_COMMAND) else None)


# ---- categories --------------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryRead], summary="部件和事件分类（立案条件、处置时限、结案条件）")
def list_categories(db: DbSession, principal: Annotated[Principal, require(Permission.PUBLIC)],
                    kind: Annotated[str | None, Query(pattern="^(component|event)$")] = None):
    return [category_read(c) for c in service.categories(db, kind=kind)]


@router.patch("/categories/{kind}/{code}", response_model=CategoryRead, summary="修改分类的立案条件、处置时限、结案条件")
def update_category(kind: str, code: str, body: CategoryUpdate, db: DbSession,
                    principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    found = service.update_category(db, principal, kind, code, body.model_dump(exclude_unset=True))
    db.commit()
    return category_read(found)


# The import formats by example: the property names a file must use.
EXAMPLES = {
    "cells": {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [[121.5, 31.23], [121.501, 31.23], [121.501, 31.231], [121.5, 31.231], [121.5, 31.23]]]},
        "properties": {"code": "310115004001001", "street_code": "310115004", "street": "陆家嘴街道",
                       "community_code": "310115004001", "community": "梅园三村居委会", "land_use": "居住",
                       "responsible_department": None}}]},
    "components": {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point",
        "coordinates": [121.5005, 31.2305]}, "properties": {"code": "3101150116000001", "name": "路灯",
        "owner": "浦东新区建设和交通委员会", "maintainer": "浦东路灯管理所", "state": "完好", "owner_department": "PD-JSJT",
        "surveyed_on": "2026-10-15"}}]},
}


@router.get("/import-examples/{name}.geojson", response_model=FeatureCollection, summary="导入文件示例（单元网格 cells、部件 components）：属性名以此为准")
def example(name: str, principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    if name not in EXAMPLES:
        raise Problem("not-found", "没有这个示例文件")
    return JSONResponse(EXAMPLES[name], media_type="application/geo+json",
                        headers={"Content-Disposition": f'attachment; filename="{name}-example.geojson"'})


# ---- the unit grid -----------------------------------------------------------------------------------


@router.post("/cells/import", response_model=ImportRead, status_code=201,
             summary="导入单元网格（GeoJSON FeatureCollection；整体校验，通过后作为新版本替换所涉社区的网格）",
             openapi_extra=uploads(service.MAX_GRID_FILE_MB * 1024 * 1024))
def import_cells(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
                 file: Annotated[UploadFile, File(description="GeoJSON 文件")],
                 crs: Annotated[geo.Crs, Form(description="文件坐标系：wgs84、cgcs2000 或 gcj02")] = geo.Crs.WGS84):
    data = file.file.read(service.MAX_GRID_FILE_MB * 1024 * 1024 + 1)
    settings = settings_of(request)
    result = service.import_grid(db, principal, data, crs=crs, source=file.filename or "upload.geojson",
                                 extent=extent_of(request), district_code=settings.district_code)
    db.commit()
    return ImportRead(version=result.version, cells=result.cells, communities=result.communities, replaced=result.replaced,
                      crs=result.crs.value, crs_label=crs_label(result.crs.value))


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    return geo.parse_bbox(text) if text else None


MAX_FEATURES = 5000


@router.get("/cells.geojson", response_model=FeatureCollection, summary="单元网格（GeoJSON，可按范围查询）")
def cells_geojson(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)], bbox: BBox = None,
                  community: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None):
    query = select(GridCell).where(GridCell.current.is_(True))
    box = _bbox(bbox)
    if box:
        query = query.where(GridCell.min_lon <= box[2], GridCell.max_lon >= box[0],
                            GridCell.min_lat <= box[3], GridCell.max_lat >= box[1])
    if community:
        query = query.where(GridCell.community_code == community)
    cells = list(db.scalars(query.order_by(GridCell.code).limit(MAX_FEATURES + 1)))
    if len(cells) > MAX_FEATURES:
        raise Problem("validation-error", f"范围内网格超过 {MAX_FEATURES} 个，请缩小范围",
                      errors=[{"field": "query.bbox", "message": "范围过大"}])
    return FeatureCollection(features=[{"type": "Feature", "id": c.code, "geometry": json.loads(c.geometry),
                                        "properties": {"code": c.code, "street": c.street, "community": c.community,
                                                       "land_use": c.land_use, "area_m2": c.area_m2}} for c in cells])


@router.get("/addresses.geojson", response_model=FeatureCollection, summary="标准地址（GeoJSON 点，按范围查询）")
def addresses_geojson(db: DbSession, principal: Annotated[Principal, require(Permission.REGISTRY_READ)],
                      bbox: Annotated[str, Query(max_length=100, pattern=geo.BBOX_PATTERN,
                                                 description="min_lon,min_lat,max_lon,max_lat（WGS 84）")]):
    """The map's 标准地址 layer: the address registry's points in view, for staff who read the
    registries (the addresses hold no personal data); other departments' systems read the same
    layer through the exchange, under grants."""
    found = registry_service.features_in_box(db, ADDRESSES, geo.parse_bbox(bbox), list(ADDRESSES.names), MAX_FEATURES + 1)
    if len(found) > MAX_FEATURES:
        raise Problem("validation-error", f"范围内标准地址超过 {MAX_FEATURES} 个，请缩小范围",
                      errors=[{"field": "query.bbox", "message": "范围过大"}])
    return FeatureCollection(features=found)


@router.get("/cells/{code}", response_model=CellRead, summary="一个单元网格")
def read_cell(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    found = service.cell(db, code)
    if found is None:
        raise Problem("not-found", f"没有编码为 {code} 的现行单元网格")
    names = _department_names(db, [found.responsible_department_id])
    return CellRead(code=found.code, street_code=found.street_code, street=found.street, community_code=found.community_code,
                    community=found.community, land_use=found.land_use,
                    responsible_department=names[found.responsible_department_id][1] if found.responsible_department_id in names else None,
                    area_m2=found.area_m2, version=found.version)


@router.get("/locate", response_model=Located, summary="定位：坐标所在网格及该分类的建议处置部门")
def locate(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)], lon: Lon, lat: Lat,
           kind: Annotated[str | None, Query(pattern="^(component|event)$")] = None,
           code: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
           crs: geo.Crs = geo.Crs.WGS84):
    w_lon, w_lat = (float(v) for v in geo.to_wgs84(crs, lon, lat))
    found = service.locate(db, w_lon, w_lat)
    proposed = None
    if kind and code:
        proposed = service.route_department(db, service.category(db, kind, code).handler, found)
    names = _department_names(db, [proposed])
    return Located(lon=w_lon, lat=w_lat, inside_grid=found is not None, cell=found.code if found else None,
                   street_code=found.street_code if found else None,
                   proposed_department=names[proposed][0] if proposed in names else None,
                   proposed_department_name=names[proposed][1] if proposed in names else None)


# ---- the components census ---------------------------------------------------------------------------


@router.post("/components/import", response_model=ComponentImportRead, status_code=201,
             summary="部件普查导入（GeoJSON 点要素；按部件编码新增或更新，整体校验）",
             openapi_extra=uploads(components.MAX_FILE_MB * 1024 * 1024))
def import_components(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
                      file: Annotated[UploadFile, File(description="GeoJSON 文件（Point 要素）")],
                      crs: Annotated[geo.Crs, Form(description="文件坐标系：wgs84、cgcs2000 或 gcj02")] = geo.Crs.WGS84):
    data = file.file.read(components.MAX_FILE_MB * 1024 * 1024 + 1)
    result = components.import_components(db, principal, data, crs=crs, extent=extent_of(request),
                                          district_code=settings_of(request).district_code, index=service.grid_index(db))
    db.commit()
    return ComponentImportRead(created=result.created, updated=result.updated, outside_grid=result.outside_grid)


@router.get("/components.geojson", response_model=FeatureCollection, summary="部件（GeoJSON，按范围查询）")
def components_geojson(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)], bbox: BBox = None):
    box = _bbox(bbox) or (-180.0, -90.0, 180.0, 90.0)
    found = components.in_box(db, box, MAX_FEATURES + 1)
    if len(found) > MAX_FEATURES:
        raise Problem("validation-error", f"范围内部件超过 {MAX_FEATURES} 个，请缩小范围",
                      errors=[{"field": "query.bbox", "message": "范围过大"}])
    return FeatureCollection(features=[{"type": "Feature", "id": c.code, "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                                        "properties": component_properties(c)} for c in found])


@router.get("/components/{code}", response_model=ComponentRead, summary="一个部件")
def read_component(code: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    found = components.component(db, code)
    if found is None:
        raise Problem("not-found", f"没有编码为 {code} 的部件")
    return ComponentRead(code=found.code, **component_properties(found))


def component_properties(c) -> dict:
    return {"category_code": c.category_code, "name": c.name, "cell_code": c.cell_code, "owner": c.owner,
            "maintainer": c.maintainer, "state": c.state, "state_label": COMPONENT_STATE_LABELS.get(c.state, c.state),
            "lon": c.lon, "lat": c.lat}


# ---- cases -------------------------------------------------------------------------------------------


def read_photos(request: Request, files: list[UploadFile] | None) -> list[bytes]:
    """The uploaded photos' bytes (each read to one byte past the limit, so an oversized one is
    seen and refused). Plain reads: the form is parsed before the route runs, and its files are
    spooled, so the routes that take photos are plain functions, run in the thread pool, where the
    database work of a step waits for its statements without holding up the server's loop."""
    files = [f for f in files or [] if f.filename or f.size]
    if len(files) > MAX_PHOTOS:
        raise Problem("validation-error", f"照片最多 {MAX_PHOTOS} 张", errors=[{"field": "body.photos", "message": "照片过多"}])
    limit = settings_of(request).attachment_max_mb * 1024 * 1024
    return [f.file.read(limit + 1) for f in files]


@router.post("/cases", response_model=CaseDetail, status_code=201, summary="信息收集：上报问题（分类、位置、描述、照片）",
             openapi_extra=uploads("attachment_max_mb", files=MAX_PHOTOS))
def report(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_REPORT)],
           kind: Annotated[str, Form(pattern="^(component|event)$", description="component 部件 | event 事件")],
           code: Annotated[str, Form(pattern=r"^\d{4}$", description="分类编码（大类 2 位 + 小类 2 位）")],
           lon: Annotated[float, Form(ge=-180, le=180)], lat: Annotated[float, Form(ge=-90, le=90)],
           description: Annotated[str, Form(min_length=2, max_length=2000)],
           address: Annotated[str | None, Form(max_length=200)] = None,
           crs: Annotated[geo.Crs, Form()] = geo.Crs.WGS84,
           component_code: Annotated[str | None, Form(pattern=r"^\d{16}$")] = None,
           photos: Annotated[list[UploadFile] | None, File(description="现场照片（JPEG、PNG、WebP）")] = None):
    data = read_photos(request, photos)
    case = service.report(db, principal, service.Report(kind=kind, code=code, lon=lon, lat=lat, description=description,
                                                        address=address, crs=crs, component_code=component_code),
                          source=service.Source.SUPERVISOR, extent=extent_of(request), photos=data,
                          settings=settings_of(request))
    return _step(db, principal, case)


@router.get("/cases", response_model=CasePage, summary="城管案件列表（按状态、分类、部门、街道、范围筛选）")
def list_cases(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)],
               status: Annotated[list[CaseStatus] | None, Query()] = None,
               street: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
               department: Annotated[str | None, Query(max_length=32)] = None,
               bbox: BBox = None, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, _filtered(db, principal, status, street, department, bbox), GridCase.id,
                                 cursor=cursor, limit=limit)
    names = _department_names(db, [x for c in rows for x in (c.department_id, c.proposed_department_id)])
    return CasePage(items=[case_read(c, names) for c in rows], next_cursor=next_cursor)


def _filtered(db, principal: Principal, status, street, department, bbox):
    query = select(GridCase).where(service.NOT_A_LETTER)
    if not principal.can_for_department(Permission.GRID_READ, None):
        query = query.where(GridCase.department_id == principal.department_id)
    if status:
        query = query.where(GridCase.status.in_([s.value for s in status]))
    if street:
        query = query.where(GridCase.street_code == street)
    if department:
        found = org.get_by_code(db, department)
        query = query.where(GridCase.department_id == (found.id if found else -1))
    box = _bbox(bbox)
    if box:
        query = query.where(GridCase.lon.between(box[0], box[2]), GridCase.lat.between(box[1], box[3]))
    return query


@router.get("/cases.geojson", response_model=FeatureCollection, summary="城管案件（GeoJSON，地图用；默认未结案件）")
def cases_geojson(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)], bbox: BBox = None,
                  status: Annotated[list[CaseStatus] | None, Query()] = None):
    statuses = status or [CaseStatus.REPORTED, CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.HANDLED]
    query = (_filtered(db, principal, statuses, None, None, bbox).where(GridCase.lon.is_not(None))  # a call may name no place
             .order_by(GridCase.id.desc()).limit(MAX_FEATURES))
    now = wall.now()
    features = []
    for case in db.scalars(query):
        late = case.expected_at is not None and case.status == CaseStatus.DISPATCHED and now > case.expected_at
        features.append({"type": "Feature", "id": case.number, "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
                         "properties": {"number": case.number, "status": case.status,
                                        "status_label": STATUS_LABELS[CaseStatus(case.status)],
                                        "category": case.category_name, "kind": case.category_kind,
                                        "urgent": case.urgent, "late": late,
                                        "expected": wall.beijing_text(case.expected_at)}})
    return FeatureCollection(features=features)


@router.get("/cases/{number}", response_model=CaseDetail, summary="一件城管案件：状态、流转记录、照片、各环节时限")
def read_case(number: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    case = service.readable(db, principal, number)
    detail = case_detail(db, principal, case)
    db.commit()  # the audited read of the reporter's contact
    return detail


@router.get("/cases/{number}/photos/{photo_id}", summary="案件照片", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def read_photo(number: str, photo_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)]):
    case = service.readable(db, principal, number)
    picture = service.photo(db, case, photo_id)
    original = privacy.original_read(db, principal, case, picture)  # the staff's original: the read is logged
    db.commit()
    return FileResponse(original, media_type=picture.media_type, headers={"Cache-Control": "private, max-age=3600"})


def _step(db, principal: Principal, case: GridCase) -> CaseDetail:
    """The case's answer, read in the step's own transaction (before its commit, so nothing is
    read twice), then the commit."""
    answer = case_detail(db, principal, case)
    db.commit()
    return answer


@router.post("/cases/{number}/register", response_model=CaseDetail, summary="案卷建立：立案")
def register(number: str, body: StepIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)]):
    service.not_a_ticket(db, number)
    return _step(db, principal, service.register(db, principal, number, version=body.version, note=body.note))


@router.post("/cases/{number}/reject", response_model=CaseDetail, summary="不予立案（说明理由）")
def reject(number: str, body: RejectIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)]):
    service.not_a_ticket(db, number)
    return _step(db, principal, service.reject(db, principal, number, reason=body.reason, version=body.version))


@router.post("/cases/{number}/merge", response_model=CaseDetail, summary="合并重复上报至已有案件")
def merge(number: str, body: MergeIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)]):
    service.not_a_ticket(db, number)
    return _step(db, principal, service.merge(db, principal, number, into=body.into, version=body.version))


@router.post("/cases/{number}/dispatch", response_model=CaseDetail, summary="任务派遣（默认派至系统建议的部门）")
def dispatch(number: str, body: DispatchIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_COMMAND)]):
    service.not_a_ticket(db, number)
    return _step(db, principal, service.dispatch(db, principal, number, department_code=body.department_code,
                                                 version=body.version, note=body.note))


@router.post("/cases/{number}/return", response_model=CaseDetail, summary="退回指挥中心（非本部门职责，说明理由）")
def return_case(number: str, body: ReturnIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_HANDLE)]):
    service.not_a_ticket(db, number)
    return _step(db, principal, service.return_case(db, principal, number, reason=body.reason, version=body.version))


@router.post("/cases/{number}/handle", response_model=CaseDetail, summary="任务处理并反馈处置结果（可附照片）",
             openapi_extra=uploads("attachment_max_mb", files=MAX_PHOTOS))
def handle(number: str, request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_HANDLE)],
           result: Annotated[str, Form(min_length=2, max_length=2000, description="处置结果")],
           version: Annotated[int | None, Form(ge=1, le=INTEGER_MAX)] = None,
           photos: Annotated[list[UploadFile] | None, File(description="处置后照片")] = None):
    service.not_a_ticket(db, number)
    data = read_photos(request, photos)
    case = service.handle(db, principal, number, result=result, photos=data, settings=settings_of(request), version=version)
    return _step(db, principal, case)


@router.post("/cases/{number}/verify", response_model=CaseDetail, summary="核查：已解决则结案，未解决则返工",
             openapi_extra=uploads("attachment_max_mb", files=MAX_PHOTOS))
def verify(number: str, request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_REPORT)],
           fixed: Annotated[bool, Form(description="现场核查问题是否已解决")],
           note: Annotated[str | None, Form(max_length=1000)] = None,
           version: Annotated[int | None, Form(ge=1, le=INTEGER_MAX)] = None,
           photos: Annotated[list[UploadFile] | None, File(description="核查照片")] = None):
    service.not_a_ticket(db, number)
    data = read_photos(request, photos)
    case = service.verify(db, principal, number, fixed=fixed, note=note, photos=data, settings=settings_of(request),
                          version=version)
    return _step(db, principal, case)


# ---- 综合评价 -------------------------------------------------------------------------------------------


def period(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    today = wall.today()
    start = start or today.replace(day=1)
    end = end or today
    if end < start or (end - start).days > 366:
        raise Problem("validation-error", "评价期间应为一年以内，且结束日期不早于开始日期",
                      errors=[{"field": "query.end", "message": "期间有误"}])
    return (start, end, datetime.combine(start, time.min, wall.BEIJING),
            datetime.combine(end + timedelta(days=1), time.min, wall.BEIJING))


@router.get("/evaluation", response_model=Evaluation, summary="综合评价：部门、街道、监督员（含计算公式）")
def evaluate(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_READ)],
             start: Annotated[date | None, Query(description="开始日期（默认本月 1 日）")] = None,
             end: Annotated[date | None, Query(description="结束日期（含，默认今天）")] = None):
    start, end, since, until = period(start, end)
    result = service.evaluation(db, since, until)
    audit.record(db, actor=principal, action="grid.evaluation.read", object_type="grid_evaluation",
                 object_id=f"{start}/{end}")
    db.commit()
    return Evaluation(start=start.isoformat(), end=end.isoformat(), formulas=service.FORMULAS,
                      **{part: [EvaluationRow(key=k, name=n, figures=f) for k, n, f in rows] for part, rows in result.items()})
