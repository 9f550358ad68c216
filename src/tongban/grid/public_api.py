"""/api/v1/me/grid-reports: 公众举报 (随手拍) — a signed-in resident or enterprise reports a
city-management problem and follows its own reports.

A report is the case engine's like any other (``service.report`` with ``Source.PUBLIC``, the
reporter the account); what the reporter reads of it is the public trail: each step with the body
that took it, no staff names, no internal notes, the reply (the handling's result, or the reason
for not registering) once it is closed, and only the photos the reporter took. Another person's
report is 404, as a number never given.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.pagination import Cursor, Limit, paginate
from tongban.core.permissions import Permission
from tongban.grid import api, geo, privacy, resident_notice, service
from tongban.grid.models import KIND_LABELS, STATUS_LABELS, Action, CaseStatus, GridCase, Source
from tongban.grid.schemas import MyReportDetail, MyReportPage, MyReportRead, PhotoRead, PublicStep

router = APIRouter(prefix="/api/v1/me/grid-reports", tags=["城市网格化管理 grid"])
Reporter = Annotated[Principal, require(Permission.GRID_PUBLIC_REPORT)]

# The steps as the reporter reads them; a duplicate merged into the case is another person's.
STEP_LABELS = {Action.REPORT: "提交上报", Action.REGISTER: "立案受理", Action.REJECT: "不予立案",
               Action.MERGE: "与此前上报的同一问题合并办理", Action.DISPATCH: "派遣至处置部门",
               Action.RETURN: "退回重新派遣", Action.HANDLE: "处置完毕，待核查", Action.VERIFY: "核查通过，已结案",
               Action.REWORK: "核查未通过，返工处置"}


def photo_url(case: GridCase, photo_id: int) -> str:
    return f"/api/v1/me/grid-reports/{case.number}/photos/{photo_id}"


def my_report_read(case: GridCase, names: dict[int, tuple[str, str]]) -> MyReportRead:
    department = names.get(case.department_id) if case.department_id else None
    return MyReportRead(
        number=case.number, status=case.status, status_label=STATUS_LABELS[CaseStatus(case.status)],
        category_kind=case.category_kind, kind_label=KIND_LABELS.get(case.category_kind, case.category_kind),  # type: ignore[call-overload]
        category_code=case.category_code, category_name=case.category_name, lon=case.lon, lat=case.lat,
        address=case.address, description=case.description, department_name=department[1] if department else None,
        created_at=case.created_at, created_text=wall.beijing_text(case.created_at), closed_at=case.closed_at,
        closed_text=wall.beijing_text(case.closed_at))


def my_report_detail(db: Session, principal: Principal, case: GridCase) -> MyReportDetail:
    """The public trail of one's own report."""
    events = [e for e in service.trail(db, case) if e.action in STEP_LABELS]
    names = api._department_names(db, [case.department_id, *(e.department_id for e in events)])
    steps = [PublicStep(action=e.action, label=STEP_LABELS[Action(e.action)], status=e.status,
                        status_label=STATUS_LABELS[CaseStatus(e.status)],
                        department=names[e.department_id][1] if e.department_id in names else None,
                        reply=e.note if e.action == Action.REJECT else None, at=e.at, at_text=wall.beijing_text(e.at))
             for e in events]
    reply = None
    if case.status == CaseStatus.CLOSED:
        reply = case.result
    elif case.status == CaseStatus.REJECTED:
        reply = next((step.reply for step in reversed(steps) if step.action == Action.REJECT), None)
    elif case.status == CaseStatus.MERGED:
        reply = resident_notice.merged_reply(db, case)
    photos = [PhotoRead(id=p.id, stage=p.stage, media_type=p.media_type, width=p.width, height=p.height,
                        url=photo_url(case, p.id))
              for p in service.photos(db, case) if p.stage == "report" and p.uploaded_by == principal.actor_id]
    return MyReportDetail(**my_report_read(case, names).model_dump(), steps=steps, reply=reply, photos=photos)


@router.post("", response_model=MyReportDetail, status_code=201, summary="随手拍：举报城市管理问题（分类、位置、描述、照片）",
             openapi_extra=uploads("attachment_max_mb", files=api.MAX_PHOTOS))
def report(request: Request, db: DbSession, principal: Reporter,
           kind: Annotated[str, Form(pattern="^(component|event)$", description="component 部件 | event 事件")],
           code: Annotated[str, Form(pattern=r"^\d{4}$", description="分类编码（大类 2 位 + 小类 2 位）")],
           lon: Annotated[float, Form(ge=-180, le=180)], lat: Annotated[float, Form(ge=-90, le=90)],
           description: Annotated[str, Form(min_length=2, max_length=2000)],
           address: Annotated[str | None, Form(max_length=200)] = None,
           crs: Annotated[geo.Crs, Form()] = geo.Crs.WGS84,
           photos: Annotated[list[UploadFile] | None, File(description="现场照片（JPEG、PNG、WebP）")] = None):
    data = api.read_photos(request, photos)
    case = service.report(db, principal, service.Report(kind=kind, code=code, lon=lon, lat=lat, description=description,
                                                        address=address, crs=crs),
                          source=Source.PUBLIC, extent=api.extent_of(request), photos=data,
                          settings=api.settings_of(request))
    answer = my_report_detail(db, principal, case)
    db.commit()
    return answer


@router.get("", response_model=MyReportPage, summary="我的上报（最新在前）")
def my_reports(db: DbSession, principal: Reporter, cursor: Cursor = None, limit: Limit = 50):
    rows, next_cursor = paginate(db, service.own_reports(principal), GridCase.id, cursor=cursor, limit=limit)
    names = api._department_names(db, [c.department_id for c in rows])
    return MyReportPage(items=[my_report_read(c, names) for c in rows], next_cursor=next_cursor)


@router.get("/{number}", response_model=MyReportDetail, summary="我的一件上报：办理进度和答复（他人的上报：404）")
def my_report(number: str, db: DbSession, principal: Reporter):
    return my_report_detail(db, principal, service.own_report(db, principal, number))


@router.get("/{number}/photos/{photo_id}", summary="我上报时拍摄的照片", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def my_photo(number: str, photo_id: Id, db: DbSession, principal: Reporter):
    picture = service.photo(db, service.own_report(db, principal, number), photo_id)
    if picture.stage != "report" or picture.uploaded_by != principal.actor_id:  # the department's: not shown
        raise Problem("not-found", "没有这张照片")
    # The reporter too is served the public copy (faces and plates blurred): it is shown outside the staff.
    return FileResponse(privacy.public_copy(picture), media_type=picture.media_type, headers={"Cache-Control": "private, max-age=3600"})
