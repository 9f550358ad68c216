"""A department's staff member edits an item through the form — a time limit, a new material, a
situation — and submits; the reviewer reads the side-by-side diff naming those changes and publishes;
the public item page shows the new material."""

from __future__ import annotations

import pytest

from web.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser

MARRIAGE = "000110010000"  # 内地居民结婚登记, 民政局 — edited in this test only


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        page.evaluate("document.documentElement.scrollWidth")


def test_staff_edit_through_the_form_and_the_reviewer_publishes_from_the_diff(browser, live_server):
    context, page = signed_in(browser, live_server, "steward.mz")
    try:
        page.goto(f"{live_server}/staff/items/{MARRIAGE}")
        page.get_by_role("link", name="用表单编辑").click()
        page.wait_for_url(f"**/staff/items/{MARRIAGE}/edit")
        page.get_by_label("承诺办结时限（工作日）").fill("1")
        # A mistake first: the page says what is wrong beside the field and keeps what was typed.
        page.get_by_label("法定办结时限（工作日）").fill("0")
        page.get_by_role("button", name="保存草稿").first.click()
        page.wait_for_load_state()
        error = page.locator("#err-committed_days")
        assert error.inner_text() == "承诺时限（1 个工作日）超过法定时限（0 个工作日）"
        screenshot(page, "item-editor-error")
        page.get_by_label("法定办结时限（工作日）").fill("1")

        materials = page.locator("#materials fieldset.editor-row").count()
        page.get_by_role("button", name="添加一行：申请材料").click()
        page.wait_for_load_state()
        assert page.locator("#materials fieldset.editor-row").count() == materials + 1
        new = page.locator("#materials fieldset.editor-row").last
        new.get_by_label("材料名称").fill("婚前医学检查证明")
        new.get_by_label("材料形式").select_option("原件")
        new.get_by_label("填写说明").fill("自愿提供，可在区妇幼保健所免费检查")
        situation = page.locator("#situations > fieldset.editor-row").first
        question = situation.get_by_label("问题", exact=True)
        question.fill(question.input_value().rstrip("？") + "（请如实选择）？")
        edited_question = question.input_value()
        screenshot(page, "item-editor")
        page.get_by_role("button", name="保存草稿").last.click()
        page.wait_for_url(f"**/staff/items/{MARRIAGE}")
        assert "草稿" in page.locator(".flash").inner_text()
        page.get_by_role("button", name="提交审核").click()
        page.wait_for_load_state()
        assert "已提交审核" in page.locator(".flash").inner_text()
    finally:
        context.close()

    for width in (1280, 390):
        context, page = signed_in(browser, live_server, "admin", width)
        try:
            page.goto(f"{live_server}/staff/items/{MARRIAGE}")
            page.get_by_role("link", name="对照审核").click()
            page.wait_for_load_state()
            summary = page.locator(".alert").first.inner_text()
            for change in ("修改「承诺办结时限」", f"修改情形「{edited_question}」", "新增材料「婚前医学检查证明」"):
                assert change in summary, summary
            changed = page.locator(".diff .label.changed").all_inner_texts()
            assert any("承诺办结时限" in text for text in changed)
            assert page.locator(".diff .label.added", has_text="婚前医学检查证明").count() == 1
            _no_horizontal_scroll(page)
            screenshot(page, f"item-review-{width}")
            if width == 390:
                page.get_by_role("button", name="审核通过并发布").click()
                page.wait_for_load_state()
                assert "已发布" in page.locator(".flash").inner_text()
        finally:
            context.close()

    for width in (1280, 390):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{live_server}/services/{MARRIAGE}")
            body = page.locator("main").inner_text()
            assert "婚前医学检查证明" in body and "承诺 1 个工作日" in body
            screenshot(page, f"item-public-after-edit-{width}")
        finally:
            context.close()


def test_the_editor_and_the_import_page_fit_a_phone(browser, live_server):
    context, page = signed_in(browser, live_server, "steward.mz", 390)
    try:
        page.goto(f"{live_server}/staff/items/000110013000/edit")
        _no_horizontal_scroll(page)
        screenshot(page, "item-editor-390")
        page.goto(f"{live_server}/staff/items/import")
        _no_horizontal_scroll(page)
        exported = page.request.get(f"{live_server}/api/v1/items/export/xlsx")
        assert exported.ok
        page.get_by_label("Excel 文件（.xlsx，不超过 20 MB）").set_input_files(
            files=[{"name": "事项.xlsx", "mimeType": "application/octet-stream", "buffer": exported.body()}])
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_load_state()
        result = page.locator("#result").inner_text()
        assert "无变化" in result and "无变化的事项不再列出" in result
        # An unedited export creates nothing and changes nothing this department may change.
        assert "新建 0 项" in result
        _no_horizontal_scroll(page)
        screenshot(page, "item-import-390")
    finally:
        context.close()
