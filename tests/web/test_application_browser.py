"""One application in a real browser: a citizen applies online with prefilled fields, the window
accepts it, reviewers of several departments approve in parallel, the citizen sees the result."""

from __future__ import annotations

import uuid

import pytest

from tongban import demo

from .conftest import screenshot, signed_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _approve_in(browser, live_server: str, username: str, number: str, database) -> None:
    context, page = signed_in(browser, live_server, username)
    try:
        page.goto(f"{live_server}/staff/tasks")
        page.get_by_role("link", name=number).first.click()
        assert "共享数据" in page.inner_text("main")  # the applicant's registry record, read for the case
        page.get_by_label("办理意见").fill("材料齐全，符合法定条件，同意。")
        if username == "reviewer.sw":
            screenshot(page, f"case-task-{database.engine_name}")
        page.get_by_role("button", name="同意").click()
        page.wait_for_url(f"{live_server}/staff/tasks")
        assert "同意" in page.locator(".flash").inner_text()
    finally:
        context.close()


def test_citizen_applies_online_and_departments_approve_in_parallel(browser, live_server, database):
    context, citizen = signed_in(browser, live_server, demo.CITIZEN.username)
    citizen.goto(f"{live_server}/apply")
    citizen.get_by_role("link", name="企业开办一件事").click()
    # Prefilled from the population registry, with the source shown.
    assert citizen.get_by_label("申请人（拟任法定代表人）姓名").input_value() == "张伟"
    assert citizen.get_by_label("联系电话").input_value() == "13916881234"
    assert "来源：人口库" in citizen.inner_text("main")
    name = f"上海浏览器测试{uuid.uuid4().hex[:6]}科技有限公司"
    citizen.get_by_label("拟设立企业名称").fill(name)
    citizen.get_by_label("企业类型").select_option("有限责任公司")
    citizen.get_by_label("注册资本（万元）").fill("50")
    citizen.locator("#field_registered_address").fill("上海市浦东新区张江路100号")  # the enterprise's, never prefilled
    citizen.get_by_label("经营范围").fill("软件开发；技术服务")
    citizen.get_by_label("刻制印章枚数").fill("2")
    citizen.get_by_label("参保职工人数").fill("3")
    citizen.get_by_label("公积金缴存比例（%）").fill("7")
    for situation in citizen.locator("select[name^=answer_]").all():  # the situations decide the materials
        situation.select_option(index=1)
    for upload in citizen.locator("input[type=file]").all():  # one upload per material
        upload.set_input_files(files=[{"name": "材料.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    screenshot(citizen, f"case-apply-{database.engine_name}")
    citizen.get_by_role("button", name="提交申请").click()
    citizen.wait_for_url(f"{live_server}/applications/BJ-*")
    number = citizen.locator(".number").inner_text().strip()
    assert citizen.locator("#status").inner_text() == "待受理"

    clerk_context, clerk = signed_in(browser, live_server, "clerk")
    clerk.goto(f"{live_server}/staff/window")
    clerk.locator(f"#case-{number}").get_by_role("button", name="受理", exact=True).click()
    assert "办理中" in clerk.locator(".flash").inner_text()
    clerk_context.close()

    _approve_in(browser, live_server, "reviewer", number, database)  # 营业执照 first
    for reviewer in ("reviewer.ga", "reviewer.sw", "reviewer.rs", "reviewer.gjj"):  # then four departments at once
        _approve_in(browser, live_server, reviewer, number, database)

    citizen.goto(f"{live_server}/applications/{number}")
    assert citizen.locator("#status").inner_text() == "已办结（准予）"
    assert "营业执照（含电子营业执照）" in citizen.locator("#licences").inner_text()
    assert "新设企业已登记入法人库" in citizen.inner_text("main")
    screenshot(citizen, f"case-result-{database.engine_name}")
    context.close()
