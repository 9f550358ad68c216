"""Five ordinary items of five departments applied for online with uploads by the demo citizen,
each accepted at the window and approved by a reviewer of the item's department; and one
walk-in application the clerk files at the window for the citizen, who then finds it as theirs.
Each ends with the licence the citizen downloads from the application page, read back as a PDF."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from tongban import demo

from .conftest import screenshot, signed_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# (item, its department's reviewer): published demo items of five departments, applied for by a
# person, each with a licence as its result (身份证, 个体工商户营业执照, 不动产权证书, 教师资格证书,
# 公共场所卫生许可证).
ITEMS = (("000107013000", "reviewer.ga"), ("000121007000", "reviewer"), ("000113010000", "reviewer.ghzy"),
         ("000108007000", "reviewer.jy"), ("000125004000", "reviewer.wjw"))
WALK_IN = "000107010000"  # 上海市居住证办理 (公安分局), filed at the window


def _fill_and_submit(page, button: str = "提交申请") -> str:
    for field in page.locator("#apply-form input[required]:not([type=file]), #apply-form textarea[required]").all():
        if not field.input_value():
            field.fill("按办事指南申请本事项")
    for select in page.locator("#apply-form select[name^=answer_]").all():
        select.select_option(index=1)
    for upload in page.locator("#apply-form input[type=file]").all():
        upload.set_input_files(files=[{"name": "材料.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/applications/BJ-*")
    return page.locator(".number").inner_text().strip()


def _accept(browser, live_server, number):
    context, clerk = signed_in(browser, live_server, "clerk")
    clerk.goto(f"{live_server}/staff/window")
    clerk.locator(f"#case-{number}").get_by_role("button", name="受理", exact=True).click()
    assert "办理中" in clerk.locator(".flash").inner_text()
    context.close()


def _approve(browser, live_server, reviewer, number):
    context, page = signed_in(browser, live_server, reviewer)
    page.goto(f"{live_server}/staff/tasks")
    page.get_by_role("link", name=number).first.click()
    assert "材料.pdf" in page.inner_text("main")  # the uploaded files, listed for the reviewer
    page.get_by_label("办理意见").fill("材料齐全，符合条件，同意。")
    page.get_by_role("button", name="同意").click()
    page.wait_for_url(f"{live_server}/staff/tasks")
    context.close()


def _licence(page, live_server: str) -> tuple[str, str]:
    """The licence the application page offers (下载证照（PDF）), fetched with the citizen's own
    session as the link fetches it: (its number, the PDF's text read back)."""
    entry = page.locator("#licences li").first
    number = re.search(r"证照编号\s*([^，）\s]+)", entry.inner_text()).group(1)
    href = entry.get_by_role("link", name="下载证照（PDF）").get_attribute("href")
    response = page.request.get(live_server + href)
    assert response.ok and response.headers["content-type"] == "application/pdf", (href, response.status)
    return number, re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.body())).pages))


def test_five_items_online_and_one_at_the_window(browser, live_server, database):
    context, citizen = signed_in(browser, live_server, demo.CITIZEN.username)
    numbers = {}
    for code, _reviewer in ITEMS:
        citizen.goto(f"{live_server}/services/{code}")
        citizen.locator("#apply-online").click()
        citizen.wait_for_url(f"{live_server}/apply/{code}")
        assert citizen.locator("#materials li").count() >= 1
        if code == ITEMS[0][0]:
            # Missing a needed upload: told next to the material, nothing filed.
            citizen.locator("#apply-form [name=field_request]").fill("补领身份证")
            for select in citizen.locator("#apply-form select[name^=answer_]").all():
                select.select_option(index=1)
            citizen.get_by_role("button", name="提交申请").click()
            citizen.wait_for_load_state()
            if citizen.locator("#apply-form input[type=file]").count():
                assert citizen.locator(".field-error").count() >= 1 and "未提交" in citizen.inner_text("#problems")
            screenshot(citizen, f"apply-item-1280-{database.engine_name}")
        numbers[code] = _fill_and_submit(citizen)
        assert citizen.locator("#status").inner_text() == "待受理"
    phone_context, phone = signed_in(browser, live_server, demo.CITIZEN.username, width=390)
    phone.goto(f"{live_server}/apply/{ITEMS[2][0]}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, f"apply-item-390-{database.engine_name}")
    phone_context.close()

    for code, reviewer in ITEMS:
        _accept(browser, live_server, numbers[code])
        _approve(browser, live_server, reviewer, numbers[code])
        citizen.goto(f"{live_server}/applications/{numbers[code]}")
        assert citizen.locator("#status").inner_text() == "已办结（准予）"
        licence, text = _licence(citizen, live_server)
        assert licence in text and "张伟" in text, (code, text[:300])

    # 窗口代办: the clerk looks the citizen up with a purpose, files with uploads.
    clerk_context, clerk = signed_in(browser, live_server, "clerk")
    clerk.goto(f"{live_server}/apply/{WALK_IN}")
    clerk.get_by_label("申请人身份证号").fill(demo.CITIZEN.username)
    clerk.get_by_label("查询用途").fill("窗口代办居住证，核对申请人信息")
    clerk.get_by_role("button", name="查询并填写申请").click()
    clerk.wait_for_load_state()
    assert "张伟" in clerk.inner_text("#on-behalf")
    assert clerk.locator("#field_applicant_name").input_value() == "张伟"
    screenshot(clerk, f"apply-walk-in-1280-{database.engine_name}")
    walk_in = _fill_and_submit(clerk, button="代为提交申请")
    clerk_context.close()
    citizen.goto(f"{live_server}/applications")
    assert walk_in in citizen.inner_text("main")
    citizen.goto(f"{live_server}/applications/{walk_in}")
    assert "窗口代办" in citizen.inner_text("main")
    _accept(browser, live_server, walk_in)
    _approve(browser, live_server, "reviewer.ga", walk_in)
    citizen.goto(f"{live_server}/applications/{walk_in}")
    assert citizen.locator("#status").inner_text() == "已办结（准予）"
    licence, text = _licence(citizen, live_server)
    assert licence in text and "张伟" in text
    context.close()
