"""PDF documents in Chinese (reportlab): the one CJK font, text as paragraphs, tables and the page
footer every document the platform prints shares (告知单, 电子监察报表).

The font is Adobe's STSong-Light, a CID font every PDF reader carries: nothing is embedded and
nothing is fetched, and the documents stay small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# The paragraph styles every document shares: body text, the small print, the title, a section's
# heading, a table's cells, and the signature block's right-aligned lines.
BASE = ParagraphStyle("base", fontName=FONT, fontSize=11, leading=18, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BASE, fontSize=8.5, leading=12, textColor=colors.HexColor("#444444"))
TITLE = ParagraphStyle("title", parent=BASE, fontSize=20, leading=30, alignment=TA_CENTER, spaceAfter=2)
SUBTITLE = ParagraphStyle("subtitle", parent=BASE, fontSize=10, leading=15, alignment=TA_CENTER)
HEADING = ParagraphStyle("heading", parent=BASE, fontSize=12, leading=18, spaceBefore=8, spaceAfter=3,
                         textColor=colors.HexColor("#8a1c1c"))
CELL = ParagraphStyle("cell", parent=BASE, fontSize=9.5, leading=14)
SIGN = ParagraphStyle("sign", parent=BASE, alignment=TA_RIGHT)


def paragraph(text: Any, style: ParagraphStyle = BASE) -> Paragraph:
    """Text as people wrote it (escaped, line breaks kept), never as markup."""
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, cell: ParagraphStyle, header: str,
          valign: str = "TOP", extra: Sequence[tuple] = ()) -> Table:
    """A ruled table, its first row a header on ``header`` (a colour) repeated on every page."""
    built = Table([[c if isinstance(c, Paragraph) else paragraph(c, cell) for c in row] for row in rows],
                  colWidths=list(widths), repeatRows=1)
    built.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(header)),
        ("VALIGN", (0, 0), (-1, -1), valign),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        *extra,
    ]))
    return built


def build(document: SimpleDocTemplate, story: list[Flowable], footer: Callable[[int], str], *,
          footer_height: float = 9 * mm) -> None:
    """Lay the story out, every page with its footer line (``footer(page number)``) centred below."""
    width = document.pagesize[0]

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(width / 2, footer_height, footer(doc.page))
        canvas.restoreState()

    document.build(story, onFirstPage=draw, onLaterPages=draw)
