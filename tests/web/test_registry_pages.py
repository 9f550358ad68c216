"""Registry pages in a real browser: look up, see history, propose a correction, the source accepts it."""

from __future__ import annotations

import re

import httpx
import pytest

from tongban import demo

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_lookup_correction_and_acceptance_through_the_pages(browser, live_server, database):
    from helpers import fresh_resident_id

    number = fresh_resident_id()
    with httpx.Client(base_url=live_server) as api:
        token = api.post("/api/v1/auth/token", data={"grant_type": "password", "username": "steward",
                                                     "password": demo.DEMO_PASSWORD}).json()["access_token"]
        created = api.post("/api/v1/registries/persons", headers={"Authorization": f"Bearer {token}"}, json={
            "values": {"id_number": number, "name": "黄晓峰", "ethnicity": "汉族", "residence_status": "户籍",
                       "household_address": "上海市浦东新区张杨路500弄3号201室"}, "reason": "户籍登记"})
        assert created.status_code == 201, created.text

    clerk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clerk, live_server, "clerk", landing="/staff")
    clerk.get_by_role("link", name="基础库查询").click()
    clerk.get_by_label("主键（身份证号 / 统一社会信用代码 / 地址编码）").fill(number)
    clerk.get_by_role("button", name="查询").click()
    assert "黄**" in clerk.inner_text("main")  # masked until a purpose is given
    clerk.get_by_label("查阅用途").fill("窗口核验身份")
    clerk.get_by_role("button", name="查看明文").click()
    assert "黄晓峰" in clerk.inner_text("main")
    assert "上海市公安局浦东分局" in clerk.inner_text("main")  # the source of each field is shown
    clerk.get_by_label("字段").select_option("name")
    clerk.get_by_label("建议值").fill("黄小峰")
    clerk.get_by_label("理由与依据").fill("申请人出示户口簿，姓名为黄小峰")
    clerk.get_by_role("button", name="提交纠错申请").click()
    assert "已提交" in clerk.inner_text("main")
    correction = re.search(r"纠错申请 #(\d+) 已提交", clerk.inner_text("main")).group(1)
    clerk.context.close()

    steward = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(steward, live_server, "steward", landing="/staff")
    steward.get_by_role("link", name="纠错申请").click()
    assert number not in steward.inner_text("main")  # the list is masked, always
    screenshot(steward, f"corrections-{database.engine_name}")
    steward.get_by_role("link", name=f"#{correction}", exact=True).click()
    assert number not in steward.inner_text("main")  # masked until a purpose is stated
    steward.get_by_label("查阅用途").fill("处理纠错申请")
    steward.get_by_role("button", name="查看明文").click()
    assert number in steward.inner_text("main") and "黄小峰" in steward.inner_text("main")
    steward.get_by_label("处理意见").fill("经核实户籍档案，予以更正")
    screenshot(steward, f"correction-{database.engine_name}")
    steward.get_by_role("button", name="采纳", exact=True).click()
    steward.wait_for_url(f"{live_server}/staff/corrections")
    assert number not in steward.inner_text("main")
    steward.get_by_role("link", name=f"#{correction}", exact=True).click()
    assert "已采纳" in steward.inner_text("main")
    # A purpose in a link does nothing: it is stated with the page's POST form.
    steward.goto(f"{live_server}/staff/registry/persons/{number}?purpose=核对")
    assert "黄小峰" not in steward.inner_text("main") and "黄**" in steward.inner_text("main")
    steward.get_by_label("查阅用途").fill("核对")
    steward.get_by_role("button", name="查看明文").click()
    assert "黄小峰" in steward.inner_text("main")
    steward.get_by_role("button", name="对比").click()
    assert "已变更" in steward.inner_text("main") and "黄晓峰" in steward.inner_text("main")
    screenshot(steward, f"registry-compare-{database.engine_name}")
    steward.context.close()


def test_import_page_on_a_phone(browser, live_server, database, tmp_path):
    """A steward uploads a file from the workbench at 390 px wide and sees the job in Chinese."""
    from helpers import fresh_resident_id

    number = fresh_resident_id()
    upload = tmp_path / "手机导入.csv"
    upload.write_text(f"id_number,name,ethnicity,household_address,residence_status\n"
                      f"{number},秦晓东,汉族,上海市浦东新区张杨路600弄1号101室,户籍\n", encoding="utf-8")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    sign_in(phone, live_server, "steward", landing="/staff")
    phone.get_by_role("link", name="批量导入").click()
    phone.get_by_label("基础库").select_option("persons")
    phone.get_by_label("文件（CSV / XLSX）").set_input_files(str(upload))
    phone.get_by_role("button", name="上传并导入").click()
    assert "已开始导入" in phone.inner_text("main")
    for _ in range(50):  # the import runs in its own thread: look again until it has finished
        if "已完成" in phone.locator("tr", has_text="手机导入.csv").inner_text():
            break
        phone.reload()
    assert "已完成" in phone.locator("tr", has_text="手机导入.csv").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The status tag keeps 已完成 on one line (the table scrolls in its wrapper instead)
    tag = phone.locator("tr", has_text="手机导入.csv").locator(".tag")
    lines = "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
    assert tag.evaluate(lines) == 1
    assert "北京时间" in phone.locator("thead").inner_text()
    # The record's three columns fit a phone: row headings wrap, the authority column is not cut off
    phone.goto(f"{live_server}/staff/registry/persons/{number}")
    fields = phone.locator(".table-wrap").first
    assert fields.evaluate("e => e.scrollWidth <= e.clientWidth")
    screenshot(phone, f"registry-imports-phone-{database.engine_name}")
    phone.context.close()
