"""The catalog's documents: their fields, the 索引号 (per department and year, drawn without races
on both engines), attachments (declared type checked against the bytes, size, text extraction)
and the 主动公开 figures of the annual report."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date

from helpers import assert_problem, at_once
from sqlalchemy import select

from tongban.core import audit
from tongban.disclosure import doc_attachments, documents, service
from tongban.disclosure.models import DisclosureDocument
from tongban.disclosure.schemas import DocumentFields, Genre, Openness, Theme
from tongban.org import service as org

CZ_DRAFTER, CZ_REVIEWER, TJ_DRAFTER = "gk.drafter", "gk.reviewer", "gk.drafter.tj"


def _body(**overrides) -> dict:
    return {"title": f"关于预算公开的通知{uuid.uuid4().hex[:6]}", "document_number": "浦财〔2026〕77号",
            "issued_on": "2026-11-02", "theme": "finance", "genre": "notice", "openness": "proactive",
            "body": "根据有关规定，现将区级部门预算公开。", **overrides}


# ---- attachments: one of each kind, made as their programs make them ----------------------


def docx(*paragraphs: str) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>')
    return buffer.getvalue()


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "资金分配"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls(rows: list[list]) -> bytes:
    """An Excel 97–2003 workbook, written by xlwt (the reader, xlrd, is another library)."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("历年数据")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def ofd(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
        archive.writestr("Doc_0/Pages/Page_0/Content.xml",
                         f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'
                         f'<ofd:Content><ofd:Layer><ofd:TextObject><ofd:TextCode>{text}</ofd:TextCode></ofd:TextObject>'
                         f'</ofd:Layer></ofd:Content></ofd:Page>')
    return buffer.getvalue()


# ---- 索引号 -------------------------------------------------------------------------------------


def test_a_draft_has_the_catalog_fields_and_an_index_number_of_its_department_and_year(client, as_role):
    drafted = client.post("/api/v1/disclosure/documents", json=_body(), headers=as_role(CZ_DRAFTER))
    assert drafted.status_code == 201, drafted.text
    document = drafted.json()
    assert document["index_number"].startswith("PD-CZ-2026-")
    assert len(document["index_number"]) == len("PD-CZ-2026-00001")
    assert (document["department_name"], document["theme_label"], document["genre_label"], document["openness_label"],
            document["validity_label"], document["status_label"]) == (
        "浦东新区财政局", "财政、金融、审计", "通知公告", "主动公开", "有效", "草稿")
    assert document["document_number"] == "浦财〔2026〕77号" and document["issued_on"] == "2026-11-02"
    assert document["published_on"] is None and document["drafted_by"] == "刘洋"
    # The next one of the department and year is the next number; another year starts its own.
    following = client.post("/api/v1/disclosure/documents", json=_body(), headers=as_role(CZ_DRAFTER)).json()
    assert int(following["index_number"][-5:]) == int(document["index_number"][-5:]) + 1
    last_year = client.post("/api/v1/disclosure/documents", json=_body(issued_on="2025-12-30"),
                            headers=as_role(CZ_DRAFTER)).json()
    assert last_year["index_number"].startswith("PD-CZ-2025-")


def test_index_numbers_drawn_at_once_are_all_different_and_consecutive(client, as_role):
    headers = as_role(TJ_DRAFTER)
    answers = at_once(client, [lambda own: own.post("/api/v1/disclosure/documents",
                                                    json=_body(issued_on="2026-03-01", theme="economy"), headers=headers)
                               for _ in range(6)])
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    numbers = sorted(int(a.json()["index_number"][-5:]) for a in answers)
    assert all(a.json()["index_number"].startswith("PD-TJ-2026-") for a in answers)
    assert numbers == list(range(numbers[0], numbers[0] + 6))


def test_bad_fields_are_refused_in_chinese_and_nothing_is_kept(client, as_role, db):
    headers = as_role(CZ_DRAFTER)
    title = f"不予公开的文件{uuid.uuid4().hex[:6]}"
    refused = client.post("/api/v1/disclosure/documents", json=_body(title=title, openness="withheld"), headers=headers)
    assert_problem(refused, 422, "validation-error")
    assert_problem(client.post("/api/v1/disclosure/documents", json=_body(theme="weather"), headers=headers),
                   422, "validation-error")
    assert_problem(client.post("/api/v1/disclosure/documents", json=_body(title="x"), headers=headers),
                   422, "validation-error")
    assert db.scalar(select(DisclosureDocument).where(DisclosureDocument.title == title)) is None
    db.rollback()
    withheld = client.post("/api/v1/disclosure/documents", headers=headers,
                           json=_body(openness="withheld", withheld_ground="涉及国家秘密，依据《政府信息公开条例》第十四条"))
    assert withheld.status_code == 201 and withheld.json()["openness_label"] == "不予公开"
    assert withheld.json()["withheld_ground"].startswith("涉及国家秘密")


# ---- attachments -----------------------------------------------------------------------------


def test_attachment_kinds_are_recognised_by_their_bytes():
    assert doc_attachments.sniffed_kind(pdf("x")) == "pdf"
    assert doc_attachments.sniffed_kind(docx("正文")) == "docx"
    assert doc_attachments.sniffed_kind(xlsx([["a"]])) == "xlsx"
    assert doc_attachments.sniffed_kind(ofd("文字")) == "ofd"
    assert doc_attachments.sniffed_kind(xls([["a"]])) == "xls"
    # A compound file that is no workbook (a Word 97–2003 file, say) is not taken for one.
    assert doc_attachments.sniffed_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600) is None
    assert doc_attachments.sniffed_kind(b"PK\x03\x04 not really a zip") is None
    assert doc_attachments.sniffed_kind(b"MZ\x90\x00") is None


def test_text_is_extracted_from_each_kind():
    assert "Budget execution 2026" in doc_attachments.extract_text("pdf", pdf("Budget execution 2026"))
    assert doc_attachments.extract_text("docx", docx("区级专项资金", "分配方案")) == "区级专项资金\n分配方案"
    sheet = doc_attachments.extract_text("xlsx", xlsx([["项目", "金额（万元）"], ["城市更新", 1200]]))
    assert "资金分配" in sheet and "项目 金额（万元）" in sheet and "城市更新 1200" in sheet
    assert doc_attachments.extract_text("ofd", ofd("版式文件的文字")) == "版式文件的文字"
    old = doc_attachments.extract_text("xls", xls([["年度", "支出（万元）"], ["2019年", 880]]))
    assert old.splitlines() == ["历年数据", "年度 支出（万元）", "2019年 880"]
    assert doc_attachments.extract_text("pdf", b"%PDF-1.4 broken") == ""  # kept, without text


def _attach(client, headers, index_number: str, name: str, data: bytes, media_type: str = "application/octet-stream"):
    return client.post(f"/api/v1/disclosure/documents/{index_number}/attachments", headers=headers,
                       files={"file": (name, data, media_type)})


def test_attachments_are_checked_and_their_text_kept_for_search(client, as_role, db):
    headers = as_role(CZ_DRAFTER)
    index_number = client.post("/api/v1/disclosure/documents", json=_body(), headers=headers).json()["index_number"]
    kept = _attach(client, headers, index_number, "资金分配表.xlsx", xlsx([["街镇", "金额"], ["花木街道", 380]]))
    assert kept.status_code == 201, kept.text
    assert kept.json()["kind_label"] == "Excel 表格" and kept.json()["url"].startswith(f"/disclosure/documents/{index_number}/")
    assert _attach(client, headers, index_number, "说明.docx", docx("说明正文")).status_code == 201
    assert _attach(client, headers, index_number, "正式文本.ofd", ofd("正式文本")).status_code == 201
    assert _attach(client, headers, index_number, "历年支出.xls", xls([["浦东新区历年支出", 1990]])).status_code == 201
    # What it is not: a Word file named .pdf, a spreadsheet named .docx, a program, an empty file, an
    # .exe, an old workbook named .xlsx, a compound file that is no workbook named .xls.
    for name, data in (("伪装.pdf", docx("x")), ("伪装.docx", xlsx([["x"]])), ("表.xlsx", b"MZ\x90\x00program"),
                       ("空.pdf", b""), ("旧格式.exe", pdf("x")), ("旧表.xlsx", xls([["x"]])),
                       ("旧文档.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)):
        assert_problem(_attach(client, headers, index_number, name, data), 422, "attachment-refused")
    document = db.scalar(select(DisclosureDocument).where(DisclosureDocument.index_number == index_number))
    assert [a.kind for a in document.attachments] == ["xlsx", "docx", "ofd", "xls"]
    view = documents.searchable_text(document)
    assert "花木街道 380" in view and "说明正文" in view and "正式文本" in view and "浦东新区历年支出 1990" in view
    db.rollback()


def test_an_attachment_over_the_size_limit_is_refused(client, as_role, database):
    headers = as_role(CZ_DRAFTER)
    index_number = client.post("/api/v1/disclosure/documents", json=_body(), headers=headers).json()["index_number"]
    limit = database.settings.attachment_max_mb * 1024 * 1024
    # One byte over a file's limit: the file check refuses it, naming the limit.
    over = _attach(client, headers, index_number, "大文件.pdf", b"%PDF-1.4\n" + b"0" * limit)
    assert "20 MB" in assert_problem(over, 422, "attachment-refused")["detail"]
    # More than the request may carry at all: refused by its length, before the body is read.
    assert_problem(_attach(client, headers, index_number, "更大的文件.pdf", b"%PDF-1.4\n" + b"0" * (limit + 200_000)),
                   413, "payload-too-large")
    document = client.get(f"/api/v1/disclosure/documents/{index_number}", headers=headers).json()
    assert document["attachments"] == []


# ---- the annual report's figures ---------------------------------------------------------------


def test_proactive_figures_count_what_was_published_in_the_year(fresh_database):
    from tongban.accounts import service as accounts
    from tongban.core import clock
    from tongban.core.db.session import session_scope
    from tongban.disclosure.schemas import ReviewDecision, Validity

    with session_scope(fresh_database.sessionmaker()) as db:
        finance = org.get_by_code_or_404(db, "PD-CZ")
        before = service.proactive_figures(db, year=2027, department_id=finance.id)
        assert before.published_total == 0 and before.by_genre == {}
        drafter = accounts.load_principal(db, f"user:{accounts.get_by_username(db, CZ_DRAFTER).id}")
        reviewer = accounts.load_principal(db, f"user:{accounts.get_by_username(db, CZ_REVIEWER).id}")
        made = []
        with clock.frozen(clock.SystemClock().now().replace(year=2027, month=3, day=15)):
            for genre, openness in ((Genre.NORMATIVE, Openness.PROACTIVE), (Genre.NORMATIVE, Openness.PROACTIVE),
                                    (Genre.BUDGET, Openness.PROACTIVE), (Genre.NOTICE, Openness.ON_REQUEST)):
                document = documents.create_draft(db, department=finance, actor=drafter, fields=DocumentFields(
                    title=f"二〇二七年文件{len(made)}", issued_on=date(2027, 3, 1), theme=Theme.FINANCE, genre=genre,
                    openness=openness, body="正文"))
                documents.submit(db, document, drafter)
                documents.review(db, document, decision=ReviewDecision.APPROVE, ground="同意公开", actor=reviewer)
                made.append(documents.publish(db, document, reviewer))
            documents.set_validity(db, made[0], validity=Validity.REPEALED, replaced_by=made[1].index_number, note=None,
                                   actor=reviewer)
            documents.withdraw(db, made[2], reason="数据有误", actor=reviewer)
        figures = service.proactive_figures(db, year=2027, department_id=finance.id)
        # Four published in 2027, one of them 依申请公开: three 主动公开 (a withdrawal does not unpublish the past).
        assert figures.published_total == 3
        assert figures.by_genre == {"规范性文件": 2, "财政预决算": 1}
        # In force at the year's end: those of earlier years still in force (the demo's), and of this
        # year's not the repealed one, not the withdrawn one, not the 依申请公开 one.
        assert figures.in_force_total == before.in_force_total + 1
        district = service.proactive_figures(db, year=2027, department_id=None)
        assert district.published_total == 3
        assert service.proactive_figures(db, year=2027, department_id=org.get_by_code_or_404(db, "PD-TJ").id).published_total == 0
        assert audit.action_label("disclosure.publish") == "发布公开文件"
