"""The catalog: base registries listed automatically, what a resource must say, export and import."""

from __future__ import annotations

import copy
import uuid

from helpers import assert_problem
from sqlalchemy import func, select

from tongban.catalog.models import Resource


def _resource(code: str, **overrides) -> dict:
    return {"code": code, "name": "测试数据集", "summary": "用于测试的部门数据集", "format": "库表", "update_cycle": "每日",
            "sharing_type": "conditional", "sharing_conditions": "履职需要", "openness": "not_open",
            "key_item": "id_number", "items": [
                {"code": "id_number", "name": "公民身份号码", "data_type": "C", "length": 18, "personal": True,
                 "sharing_type": "conditional", "sharing_conditions": "履职需要"},
                {"code": "status", "name": "状态", "data_type": "C", "length": 10, "sharing_type": "unconditional"}],
            **overrides}


def _count(db) -> int:
    count = db.scalar(select(func.count()).select_from(Resource))
    db.rollback()
    return count


def test_the_base_registries_are_in_the_catalog(client, as_role):
    page = client.get("/api/v1/catalog/resources", params={"classification": "base"}, headers=as_role("clerk")).json()
    by_code = {r["code"]: r for r in page["items"]}
    assert set(by_code) >= {"persons", "legal-entities", "addresses"}
    persons = by_code["persons"]
    assert persons["provider"] == "PD-GA" and persons["status"] == "published" and persons["key_item"] == "id_number"
    items = {i["code"]: i for i in persons["items"]}
    assert items["name"]["sharing_type"] == "conditional" and items["name"]["personal"]
    assert items["gender"]["sharing_type"] == "unconditional"
    assert items["marital_status"]["description"].startswith("权威来源")


def test_not_shared_needs_a_legal_basis_and_conditional_needs_conditions(client, as_role, db):
    before = _count(db)
    headers = as_role("steward.mz")
    bad = _resource(f"T-{uuid.uuid4().hex[:6]}")
    bad["items"][1].update(sharing_type="not_shared")
    body = assert_problem(client.post("/api/v1/catalog/resources", json=bad, headers=headers), 422, "validation-error")
    assert any(e["code"] == "legal_basis_required" for e in body["errors"])
    body = assert_problem(client.post("/api/v1/catalog/resources", json=_resource(f"T-{uuid.uuid4().hex[:6]}",
                                                                                 sharing_conditions=None),
                                      headers=headers), 422, "validation-error")
    assert any(e["code"] == "conditions_required" for e in body["errors"])
    body = assert_problem(client.post("/api/v1/catalog/resources", json=_resource("x y", key_item="nope"),
                                      headers=headers), 422, "validation-error")
    assert {e["code"] for e in body["errors"]} >= {"invalid_code", "unknown_item"}
    # Another department's resources are not the steward's to register.
    assert_problem(client.post("/api/v1/catalog/resources", params={"provider": "PD-GA"},
                               json=_resource(f"T-{uuid.uuid4().hex[:6]}"), headers=headers), 403, "department-scope")
    assert _count(db) == before


def test_a_dataset_is_registered_published_and_fed(client, as_role):
    code = f"T-{uuid.uuid4().hex[:6]}"
    headers = as_role("steward.mz")
    created = client.post("/api/v1/catalog/resources", json=_resource(code), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    assert client.post(f"/api/v1/catalog/resources/{code}/status", json={"status": "published"},
                       headers=headers).json()["status"] == "published"
    record = {"id_number": "310115199306151236", "status": "在保"}
    assert client.put(f"/api/v1/catalog/resources/{code}/records", json={"records": [record]},
                      headers=headers).json() == {"created": 1, "changed": 0, "unchanged": 0}
    assert client.put(f"/api/v1/catalog/resources/{code}/records", json={"records": [record]},
                      headers=headers).json() == {"created": 0, "changed": 0, "unchanged": 1}
    body = assert_problem(client.put(f"/api/v1/catalog/resources/{code}/records", headers=headers,
                                     json={"records": [{**record, "shoe": "42"}, record, record]}), 422, "validation-error")
    assert {e["code"] for e in body["errors"]} == {"unknown_item", "duplicate"}
    assert_problem(client.put(f"/api/v1/catalog/resources/{code}/records", json={"records": [record]},
                              headers=as_role("steward")), 403, "department-scope")


def test_export_and_import_the_whole_catalog(client, as_role, db):
    exported = client.get("/api/v1/catalog/export", headers=as_role("clerk")).json()
    assert exported["format"] == "tongban-catalog" and len(exported["resources"]) >= 4
    admin = as_role("admin")
    again = client.post("/api/v1/catalog/import", json=exported, headers=admin)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == 0 and again.json()["updated"] == 0
    # One bad entry: nothing of the file is imported.
    before = _count(db)
    document = copy.deepcopy(exported)
    new = _resource(f"T-{uuid.uuid4().hex[:6]}")
    new["provider"] = "PD-MZ"
    broken = _resource(f"T-{uuid.uuid4().hex[:6]}")
    broken["provider"] = "PD-NOWHERE"
    document["resources"] += [new, broken]
    body = assert_problem(client.post("/api/v1/catalog/import", json=document, headers=admin), 422, "validation-error")
    assert any("PD-NOWHERE" in e["message"] for e in body["errors"])
    assert _count(db) == before
    assert_problem(client.post("/api/v1/catalog/import", json={"resources": []}, headers=admin), 422, "validation-error")
    assert_problem(client.post("/api/v1/catalog/import", json=exported, headers=as_role("steward")), 403,
                   "permission-denied")
