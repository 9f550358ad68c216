"""随手拍 in a real browser: a resident on a 390-px-wide phone opens it from the portal's home,
reports with the device's position and a photo, and finds the report in 「我的上报」; a refused
photo is told on the page with the form kept. Screenshots under test-artifacts/grid/."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from browser_fixtures import signed_in
from helpers import bearer

from tongban import demo

from .test_grid_browser import PHONE, _inside_a_cell, _jpeg, _shot, _watch

pytestmark = pytest.mark.browser


def test_a_resident_reports_from_the_phone_and_follows_it(browser, live_server):
    lon, lat, _ = _inside_a_cell(live_server)
    context, phone = signed_in(browser, live_server, demo.CITIZEN.username, width=PHONE,
                               geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    errors: list[str] = []
    _watch(phone, errors)

    phone.goto(f"{live_server}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "30-portal-home")
    phone.get_by_role("link", name="随手拍").click()
    phone.wait_for_url(f"{live_server}/grid/public-reports/new")
    phone.locator(".leaflet-wg-base-pane path.wg-street").first.wait_for(state="attached")  # the platform's own base layer
    options = phone.locator("#category option")
    garbage = next(i for i in range(options.count()) if options.nth(i).inner_text().strip() == "暴露垃圾")
    phone.select_option("#major", options.nth(garbage).get_attribute("data-major"))
    phone.select_option("#category", options.nth(garbage).get_attribute("value"))
    assert phone.locator("#condition-text").inner_text()

    # first a file that is not a picture: refused on the page, the form kept
    phone.get_by_role("button", name="使用当前位置").click()
    phone.locator("#position-text", has_text="设备定位").wait_for()
    phone.get_by_label("问题描述").fill("小区门口人行道上垃圾堆积多日无人清运")
    phone.get_by_label("地址（可不填）").fill("浦东南路 1000 号门前")
    phone.set_input_files("#photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture"}])
    phone.get_by_role("button", name="提交上报").click()
    phone.locator("#report-error", has_text="照片不是可识别的图片").wait_for()
    assert phone.get_by_label("问题描述").input_value() == "小区门口人行道上垃圾堆积多日无人清运"
    phone.locator("#position-text", has_text="手动输入").wait_for()  # the pin is back where it was
    assert phone.locator("path.wg-cell").count() == 0  # the cells are the staff's, not shown here

    phone.set_input_files("#photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": _jpeg("#8a6d3b")}])
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "31-resident-reports")
    phone.get_by_role("button", name="提交上报").click()
    phone.wait_for_url(re.compile(r".*/grid/public-reports/WG-[\w-]+$"))
    number = phone.url.rsplit("/", 1)[1]
    phone.locator(".flash", has_text=number).wait_for()
    assert "待立案" in phone.locator("#report-status").inner_text()
    assert phone.locator("#report-steps li").count() == 1
    assert phone.locator("img.wg-thumb").count() == 1
    assert phone.locator("img.wg-thumb").evaluate("img => img.complete && img.naturalWidth > 0")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "32-resident-reported")

    phone.get_by_role("link", name="我的上报").first.click()
    phone.wait_for_url(f"{live_server}/grid/public-reports")
    row = phone.locator("#my-reports tbody tr", has_text=number)
    assert "暴露垃圾" in row.inner_text() and "待立案" in row.inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row.inner_text())
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "33-my-reports")

    # the centre registers and dispatches, the department handles, a supervisor checks: the
    # resident reads each step with the body that took it, and the department's reply
    with httpx.Client(base_url=live_server, timeout=30) as api:
        centre = bearer(api, "grid.centre")
        api.post(f"/api/v1/grid/cases/{number}/register", headers=centre, json={"note": "内部备注"}).raise_for_status()
        api.post(f"/api/v1/grid/cases/{number}/dispatch", headers=centre, json={}).raise_for_status()
        api.post(f"/api/v1/grid/cases/{number}/handle", headers=bearer(api, "grid.lhsr"),
                 data={"result": "已安排保洁员清运，现场已清理干净"}).raise_for_status()
        api.post(f"/api/v1/grid/cases/{number}/verify", headers=bearer(api, "grid"), data={"fixed": "true"}).raise_for_status()
    row.get_by_role("link", name=number).click()
    assert "已结案" in phone.locator("#report-status").inner_text()
    assert phone.locator("#report-reply").inner_text() == "已安排保洁员清运，现场已清理干净"
    assert phone.locator("#report-steps li").count() == 5
    assert "绿化和市容" in phone.locator("#report-steps").inner_text()
    assert "内部备注" not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "34-resident-reads-the-reply")
    assert not errors, json.dumps(errors, ensure_ascii=False)
    context.close()
