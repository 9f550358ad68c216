"""The public search API and consultation, on every engine: the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import assert_problem

EVALUATION = Path(__file__).resolve().parents[2] / "benchmarks" / "search_queries.json"


def _codes(client, q: str, **params) -> list[str]:
    response = client.get("/api/v1/items/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [hit["code"] for hit in response.json()["items"]]


def test_search_needs_no_sign_in_and_explains_its_ranking(client):
    response = client.get("/api/v1/items/search", params={"q": "开饭店要办什么证"})
    assert response.status_code == 200
    body = response.json()
    assert "000121010000" in [hit["code"] for hit in body["items"][:3]]  # 食品经营许可
    first = body["items"][0]
    assert set(first) >= {"code", "name", "department", "department_name", "why"}
    assert first["why"] and all(any("\u4e00" <= ch <= "\u9fff" for ch in why) for why in first["why"])


def test_filters_by_applicant_and_department(client):
    for code in _codes(client, "登记", service_object="法人"):
        item = client.get(f"/api/v1/items/published/{code}").json()
        assert "法人" in item["service_objects"]
    assert set(client.get(f"/api/v1/items/published/{c}").json()["department"]
               for c in _codes(client, "许可", department="PD-SCJG")) == {"PD-SCJG"}


def test_empty_and_oversized_queries_get_a_clear_message(client):
    for q in ("", "   ", "？？！"):
        assert_problem(client.get("/api/v1/items/search", params={"q": q}), 422, "query-empty")
    problem = assert_problem(client.get("/api/v1/items/search", params={"q": "开饭店" * 700}), 422, "query-too-long")
    assert "100" in problem["detail"]
    page = client.get("/services", params={"q": "办" * 2000})
    assert page.status_code == 200 and "过长" in page.text


def test_the_evaluation_set_scores_the_same_on_every_engine(client):
    """Not the quality bar (benchmarks/search_quality.py measures that): a guard that the
    engine-independent index answers; a collapse here means the index or the dictionary broke."""
    queries = json.loads(EVALUATION.read_text(encoding="utf-8"))["queries"]
    top3 = sum(1 for entry in queries
               if set(_codes(client, entry["q"], **({"service_object": entry["service_object"]}
                                                   if entry.get("service_object") else {}))[:3]) & set(entry["expected"]))
    assert top3 / len(queries) >= 0.85, top3


def test_staff_manage_colloquial_phrasings(client, as_role):
    admin = as_role("admin")
    assert "000125010000" not in _codes(client, "添丁")[:3]  # 生育登记
    saved = client.put("/api/v1/items/synonyms", json={"phrase": "添丁", "expansions": ["生育", "出生"]}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert "000125010000" in _codes(client, "添丁")[:3]
    assert client.delete("/api/v1/items/synonyms/添丁", headers=admin).status_code == 204
    assert_problem(client.put("/api/v1/items/synonyms", json={"phrase": "添丁", "expansions": ["生育"]},
                              headers=as_role("clerk")), 403, "permission-denied")


def test_consultation_answers_from_the_faq_or_hands_over(client, as_role):
    faq = client.get("/api/v1/items/published/000121010000/faq").json()["items"]
    assert len(faq) >= 3
    asked = client.post("/api/v1/consultations", json={"item": "000121010000", "question": faq[0]["question"]})
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "faq" and asked.json()["suggestions"][0]["faq_id"] == faq[0]["id"]

    question = "店里想兼营宠物用品，营业执照上的经营范围要不要先变更？"
    handed = client.post("/api/v1/consultations", json={"item": "000121010000", "question": question,
                                                        "contact": "13800000000"}).json()
    assert handed["status"] == "open" and handed["handed_over"] and handed["due_on"]
    clerk = as_role("clerk")  # 市场监管局 window clerk
    queue = client.get("/api/v1/consultations", headers=clerk).json()["items"]
    assert handed["number"] in [row["number"] for row in queue]
    assert_problem(client.post(f"/api/v1/consultations/{handed['number']}/answer", json={"answer": "需要"},
                               headers=as_role("steward.mz")), 403, "permission-denied")
    answered = client.post(f"/api/v1/consultations/{handed['number']}/answer", headers=clerk,
                           json={"answer": "兼营宠物用品属于新增经营范围，请先办理营业执照经营范围变更登记，食品经营许可不受影响。"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert_problem(client.post(f"/api/v1/consultations/{handed['number']}/answer", json={"answer": "再答一次"},
                               headers=clerk), 409, "already-decided")
    promoted = client.post(f"/api/v1/consultations/{handed['number']}/promote", json={}, headers=clerk)
    assert promoted.status_code == 201 and promoted.json()["status"] == "draft", promoted.text
    # A promoted answer is a draft: not public, not used for automatic answers, until reviewed.
    unreviewed = client.post("/api/v1/consultations", json={"item": "000121010000", "question": question}).json()
    assert unreviewed["status"] == "open"
    assert_problem(client.post(f"/api/v1/consultations/faqs/{promoted.json()['id']}/review", json={"approve": True},
                               headers=clerk), 403, "permission-denied")
    reviewed = client.post(f"/api/v1/consultations/faqs/{promoted.json()['id']}/review", json={"approve": True},
                           headers=as_role("admin"))
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "published", reviewed.text
    again = client.post("/api/v1/consultations", json={"item": "000121010000", "question": question}).json()
    assert again["status"] == "faq" and again["suggestions"][0]["faq_id"] == promoted.json()["id"]
    public = client.get(f"/api/v1/consultations/{handed['number']}").json()
    assert "contact" not in public and public["answer"].startswith("兼营")
    assert_problem(client.post("/api/v1/consultations", json={"question": "   "}), 422, "validation-error")
    assert_problem(client.post("/api/v1/consultations", json={"question": "问" * 2001}), 422, "validation-error")


def test_answers_checked_against_the_schemas_keep_their_shape(client):
    """``items.schemas`` declares the answers without changing them: an item's whole document, the
    materials only once navigation is done, times written with their offset."""
    code = "000121010000"  # 食品经营许可
    published = client.get(f"/api/v1/items/published/{code}")
    assert published.status_code == 200, published.text
    document = published.json()
    assert {"basic_code", "materials", "situations", "relations", "version", "department_name"} <= set(document)
    step = client.post(f"/api/v1/items/published/{code}/navigation", json={"answers": {}}).json()
    assert "materials" not in step and (step["done"] or step["question"]["answers"])
    asked = client.post("/api/v1/consultations", json={"item": code, "question": "食品经营许可证能不能代办？"})
    assert asked.status_code == 201, asked.text
    assert asked.json()["created_at"].endswith("+00:00")
    assert set(asked.json()) == {"number", "item", "department", "department_name", "question", "status", "confidence",
                                 "due_on", "answer", "answered_by", "answered_at", "created_at", "handed_over",
                                 "suggestions"}
