"""The documents a case produces, as printable A4 PDFs (tongban.core.pdf): the window's 受理通知书
and 不予受理通知书, the department's 不予许可决定书, the result of an approved case that issues no
licence (准予行政许可决定书 or 办结通知书), and each licence, laid out by its type, with a QR code to
the public check page. Every moment printed is Beijing time and says so."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from tongban.cases.bundles import BUNDLES
from tongban.cases.deadlines import deadline
from tongban.cases.licences import licence_application, licence_status, licence_type, STATUS_LABELS
from tongban.cases.models import Application, ApplicationStatus, CaseStep, CaseTask, Licence
from tongban.cases.reading import licences_of, tasks_of, timeline
from tongban.core import clock as wall
from tongban.core import pdf
from tongban.core.errors import Problem
from tongban.core.pdf import CELL, HEADING, SIGN, SMALL, SUBTITLE, TITLE
from tongban.items import service as items
from tongban.org import service as org

# What the applicant can do against a refusal (行政复议法第二十条、第二十四条; 行政诉讼法第四十六条).
REVIEW_DAYS, LAWSUIT_MONTHS = 60, 6
HOW_RECEIVED = {"provided": "已提交", "shared": "数据共享获取，免提交", "bundle": "由本件办理结果获取，免提交",
                "on_site": "受理时核验原件"}


def beijing(moment: datetime | None) -> str:
    """A stored (UTC) moment as printed: Beijing time, labelled."""
    return "—" if moment is None else moment.astimezone(wall.BEIJING).strftime("%Y年%m月%d日 %H:%M（北京时间）")


def chinese_date(day: date | None) -> str:
    return "—" if day is None else f"{day.year}年{day.month:02d}月{day.day:02d}日"


_p = pdf.paragraph


def _facts(rows: list[tuple[str, Any]]) -> Table:
    """Label | value rows, ruled, no header."""
    built = Table([[_p(label, CELL), _p(value, CELL)] for label, value in rows], colWidths=[38 * mm, 136 * mm])
    built.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f0ea")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return built


def _document(buffer: io.BytesIO, title: str, author: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                             bottomMargin=18 * mm, title=title, author=author, subject=title)


def _printed(number: str) -> Any:
    printed = wall.now()
    return lambda page: f"{number}　打印时间 {beijing(printed)}　第 {page} 页"


def _closing(issuer: str, moment: datetime | None, *, seal: str | None = None, space: float = 16) -> list[Any]:
    """The foot of a notice: who issues it (with the seal it bears) and the day, in Beijing time."""
    return [Spacer(1, space), _p(f"{issuer}（{seal}）" if seal else issuer, SIGN),
            _p(chinese_date(moment.astimezone(wall.BEIJING).date()) if moment else "—", SIGN)]


def _last_step(steps: list[CaseStep], kind: str) -> CaseStep | None:
    return next((s for s in reversed(steps) if s.kind == kind), None)


def _department_name(db: Session, code: str | None, fallback: str) -> str:
    found = org.get_by_code(db, code) if code else None
    return found.name if found is not None else fallback


def _review_body(department) -> str:
    """Where a department's decision is reviewed: the people's government of its level (行政复议法第二十四条)."""
    parent = department.parent if department is not None else None
    return parent.name if parent is not None and parent.name.endswith("人民政府") else "本级人民政府"


def _lead_department(db: Session, application: Application):
    code = BUNDLES[application.subject_code].items[0] if application.subject_kind == "bundle" else application.subject_code
    department_code = items.published_document(db, code).department
    return org.get_by_code(db, department_code)


def _remedies(body: str) -> list[Paragraph]:
    return [_p("救济途径", HEADING),
            _p(f"如不服本决定，可以自收到本通知之日起 {REVIEW_DAYS} 日内向{body}申请行政复议，"
               f"也可以自收到本通知之日起 {LAWSUIT_MONTHS} 个月内依法向有管辖权的人民法院提起行政诉讼。"
               "行政复议和行政诉讼期间，本决定不停止执行。")]


def _applicant(application: Application) -> str:
    kind = "身份证号" if application.applicant_type == "自然人" else "统一社会信用代码"
    return f"{application.applicant_name}（{kind} {application.applicant_id}）"


def _materials_received(application: Application) -> list[list[Any]]:
    rows: list[list[Any]] = [["序号", "材料名称", "所属事项", "收取情况"]]
    for index, material in enumerate((m for m in json.loads(application.materials) if m.get("how") in HOW_RECEIVED), 1):
        files = material.get("files") or []
        how = HOW_RECEIVED[material["how"]] + (f"（电子文件 {len(files)} 份）" if files else "")
        rows.append([str(index), material["name"], material.get("item_name") or "", how])
    return rows


def acceptance_receipt(db: Session, application: Application) -> bytes:
    """受理通知书: the window accepted the application; the promised completion date is its clock's."""
    steps = timeline(db, application)
    accepted = _last_step(steps, "accepted")
    if accepted is None or application.accepted_on is None:
        raise Problem("conflict", f"办件 {application.number} 尚未受理，没有受理通知书")
    due = deadline(db, application)
    lead = _lead_department(db, application)
    window = _department_name(db, accepted.department_code, "一网通办综合受理窗口")
    buffer = io.BytesIO()
    document = _document(buffer, f"受理通知书 {application.number}", window)
    story: list[Any] = [
        _p("受理通知书", TITLE), _p(f"办件编号：{application.number}", SUBTITLE), Spacer(1, 6),
        _p(f"{application.applicant_name}："),
        _p(f"你（单位）于 {beijing(application.created_at)} 提出的「{application.name}」申请，材料齐全、符合法定形式，"
           f"经审查，决定予以受理。"),
        Spacer(1, 4),
        _facts([("办件编号", application.number), ("申请人", _applicant(application)),
                ("申请事项", application.name), ("实施部门", lead.name if lead else "—"),
                ("受理时间", beijing(accepted.at)),
                ("承诺办结时限", f"{application.limit_days} 个工作日" if application.limit_days is not None else "—"),
                ("承诺办结日期", chinese_date(due.due_on) if due else "—"),
                ("受理窗口", window), ("受理人", accepted.actor)]),
        _p("已收取的材料", HEADING),
        pdf.table(_materials_received(application), [12 * mm, 70 * mm, 50 * mm, 42 * mm], cell=CELL, header="#f3f0ea"),
        Spacer(1, 6),
        _p("承诺办结日期按工作日计算，法定节假日除外；需要申请人补正的，补正期间不计入办理时限。"
           "凭办件编号可在「我的办件」或办件进度查询中查看办理进度。", SMALL),
        *_closing(window, accepted.at),
    ]
    pdf.build(document, story, _printed(f"受理通知书 {application.number}"))
    return buffer.getvalue()


def non_acceptance_notice(db: Session, application: Application) -> bytes:
    """不予受理通知书: why, and what the applicant can do against it."""
    refused = _last_step(timeline(db, application), "not_accepted")
    if application.status != ApplicationStatus.NOT_ACCEPTED or refused is None:
        raise Problem("conflict", f"办件 {application.number} 未被不予受理，没有不予受理通知书")
    lead = _lead_department(db, application)
    window = _department_name(db, refused.department_code, "一网通办综合受理窗口")
    buffer = io.BytesIO()
    document = _document(buffer, f"不予受理通知书 {application.number}", window)
    story: list[Any] = [
        _p("不予受理通知书", TITLE), _p(f"办件编号：{application.number}", SUBTITLE), Spacer(1, 6),
        _p(f"{application.applicant_name}："),
        _p(f"你（单位）于 {beijing(application.created_at)} 提出的「{application.name}」申请，经审查，决定不予受理。"),
        Spacer(1, 4),
        _facts([("办件编号", application.number), ("申请人", _applicant(application)), ("申请事项", application.name),
                ("实施部门", lead.name if lead else "—"), ("不予受理理由", application.status_reason or "—"),
                ("决定时间", beijing(refused.at)), ("受理窗口", window), ("经办人", refused.actor)]),
        *_remedies(_review_body(lead)),
        *_closing(window, refused.at),
    ]
    pdf.build(document, story, _printed(f"不予受理通知书 {application.number}"))
    return buffer.getvalue()


def refusal_decision(db: Session, application: Application) -> bytes:
    """不予许可决定书: the department that refused, its reasons, and the remedies."""
    refusing: CaseTask | None = next((t for t in tasks_of(db, application) if t.decision == "refuse"), None)
    if application.status != ApplicationStatus.REFUSED or refusing is None or refusing.department is None:
        raise Problem("conflict", f"办件 {application.number} 未作不予许可决定")
    department = refusing.department
    buffer = io.BytesIO()
    document = _document(buffer, f"不予行政许可决定书 {application.number}", department.name)
    story: list[Any] = [
        _p(department.name, SUBTITLE), _p("不予行政许可决定书", TITLE), _p(f"办件编号：{application.number}", SUBTITLE),
        Spacer(1, 6), _p(f"{application.applicant_name}："),
        _p(f"你（单位）于 {beijing(application.created_at)} 提出的「{application.name}」申请，本机关已于 "
           f"{chinese_date(application.accepted_on)} 受理。经审查，你（单位）的申请不符合法定条件、标准，"
           "根据《中华人民共和国行政许可法》第三十八条第二款的规定，决定不予行政许可。"),
        Spacer(1, 4),
        _facts([("办件编号", application.number), ("申请人", _applicant(application)), ("申请事项", application.name),
                ("审查环节", refusing.name), ("不予许可理由", refusing.opinion or "—"),
                ("决定机关", department.name), ("决定时间", beijing(refusing.decided_at)), ("承办人", refusing.decided_by or "—")]),
        *_remedies(_review_body(department)),
        *_closing(department.name, refusing.decided_at, seal="盖章"),
    ]
    pdf.build(document, story, _printed(f"不予行政许可决定书 {application.number}"))
    return buffer.getvalue()


def _qr(url: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def _check_line(url: str) -> Paragraph:
    """The check address as text and as a link (a reader clicks it; a phone scans the code beside it)."""
    href = escape(url, {'"': "&quot;"})
    return Paragraph(f'扫码或访问 <a href="{href}" color="#1a4f8b">{escape(url)}</a> 核验本证照的真伪和状态', SMALL)


def licence_document(db: Session, licence: Licence, *, verify_url: str) -> bytes:
    """The licence, printed in its type's layout, with its number, holder, validity and the QR code."""
    application = licence_application(db, licence)
    kind = licence_type(licence)
    status = licence_status(licence)
    validity = f"至 {chinese_date(licence.valid_until)}" if licence.valid_until else "长期有效"
    buffer = io.BytesIO()
    document = _document(buffer, f"{licence.name} {licence.number}", licence.issued_by)
    story: list[Any] = []
    if status != "valid":  # a reprint of a revoked or expired licence says so on its face
        story.append(_p(f"本证照{STATUS_LABELS[status]}，仅供查阅，不作为有效凭证。", HEADING))
    if kind.layout == "business":
        form = json.loads(application.form)
        story += [_p("营 业 执 照", TITLE), _p("（副本·电子打印件）", SUBTITLE), Spacer(1, 6),
                  _facts([("统一社会信用代码", form.get("credit_code") or "—"),
                          ("证照编号", licence.number),
                          ("名称", form.get("enterprise_name") or licence.holder_name),
                          ("类型", form.get("entity_type") or "—"),
                          ("法定代表人", licence.holder_name),
                          ("注册资本", f"人民币 {form['registered_capital']} 万元" if form.get("registered_capital") else "—"),
                          ("成立日期", chinese_date(licence.issued_at.astimezone(wall.BEIJING).date())),
                          ("营业期限", validity),
                          ("住所", form.get("registered_address") or "—"),
                          ("经营范围", form.get("business_scope") or "—"),
                          ("申请事项", items.published_document(db, licence.item_code).name),
                          ("登记机关", licence.issued_by),
                          ("发照时间", beijing(licence.issued_at))])]
    else:
        item_name = items.published_document(db, licence.item_code).name
        story += [_p(licence.name, TITLE), _p(f"证照编号：{licence.number}", SUBTITLE), Spacer(1, 6),
                  _p(f"{licence.holder_name}："),
                  _p(f"你（单位）提出的「{item_name}」申请（办件编号 {application.number}），经审查，符合法定条件、标准，"
                     "根据《中华人民共和国行政许可法》第三十八条第一款的规定，决定准予行政许可，核发本证照。"),
                  Spacer(1, 4),
                  _facts([("证照名称", licence.name), ("证照编号", licence.number),
                          ("持证人", licence.holder_name),
                          ("持证人证件号码", licence.holder_id), ("许可事项", item_name),
                          ("发证机关", licence.issued_by), ("有效期限", validity),
                          ("发证时间", beijing(licence.issued_at))])]
    code = Table([[_qr(verify_url), _check_line(verify_url)]], colWidths=[36 * mm, 138 * mm])
    code.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [Spacer(1, 10), code, *_closing(licence.issued_by, licence.issued_at, seal="电子证照专用章", space=10)]
    pdf.build(document, story, _printed(f"证照编号 {licence.number}"))
    return buffer.getvalue()


def _item_codes(application: Application) -> list[str]:
    return list(BUNDLES[application.subject_code].items) if application.subject_kind == "bundle" else [application.subject_code]


def result_document_title(db: Session, application: Application) -> str | None:
    """The document an approved application without a licence gives its applicant: 准予行政许可决定书
    when every item of it is a 行政许可, else 办结通知书; None when it has none (not approved, or its
    result is a licence, printed as the licence)."""
    if application.status != ApplicationStatus.APPROVED or licences_of(db, application):
        return None
    kinds = {items.published_document(db, code).type for code in _item_codes(application)}
    return "准予行政许可决定书" if kinds == {"行政许可"} else "办结通知书"


def result_notice(db: Session, application: Application, *, progress_url: str) -> tuple[str, bytes]:
    """(title, PDF) of the result of an approved application without a licence: who decided, when
    (Beijing time), what the applicant obtains and on what legal basis; ``progress_url``: where
    the case can be checked (the public 办件进度查询)."""
    title = result_document_title(db, application)
    if title is None:
        raise Problem("conflict", f"办件 {application.number} 尚未办结（准予），或其结果为电子证照（请下载证照），没有办结文书")
    approving = [t for t in tasks_of(db, application) if t.decision == "approve" and t.department is not None]
    deciding = approving[-1] if approving else None
    department = deciding.department if deciding is not None else _lead_department(db, application)
    issuer = department.name if department is not None else "—"
    documents = [items.published_document(db, code) for code in _item_codes(application)]
    results = "、".join(dict.fromkeys(r.name for d in documents for r in d.results)) or "准予"
    basis = "；".join(dict.fromkeys(f"《{b.law.strip('《》')}》{b.article or ''}" for d in documents
                                    for b in d.legal_basis))
    finished = application.finished_at
    if title == "准予行政许可决定书":
        decision = ("经审查，你（单位）的申请符合法定条件、标准，根据《中华人民共和国行政许可法》第三十八条第一款的规定，"
                    "决定准予行政许可。")
    else:
        decision = f"经审查，你（单位）的申请符合规定，已于 {beijing(finished)} 办结，办理结果为准予（同意）。"
    buffer = io.BytesIO()
    document = _document(buffer, f"{title} {application.number}", issuer)
    story: list[Any] = [
        _p(issuer, SUBTITLE), _p(title, TITLE), _p(f"办件编号：{application.number}", SUBTITLE), Spacer(1, 6),
        _p(f"{application.applicant_name}："),
        _p(f"你（单位）于 {beijing(application.created_at)} 提出的「{application.name}」申请，本机关已于 "
           f"{chinese_date(application.accepted_on)} 受理。{decision}"),
        Spacer(1, 4),
        _facts([("办件编号", application.number), ("申请人", _applicant(application)), ("申请事项", application.name),
                ("办理结果", results), ("决定机关", issuer), ("决定时间", beijing(finished)),
                *([("审查意见", deciding.opinion)] if deciding is not None and deciding.opinion else []),
                ("承办人", deciding.decided_by if deciding is not None and deciding.decided_by else "—"),
                *([("办理依据", basis)] if basis else [])]),
        Spacer(1, 6),
        _p(f"凭办件编号和申请人证件号码，可在办件进度查询（{progress_url}）核对本件的办理结果。", SMALL),
        *_closing(issuer, finished, seal="盖章"),
    ]
    pdf.build(document, story, _printed(f"{title} {application.number}"))
    return title, buffer.getvalue()
