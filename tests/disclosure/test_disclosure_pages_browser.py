"""In a real browser: 财政局's drafter drafts a document with an attachment, the reviewer does the
保密审查 and publishes (on a phone), a citizen finds it in 公开目录 and opens it (on a phone too)."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from web.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


def _docx(*paragraphs: str) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>')
    return buffer.getvalue()


def test_draft_review_publish_and_a_citizen_reads_it(browser, live_server, database):
    title = f"关于区级部门预算公开的通知（浏览器{uuid.uuid4().hex[:4]}）"

    context, page = signed_in(browser, live_server, "gk.drafter")
    page.goto(f"{live_server}/staff")
    page.get_by_role("link", name="政府信息公开").first.click()
    page.get_by_role("link", name="起草公开文件").click()
    page.get_by_label("标题").fill(title)
    page.get_by_label("文号").fill("浦财〔2026〕130号")
    page.get_by_label("成文日期").fill("2026-12-01")
    page.get_by_label("主题分类").select_option(label="财政、金融、审计")
    page.get_by_label("体裁分类").select_option(label="财政预决算")
    page.get_by_label("正文").fill("根据《预算法》，现将浦东新区财政局2027年部门预算公开。\n一、收支总体情况。")
    page.get_by_label("附件", exact=False).set_input_files(files=[{
        "name": "部门预算说明.docx", "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "buffer": _docx("部门预算说明", "一般公共预算拨款收入 3.2 亿元")}])
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(lambda url: "/disclosure/manage/PD-CZ-" in url)
    index_number = page.url.rsplit("/", 1)[1]
    assert "部门预算说明.docx" in page.content() and "公开期限" in page.content()
    page.get_by_role("button", name="提交保密审查").click()
    assert page.locator("#status").inner_text() == "待保密审查"
    context.close()

    context, page = signed_in(browser, live_server, "gk.reviewer", width=390, is_mobile=True, has_touch=True)  # the reviewer on a phone
    page.goto(f"{live_server}/disclosure/manage?view=review")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 391
    page.get_by_role("link", name=index_number).click()
    page.get_by_label("通过：不涉及国家秘密、工作秘密，可以公开").check()
    page.get_by_label("审查意见及依据").fill("经审查，内容为部门预算，不涉及国家秘密和工作秘密，同意公开。")
    page.get_by_role("button", name="提交审查意见").click()
    assert page.locator("#status").inner_text() == "审查通过待发布"
    page.get_by_role("button", name="发布到公开目录").click()
    assert page.locator("#status").inner_text() == "已公开"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 391
    screenshot(page, f"disclosure-staff-published-{database.engine_name}")
    context.close()

    # A citizen, on a phone: 信息公开 → 公开目录 → 财政局 → the document → its attachment.
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="信息公开").first.click()
    page.get_by_role("link", name="政府信息公开目录").click()
    page.get_by_role("link", name="浦东新区财政局").click()
    page.get_by_role("link", name=title).click()
    page.wait_for_url(f"{live_server}/disclosure/documents/{index_number}")
    facts = page.locator("#catalog-fields").inner_text()
    for expected in (index_number, "浦财〔2026〕130号", "浦东新区财政局", "2026-12-01", "财政预决算", "主动公开", "有效"):
        assert expected in facts, expected
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 391
    screenshot(page, f"disclosure-citizen-document-{database.engine_name}")
    with page.expect_download() as download:
        page.get_by_role("link", name="部门预算说明.docx").click()
    assert download.value.suggested_filename == "部门预算说明.docx"
    with zipfile.ZipFile(download.value.path()) as archive:
        assert "一般公共预算拨款收入" in archive.read("word/document.xml").decode()
    context.close()
