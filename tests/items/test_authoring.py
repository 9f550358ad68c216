"""Authoring the item base: drafts, review and publication, versions, JSON and Excel round trips,
and every kind of broken content refused with a clear message while the published item stays."""

from __future__ import annotations

import copy
import io

import openpyxl
from helpers import assert_problem
from sqlalchemy import select

from tongban.core.audit import AuditEvent
from tongban.items import workbook

FOOD = "000121010000"  # 食品经营许可, 市场监管局
CARE_HOME = "000110013000"  # 养老机构备案, 民政局
SUPPORT = "000110007000"  # 特困人员救助供养, 民政局


def _published(client, code: str) -> dict:
    response = client.get(f"/api/v1/items/published/{code}")
    assert response.status_code == 200, response.text
    return response.json()


def _document(client, code: str) -> dict:
    item = _published(client, code)
    return {k: v for k, v in item.items() if k not in ("version", "department_name")}


def test_a_revision_goes_through_review_before_citizens_see_it(client, as_role, db):
    steward, admin = as_role("steward.scjg"), as_role("admin")
    before = _published(client, FOOD)
    document = _document(client, FOOD)
    document["phone"] = "021-58880000"
    saved = client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward)
    assert saved.status_code == 200, saved.text
    draft_version = saved.json()["version"]
    assert draft_version == before["version"] + 1 and saved.json()["status"] == "draft"
    assert _published(client, FOOD)["phone"] == before["phone"]  # drafts are not public

    assert client.post(f"/api/v1/items/{FOOD}/submit", headers=steward).json()["status"] == "in_review"
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward), 409, "version-not-editable")
    assert_problem(client.post(f"/api/v1/items/{FOOD}/versions/{draft_version}/review", json={"approve": True},
                               headers=steward), 403, "permission-denied")
    assert_problem(client.post(f"/api/v1/items/{FOOD}/versions/{draft_version}/review", json={"approve": False},
                               headers=admin), 422, "validation-error")  # a return needs its reason
    published = client.post(f"/api/v1/items/{FOOD}/versions/{draft_version}/review",
                            json={"approve": True, "comment": "电话已核实"}, headers=admin)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert_problem(client.post(f"/api/v1/items/{FOOD}/versions/{draft_version}/review", json={"approve": True},
                               headers=admin), 409, "already-decided")

    now = _published(client, FOOD)
    assert now["phone"] == "021-58880000" and now["version"] == draft_version
    versions = client.get(f"/api/v1/items/{FOOD}/versions", headers=steward).json()["items"]
    assert [v["status"] for v in versions[:2]] == ["published", "superseded"]
    assert versions[0]["reviewer"] == "周敏" and versions[0]["review_comment"] == "电话已核实"
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == FOOD)))
    db.rollback()
    assert {"items.draft", "items.submit", "items.publish"} <= actions


def test_a_department_edits_only_its_own_items(client, as_role):
    document = _document(client, FOOD)
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=as_role("steward.mz")),
                   403, "department-scope")
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=as_role("clerk")),
                   403, "permission-denied")
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document), 401, "not-authenticated")


def test_a_cyclic_prerequisite_is_refused_naming_the_cycle(client, as_role):
    steward, admin = as_role("steward.mz"), as_role("admin")
    care_home, support = _document(client, CARE_HOME), _document(client, SUPPORT)
    care_home["relations"] = care_home["relations"] + [{"type": "prerequisite", "item": SUPPORT}]
    support["relations"] = support["relations"] + [{"type": "prerequisite", "item": CARE_HOME}]

    # Each draft alone is fine against what is published ...
    for document in (care_home, support):
        assert client.put(f"/api/v1/items/{document['basic_code']}/draft", json=document, headers=steward).status_code == 200
        assert client.post(f"/api/v1/items/{document['basic_code']}/submit", headers=steward).status_code == 200
    first = client.get(f"/api/v1/items/{CARE_HOME}/versions", headers=steward).json()["items"][0]["version"]
    second = client.get(f"/api/v1/items/{SUPPORT}/versions", headers=steward).json()["items"][0]["version"]
    assert client.post(f"/api/v1/items/{CARE_HOME}/versions/{first}/review", json={"approve": True},
                       headers=admin).status_code == 200
    # ... but publishing the second would close the cycle: refused, and the published item stays as it was.
    problem = assert_problem(client.post(f"/api/v1/items/{SUPPORT}/versions/{second}/review", json={"approve": True},
                                         headers=admin), 422, "item-invalid")
    assert "前置事项形成循环" in problem["detail"] and "养老机构备案" in problem["detail"] \
        and "特困人员救助供养" in problem["detail"]
    assert CARE_HOME not in [r["item"] for r in _published(client, SUPPORT)["relations"]]
    # A draft that closes it now is refused at once, without being saved.
    assert client.post(f"/api/v1/items/{SUPPORT}/versions/{second}/review",
                       json={"approve": False, "comment": "与养老机构备案互为前置，请删除"}, headers=admin).status_code == 200
    problem = assert_problem(client.put(f"/api/v1/items/{SUPPORT}/draft", json=support, headers=steward),
                             422, "item-invalid")
    assert "养老机构备案 → 特困人员救助供养" in problem["detail"] or "特困人员救助供养 → 养老机构备案" in problem["detail"]


def test_broken_situations_and_dangling_references_are_refused(client, as_role):
    steward = as_role("steward.scjg")
    before = _published(client, FOOD)
    broken = _document(client, FOOD)
    broken["situations"][0]["answers"][1]["next"] = "q404"  # an answer that leads nowhere
    broken["relations"] = [{"type": "prerequisite", "item": "000000000404"}]
    problem = assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=broken, headers=steward), 422, "item-invalid")
    messages = " ".join(e["message"] for e in problem["errors"])
    assert "q404" in messages and "000000000404" in messages
    assert _published(client, FOOD) == before
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=[1, 2], headers=steward), 422, "item-invalid")
    mismatch = copy.deepcopy(broken) | {"basic_code": CARE_HOME}
    assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=mismatch, headers=steward), 422, "item-invalid")


def test_json_and_excel_round_trips(client, as_role):
    admin = as_role("admin")
    exported = client.get("/api/v1/items/export/json", headers=admin).json()
    assert len(exported["items"]) >= 42
    again = client.post("/api/v1/items/import/json", json=exported, headers=admin).json()
    # Only items with a pending draft (other tests leave some) differ from what is published.
    assert again["created"] == 0 and again["unchanged"] >= 40

    xlsx = client.get("/api/v1/items/export/xlsx", headers=admin)
    assert xlsx.status_code == 200 and workbook.import_workbook(xlsx.content) == exported

    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book["事项"]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if h and "phone" in str(h)) + 1
    row = next(r for r in range(2, sheet.max_row + 1) if FOOD in [str(c.value) for c in sheet[r]])
    sheet.cell(row=row, column=column, value="021-68886666")
    edited = io.BytesIO()
    book.save(edited)
    counts = client.post("/api/v1/items/import/xlsx", headers=admin,
                         files={"file": ("items.xlsx", edited.getvalue(), "application/octet-stream")}).json()
    assert counts["revised"] >= 1 and counts["created"] == 0
    assert _published(client, FOOD)["phone"] != "021-68886666"  # imported as a draft, for review
    latest = client.get(f"/api/v1/items/{FOOD}/versions", headers=admin).json()["items"][0]
    assert latest["status"] == "draft"
    draft = client.get(f"/api/v1/items/{FOOD}/versions/{latest['version']}", headers=admin).json()
    assert draft["content"]["phone"] == "021-68886666"


def test_an_excel_file_with_missing_columns_is_refused(client, as_role):
    admin = as_role("admin")
    xlsx = client.get("/api/v1/items/export/xlsx", headers=admin).content
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    sheet = book["材料"]
    name_column = next(c.column for c in sheet[1] if c.value and str(c.value).split("\n")[-1] == "name")
    sheet.delete_cols(name_column)  # the material name column
    broken = io.BytesIO()
    book.save(broken)
    problem = assert_problem(client.post("/api/v1/items/import/xlsx", headers=admin,
                                         files={"file": ("items.xlsx", broken.getvalue(), "application/octet-stream")}),
                             422, "workbook-invalid")
    assert "材料" in problem["detail"] and "name" in problem["detail"]
    assert_problem(client.post("/api/v1/items/import/xlsx", headers=admin,
                               files={"file": ("items.xlsx", b"not a workbook", "application/octet-stream")}),
                   422, "workbook-invalid")
    assert_problem(client.post("/api/v1/items/import/json", headers=admin, json={"format": "x", "items": []}),
                   422, "item-invalid")
