"""Catalog, sharing and usage pages: they render for each role, their forms go through the real
services (Post/Redirect/Get, errors on the page in Chinese), and a real browser walks them."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from helpers import bearer, register_person

from tongban import demo

from .conftest import screenshot, sign_in
from tongban.core import clock

TODAY = clock.today()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client, username: str) -> str:
    """Sign in through the page; returns the session's CSRF token for the forms."""
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return _csrf(client.get("/staff").text)


def _api(client) -> TestClient:
    """A client without the page session: a bearer-token call from a signed-in browser would need CSRF."""
    return TestClient(client.app)


def _request_persons(client, items: list[str]) -> dict:
    """民政局 asks 公安分局 for person items through the API."""
    client = _api(client)
    response = client.post("/api/v1/sharing/requests", headers=bearer(client, "steward.mz"), json={
        "resource": "persons", "items": items, "duty": "最低生活保障家庭户籍核对", "basis": "《社会救助暂行办法》第十一条",
        "purpose": "低保审核", "valid_from": TODAY.isoformat(), "valid_to": (TODAY + timedelta(days=180)).isoformat()})
    assert response.status_code == 201, response.text
    return response.json()


def _read(client, request_id: int) -> dict:
    client = _api(client)
    response = client.get(f"/api/v1/sharing/requests/{request_id}", headers=bearer(client, "steward.mz"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("username", ["steward", "admin"])
def test_pages_render_for_provider_and_egov(client, username):
    _sign_in(client, username)
    for path, expected in [("/staff", "数据使用情况"), ("/catalog", "政务信息资源目录"),
                           ("/catalog?q=人口&sharing_type=conditional&status=published", "人口基础信息"),
                           ("/catalog/persons", "公民身份号码"), ("/catalog/PD-MZ-DIBAO", "不予共享依据"),
                           ("/sharing/requests", "共享申请"), ("/sharing/grants", "共享授权"),
                           ("/exchange/usage", "闲置授权")]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[-500:])
        assert expected in response.text, path
    persons = client.get("/catalog/persons").text
    dataset = client.get("/catalog/PD-MZ-DIBAO").text
    # 公安分局 provides persons and needs no request; 民政局's dataset may be asked for by either
    # (the e-government office may request data for its own duties too).
    assert ("提交共享申请" in persons) == (username == "admin")
    assert "提交共享申请" in dataset
    assert "/api/v1/catalog/export" in persons
    usage = client.get("/exchange/usage").text
    assert "<svg" in usage and ("全平台" in usage) == (username == "admin")


def test_catalog_search_filters_and_pages(client):
    _sign_in(client, "clerk")
    found = client.get("/catalog", params={"q": "保障家庭"}).text  # in the dataset's summary only
    assert "最低生活保障对象名册" in found and "标准地址" not in found
    by_provider = client.get("/catalog", params={"provider": "PD-GA"}).text
    assert "人口基础信息" in by_provider and "最低生活保障对象名册" not in by_provider
    assert "没有符合条件的信息资源" in client.get("/catalog", params={"classification": "theme", "q": "不存在的资源"}).text
    assert client.get("/catalog/no-such-resource").status_code == 404


def test_requester_asks_through_the_catalog_page(client):
    token = _sign_in(client, "steward.mz")
    form = {"csrf_token": token, "items": ["gender", "residence_address"], "duty": "", "basis": "《社会救助暂行办法》",
            "purpose": "低保审核", "valid_from": TODAY.isoformat(), "valid_to": (TODAY + timedelta(days=30)).isoformat()}
    refused = client.post("/catalog/persons/requests", data=form)
    assert refused.status_code == 422
    assert "履职依据：长度不能少于 2 个字符" in refused.text and "低保审核" in refused.text  # the form keeps what was typed
    backwards = client.post("/catalog/persons/requests", data={**form, "duty": "低保核对", "valid_to": "2000-01-01"})
    assert backwards.status_code == 422 and "使用期限的结束日期不能早于开始日期或今天" in backwards.text
    assert client.post("/catalog/persons/requests", data={**form, "csrf_token": "forged"}).status_code == 403

    done = client.post("/catalog/persons/requests", data={**form, "duty": "低保核对"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/sharing/requests/")
    page = client.get(done.headers["location"]).text
    assert "即时授权 1 项，待提供方答复 2 项" in page  # 性别 at once; 公民身份号码 and 居住地址 wait for 公安分局
    assert "待提供方答复" in page and "个工作日" in page
    assert "即时授权 1 项" not in client.get(done.headers["location"]).text  # the message shows once


def test_provider_decides_and_egov_arbitrates_through_the_pages(client):
    created = _request_persons(client, ["name", "household_address"])
    url = f"/sharing/requests/{created['id']}"
    token = _sign_in(client, "steward")
    page = client.get(url).text
    assert "提供方答复" in page and 'name="approve" value="household_address"' in page

    no_reason = client.post(f"{url}/decision", data={"csrf_token": token, "approve": ["id_number", "name"]})
    assert no_reason.status_code == 422 and "拒绝共享必须说明理由" in no_reason.text
    assert _read(client, created["id"])["status"] == "provider"  # nothing changed

    decided = client.post(f"{url}/decision", data={"csrf_token": token, "approve": ["id_number", "name"],
                                                   "reason": "户籍地址不属于低保审核所需"}, follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == url
    assert "同意 2 项，拒绝 1 项" in client.get(url).text
    after = _read(client, created["id"])
    assert after["status"] == "arbitration"
    assert {i["item_code"]: i["outcome"] for i in after["items"]} == {
        "id_number": "granted", "name": "granted", "household_address": "refused"}
    again = client.post(f"{url}/decision", data={"csrf_token": token, "approve": ["household_address"]})
    assert again.status_code == 409 and "不在提供方答复阶段" in again.text

    other = TestClient(client.app)
    other_token = _sign_in(other, "steward.rs")  # 人社局 is not the provider
    assert other.post(f"{url}/decision", data={"csrf_token": other_token, "approve": ["household_address"]}).status_code == 403

    egov = TestClient(client.app)
    egov_token = _sign_in(egov, "admin")
    assert "电子政务办协调" in egov.get(url).text
    arbitrated = egov.post(f"{url}/arbitration", data={"csrf_token": egov_token, "approve": ["household_address"],
                                                        "reason": "低保审核需核对户籍地址"}, follow_redirects=False)
    assert arbitrated.status_code == 303
    assert "协调决定已作出：同意 1 项" in egov.get(url).text
    assert _read(client, created["id"])["status"] == "closed"


def test_requester_asks_for_coordination_of_refused_items(client):
    # 家庭经济状况核对明细 is not shared by the catalog: refused at once, open to coordination.
    response = client.post("/api/v1/sharing/requests", headers=bearer(client, "steward"), json={
        "resource": "PD-MZ-DIBAO", "items": ["status", "case_notes"], "duty": "户籍迁移时核对低保状态",
        "basis": "《社会救助暂行办法》", "purpose": "户籍业务核对", "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=30)).isoformat()})
    assert response.status_code == 201, response.text
    url = f"/sharing/requests/{response.json()['id']}"
    provider = TestClient(client.app)  # 民政局 approves the key item, so the request closes
    decided = provider.post(f"{url}/decision", data={"csrf_token": _sign_in(provider, "steward.mz"),
                                                     "approve": ["id_number"]}, follow_redirects=False)
    assert decided.status_code == 303

    token = _sign_in(client, "steward")
    page = client.get(url).text
    assert "已办结" in page and "申请协调的理由" in page and "《社会救助暂行办法》第六十六条" in page
    short = client.post(f"{url}/coordination", data={"csrf_token": token, "reason": "x"})
    assert short.status_code == 422 and "请填写申请协调的理由" in short.text
    asked = client.post(f"{url}/coordination", data={"csrf_token": token, "reason": "户籍迁移需核对家庭经济状况"},
                        follow_redirects=False)
    assert asked.status_code == 303
    assert "已申请电子政务办协调" in client.get(url).text
    after = _read(client, response.json()["id"])
    assert after["status"] == "arbitration" and after["escalation_reason"] == "requested"
    assert "申请协调的理由" not in provider.get(url).text  # only the requester may ask


def test_provider_revokes_a_grant_on_the_grants_page(client):
    created = _request_persons(client, ["gender"])  # 性别 is granted at once
    grants = client.get("/api/v1/sharing/grants", headers=bearer(client, "steward")).json()["items"]
    grant_id = next(g["id"] for g in grants if g["request_id"] == created["id"])

    mz_token = _sign_in(client, "steward.mz")  # the holder sees the grant but cannot revoke it
    assert f'action="/sharing/grants/{grant_id}/revoke"' not in client.get("/sharing/grants").text
    refused = client.post(f"/sharing/grants/{grant_id}/revoke", data={"csrf_token": mz_token, "reason": "不再需要"})
    assert refused.status_code == 403

    token = _sign_in(client, "steward")
    assert f'action="/sharing/grants/{grant_id}/revoke"' in client.get("/sharing/grants").text
    empty = client.post(f"/sharing/grants/{grant_id}/revoke", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422 and "请填写撤销理由" in empty.text
    done = client.post(f"/sharing/grants/{grant_id}/revoke", data={"csrf_token": token, "reason": "低保审核已结束"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert f"的授权 #{grant_id}，下一次调用起生效" in client.get("/sharing/grants").text
    listed = client.get("/sharing/grants", params={"include_revoked": "true"}).text
    assert "低保审核已结束" in listed and "已撤销" in listed


def test_usage_page_shows_errors_and_scope(client):
    _sign_in(client, "steward")
    backwards = client.get("/exchange/usage", params={"from": "2025-03-02", "to": "2025-03-01"})
    assert backwards.status_code == 422 and "开始日期不能晚于结束日期" in backwards.text
    assert "应为日期" in client.get("/exchange/usage", params={"from": "昨天"}).text
    others = client.get("/exchange/usage", params={"resource": "PD-MZ-DIBAO"})
    assert others.status_code == 403 and "无权访问" in others.text
    assert "上海市公安局浦东分局提供的信息资源" in client.get("/exchange/usage").text


def test_sharing_pages_need_a_sharing_role(client):
    _sign_in(client, "inspector")  # 监察: reads usage, takes no part in requests
    assert client.get("/sharing/requests").status_code == 403
    assert client.get("/sharing/grants").status_code == 403
    assert client.get("/exchange/usage").status_code == 200
    assert client.get("/sharing/requests/1").status_code == 403
    clerk = TestClient(client.app)
    _sign_in(clerk, "clerk")
    assert clerk.get("/exchange/usage").status_code == 403


# ---- in a real browser --------------------------------------------------------------------


@pytest.mark.browser
def test_catalog_request_decision_and_usage_in_the_browser(browser, live_server, database):
    engine = database.engine_name
    # A few reads through the exchange, so the usage page has something to draw.
    with httpx.Client(base_url=live_server) as api:
        steward = bearer(api, "steward")
        number = register_person(api, steward)
        mz = api.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": demo.MZ_CLIENT_ID,
                                                  "client_secret": demo.DEMO_CLIENT_SECRET}).json()["access_token"]
        for purpose in ("低保审核", "低保复核", ""):  # the last states no purpose: a refused call
            api.get(f"/api/v1/exchange/persons/records/{number}", headers={"Authorization": f"Bearer {mz}"},
                    params={"purpose": purpose, "items": "gender"})

    requester = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(requester, live_server, "steward.mz", landing="/staff")
    requester.get_by_role("link", name="资源目录").first.click()
    requester.get_by_label("关键词").fill("人口")
    requester.get_by_role("button", name="检索").click()
    assert requester.get_by_role("link", name="人口基础信息").is_visible()
    screenshot(requester, f"catalog-search-{engine}")
    requester.get_by_role("link", name="人口基础信息").click()
    assert requester.get_by_role("heading", name="人口基础信息").is_visible()
    requester.get_by_label("居住地址", exact=True).check()
    requester.get_by_label("性别", exact=True).check()
    requester.get_by_label("履职依据").fill("最低生活保障申请家庭的居住情况核对")
    requester.get_by_label("法律或业务依据").fill("《社会救助暂行办法》第十一条")
    requester.get_by_label("用途", exact=True).fill("低保审核：核对居住地址")
    screenshot(requester, f"catalog-resource-{engine}")
    assert requester.evaluate("document.documentElement.scrollWidth") <= 1280
    requester.get_by_role("button", name="提交共享申请").click()
    requester.wait_for_url(re.compile(r".*/sharing/requests/\d+$"))
    assert "已提交" in requester.get_by_role("status").first.inner_text()
    request_url = requester.url
    requester.context.close()

    provider = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(provider, live_server, "steward", landing="/staff")
    provider.goto(request_url)
    assert provider.get_by_role("heading", name="提供方答复").is_visible()
    assert provider.get_by_label("同意：居住地址").is_checked()
    screenshot(provider, f"sharing-request-{engine}")
    provider.get_by_role("button", name="提交答复").click()
    provider.wait_for_url(request_url)
    assert "申请已办结" in provider.get_by_role("status").first.inner_text()
    assert "已办结" in provider.inner_text("main") and "提供方答复" in provider.locator(".timeline").inner_text()
    screenshot(provider, f"sharing-decided-{engine}")

    provider.goto(f"{live_server}/staff")
    provider.get_by_role("link", name="数据使用情况").click()
    assert provider.get_by_role("heading", name="每日调用量").is_visible()
    assert provider.locator("svg rect.bar-ok").count() >= 30  # one bar per day of the period
    assert "民政局" in provider.locator("#departments-title").text_content()
    assert provider.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(provider, f"usage-{engine}")
    provider.context.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    sign_in(phone, live_server, "steward", landing="/staff")
    phone.goto(f"{live_server}/exchange/usage")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, f"usage-phone-{engine}")
    phone.context.close()
