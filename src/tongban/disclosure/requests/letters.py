"""The letters a request produces (告知书), as A4 PDFs in the house style of ``core.pdf``: the 补正
notice, the extension notice, the transfer notice and the reply, each with its legal basis; the
reply with the applicant's remedies. A letter is printed from its event, so it reads as sent, and
every moment on it is Beijing time."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from tongban.core import clock as wall
from tongban.core import pdf
from tongban.core.errors import Problem
from tongban.core.pdf import FONT
from tongban.disclosure.requests.models import (
    CATEGORY_LABELS, GROUND_LABELS, LETTER_TITLES, NOT_PROCESSED_LABELS, DisclosureEvent, DisclosureRequest,
    NotProcessedReason, ReplyType,
)

_BASE = ParagraphStyle("gk-base", fontName=FONT, fontSize=11.5, leading=20, wordWrap="CJK", firstLineIndent=0)
_BODY = ParagraphStyle("gk-body", parent=_BASE, firstLineIndent=23)
_TITLE = ParagraphStyle("gk-title", parent=_BASE, fontSize=19, leading=30, alignment=TA_CENTER, spaceAfter=2)
_ORGAN = ParagraphStyle("gk-organ", parent=_BASE, fontSize=13, leading=20, alignment=TA_CENTER,
                        textColor=colors.HexColor("#8a1c1c"))
_NUMBER = ParagraphStyle("gk-number", parent=_BASE, fontSize=10, leading=15, alignment=TA_CENTER)
_HEADING = ParagraphStyle("gk-heading", parent=_BASE, fontSize=12, leading=18, spaceBefore=8, spaceAfter=3,
                          textColor=colors.HexColor("#8a1c1c"))
_SIGN = ParagraphStyle("gk-sign", parent=_BASE, alignment=TA_RIGHT)
_LAW = "《中华人民共和国政府信息公开条例》"
# 行政复议法第二十条、第二十四条; 行政诉讼法第四十六条.
REVIEW_DAYS, LAWSUIT_MONTHS = 60, 6


def beijing(moment: datetime) -> str:
    return moment.astimezone(wall.BEIJING).strftime("%Y年%m月%d日 %H:%M（北京时间）")


def chinese_date(day: date | str | None) -> str:
    if day in (None, "None", ""):
        return "—"
    found = day if isinstance(day, date) else date.fromisoformat(str(day))
    return f"{found.year}年{found.month}月{found.day}日"


def review_body(department) -> str:
    """Where an organ's reply is reviewed: the people's government of its level (行政复议法第二十四条)."""
    parent = department.parent if department is not None else None
    return parent.name if parent is not None and parent.name.endswith("人民政府") else "本级人民政府"


def _p(text: Any, style: ParagraphStyle = _BODY) -> Paragraph:
    return pdf.paragraph(text, style)


def _received(request: DisclosureRequest) -> str:
    return (f"你（单位）于 {beijing(request.filed_at)} 向本机关提出的政府信息公开申请（申请编号 {request.number}）"
            f"收悉。你（单位）申请获取的信息为：“{request.description.split(chr(10))[0][:300]}”。")


def _reply_paragraphs(request: DisclosureRequest, d: dict[str, Any]) -> list[str]:
    kind, content, reason = d["reply_type"], d.get("content"), d.get("reason")
    ground = GROUND_LABELS.get(d.get("ground") or "", "")
    if kind == ReplyType.ALREADY_PUBLIC:
        text = [f"经审查，你（单位）申请公开的信息已经主动公开。根据{_LAW}第三十六条第（一）项的规定，现告知获取该信息的方式和途径：{content}"]
    elif kind == ReplyType.DISCLOSED:
        text = [f"经审查，你（单位）申请公开的信息属于可以公开的政府信息。根据{_LAW}第三十六条第（二）项的规定，本机关决定予以公开：",
                str(content)]
    elif kind == ReplyType.PARTIAL:
        text = [f"经审查，你（单位）申请公开的信息中含有不应当公开的内容，但能够作区分处理。根据{_LAW}第三十七条的规定，"
                "本机关向你（单位）提供可以公开的内容：", str(content),
                f"以下内容不予公开：{d.get('withheld')}。理由：{ground}。"]
    elif kind == ReplyType.WITHHELD:
        text = [f"经审查，你（单位）申请公开的信息{ground}。根据{_LAW}第三十六条第（三）项的规定，本机关决定不予公开。"]
    elif kind == ReplyType.NOT_EXIST:
        text = [f"经检索，本机关未制作或者获取你（单位）申请公开的信息。根据{_LAW}第三十六条第（四）项的规定，告知你（单位）该政府信息不存在。"]
    elif kind == ReplyType.NOT_OURS:
        text = [f"经审查，你（单位）申请公开的信息不属于本机关负责公开。根据{_LAW}第三十六条第（五）项的规定，"
                f"告知你（单位）负责公开该信息的行政机关：{d.get('organ_name')}，联系方式：{d.get('organ_contact')}。"]
    elif kind == ReplyType.REPEAT:
        text = [f"本机关已于 {chinese_date(d.get('repeat_answered_on'))} 就你（单位）申请公开的相同政府信息作出答复"
                f"（申请编号 {d.get('repeat_of')}）。根据{_LAW}第三十六条第（六）项的规定，本机关不予重复处理。"]
    elif kind == ReplyType.SPECIAL_LAW:
        text = [f"你（单位）申请公开的信息，有关法律、行政法规对信息的获取有特殊规定。根据{_LAW}第三十六条第（七）项的规定，"
                f"请依照有关法律、行政法规的规定办理：{content}"]
    elif kind == ReplyType.NEEDS_CREATION:
        text = [f"你（单位）申请获取的信息需要本机关对现有政府信息进行加工、分析方能形成。根据{_LAW}第三十八条的规定，本机关不予提供。"]
    elif kind == ReplyType.STILL_UNCLEAR:
        text = [f"本机关已书面告知你（单位）补正申请，你（单位）于 {chinese_date(d.get('corrected_on'))} 补正后，"
                f"申请内容仍不明确：{content}。本机关无法确定你（单位）所需的政府信息，根据{_LAW}第三十条的规定，无法提供。"
                "你（单位）可以在明确所需信息的名称、文号或者便于查询的其他特征性描述后，重新提出申请。"]
    elif d.get("ground") == NotProcessedReason.EXCESSIVE:
        text = [f"你（单位）申请公开政府信息的数量、频次明显超过合理范围，经要求说明理由，本机关认为申请理由不合理。"
                f"根据{_LAW}第三十五条的规定，本机关不予处理。"]
    else:  # NOT_PROCESSED
        situation = NOT_PROCESSED_LABELS.get(d.get("ground") or "", "")
        text = [f"经审查，你（单位）的申请属于{situation}。根据{_LAW}第三十九条的规定，本机关不作为政府信息公开申请处理，"
                "你（单位）可以通过相应渠道提出。"]
    if kind in (ReplyType.NOT_EXIST, ReplyType.NEEDS_CREATION, ReplyType.NOT_PROCESSED) and content:
        text.append(str(content))
    if reason:
        text.append(f"说明：{reason}")
    return text


def _fee(request: DisclosureRequest) -> list[Flowable]:
    if request.fee_yuan == 0:
        return []
    line = (f"本申请为你（单位）本自然月内第 {request.fee_ordinal} 件政府信息公开申请。根据{_LAW}第四十二条和"
            f"《政府信息公开信息处理费管理办法》（国办函〔2020〕109号），应收取信息处理费 {request.fee_yuan} 元")
    line += f"；经审查予以减免（{request.fee_waiver_reason}）。" if request.fee_waived else "。"
    return [_p(line)]


def _remedies(request: DisclosureRequest) -> list[Flowable]:
    return [_p("救济途径", _HEADING),
            _p(f"如对本答复不服，可以自收到本告知书之日起 {REVIEW_DAYS} 日内向{review_body(request.department)}申请行政复议，"
               f"也可以自收到本告知书之日起 {LAWSUIT_MONTHS} 个月内依法向有管辖权的人民法院提起行政诉讼。")]


def _body(request: DisclosureRequest, event: DisclosureEvent, d: dict[str, Any]) -> list[Flowable]:
    if event.action == "reply":
        story: list[Flowable] = [_p(_received(request)), _p("现答复如下：")]
        story += [_p(line) for line in _reply_paragraphs(request, d)]
        return story + _fee(request) + _remedies(request)
    if event.action == "correction_notice":
        return [_p(_received(request)),
                _p(f"经审查，你（单位）的申请内容不明确。根据{_LAW}第三十条的规定，请你（单位）于 {chinese_date(d.get('due_on'))}"
                   f"前（{d.get('days')} 个工作日内）补正以下事项："), _p(str(d.get("items"))),
                _p("答复期限自本机关收到补正的申请之日起计算。申请人无正当理由逾期不补正的，视为放弃申请，本机关不再处理该政府信息公开申请。")]
    if event.action == "extension":
        return [_p(_received(request)),
                _p(f"因{d.get('reason')}，本机关不能在规定期限内作出答复。根据{_LAW}第三十三条第二款的规定，经本机关政府信息公开工作机构"
                   f"负责人同意，答复期限延长 {d.get('days')} 个工作日，延长后的答复期限至 {chinese_date(d.get('due_on'))}。")]
    # transfer
    return [_p(_received(request)),
            _p(f"经审查，你（单位）申请公开的信息由{d.get('to_department')}负责公开。根据{_LAW}第三十六条第（五）项的规定，"
               f"告知你（单位）该行政机关的名称和联系方式：{d.get('to_department')}，{d.get('to_contact')}。"),
            _p(f"本机关已将你（单位）的申请转送{d.get('to_department')}，答复期限自其收到之日起计算。说明：{d.get('note')}")]


def letter_pdf(request: DisclosureRequest, event: DisclosureEvent, organ_name: str) -> bytes:
    """The letter of one event (an action of ``LETTER_TITLES``), signed by the organ that acted."""
    title = LETTER_TITLES.get(event.action)
    if title is None:
        raise Problem("not-found", "该记录没有告知书")
    details = json.loads(event.details or "{}")
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                                 bottomMargin=20 * mm, title=f"{title} {request.number}", author=organ_name, subject=title)
    story: list[Flowable] = [
        _p(organ_name, _ORGAN), _p(title, _TITLE), _p(f"申请编号：{request.number}　告知书编号：{request.number}-{event.id}", _NUMBER),
        Spacer(1, 8),
        _p(f"{request.applicant_name}（{CATEGORY_LABELS.get(request.applicant_category, '')}）：", _BASE),
        *_body(request, event, details),
        Spacer(1, 14), _p(organ_name, _SIGN), _p(chinese_date(event.day), _SIGN),
        Spacer(1, 8), _p(f"作出时间：{beijing(event.at)}；经办：{event.actor}", _BASE),
    ]
    pdf.build(document, story, lambda page: f"{request.number}　{title}　{beijing(event.at)}　第 {page} 页")
    return buffer.getvalue()
