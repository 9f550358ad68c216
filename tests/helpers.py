"""Helpers the tests share (importable, unlike conftest)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tongban import demo


def bearer(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_problem(response, status: int, slug: str) -> dict:
    """A problem+json answer with the status, the stable type and a Chinese detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"] + body["detail"]), body
    assert "Traceback" not in response.text
    return body


def resident_id(birth: str = "19950101", seq: int = 123, region: str = "310115") -> str:
    """A valid GB 11643 number (python-stdnum computes the check digit)."""
    from stdnum.cn import ric

    stem = f"{region}{birth}{seq:03d}"
    return stem + ric.calc_check_digit(stem + "0")


def credit_code(org: str = "MA1FL0001", region: str = "310115", kind: str = "91") -> str:
    from stdnum.cn import uscc

    stem = f"{kind}{region}{org}"
    return stem + uscc.calc_check_digit(stem)


def fresh_resident_id() -> str:
    """A valid number unlikely to exist yet in the shared test database."""
    import random

    rng = random.SystemRandom()
    return resident_id(birth=f"{rng.randint(1994, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                       seq=rng.randint(0, 999))


def with_decoded_tokens(text: str) -> str:
    """The text and every base64 run inside it decoded: a value hidden in a token (a cursor, a
    reference) is found too when a test looks for it."""
    import base64
    import re

    found = [text]
    for run in re.findall(r"[A-Za-z0-9_\-+/]{16,}", text):
        for offset in range(4):  # a run may start anywhere in a token's 4-character groups
            chunk = run[offset:]
            try:
                found.append(base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-8", "ignore"))
            except ValueError:
                pass
    return "\n".join(found)


def enterprise_setup_in_review(client: TestClient, headers_of) -> str:
    """An 企业开办 application of the demo citizen, accepted, its licence approved: the tasks of
    公安, 税务, 人社 and 公积金 are open. ``headers_of(username)`` gives a demo account's headers.
    Returns the application's number."""
    import uuid

    citizen = headers_of(demo.CITIZEN.username)
    form = client.get("/api/v1/applications/forms", params={"bundle": "enterprise-setup"}, headers=citizen).json()
    values = {f["key"]: f["value"] for f in form["fields"] if f["value"]}
    values.update({"phone": "13812345678", "enterprise_name": f"上海脱敏测试{uuid.uuid4().hex[:6]}有限公司",
                   "entity_type": "有限责任公司", "registered_capital": "100", "registered_address": "上海市浦东新区张江路100号",
                   "business_scope": "软件开发", "seal_count": "3", "employees": "5", "housing_fund_rate": "7"})
    applied = client.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex}, json={
        "bundle": "enterprise-setup", "form": values,
        "materials": [m["name"] for m in form["materials"] if not m["exempt"]]})
    assert applied.status_code in (200, 201), applied.text
    number = applied.json()["number"]
    accepted = client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"},
                           headers=headers_of("clerk"))
    assert accepted.status_code == 200, accepted.text
    reviewer = headers_of("reviewer")
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    decided = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                          json={"decision": "approve", "opinion": "材料齐全", "version": task["version"]})
    assert decided.status_code == 200, decided.text
    return number


def register_person(client, headers, **values) -> str:
    """Create a person as the public-security steward; returns the ID number."""
    number = values.pop("id_number", None) or fresh_resident_id()
    response = client.post("/api/v1/registries/persons", headers=headers, json={
        "values": {"id_number": number, "name": "测试人", "ethnicity": "汉族", "residence_status": "户籍",
                   "household_address": "上海市浦东新区花木路100弄1号101室", **values},
        "reason": "户籍登记"})
    assert response.status_code == 201, response.text
    return number


def at_once(client: TestClient, calls) -> list:
    """Run each ``call(own_client)`` in a thread of its own with its own client of the same app,
    released together by a barrier: a race. Returns their responses (in finishing order)."""
    import threading

    barrier, results = threading.Barrier(len(calls)), []

    def run(call) -> None:
        with TestClient(client.app) as own:
            barrier.wait()
            results.append(call(own))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


def csrf_of(html: str) -> str:
    """The CSRF token a rendered page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def register_addresses(sessionmaker, count: int = 24) -> list[dict[str, str]]:
    """The first ``count`` standard addresses of the demo's generator (one block of neighbouring
    buildings), registered by their source, 规划资源局 (the demo loads no addresses); written again
    unchanged when another test wrote them first. Returns them as text values."""
    from tongban.demo import synthetic
    from tongban.org import service as org
    from tongban.registry import service as registry_service
    from tongban.registry.schemas import ADDRESSES

    class Steward:
        actor_type, actor_id, actor_name, department_code = "user", "t", "规划资源局数据管理员", "PD-GHZY"

    rows = [synthetic.address(demo.DEMO_SEED, index) for index in range(count)]
    with sessionmaker() as session:
        source = org.get_by_duty(session, ADDRESSES.owner.value)
        for row in rows:
            registry_service.write(session, registry=ADDRESSES, key=row["address_code"],
                                   values=registry_service.parse_values(ADDRESSES, row), department=source,
                                   actor=Steward(), reason="标准地址普查")
        session.commit()
    return rows
