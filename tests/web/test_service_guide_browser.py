"""A citizen finds what to do from the portal, answers the guide's questions, and prints the notice."""

from __future__ import annotations

import io

import pypdf
import pytest
from playwright.sync_api import expect

from web.conftest import screenshot

pytestmark = pytest.mark.browser


def test_from_the_portal_search_to_a_printed_notice(page, live_server):
    page.goto(f"{live_server}/")
    page.get_by_label("想办的事").fill("马路要开挖埋电缆找谁批")
    page.get_by_role("button", name="查找办事指南").click()
    page.wait_for_url("**/services?**")
    results = page.locator(".results li")
    assert results.count() >= 3
    assert "匹配原因" in results.first.inner_text()
    screenshot(page, "service-search")

    page.get_by_role("link", name="道路挖掘（占用）许可").click()
    assert "16 种情形" in page.locator("main").inner_text()
    page.get_by_role("link", name="开始智能导航").click()

    for answer in ("计划性施工（新建、改建、迁移管线等）", "城市道路（含人行道）", "非开挖施工（顶管、定向钻等）", "不需要"):
        page.get_by_label(answer).check()
        page.get_by_role("button", name="下一步").click()
    # Waits for the last answer's page (is_visible() did not: it could look at the page still loading).
    expect(page.get_by_role("button", name="生成告知单")).to_be_visible()
    screenshot(page, "service-guide")
    page.get_by_role("button", name="生成告知单").click()
    page.wait_for_url("**/notices/GZ-*")
    number = page.locator(".number").inner_text()
    body = page.locator("main").inner_text()
    assert "物探报告" in body and "免提交" in body and "开挖断面图" not in body
    assert body.index("企业投资项目备案") < body.index("建设工程规划许可证核发") < body.index("地下管线保护监护交底")
    screenshot(page, "service-notice")

    href = page.get_by_role("link", name="下载 PDF（A4 可打印）").get_attribute("href")
    pdf = page.request.get(f"{live_server}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.body())).pages).replace("\n", "")
    for expected in (number, "道路挖掘（占用）许可", "物探报告", "工作井设置位置图及专家书面意见",
                     "交通组织方案及公安交通管理部门意见", "申请单位营业执照", "免提交", "掘路工程文明施工承诺确认"):
        assert expected in text, expected
    assert "夜间施工作业证明" not in text

    # The number reopens it.
    page.goto(f"{live_server}/services")
    page.get_by_label("告知单编号").fill(number)
    page.get_by_role("button", name="打开").click()
    assert page.locator(".number").inner_text() == number
