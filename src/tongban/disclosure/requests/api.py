"""/api/v1/disclosure: requests for disclosure, their letters, the fee preview and the annual report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from tongban.core import clock as wall
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id, normalise_code
from tongban.core.permissions import Permission
from tongban.disclosure import service as catalog
from tongban.disclosure.requests import letters, report as reports, service
from tongban.disclosure.requests.models import DisclosureEvent, DisclosureRequest
from tongban.disclosure.requests.schemas import (
    AnnualReport, ConsultationAnswerIn, ConsultationIn, CorrectionIn, CorrectionNoticeIn, ExtensionIn, FeePreview,
    FeeWaiverIn, QueueItem, RemedyIn, ReplyIn, RequestDetail, RequestIn, RequestRead, TransferIn, request_detail,
    request_read,
)
from tongban.org import service as org

router = APIRouter(prefix="/api/v1/disclosure", tags=["依申请公开 disclosure requests"])
Number = Annotated[str, Query(max_length=32)]
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def detail(db, request: DisclosureRequest) -> RequestDetail:
    return request_detail(request, service.deadline(db, request), service.events(db, request), service.remedies(db, request))


def filing(body: RequestIn) -> service.Filing:
    return service.Filing(**body.model_dump())


@router.get("/fee-preview", response_model=FeePreview, summary="本月下一件申请的信息处理费（提交前告知）")
def fee_preview(db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY, Permission.DISCLOSURE_HANDLE)],
                applicant_id: Annotated[str | None, Query(max_length=40, description="工作人员登记时：申请人证件号")] = None):
    if applicant_id and principal.can(Permission.DISCLOSURE_HANDLE):
        key = normalise_code(applicant_id)
    else:
        key = service.own_key(db, principal)[0]
    fee = service.fee_preview(db, key)
    return FeePreview(ordinal=fee.ordinal, yuan=fee.yuan, text=fee.text)


@router.post("/requests", response_model=RequestDetail, status_code=201,
             summary="提出政府信息公开申请（申请人本人在线；或政府信息公开工作人员登记信函、当面申请）")
def file_request(body: RequestIn, db: DbSession,
                 principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY, Permission.DISCLOSURE_HANDLE)]):
    request = service.file(db, principal, filing(body))
    db.commit()
    return detail(db, request)


@router.get("/requests", response_model=list[RequestRead], summary="我的申请（申请人）")
def my_requests(db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY)]):
    rows = service.mine(db, principal)
    found = service.deadlines(db, rows)
    return [request_read(r, found.get(r.number)) for r in rows]


@router.get("/queue", response_model=list[QueueItem], summary="本机关待办申请，按剩余工作日排序")
def queue(db: DbSession, principal: Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)]):
    items = []
    for request, deadline in service.queue(db, principal):
        items.append(QueueItem(number=request.number, applicant_name=request.applicant_name,
                               description=request.description[:200], status=request.status,
                               status_label=request_read(request, deadline).status_label, filed_on=request.filed_on,
                               due_on=deadline.due_on if deadline else None,
                               remaining_days=deadline.remaining_days if deadline else None,
                               paused=bool(deadline and deadline.paused)))
    return items


@router.get("/requests/{number}", response_model=RequestDetail, summary="一件申请：状态、期限、告知书")
def read_request(number: str, db: DbSession,
                 principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY, Permission.DISCLOSURE_HANDLE,
                                                         Permission.DISCLOSURE_REPORT)]):
    request = service.readable(db, principal, number)
    db.commit()  # the audited read
    return detail(db, request)


def letter_response(db, principal: Principal, number: str, letter_id: int) -> Response:
    request = service.readable(db, principal, number, action="disclosure.request.letter")
    event = db.get(DisclosureEvent, letter_id)
    if event is None or event.request_id != request.id:
        raise Problem("not-found", f"申请 {number} 没有编号为 {letter_id} 的告知书")
    organ = next((d.name for d in org.list_all(db) if d.id == event.department_id), request.department.name)
    body = letters.letter_pdf(request, event, organ)
    db.commit()
    return Response(body, media_type=PDF, headers={
        "Content-Disposition": f'attachment; filename="{request.number}-{event.id}.pdf"'})


@router.get("/requests/{number}/letters/{letter_id}", response_class=Response, summary="下载告知书（PDF）",
            responses={200: {"content": {PDF: {}}}})
def download_letter(number: str, letter_id: Id, db: DbSession,
                    principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY, Permission.DISCLOSURE_HANDLE,
                                                            Permission.DISCLOSURE_REPORT)]):
    return letter_response(db, principal, number, letter_id)


Office = Annotated[Principal, require(Permission.DISCLOSURE_HANDLE)]


def _done(db, request: DisclosureRequest) -> RequestDetail:
    db.commit()
    return detail(db, request)


@router.post("/requests/{number}/correction-notice", response_model=RequestDetail, summary="一次性告知补正（条例第三十条）")
def correction_notice(number: str, body: CorrectionNoticeIn, db: DbSession, principal: Office):
    return _done(db, service.ask_correction(db, principal, number, items=body.items, days=body.days))


@router.post("/requests/{number}/correction", response_model=RequestDetail, summary="提交补正（申请人本人，或工作人员登记）")
def correction(number: str, body: CorrectionIn, db: DbSession,
               principal: Annotated[Principal, require(Permission.DISCLOSURE_APPLY, Permission.DISCLOSURE_HANDLE)]):
    return _done(db, service.correct(db, principal, number, text=body.text))


@router.post("/requests/{number}/abandonment", response_model=RequestDetail, summary="逾期未补正，视为放弃申请")
def abandonment(number: str, db: DbSession, principal: Office):
    return _done(db, service.abandon_by_office(db, principal, number))


@router.post("/requests/{number}/extension", response_model=RequestDetail,
             summary="延长答复期限（政府信息公开工作机构负责人，一次，最长 20 个工作日）")
def extension(number: str, body: ExtensionIn, db: DbSession,
              principal: Annotated[Principal, require(Permission.DISCLOSURE_EXTEND)]):
    return _done(db, service.extend(db, principal, number, days=body.days, reason=body.reason))


@router.post("/requests/{number}/consultation", response_model=RequestDetail, summary="书面征求第三方意见（暂停计时）")
def consultation(number: str, body: ConsultationIn, db: DbSession, principal: Office):
    return _done(db, service.consult(db, principal, number, third_party=body.third_party, matter=body.matter))


@router.post("/requests/{number}/consultation/answer", response_model=RequestDetail, summary="记录第三方意见（恢复计时）")
def consultation_answer(number: str, body: ConsultationAnswerIn, db: DbSession, principal: Office):
    return _done(db, service.consultation_answered(db, principal, number, opinion=body.opinion, note=body.note))


@router.post("/requests/{number}/transfer", response_model=RequestDetail, summary="转送负责公开的行政机关")
def transfer(number: str, body: TransferIn, db: DbSession, principal: Office):
    return _done(db, service.transfer(db, principal, number, department=body.department, note=body.note))


@router.post("/requests/{number}/reply", response_model=RequestDetail, summary="作出答复（条例第三十六条至第三十九条）")
def reply(number: str, body: ReplyIn, db: DbSession, principal: Office):
    return _done(db, service.answer(db, principal, number, service.Reply(**body.model_dump())))


@router.post("/requests/{number}/fee-waiver", response_model=RequestDetail, summary="减免信息处理费（说明理由）")
def fee_waiver(number: str, body: FeeWaiverIn, db: DbSession, principal: Office):
    return _done(db, service.waive_fee(db, principal, number, reason=body.reason))


@router.post("/requests/{number}/remedies", response_model=RequestDetail, summary="记录行政复议、行政诉讼及其结果")
def remedy(number: str, body: RemedyIn, db: DbSession, principal: Office):
    service.record_remedy(db, principal, number, kind=body.kind, result=body.result, filed_on=body.filed_on)
    db.commit()
    return detail(db, service.by_number(db, number))


# ---- the annual report ---------------------------------------------------------------------------


def report_for(db, principal: Principal | None, year: int, department: str | None) -> AnnualReport:
    """A year's report, public once the year has ended; a year still running only for the office
    (its own department) and the district's overseers."""
    found = org.get_by_code_or_404(db, department) if department else None
    current = wall.today().year
    if year > current:
        raise Problem("validation-error", f"{year} 年尚未开始，没有年度报告")
    if year == current and (principal is None or not principal.can_for_department(
            Permission.DISCLOSURE_REPORT, found.id if found is not None else -1)):
        raise Problem("permission-denied", f"{year} 年尚未结束；年度报告在次年 1 月 31 日前公布，此前仅本机关政府信息公开工作人员可预览")
    # 主动公开情况 from the catalog, of the same scope and year as the requests' tables.
    proactive = catalog.proactive_figures(db, year=year, department_id=found.id if found is not None else None)
    return reports.build(db, year=year, department=found, proactive=proactive)


Department = Annotated[str | None, Query(max_length=32, description="部门代码；不填为全区")]
Year = Annotated[int, Path(ge=2008, le=2100, description="年度")]


@router.get("/reports/{year}", response_model=AnnualReport, summary="政府信息公开工作年度报告（依申请公开部分；主动公开数由目录提供）")
def annual_report(year: Year, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                  department: Department = None):
    return report_for(db, principal, year, department)


@router.get("/reports/{year}/xlsx", response_class=Response, summary="年度报告（XLSX）", responses={200: {"content": {XLSX: {}}}})
def annual_report_xlsx(year: Year, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                       department: Department = None):
    found = report_for(db, principal, year, department)
    return Response(reports.xlsx(found), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="disclosure-report-{year}-{found.scope}.xlsx"'})


@router.get("/reports/{year}/pdf", response_class=Response, summary="年度报告（PDF）", responses={200: {"content": {PDF: {}}}})
def annual_report_pdf(year: Year, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                      department: Department = None):
    found = report_for(db, principal, year, department)
    return Response(reports.pdf_bytes(found), media_type=PDF,
                    headers={"Content-Disposition": f'attachment; filename="disclosure-report-{year}-{found.scope}.pdf"'})
