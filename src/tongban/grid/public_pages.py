"""The portal's pages of 公众举报 (随手拍): a signed-in resident or enterprise reports a problem
with the supervisor's form (``pages.file_report``, ``Source.PUBLIC``) and follows its own reports
in 「我的上报」 (the public trail of ``public_api``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.grid import api, public_api, service
from tongban.grid.models import GridCase, Source
from tongban.grid.pages import (
    AddressField, CategoryField, CoordinateField, DescriptionField, Photos, file_report, report_form_page,
)

router = APIRouter(include_in_schema=False)
Reporter = Annotated[Principal, require(Permission.GRID_PUBLIC_REPORT)]
MAX_ROWS = 200


@router.get("/grid/public-reports/new", summary="随手拍：举报城市管理问题")
def report_page(request: Request, db: DbSession, principal: Reporter):
    return report_form_page(request, db, principal, public=True)


@router.post("/grid/public-reports/new", summary="随手拍：提交举报",
             openapi_extra=uploads("attachment_max_mb", files=api.MAX_PHOTOS))
def report(request: Request, db: DbSession, principal: Reporter, category: CategoryField = "",
           lon: CoordinateField = "", lat: CoordinateField = "", description: DescriptionField = "",
           address: AddressField = "", photos: Photos = None, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    form = {"category": category, "lon": lon, "lat": lat, "description": description, "address": address}
    try:
        case = file_report(request, db, principal, form, photos, source=Source.PUBLIC)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return report_form_page(request, db, principal, public=True, form=form, error=problem.detail,
                                status_code=problem.status)
    flash(request, f"已提交，编号 {case.number}，办理进度可在「我的上报」查看")
    return RedirectResponse(f"/grid/public-reports/{case.number}", status_code=303)


@router.get("/grid/public-reports", summary="我的上报")
def my_reports(request: Request, db: DbSession, principal: Reporter):
    rows = list(db.scalars(service.own_reports(principal).order_by(GridCase.id.desc()).limit(MAX_ROWS + 1)))
    names = api._department_names(db, [c.department_id for c in rows])
    return render(request, "grid_public_reports.html", principal=principal,
                  items=[public_api.my_report_read(c, names) for c in rows[:MAX_ROWS]], more=len(rows) > MAX_ROWS,
                  max_rows=MAX_ROWS)


@router.get("/grid/public-reports/{number}", summary="我的上报：办理进度和答复")
def my_report(request: Request, number: str, db: DbSession, principal: Reporter):
    case = service.own_report(db, principal, number)
    return render(request, "grid_public_report_detail.html", principal=principal,
                  report=public_api.my_report_detail(db, principal, case))

