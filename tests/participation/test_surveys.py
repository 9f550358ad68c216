"""网上调查: a department's survey drafted, published, answered once per account while open, and
its results (counts and percentages per option) published when it closes; free-text answers for
the department's staff only. Bad answers are refused in Chinese with nothing written."""

from __future__ import annotations

from datetime import timedelta

from helpers import assert_problem
from sqlalchemy import func, select

from tongban.core import clock
from tongban.participation.models import Response

from .conftest import CITIZEN, ENTERPRISE, MANAGE, OTHER_STAFF, STAFF, TOPICS, published, survey_body


def responses(db) -> int:
    count = db.scalar(select(func.count()).select_from(Response)) or 0
    db.rollback()
    return count


def answers_for(topic: dict, *, single: int = 0, multiple=(0, 2), text: str | None = "希望增加助餐点") -> list[dict]:
    q1, q2, q3 = topic["questions"]
    found = [{"question_id": q1["id"], "option_ids": [q1["options"][single]["id"]]},
             {"question_id": q2["id"], "option_ids": [q2["options"][i]["id"] for i in multiple]}]
    if text is not None:
        found.append({"question_id": q3["id"], "text": text})
    return found


def test_a_survey_answered_and_its_results_published_when_it_closes(client, as_role, db):
    staff, citizen, enterprise = as_role(STAFF), as_role(CITIZEN), as_role(ENTERPRISE)
    created = client.post(MANAGE, json=survey_body(), headers=staff)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["phase"] == "draft" and draft["phase_label"] == "草稿" and draft["department_name"] == "浦东新区市场监督管理局"
    assert [q["kind_label"] for q in draft["questions"]] == ["单选", "多选", "填空"]
    # a draft is neither listed nor answered
    assert draft["id"] not in [t["id"] for t in client.get(TOPICS).json()]
    assert_problem(client.get(f"{TOPICS}/{draft['id']}"), 404, "not-found")

    topic = client.post(f"{MANAGE}/{draft['id']}/publish", headers=staff).json()
    assert topic["phase"] == "open" and topic["results"] is not None  # staff see the running results
    public = client.get(f"{TOPICS}/{topic['id']}").json()
    assert public["phase_label"] == "进行中" and public["results"] is None  # the public not yet

    answered = client.post(f"{TOPICS}/{topic['id']}/responses", json={"answers": answers_for(topic)}, headers=citizen)
    assert answered.status_code == 201, answered.text
    assert client.post(f"{TOPICS}/{topic['id']}/responses", headers=enterprise,
                       json={"answers": answers_for(topic, single=1, multiple=(0,), text=None)}).status_code == 201
    # once per account
    assert_problem(client.post(f"{TOPICS}/{topic['id']}/responses", json={"answers": answers_for(topic)}, headers=citizen),
                   409, "participation-duplicate")
    assert client.get(f"{TOPICS}/{topic['id']}", headers=citizen).json()["my_response"] is True

    closed = client.post(f"{MANAGE}/{topic['id']}/close", headers=staff)
    assert closed.status_code == 200 and closed.json()["phase"] == "closed"
    results = client.get(f"{TOPICS}/{topic['id']}").json()["results"]
    assert results["responses"] == 2
    single, multiple, text = results["questions"]
    assert [(o["label"], o["count"], o["percent"]) for o in single["options"]] == [("有", 1, 50.0), ("没有", 1, 50.0)]
    assert [(o["label"], o["count"], o["percent"]) for o in multiple["options"]] == [
        ("助餐", 2, 100.0), ("助浴", 0, 0.0), ("日间照料", 1, 50.0), ("上门医疗", 0, 0.0)]
    assert text["answered"] == 1 and text["texts"] is None  # free text: staff only
    staff_results = client.get(f"{TOPICS}/{topic['id']}", headers=staff).json()["results"]
    assert staff_results["questions"][2]["texts"] == ["希望增加助餐点"]
    # after the close nobody answers
    assert_problem(client.post(f"{TOPICS}/{topic['id']}/responses", json={"answers": answers_for(topic)}, headers=citizen),
                   409, "participation-closed")


def test_bad_answers_are_refused_and_write_nothing(client, as_role, db, fixed_clock):
    staff, citizen = as_role(STAFF), as_role(CITIZEN)
    topic = published(client, staff, survey_body(title="关于菜市场营业时间的调查"))
    before = responses(db)
    url = f"{TOPICS}/{topic['id']}/responses"
    q1, q2, _ = topic["questions"]

    assert_problem(client.post(url, json={"answers": []}, headers=citizen), 422, "validation-error")  # empty
    missing = assert_problem(client.post(url, json={"answers": answers_for(topic)[:1]}, headers=citizen), 422, "participation-incomplete")
    assert "您最需要哪些服务" in missing["detail"]
    two = [{"question_id": q1["id"], "option_ids": [o["id"] for o in q1["options"]]}, *answers_for(topic)[1:]]
    assert_problem(client.post(url, json={"answers": two}, headers=citizen), 422, "validation-error")  # two options of a single choice
    foreign = [{"question_id": q1["id"], "option_ids": [q2["options"][0]["id"]]}, *answers_for(topic)[1:]]
    assert_problem(client.post(url, json={"answers": foreign}, headers=citizen), 422, "validation-error")  # another question's option
    assert_problem(client.post(url, json={"answers": answers_for(topic, text="长" * 2001)}, headers=citizen), 422, "validation-error")
    assert_problem(client.post(url, json={"answers": answers_for(topic)}, headers=staff), 403, "permission-denied")  # staff do not answer
    assert_problem(client.post(url, json={"answers": answers_for(topic)}), 401, "not-authenticated")
    assert responses(db) == before

    # before it opens and after it closes
    upcoming = published(client, staff, survey_body(title="关于停车收费的调查", opens_at=(clock.now() + timedelta(days=1)).isoformat()))
    refused = assert_problem(client.post(f"{TOPICS}/{upcoming['id']}/responses", json={"answers": answers_for(upcoming)}, headers=citizen),
                             409, "participation-closed")
    assert "尚未开始" in refused["detail"]
    fixed_clock.advance(days=8)
    citizen = as_role(CITIZEN)
    refused = assert_problem(client.post(url, json={"answers": answers_for(topic)}, headers=citizen), 409, "participation-closed")
    assert "截止" in refused["detail"]
    assert responses(db) == before


def test_a_survey_is_written_right_and_only_by_its_department(client, as_role):
    staff, other = as_role(STAFF), as_role(OTHER_STAFF)
    no_questions = assert_problem(client.post(MANAGE, json=survey_body(questions=[]), headers=staff), 422, "validation-error")
    assert "至少要有 1 个问题" in no_questions["detail"]
    one_option = survey_body(questions=[{"kind": "single", "text": "是否满意？", "options": ["满意"]}])
    assert_problem(client.post(MANAGE, json=one_option, headers=staff), 422, "validation-error")
    backwards = survey_body(closes_at=(clock.now() - timedelta(days=1)).isoformat())
    assert_problem(client.post(MANAGE, json=backwards, headers=staff), 422, "validation-error")
    assert_problem(client.post(MANAGE, json=survey_body(title="长" * 201), headers=staff), 422, "validation-error")
    assert_problem(client.post(MANAGE, json=survey_body(), headers=as_role(CITIZEN)), 403, "permission-denied")

    draft = client.post(MANAGE, json=survey_body(title="关于早餐工程的调查"), headers=staff).json()
    # another department's staff may not touch it, nor see the draft
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/publish", headers=other), 403, "department-scope")
    assert_problem(client.put(f"{MANAGE}/{draft['id']}", json=survey_body(), headers=other), 403, "department-scope")
    assert_problem(client.get(f"{TOPICS}/{draft['id']}", headers=other), 404, "not-found")
    assert draft["id"] not in [t["id"] for t in client.get(MANAGE, headers=other).json()]

    changed = client.put(f"{MANAGE}/{draft['id']}", json=survey_body(title="关于早餐工程网点的调查"), headers=staff)
    assert changed.status_code == 200 and changed.json()["title"] == "关于早餐工程网点的调查"
    client.post(f"{MANAGE}/{draft['id']}/publish", headers=staff)
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/publish", headers=staff), 409, "participation-state")
    assert_problem(client.put(f"{MANAGE}/{draft['id']}", json=survey_body(), headers=staff), 409, "participation-state")
