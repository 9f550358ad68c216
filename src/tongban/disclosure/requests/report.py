"""政府信息公开工作年度报告: the national format's tables (国办公开办函〔2021〕30号), for one organ or
the whole district and one year, built from the requests themselves; one report, three forms (the
page, XLSX and PDF) printed from the same rows, so they cannot disagree. Due by 31 January of the
following year (条例第四十九条).

Counting: a request is 新收 in the year it was received, 上年结转 if received earlier and not
concluded before the year, counted in 办理结果 in the year it was concluded (answered or given up),
and 结转下年度 if received by the year's end and not concluded within it; so
新收 + 上年结转 = 办理结果总计 + 结转下年度 in every column. A transferred request counts for the organ
it was transferred to. Review and litigation count in the year they were brought.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core import pdf
from tongban.core.pdf import FONT
from tongban.core.spreadsheets import neutralise, neutralise_row
from tongban.disclosure.requests.models import (
    CATEGORY_LABELS, ApplicantCategory, DisclosureRemedy, DisclosureRequest, NotProcessedReason, RemedyKind,
    RemedyResult, ReplyType, RequestStatus, WithholdingGround,
)
from tongban.disclosure.requests.schemas import AnnualReport, ReportRow, ReportTable
from tongban.disclosure.schemas import ProactiveFigures

CATEGORIES = list(ApplicantCategory)
REQUEST_COLUMNS = [CATEGORY_LABELS[c] for c in CATEGORIES] + ["总计"]
REMEDY_COLUMNS = [f"{group}·{result}" for group in ("行政复议", "未经复议直接起诉", "复议后起诉")
                  for result in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]

# (category, status, reply type, ground) of a concluded request → does it count in the row?
Outcome = tuple[str, str | None, str | None]
Test = Callable[[Outcome], bool]


def _reply(*types: ReplyType) -> Test:
    return lambda o: o[0] == RequestStatus.ANSWERED and o[1] in types


def _ground(kind: ReplyType, ground: str) -> Test:
    return lambda o: o[0] == RequestStatus.ANSWERED and o[1] == kind and o[2] == ground


def _never(_: Outcome) -> bool:
    return False


# The rows of 办理结果, as the national format lists them: (label, level, test); a level-0 row with
# sub-rows is their sum.
_WITHHELD = [("1.属于国家秘密", WithholdingGround.STATE_SECRET), ("2.其他法律行政法规禁止公开", WithholdingGround.LAW_FORBIDS),
             ("3.危及“三安全一稳定”", WithholdingGround.SECURITY_STABILITY),
             ("4.保护第三方合法权益", WithholdingGround.THIRD_PARTY),
             ("5.属于三类内部事务信息", WithholdingGround.INTERNAL_AFFAIRS),
             ("6.属于四类过程性信息", WithholdingGround.DELIBERATIVE), ("7.属于行政执法案卷", WithholdingGround.ENFORCEMENT_FILE)]
OUTCOME_ROWS: list[tuple[str, list[tuple[str, Test]]]] = [
    ("（一）予以公开", [("", _reply(ReplyType.DISCLOSED, ReplyType.ALREADY_PUBLIC))]),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", [("", _reply(ReplyType.PARTIAL))]),
    ("（三）不予公开", [(label, _ground(ReplyType.WITHHELD, ground)) for label, ground in _WITHHELD]
     + [("8.属于行政查询事项", _reply(ReplyType.SPECIAL_LAW))]),
    ("（四）无法提供", [("1.本机关不掌握相关政府信息", _reply(ReplyType.NOT_EXIST, ReplyType.NOT_OURS)),
                  ("2.没有现成信息需要另行制作", _reply(ReplyType.NEEDS_CREATION)),
                  ("3.补正后申请内容仍不明确", _reply(ReplyType.STILL_UNCLEAR))]),
    ("（五）不予处理", [("1.信访举报投诉类申请", _ground(ReplyType.NOT_PROCESSED, NotProcessedReason.PETITION)),
                  ("2.重复申请", _reply(ReplyType.REPEAT)),
                  ("3.要求提供公开出版物", _ground(ReplyType.NOT_PROCESSED, NotProcessedReason.PUBLICATION)),
                  ("4.无正当理由大量反复申请", _ground(ReplyType.NOT_PROCESSED, NotProcessedReason.EXCESSIVE)),
                  ("5.要求行政机关确认或重新出具已获取信息", _ground(ReplyType.NOT_PROCESSED, NotProcessedReason.CONFIRMATION))]),
    ("（六）其他处理", [("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                   lambda o: o[0] == RequestStatus.ABANDONED),
                  ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", _never),
                  ("3.其他", _never)]),
]


def _row(label: str, counts: Counter, level: int = 0) -> ReportRow:
    values = [counts[c] for c in CATEGORIES]
    return ReportRow(label=label, values=[*values, sum(values)], level=level)


def _requests_table(db: Session, year: int, department_id: int | None) -> ReportTable:
    start, end = date(year, 1, 1), date(year, 12, 31)
    query = select(DisclosureRequest.applicant_category, DisclosureRequest.status, DisclosureRequest.reply_type,
                   DisclosureRequest.reply_ground, DisclosureRequest.filed_on, DisclosureRequest.concluded_on).where(
        DisclosureRequest.filed_on <= end,
        or_(DisclosureRequest.concluded_on.is_(None), DisclosureRequest.concluded_on >= start))
    if department_id is not None:
        query = query.where(DisclosureRequest.department_id == department_id)
    new: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    forward: Counter[str] = Counter()
    concluded: list[tuple[str, Outcome]] = []
    for category, status, reply_type, ground, filed_on, concluded_on in db.execute(query):
        (new if filed_on >= start else carried)[category] += 1
        if concluded_on is not None and concluded_on <= end:
            concluded.append((category, (status, reply_type, ground)))
        else:
            forward[category] += 1
    rows = [_row("一、本年新收政府信息公开申请数量", new), _row("二、上年结转政府信息公开申请数量", carried),
            ReportRow(label="三、本年度办理结果", values=[], level=0)]
    total: Counter = Counter()
    for label, parts in OUTCOME_ROWS:
        part_counts = [(part, Counter(category for category, outcome in concluded if test(outcome))) for part, test in parts]
        heading: Counter = sum((counts for _, counts in part_counts), Counter())
        total += heading
        rows.append(_row(label, heading, 1))
        rows += [_row(part, counts, 2) for part, counts in part_counts if part]
    rows += [_row("（七）总计", total, 1), _row("四、结转下年度继续办理", forward)]
    return ReportTable(title="收到和处理政府信息公开申请情况", columns=REQUEST_COLUMNS, rows=rows)


def _remedies_table(db: Session, year: int, department_id: int | None) -> ReportTable:
    query = select(DisclosureRemedy.kind, DisclosureRemedy.result).join(
        DisclosureRequest, DisclosureRequest.id == DisclosureRemedy.request_id).where(
        DisclosureRemedy.filed_on >= date(year, 1, 1), DisclosureRemedy.filed_on <= date(year, 12, 31))
    if department_id is not None:
        query = query.where(DisclosureRequest.department_id == department_id)
    counts = Counter((kind, result) for kind, result in db.execute(query))
    values: list[int] = []
    for kind in (RemedyKind.REVIEW, RemedyKind.LAWSUIT, RemedyKind.LAWSUIT_AFTER_REVIEW):
        group = [counts[kind, result] for result in (RemedyResult.UPHELD, RemedyResult.CORRECTED, RemedyResult.OTHER,
                                                      RemedyResult.PENDING)]
        values += [*group, sum(group)]
    return ReportTable(title="政府信息公开行政复议、行政诉讼情况", columns=REMEDY_COLUMNS,
                       rows=[ReportRow(label="件数", values=values)])


def _proactive_table(figures: ProactiveFigures | None) -> ReportTable:
    rows = [ReportRow(label="本年主动公开政府信息", values=[figures.published_total if figures else 0]),
            ReportRow(label="其中现行有效", values=[figures.in_force_total if figures else 0], level=1)]
    if figures is not None:
        rows += [ReportRow(label=genre, values=[count], level=1) for genre, count in sorted(figures.by_genre.items())]
    return ReportTable(title="主动公开政府信息情况", columns=["信息数（条）"], rows=rows)


def build(db: Session, *, year: int, department=None, proactive: ProactiveFigures | None = None) -> AnnualReport:
    """The report of ``department`` (an org department, or None for the whole district) for ``year``;
    ``proactive``: the catalog's figures of the same scope and year."""
    department_id = department.id if department is not None else None
    return AnnualReport(
        year=year, scope=department.code if department is not None else "district",
        scope_name=department.name if department is not None else "全区（各行政机关合计）",
        due_on=date(year + 1, 1, 31), generated_at=wall.now(),
        tables=[_proactive_table(proactive), _requests_table(db, year, department_id), _remedies_table(db, year, department_id)])


def title(report: AnnualReport) -> str:
    return f"{report.scope_name}{report.year}年政府信息公开工作年度报告"


def _due_text(report: AnnualReport) -> str:
    return (f"依照《中华人民共和国政府信息公开条例》第四十九条，本报告应于 {report.due_on.year}年1月31日前向社会公布。"
            f"生成时间：{wall.beijing_text(report.generated_at)}（北京时间）")


def xlsx(report: AnnualReport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "年度报告"
    sheet.append([neutralise(title(report))])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([neutralise(_due_text(report))])
    for table in report.tables:
        sheet.append([])
        sheet.append([table.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.append(neutralise_row(["项目", *table.columns]))
        for row in table.rows:
            sheet.append(neutralise_row(["　" * row.level + row.label, *row.values]))
    sheet.column_dimensions["A"].width = 60
    for index in range(2, 2 + max(len(t.columns) for t in report.tables)):
        sheet.column_dimensions[get_column_letter(index)].width = 12
    for cells in sheet.iter_rows(min_col=1, max_col=1):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_BASE = ParagraphStyle("gk-report", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
_TITLE = ParagraphStyle("gk-report-title", parent=_BASE, fontSize=16, leading=24, alignment=TA_CENTER)
_HEAD = ParagraphStyle("gk-report-head", parent=_BASE, fontSize=11, leading=17, spaceBefore=8, spaceAfter=4)
_CELL = ParagraphStyle("gk-report-cell", parent=_BASE, fontSize=8, leading=11)


def pdf_bytes(report: AnnualReport) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=14 * mm, title=title(report), author=report.scope_name)
    story: list[Flowable] = [Paragraph(title(report), _TITLE), pdf.paragraph(_due_text(report), _BASE), Spacer(1, 4)]
    usable = landscape(A4)[0] - 24 * mm
    for number, table in enumerate(report.tables, 1):
        story.append(pdf.paragraph(f"{'一二三四'[number - 1]}、{table.title}", _HEAD))
        label_width = 70 * mm if len(table.columns) > 8 else 110 * mm
        other = (usable - label_width) / len(table.columns)
        rows = [["项目", *table.columns]] + [["　" * row.level + row.label,
                                             *([str(v) for v in row.values] or [""] * len(table.columns))]
                                            for row in table.rows]
        story.append(pdf.table(rows, [label_width, *[other] * len(table.columns)], cell=_CELL, header="#f3f0ea"))
    pdf.build(document, story, lambda page: f"{title(report)}　第 {page} 页")
    return buffer.getvalue()
