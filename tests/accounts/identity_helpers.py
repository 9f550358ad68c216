"""Shared by the identity tests: a client from an address of its own, and the SMS outbox."""

from __future__ import annotations

import json
import random
import re

from fastapi.testclient import TestClient
from helpers import bearer, credit_code, register_person


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
