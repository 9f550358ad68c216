"""POST /api/v1/hotline/proposals: for the hotline's agents only; bad input is a Chinese problem."""

from __future__ import annotations

import pytest

from helpers import assert_problem, bearer

URL = "/api/v1/hotline/proposals"


def test_an_agent_gets_proposals_while_typing(client, proposing):
    headers = bearer(client, "hotline")
    response = client.post(URL, json={"text": "老板欠了我三个月工资一直不给，我想讨薪"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    first = body["proposals"][0]
    assert first["department"] == "PD-RS" and first["department_name"] == "浦东新区人力资源和社会保障局"
    assert first["category"] == "H-RS01" and first["transfer_line"] == "12333" and "12333" in first["transfer_line_name"]
    assert len(body["proposals"]) == 3 and body["must_choose"] is False and 0 < first["confidence"] <= 1
    short = client.post(URL, json={"text": "喂"}, headers=headers).json()
    assert short["must_choose"] is True


def test_the_categories_are_the_grid_and_the_hotline_together(client):
    found = client.get("/api/v1/hotline/categories", headers=bearer(client, "hotline")).json()
    sources = {c["source"] for c in found}
    assert sources == {"grid", "hotline"}
    by_code = {c["code"]: c for c in found}
    assert by_code["G-E0102"]["name"] == "暴露垃圾" and by_code["H-SC02"]["transfer_line"] == "12315"
    assert len([c for c in found if c["source"] == "grid"]) >= 150  # every active grid class
    assert by_code["G-C0109"]["department"] == "PD-JSJT"  # 燃气井盖: the grid's route for its handler


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "长" * 2001}, {"text": 12}, {},
                                  {"text": "欠薪", "extra": 1}])
def test_bad_input_is_refused_in_chinese(client, proposing, body):
    problem = assert_problem(client.post(URL, json=body, headers=bearer(client, "hotline")), 422, "validation-error")
    assert problem["errors"] and all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in problem["errors"])


def test_only_the_hotline_proposes(client):
    assert_problem(client.post(URL, json={"text": "路灯坏了"}), 401, "not-authenticated")
    assert_problem(client.post(URL, json={"text": "路灯坏了"}, headers=bearer(client, "clerk")), 403, "permission-denied")
