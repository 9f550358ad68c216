"""Shared by the identity tests: a client from an address of its own, and the SMS outbox."""

from __future__ import annotations

import json
import random
import re
import uuid

from fastapi.testclient import TestClient
from helpers import csrf_of, bearer, credit_code, register_person


def new_address() -> str:
    rng = random.SystemRandom()
    return f"198.{rng.randint(18, 19)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def client_from(app, address: str | None = None) -> TestClient:
    """A client whose requests come from one address (the throttles count per address)."""
    return TestClient(app, client=(address or new_address(), 50000))


def new_phone() -> str:
    return "139" + "".join(random.SystemRandom().choice("0123456789") for _ in range(8))


def person_in_registry(client, *, name: str = "刘晓明", phone: str | None = None) -> tuple[str, str, str]:
    """A person the population registry holds, with a phone; (ID number, name, phone)."""
    phone = phone or new_phone()
    number = register_person(client, bearer(client, "steward"), name=name, phone=phone)
    return number, name, phone


def entity_in_registry(client, *, representative: str) -> str:
    rng = random.SystemRandom()
    code = credit_code(org=f"MA1T{rng.randint(0, 99999):05d}")
    response = client.post("/api/v1/registries/legal-entities", headers=bearer(client, "steward.scjg"), json={
        "values": {"credit_code": code, "name": "上海核验测试科技有限公司", "entity_type": "有限责任公司",
                   "legal_representative_id": representative, "legal_representative_name": "刘晓明",
                   "status": "存续", "phone": "021-58880000"},
        "reason": "设立登记"})
    assert response.status_code == 201, response.text
    return code


def messages_to(settings, phone: str) -> list[str]:
    from tongban.core.sms import outbox_path

    path = outbox_path(settings)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line["message"] for line in lines if line["phone"] == phone]


def code_sent_to(settings, phone: str) -> str:
    messages = messages_to(settings, phone)
    assert messages, f"no SMS to {phone}"
    return re.search(r"\b(\d{6})\b", messages[-1]).group(1)


STAFF_PASSWORD = "correct-horse-battery"
SESSION_COOKIE = "tongban_session"



def new_staff(client, *, display_name: str = "会话测试") -> tuple[str, int]:
    """A reviewer of 民政局 made by the administrator; (username, id)."""
    username = f"s{uuid.uuid4().hex[:10]}"
    response = client.post("/api/v1/users", headers=bearer(client, "admin"), json={
        "username": username, "display_name": display_name, "password": STAFF_PASSWORD,
        "department_code": "PD-MZ", "roles": ["reviewer"]})
    assert response.status_code == 201, response.text
    return username, response.json()["id"]


def sign_in_on_the_page(web, username, password=STAFF_PASSWORD) -> str:
    """Signs the browser in through the login page; the session cookie's value."""
    page = web.get("/login")
    response = web.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert response.status_code == 303, response.text
    return web.cookies[SESSION_COOKIE]


def admin_browser(app):
    """A browser signed in as the demo administrator (电子政务办)."""
    from tongban.demo import DEMO_PASSWORD

    admin = client_from(app)
    sign_in_on_the_page(admin, "admin", DEMO_PASSWORD)
    return admin
