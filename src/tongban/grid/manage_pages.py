"""网格管理: the pages where the city keeps its grid data — the unit grid and the components census
(GeoJSON uploads), the categories' 立案条件/处置时限/结案条件, and who handles each kind of problem."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.grid import components, geo, service
from tongban.grid.models import KIND_LABELS, UNIT_LABELS, GridRoute, GridVersion
from tongban.grid.schemas import CategoryUpdate
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
# The handlers of the national categories, as the city names them (routes: handler → department).
HANDLER_LABELS = {"water": "供排水", "power": "电力", "telecom": "通信", "gas": "燃气", "heat": "供热",
                  "transport": "道路交通设施", "traffic_police": "交通秩序", "greening": "园林绿化",
                  "sanitation": "环境卫生", "enforcement": "城管执法", "housing": "房屋管理", "ecology": "生态环境",
                  "fire": "消防", "street": "属地街道"}


def _page(request: Request, db, principal: Principal, *, error: str | None = None, status_code: int = 200,
          anchor: str | None = None):
    versions = list(db.scalars(select(GridVersion).order_by(GridVersion.version.desc()).limit(10)))
    routes = {route.handler: route for route in db.scalars(select(GridRoute).where(GridRoute.street_code == ""))}
    departments = org.list_all(db)
    by_major: dict[tuple[str, str], list] = {}
    for category in service.categories(db, active_only=False):
        by_major.setdefault((category.kind, category.major), []).append(category)
    return render(request, "grid_manage.html", status_code=status_code, principal=principal, versions=versions,
                  communities={v.version: len(json.loads(v.communities)) for v in versions},
                  crs_labels=geo.CRS_LABELS, by_major=by_major, kind_labels=KIND_LABELS, unit_labels=UNIT_LABELS,
                  handler_labels=HANDLER_LABELS, routes=routes, departments=departments,
                  department_names={d.id: d.name for d in departments}, error=error, anchor=anchor)


@router.get("/grid/manage", summary="网格管理")
def manage_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    return _page(request, db, principal)


def _crs(text: str) -> geo.Crs:
    if text not in geo.Crs._value2member_map_:
        raise geo.invalid("validation-error", "请选择文件的坐标系", field="body.crs")
    return geo.Crs(text)


def _refused(request: Request, db, principal: Principal, problem: Problem, anchor: str):
    if problem.status >= 500:
        raise problem
    db.rollback()
    return _page(request, db, principal, error=problem.detail, status_code=problem.status, anchor=anchor)


@router.post("/grid/manage/cells", summary="导入单元网格", openapi_extra=uploads(service.MAX_GRID_FILE_MB * 1024 * 1024))
def upload_cells(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
                 file: Annotated[UploadFile, File()], crs: Annotated[str, Form(max_length=16)] = "wgs84",
                 csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    data = file.file.read(service.MAX_GRID_FILE_MB * 1024 * 1024 + 1)
    try:
        chosen = _crs(crs)
        result = service.import_grid(db, principal, data, crs=chosen, source=file.filename or "upload.geojson",
                                     extent=geo.Extent.parse(settings.grid_extent), district_code=settings.district_code)
        db.commit()
    except Problem as problem:
        return _refused(request, db, principal, problem, "cells")
    flash(request, f"已导入第 {result.version} 版单元网格：{result.cells} 个网格，涉及 {len(result.communities)} 个社区，"
                   f"替换旧网格 {result.replaced} 个")
    return RedirectResponse("/grid/manage#cells", status_code=303)


@router.post("/grid/manage/components", summary="导入部件普查成果", openapi_extra=uploads(components.MAX_FILE_MB * 1024 * 1024))
def upload_components(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
                      file: Annotated[UploadFile, File()], crs: Annotated[str, Form(max_length=16)] = "wgs84",
                      csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    data = file.file.read(components.MAX_FILE_MB * 1024 * 1024 + 1)
    try:
        chosen = _crs(crs)
        result = components.import_components(db, principal, data, crs=chosen, extent=geo.Extent.parse(settings.grid_extent),
                                              district_code=settings.district_code, index=service.grid_index(db))
        db.commit()
    except Problem as problem:
        return _refused(request, db, principal, problem, "components")
    flash(request, f"部件普查成果已导入：新增 {result.created} 个，更新 {result.updated} 个"
                   + (f"，{result.outside_grid} 个不在网格内" if result.outside_grid else ""))
    return RedirectResponse("/grid/manage#components", status_code=303)


@router.post("/grid/manage/categories/{kind}/{code}", summary="修改分类")
def edit_category(request: Request, kind: str, code: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
                  register_condition: Annotated[str, Form(max_length=300)] = "",
                  close_condition: Annotated[str, Form(max_length=300)] = "",
                  limit_value: Annotated[str, Form(max_length=4)] = "",
                  limit_unit: Annotated[str, Form(max_length=16)] = "",
                  handler: Annotated[str, Form(max_length=24)] = "",
                  active: Annotated[str, Form(max_length=4)] = "",
                  csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    anchor = f"category-{kind}-{code}"
    try:
        try:
            changes = CategoryUpdate(register_condition=register_condition.strip(), close_condition=close_condition.strip(),
                                     limit_value=int(limit_value) if limit_value.strip().isdigit() else None,
                                     limit_unit=limit_unit or None, handler=handler or None,
                                     active=active == "on")
        except ValidationError as invalid:
            raise Problem("validation-error", "分类填写有误：立案条件和结案条件至少 2 个字，处置时限为 1–720 的整数") from invalid
        if handler and handler not in HANDLER_LABELS:
            raise Problem("validation-error", "处置主体不在可选范围内")
        if not limit_value.strip().isdigit():
            raise Problem("validation-error", "处置时限应为正整数")
        found = service.update_category(db, principal, kind, code, changes.model_dump(exclude_unset=True))
        db.commit()
    except Problem as problem:
        return _refused(request, db, principal, problem, anchor)
    flash(request, f"已保存分类「{found.name}」")
    return RedirectResponse(f"/grid/manage#{anchor}", status_code=303)


@router.post("/grid/manage/routes/{handler}", summary="设置处置部门")
def edit_route(request: Request, handler: str, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)],
               department: Annotated[str, Form(max_length=32)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    try:
        if handler not in HANDLER_LABELS or handler == "street":
            raise Problem("validation-error", "属地街道由网格所在街道兜底，无需设置")
        service.set_route(db, principal, handler=handler, street_code="", department_code=department)
        db.commit()
    except Problem as problem:
        return _refused(request, db, principal, problem, "routes")
    flash(request, f"「{HANDLER_LABELS[handler]}」类问题今后派遣至所选部门")
    return RedirectResponse("/grid/manage#routes", status_code=303)
