"""The dashboard's figures as an Excel workbook and as a printable PDF (A4 landscape).

Both carry exactly what the dashboard shows for the same period and department: the figures of
``evaluation``. The PDF's Chinese uses the CID font STSong-Light, as the items' notices do
(every reader has it; the text stays searchable).
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from tongban.core.spreadsheets import neutralise_row
from tongban.core.clock import beijing_text
from tongban.core import pdf as printing
from tongban.core.pdf import FONT
from tongban.supervision.dashboard import Dashboard, kind_label
from tongban.supervision.evaluation import FIGURE_NAMES, SCORES, rate_percent

# (header, figure key, kind): count, rate (a share, shown as %) or days (an average); headers are the figures' names.
COLUMNS = [(FIGURE_NAMES[key], key, kind) for key, kind in [
    ("started", "count"), ("closed", "count"), ("on_time", "count"), ("closed_late", "count"), ("open_at_end", "count"),
    ("open_overdue", "count"), ("on_time_rate", "rate"), ("avg_used_days", "days"), ("avg_limit_days", "days"),
    ("applications_closed", "count"), ("supplement_rate", "rate"), ("refusal_rate", "rate"), ("sharing_closed", "count"),
    ("sharing_timeliness", "rate"), ("ratings", "count"), ("satisfaction", "days"), ("poor_ratings", "count"),
    ("poor_share", "rate"), ("yellow_warnings", "count"), ("red_warnings", "count"),
]]
KIND_COLUMNS = [("新收", "started", "count"), ("办结", "closed", "count"), ("按时办结", "on_time", "count"),
                ("超期办结", "closed_late", "count"), ("期末超期", "open_overdue", "count"),
                ("按时办结率", "on_time_rate", "rate"), ("平均用时", "avg_used_days", "days"),
                ("平均承诺时限", "avg_limit_days", "days")]
MEDIA_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="0B3A75")
_WRAP = Alignment(wrap_text=True, vertical="center")


def filename(board: Dashboard, extension: str) -> str:
    scope = f"-{board.department.code}" if board.department else ""
    return f"supervision-{board.period_start}-{board.period_end}{scope}.{extension}"


def _cell(value: Any, kind: str) -> Any:
    """Numbers stay numbers in the workbook (a share as a fraction, formatted as %)."""
    if value is None:
        return None
    return float(Decimal(value)) if kind in ("rate", "days") else value


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[Any]], kinds: list[str]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(neutralise_row(headers))
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(len(header) * 2 + 2, 24))
    sheet.row_dimensions[1].height = 36
    for row in rows:
        sheet.append(neutralise_row(row))  # names are typed by people: never a formula
    for index, kind in enumerate(kinds, start=1):
        number_format = {"rate": "0.0%", "days": "0.00"}.get(kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "C2" if headers[:2] == ["部门代码", "部门"] else "A2"


def workbook(board: Dashboard, *, generated_by: str, generated_at: datetime) -> bytes:
    book = Workbook()
    book.remove(book.active)
    leading = ["部门代码", "部门"]
    rows = [[r.department.code, r.department.name, *(_cell(r.figures[key], kind) for _, key, kind in COLUMNS)]
            for r in board.rows]
    rows.append(["", "合计", *(_cell(board.totals[key], kind) for _, key, kind in COLUMNS)])
    _sheet(book, "部门汇总", leading + [h for h, _, _ in COLUMNS], rows, ["text", "text", *(k for _, _, k in COLUMNS)])
    if board.everything:  # the breakdown by kind is internal: inspectors and the e-government office
        kind_rows = [[r.department.code, r.department.name, kind_label(kind), *(_cell(work[key], k) for _, key, k in KIND_COLUMNS)]
                     for r in board.rows for kind, work in r.figures["by_kind"].items()]
        _sheet(book, "按工作类型", leading + ["工作类型"] + [h for h, _, _ in KIND_COLUMNS], kind_rows,
               ["text", "text", "text", *(k for _, _, k in KIND_COLUMNS)])
    _sheet(book, "每日预警", ["日期", "黄色预警", "红色预警"],
           [[d.day.isoformat(), d.yellow, d.red] for d in board.per_day], ["text", "count", "count"])
    scores = board.totals["ratings_by_score"]
    _sheet(book, "评价分布", ["评分", "条数"], [[f"{s} 分", scores[s]] for s in SCORES], ["text", "count"])
    about = book.create_sheet("说明")
    for line in _about(board, generated_by, generated_at):
        about.append(neutralise_row([line]))
    about.column_dimensions["A"].width = 100
    about["A1"].font = Font(bold=True, size=14, color="0B3A75")
    book.active = 0
    book.properties.title, book.properties.creator = "电子监察统计", "tongban"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _about(board: Dashboard, generated_by: str, generated_at: datetime) -> list[str]:
    return [
        "电子监察统计",
        f"统计期间：{board.period_start} 至 {board.period_end}（含首尾，北京时间）",
        f"范围：{board.department.name if board.department else '全部部门'}",
        f"导出：{generated_by}，{beijing_text(generated_at)}（北京时间）",
        "办结：期间内结束的计时（撤回的不计）；按时办结率 = 按时办结 ÷ 办结。",
        "平均用时、平均承诺时限：办结工作的工作日数平均值（补正暂停期间不计）。",
        "期末在办、期末超期：期末尚未结束的计时；到期日早于期末（或暂停之日）的为超期。",
        "补正率、不予许可率：办件办结中曾要求补正的、结论为不予许可的比例。",
        "共享答复及时率：期间内答复的共享申请中按时答复的比例。",
        "满意度：期间内好差评的平均分（1–5 分），差评为 1–2 分。",
    ]


# ---- PDF ------------------------------------------------------------------------------------------

_BASE = ParagraphStyle("supervision", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
_TITLE = ParagraphStyle("supervision-title", parent=_BASE, fontSize=17, leading=24, alignment=1, spaceAfter=4)
_HEADING = ParagraphStyle("supervision-heading", parent=_BASE, fontSize=11.5, leading=17, spaceBefore=8, spaceAfter=4,
                          textColor=colors.HexColor("#0b3a75"))
_SMALL = ParagraphStyle("supervision-small", parent=_BASE, fontSize=8, leading=11, textColor=colors.HexColor("#444444"))
_CELL = ParagraphStyle("supervision-cell", parent=_BASE, fontSize=7.6, leading=10)
# The PDF's table: the figures that fit a landscape page, as people read them.
PDF_COLUMNS = [("新收", "started", "count"), ("办结", "closed", "count"), ("按时办结率", "on_time_rate", "rate"),
               ("平均用时/承诺（工作日）", None, "days"), ("超期（办结+在办）", None, "count"),
               ("补正率", "supplement_rate", "rate"), ("不予许可率", "refusal_rate", "rate"),
               ("共享答复及时率", "sharing_timeliness", "rate"), ("满意度（评价数）", None, "days"),
               ("差评", "poor_ratings", "count"), ("黄/红预警", None, "count")]


def _p(text: Any, style: ParagraphStyle = _BASE) -> Paragraph:
    return printing.paragraph(text, style)


def _shown(figures: dict[str, Any], header: str, key: str | None, kind: str) -> str:
    if header.startswith("平均用时"):
        return f"{figures['avg_used_days'] or '—'} / {figures['avg_limit_days'] or '—'}"
    if header.startswith("超期"):
        return f"{figures['overdue']}（{figures['closed_late']}+{figures['open_overdue']}）"
    if header.startswith("满意度"):
        return f"{figures['satisfaction'] or '—'}（{figures['ratings']}）"
    if header.startswith("黄/红"):
        return f"{figures['yellow_warnings']} / {figures['red_warnings']}"
    if key is None:  # the columns without one figure are drawn above
        raise ValueError(f"no figure for the column {header}")
    value = figures[key]
    return rate_percent(value) if kind == "rate" else str(value)


def _table(rows: list[list[Any]], widths: list[float], *, total_row: bool = False) -> Table:
    total = [("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f5f8"))] if total_row else []
    return printing.table(rows, widths, cell=_CELL, header="#e4eaf3", valign="MIDDLE", extra=total)


def pdf(board: Dashboard, *, generated_by: str, generated_at: datetime) -> bytes:
    buffer = io.BytesIO()
    page = landscape(A4)
    document = SimpleDocTemplate(buffer, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                                 bottomMargin=14 * mm, title=f"电子监察统计 {board.period_start} 至 {board.period_end}",
                                 author="tongban 电子监察", subject="电子监察统计报表")
    scope = board.department.name if board.department else "全部部门"
    totals = board.totals
    story: list[Any] = [
        _p("电子监察统计报表", _TITLE),
        _p(f"统计期间：{board.period_start} 至 {board.period_end}　　范围：{scope}　　"
           f"导出：{generated_by}，{beijing_text(generated_at)}（北京时间）", _SMALL),
        _p("合计", _HEADING),
        _p(f"新收 {totals['started']} 件，办结 {totals['closed']} 件，按时办结率 {rate_percent(totals['on_time_rate'])}；"
           f"超期 {totals['overdue']} 件（超期办结 {totals['closed_late']}，期末在办超期 {totals['open_overdue']}）；"
           f"黄色预警 {totals['yellow_warnings']} 次，红色预警 {totals['red_warnings']} 次；"
           f"评价 {totals['ratings']} 条，满意度 {totals['satisfaction'] or '—'} 分，差评 {totals['poor_ratings']} 条。"),
        _p("各部门", _HEADING),
    ]
    header = ["部门", *(h for h, _, _ in PDF_COLUMNS)]
    rows = [header] + [[r.department.short_name, *(_shown(r.figures, *column) for column in PDF_COLUMNS)]
                       for r in board.rows]
    rows.append(["合计", *(_shown(totals, *column) for column in PDF_COLUMNS)])
    widths = [28 * mm] + [(page[0] - 24 * mm - 28 * mm) / len(PDF_COLUMNS)] * len(PDF_COLUMNS)
    story.append(_table(rows, widths, total_row=True) if board.rows else _p("统计期间没有受监察的工作。"))
    scores = totals["ratings_by_score"]
    story.append(_p("好差评分布", _HEADING))
    story.append(_table([["评分", *(f"{s} 分" for s in SCORES), "合计"], ["条数", *(scores[s] for s in SCORES),
                                                                         totals["ratings"]]], [24 * mm] + [22 * mm] * 6))
    warned = [d for d in board.per_day if d.yellow or d.red]
    story.append(_p("每日预警", _HEADING))
    if warned:
        story.append(_table([["日期", "黄色预警", "红色预警"]] + [[d.day.isoformat(), d.yellow, d.red] for d in warned],
                            [30 * mm, 24 * mm, 24 * mm]))
    else:
        story.append(_p("统计期间没有预警。"))
    story.append(Spacer(1, 6))
    story.extend(_p(line, _SMALL) for line in _about(board, generated_by, generated_at)[4:])

    printing.build(document, story, lambda number: f"电子监察统计 {board.period_start} 至 {board.period_end}　第 {number} 页",
              footer_height=8 * mm)
    return buffer.getvalue()
