"""The district's catalogue: the published list (API), browsing by theme and department without
a query, and the bundles (一件事) found by search; on every engine."""

from __future__ import annotations

import re

from helpers import assert_problem

from tongban.demo import demo_catalog
from tongban.demo.district import implementation_prefixes
from tongban.items import content

BIRTH = "000107016000"  # 出生登记（新生儿落户）
MOVING = "000107025000"  # 户口区内移居（户籍地址变更）
RESIDENCE_ADDRESS = "000107037000"  # 上海市居住证居住地址变更登记
ID_CARD = "000107013000"  # 居民身份证申领、换领、补领


def test_the_demo_catalogue_is_a_districts_catalogue():
    document = demo_catalog()
    items = document["items"]
    assert content.validate(document, implementation_prefixes()) == []
    assert len(items) >= 200
    assert len({item["department"] for item in items}) >= 17
    assert all(item.get("themes") for item in items), [i["name"] for i in items if not i.get("themes")]
    themes = {theme for item in items for theme in item["themes"]}
    assert {"出生", "入学", "就业", "婚育", "住房", "迁移", "社保", "退休", "身后事",
            "开办", "经营许可", "变更", "纳税", "用工", "注销"} <= themes
    names = " ".join(item["name"] for item in items)
    for name in ("出生登记", "户口迁入", "户口迁出", "居住证居住地址变更", "居民身份证", "结婚登记", "退休", "离婚登记",
                 "死亡人员户口注销", "企业变更登记", "清税"):
        assert name in names, name
    for item in items:
        assert re.fullmatch(r"0001\d{5}000", item["basic_code"]), item["basic_code"]


def test_unknown_themes_are_refused_by_the_validator():
    item = dict(demo_catalog()["items"][0], themes=["吃饭"])
    problems = content.validate({"format": content.FORMAT, "version": content.VERSION, "items": [item]}, implementation_prefixes())
    assert any(problem.field == "themes" and "主题「吃饭」" in problem.detail for problem in problems)


def _all_pages(client, **params) -> tuple[list[dict], int]:
    items: list[dict] = []
    cursor = None
    totals = set()
    while True:
        response = client.get("/api/v1/items/published", params={**params, "limit": 40, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        totals.add(body["total"])
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(totals) == 1
    return items, totals.pop()


def test_the_published_catalogue_is_listed_page_by_page_with_its_total(client):
    items, total = _all_pages(client)
    codes = [item["code"] for item in items]
    assert total == len(codes) >= 200
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert {BIRTH, MOVING, RESIDENCE_ADDRESS, ID_CARD} <= set(codes)
    birth = next(item for item in items if item["code"] == BIRTH)
    assert birth["department_name"] == "上海市公安局浦东分局" and "出生" in birth["themes"]
    assert birth["service_objects"] == ["自然人"] and birth["type"] == "行政确认" and birth["version"] >= 1
    assert birth["committed_days"] is not None and birth["online_depth"] in (1, 2, 3, 4)


def test_the_catalogue_filters_by_theme_department_and_applicant(client):
    births, total = _all_pages(client, theme="出生")
    assert BIRTH in {item["code"] for item in births} and total == len(births)
    assert all("出生" in item["themes"] for item in births)
    police, _ = _all_pages(client, department="PD-GA")
    assert {item["department"] for item in police} == {"PD-GA"} and len(police) >= 15
    companies, _ = _all_pages(client, service_object="法人", theme="注销")
    assert companies and all("法人" in item["service_objects"] and "注销" in item["themes"] for item in companies)
    assert "000121013000" in {item["code"] for item in companies}  # 企业注销登记
    nothing = client.get("/api/v1/items/published", params={"department": "PD-NONE"}).json()
    assert nothing == {"items": [], "next_cursor": None, "total": 0}
    assert_problem(client.get("/api/v1/items/published", params={"theme": "吃饭"}), 422, "validation-error")
    assert_problem(client.get("/api/v1/items/published", params={"cursor": "not-a-cursor"}), 422, "validation-error")


def test_life_events_find_their_items(client):
    def codes(q):
        response = client.get("/api/v1/items/search", params={"q": q})
        assert response.status_code == 200, response.text
        return [hit["code"] for hit in response.json()["items"]]

    assert codes("孩子刚出生，怎么给他上户口")[0] == BIRTH
    assert {MOVING, RESIDENCE_ADDRESS} <= set(codes("搬家了，户口和居住证地址要怎么改")[:3])
    within = client.get("/api/v1/items/search", params={"q": "户口", "theme": "身后事"}).json()["items"]
    assert all("身后事" in client.get(f"/api/v1/items/published/{hit['code']}").json()["themes"] for hit in within)
    assert "000107028000" in [hit["code"] for hit in within]  # 死亡人员户口注销


def test_bundles_are_found_by_search_and_lead_to_their_form(client):
    body = client.get("/api/v1/items/search", params={"q": "开公司要办哪些手续"}).json()
    assert [bundle["code"] for bundle in body["bundles"]] == ["enterprise-setup"]
    assert body["bundles"][0]["name"] == "企业开办一件事" and body["bundles"][0]["why"]
    assert all(hit["code"] != "enterprise-setup" for hit in body["items"])
    road = client.get("/api/v1/items/search", params={"q": "挖马路要办什么手续"}).json()
    assert [bundle["code"] for bundle in road["bundles"]] == ["road-excavation"]
    assert client.get("/api/v1/items/search", params={"q": "身份证丢了"}).json()["bundles"] == []
    # a department's own search lists that department's items only
    assert client.get("/api/v1/items/search", params={"q": "开公司", "department": "PD-SCJG"}).json()["bundles"] == []
    page = client.get("/services", params={"q": "开公司要办哪些手续"})
    assert page.status_code == 200 and 'href="/apply/enterprise-setup"' in page.text and "一件事" in page.text


def test_a_department_or_a_theme_alone_lists_its_items(client):
    page = client.get("/services", params={"department": "PD-GA"})
    assert page.status_code == 200
    listed = re.findall(r'href="/services/(\d{12})" class="result-title"', page.text)
    police, _ = _all_pages(client, department="PD-GA")
    assert listed and sorted(listed) == sorted(item["code"] for item in police)
    assert f"共 {len(listed)} 个事项" in page.text
    births = client.get("/services", params={"theme": "出生"})
    assert f'href="/services/{BIRTH}"' in births.text and "「出生」主题" in births.text
    start = client.get("/services")
    assert 'href="/services?theme=%E5%87%BA%E7%94%9F"' in start.text  # 按主题办事：出生
    assert 'href="/services?department=PD-GA"' in start.text
    assert client.get("/services", params={"theme": "吃饭"}).status_code == 200  # an unknown theme is ignored
