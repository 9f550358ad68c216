"""A city-management case in a real browser, each person on their own page: the supervisor reports
from a 390-px-wide phone (the device's position, a photo), the centre registers and dispatches, the
department handles with a photo, the supervisor checks it closed; the centre's map shows the
case's state at each step; a resident reports from the portal (随手拍) on a phone and reads the
reply in 「我的上报」. Screenshots under test-artifacts/grid/."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in, watch_errors
from helpers import bearer
from PIL import Image
from shapely.geometry import shape

from tongban import demo

pytestmark = pytest.mark.browser

PHONE = 390


def _jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def _inside_a_cell(live_server: str) -> tuple[float, float, str]:
    """A point well inside a 陆家嘴 cell (lon, lat, cell code), from the grid API."""
    with httpx.Client(base_url=live_server, timeout=30) as api:
        cells = api.get("/api/v1/grid/cells.geojson", params={"bbox": "121.505,31.228,121.515,31.234"},
                        headers=bearer(api, "grid")).json()["features"]
    cell = max(cells, key=lambda f: f["properties"]["area_m2"])
    point = shape(cell["geometry"]).representative_point()
    return round(point.x, 6), round(point.y, 6), cell["properties"]["code"]


def _shot(page, name: str) -> None:
    (ARTIFACTS / "grid").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"grid/{name}")



def _map_shows(page, base: str, number: str, status: str, label: str, shot: str, *, closed: bool = False) -> None:
    """The centre's map: the case's marker carries its state's class, its popup the state's label."""
    page.goto(f"{base}/grid/map")
    if closed:
        page.get_by_label("已结案").check()
    marker = page.locator(f'path.wg-case[data-number="{number}"]')
    marker.wait_for(state="attached", timeout=15000)
    assert f"st-{status}" in (marker.get_attribute("class") or "").split()
    marker.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert number in popup.inner_text() and label in popup.inner_text()
    page.wait_for_timeout(400)  # the popup's fade-in
    _shot(page, shot)


def test_a_case_from_the_phone_report_to_its_close(browser, live_server):
    lon, lat, cell = _inside_a_cell(live_server)

    # 信息收集: on a phone, the device's position, a photo
    phone, supervisor = signed_in(browser, live_server, "grid", width=PHONE, geolocation={"longitude": lon, "latitude": lat},
                                  permissions=["geolocation"])
    errors: list[str] = []
    watch_errors(supervisor, errors)
    supervisor.goto(f"{live_server}/grid/report")
    options = supervisor.locator("#category option")
    garbage = next(i for i in range(options.count()) if options.nth(i).inner_text().strip() == "暴露垃圾")
    supervisor.select_option("#major", options.nth(garbage).get_attribute("data-major"))
    supervisor.select_option("#category", options.nth(garbage).get_attribute("value"))
    assert supervisor.locator("#condition-text").inner_text()
    supervisor.get_by_role("button", name="使用当前位置").click()
    supervisor.locator("#position-text", has_text="设备定位").wait_for()
    supervisor.locator("#cell-text", has_text=cell).wait_for()
    supervisor.locator("path.wg-cell").first.wait_for(state="attached")
    assert "绿化和市容" in supervisor.locator("#cell-text").inner_text()
    supervisor.get_by_label("问题描述").fill("人行道旁有成堆生活垃圾未清运")
    supervisor.set_input_files("#photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": _jpeg("#8a6d3b")}])
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(supervisor, "01-supervisor-reports")
    supervisor.get_by_role("button", name="提交上报").click()
    supervisor.wait_for_url(re.compile(r".*/grid/cases/WG-[\w-]+$"))
    number = supervisor.url.rsplit("/", 1)[1]
    assert "待立案" in supervisor.locator("#case-status").inner_text()
    supervisor.locator("path.wg-cell-chosen").wait_for(state="attached")  # the case's cell on its small map
    assert supervisor.locator("img.wg-thumb").count() == 1
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(supervisor, "02-supervisor-reported")

    # the centre registers and dispatches (the proposed department preselected); its map follows
    office, centre = signed_in(browser, live_server, "grid.centre")
    watch_errors(centre, errors)
    _map_shows(centre, live_server, number, "reported", "待立案", "03-map-reported")
    centre.goto(f"{live_server}/grid/cases")
    _shot(centre, "03a-centre-cases")
    centre.get_by_role("link", name=number).click()
    centre.get_by_role("button", name="立案", exact=True).click()
    centre.locator(".flash", has_text="已立案").wait_for()
    _map_shows(centre, live_server, number, "registered", "待派遣", "04-map-registered")
    centre.goto(f"{live_server}/grid/cases/{number}")
    assert "（系统建议）" in centre.locator("#dispatch-department option:checked").inner_text()
    _shot(centre, "05-centre-dispatches")
    centre.get_by_role("button", name="派遣", exact=True).click()
    centre.locator(".flash", has_text="已派遣").wait_for()
    _map_shows(centre, live_server, number, "dispatched", "处置中", "06-map-dispatched")

    # the department handles it, with a photo of the result
    department, handler = signed_in(browser, live_server, "grid.lhsr")
    watch_errors(handler, errors)
    handler.goto(f"{live_server}/grid/cases")
    _shot(handler, "06a-department-cases")
    handler.get_by_role("link", name=number).click()
    handler.get_by_label("处置结果").fill("已安排保洁员清运，现场已清理")
    handler.set_input_files("#handle-photos", files=[{"name": "处置后.jpg", "mimeType": "image/jpeg", "buffer": _jpeg("#3b8a4a")}])
    _shot(handler, "07-department-handles")
    handler.get_by_role("button", name="提交处置结果").click()
    handler.locator(".flash", has_text="处置结果已反馈").wait_for()
    _map_shows(centre, live_server, number, "handled", "待核查", "08-map-handled")

    # the supervisor checks on site: fixed, closed
    supervisor.goto(f"{live_server}/grid/cases")
    _shot(supervisor, "08a-supervisor-cases")
    supervisor.get_by_role("link", name=number).click()
    supervisor.get_by_label("已解决，结案").check()
    supervisor.get_by_label("现场情况（未解决时必填）").fill("现场已清理干净")
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(supervisor, "09-supervisor-verifies")
    supervisor.get_by_role("button", name="提交核查结果").click()
    supervisor.locator(".flash", has_text="已结案").wait_for()
    assert "已结案" in supervisor.locator("#case-status").inner_text()
    assert supervisor.locator("#trail li").count() >= 5
    _shot(supervisor, "10-supervisor-closed")
    _map_shows(centre, live_server, number, "closed", "已结案", "11-map-closed", closed=True)

    # the evaluation counts the day's steps
    centre.goto(f"{live_server}/grid/evaluation")
    assert "绿化和市容" in centre.locator("#evaluation-1").inner_text()
    _shot(centre, "12-evaluation")
    assert not errors, json.dumps(errors, ensure_ascii=False)
    for context in (phone, office, department):
        context.close()


def test_without_the_devices_position_the_supervisor_places_a_pin(browser, live_server):
    """Location refused: the page says so and asks for a pin; a tap places it; a file that is not
    a picture is refused on the page with the form kept."""
    context, phone = signed_in(browser, live_server, "grid", width=PHONE)
    errors: list[str] = []
    watch_errors(phone, errors)
    phone.goto(f"{live_server}/grid/report")
    phone.get_by_role("button", name="使用当前位置").click()
    phone.locator("#position-text.wg-position-error", has_text="无法获取当前位置").wait_for()
    assert "请在地图上点选" in phone.locator("#position-text").inner_text()
    phone.locator(".leaflet-wg-base-pane path.wg-street").first.wait_for(state="attached")
    _shot(phone, "21-location-refused")
    options = phone.locator("#category option")
    lamp = next(i for i in range(options.count()) if options.nth(i).inner_text().strip() == "路灯")
    phone.select_option("#category", options.nth(lamp).get_attribute("value"))
    phone.locator(".leaflet-wg-base-pane path.wg-street").first.wait_for(state="attached")
    box = phone.locator("#report-map").bounding_box()
    phone.locator("#report-map").click(position={"x": box["width"] * 0.35, "y": box["height"] * 0.35})
    phone.locator("#position-text", has_text="地图点选").wait_for()
    phone.locator("#cell-text", has_text="所在单元网格").wait_for()
    phone.get_by_label("问题描述").fill("路灯夜间不亮")
    phone.set_input_files("#photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture"}])
    phone.get_by_role("button", name="提交上报").click()
    phone.locator("#report-error", has_text="照片不是可识别的图片").wait_for()
    assert phone.get_by_label("问题描述").input_value() == "路灯夜间不亮"
    assert "路灯" in phone.locator("#category option:checked").inner_text()
    phone.locator("#position-text", has_text="手动输入").wait_for()  # the pin is back where it was
    phone.locator("path.wg-cell").first.wait_for(state="attached")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "22-refused-photo-form-kept")

    # the map on the phone: open cases, then only events, then only the late ones
    phone.goto(f"{live_server}/grid/map")
    markers = phone.locator("path.wg-case")
    markers.first.wait_for(state="attached")
    kinds = set(markers.evaluate_all("paths => paths.map(p => p.dataset.kind)"))
    assert kinds == {"component", "event"}
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    _shot(phone, "23-map-on-a-phone")
    assert "放大后显示单元网格" in phone.locator("#map-status").inner_text()
    for _ in range(8):  # zoomed in, the cells of the visible bounds are fetched; a click tells one's facts
        phone.get_by_role("button", name="放大").click()
        phone.wait_for_timeout(500)
        if "单元网格" in phone.locator("#map-status").inner_text() and "放大后" not in phone.locator("#map-status").inner_text():
            break
    phone.locator("#map-status", has_text="单元网格").filter(has_text="个").wait_for()
    phone.locator("#map-status", has_text="部件").wait_for()  # the census in view is drawn as well
    inside = phone.evaluate("""() => {
      const map = document.getElementById("grid-map").getBoundingClientRect();
      return [...document.querySelectorAll("path.wg-cell")].findIndex(p => {
        const r = p.getBoundingClientRect();
        return r.left > map.left + 60 && r.right < map.right - 10 && r.top > map.top + 120 && r.bottom < map.bottom - 10;
      });
    }""")
    assert inside >= 0
    phone.locator("path.wg-cell").nth(inside).click()
    phone.locator(".leaflet-popup-content", has_text="单元网格 310115").wait_for()
    assert "社区" in phone.locator(".leaflet-popup-content").inner_text()
    phone.wait_for_timeout(800)  # the popup's fade-in and the pan that brings it into view
    _shot(phone, "24-map-cell-popup")
    phone.select_option("#map-kind", "event")
    phone.locator("#map-status", has_text="显示").wait_for()
    phone.wait_for_function("() => [...document.querySelectorAll('path.wg-case')].every(p => p.dataset.kind === 'event')")
    phone.get_by_label("只看已超时").check()
    phone.wait_for_function("() => [...document.querySelectorAll('path.wg-case')].every(p => p.classList.contains('late'))")
    assert not errors, json.dumps(errors, ensure_ascii=False)
    context.close()


def test_a_resident_reports_from_the_phone_and_follows_it(browser, live_server):
    lon, lat, _ = _inside_a_cell(live_server)
    context, phone = signed_in(browser, live_server, demo.CITIZEN.username, width=PHONE,
                               geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    errors: list[str] = []
    watch_errors(phone, errors)

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
    phone.wait_for_function("() => { const img = document.querySelector('img.wg-thumb');"
                            " return img && img.complete && img.naturalWidth > 0; }", timeout=10000)  # the photo is served
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


def test_the_address_layer_follows_its_box_and_the_zoom(browser, live_server):
    """The map's 标准地址 box: nothing asked before it is ticked; ticked and zoomed in, the address
    registry's points in view are fetched and counted in the status line; unticked, gone again."""
    errors: list[str] = []
    context, page = signed_in(browser, live_server, "grid")
    watch_errors(page, errors)
    page.goto(f"{live_server}/grid/map")
    status = page.locator("#map-status")
    page.wait_for_function("() => document.querySelector('#map-status').textContent.includes('放大后显示')")
    page.locator(".wg-map").focus()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/addresses.geojson" in request.url else None)
    for _ in range(6):  # Leaflet's keyboard zoom, half a level at a time, up to the cells' zoom
        page.keyboard.press("Equal")
        page.wait_for_timeout(250)
    page.wait_for_function("() => document.querySelector('#map-status').textContent.includes('单元网格')")
    assert asked == [] and "标准地址" not in status.inner_text()
    with page.expect_response(lambda response: "/api/v1/grid/addresses.geojson?bbox=" in response.url) as answered:
        page.get_by_label("显示标准地址（放大后显示）").check()
    assert answered.value.status == 200
    page.wait_for_function("() => document.querySelector('#map-status').textContent.includes('标准地址')")
    assert re.search(r"标准地址 \d+ 个", status.inner_text())
    _shot(page, "40-map-addresses-ticked")
    page.get_by_label("显示标准地址（放大后显示）").uncheck()
    page.wait_for_function("() => !document.querySelector('#map-status').textContent.includes('标准地址')")
    assert errors == []
    context.close()
