"""在线访谈: scheduled with its guests, questions collected from the public in advance, the guests'
answers given by the department's staff, and after the event the answers and the transcript
published — the askers' names and contacts never, personal data in a question masked."""

from __future__ import annotations

from datetime import timedelta

from helpers import assert_problem

from tongban.core import clock

from .conftest import CITIZEN, MANAGE, OTHER_STAFF, STAFF, TOPICS, iso, period


def interview_body(**extra) -> dict:
    now = clock.now()
    return {"kind": "interview", "title": "食品安全监管在线访谈", "body": "局领导与网民在线交流校园周边食品安全监管工作。",
            **period(closes=timedelta(days=2)), "event_at": iso(now + timedelta(days=3)),
            "guests": "王明（区市场监管局副局长）", **extra}


def test_an_interview_with_questions_answered_and_published(client, as_role, fixed_clock):
    staff, citizen = as_role(STAFF), as_role(CITIZEN)
    assert_problem(client.post(MANAGE, json=interview_body(event_at=None), headers=staff), 422, "validation-error")
    assert_problem(client.post(MANAGE, json=interview_body(guests=""), headers=staff), 422, "validation-error")
    early = interview_body(event_at=iso(clock.now() + timedelta(days=1)))  # before questions close
    assert_problem(client.post(MANAGE, json=early, headers=staff), 422, "validation-error")

    created = client.post(MANAGE, json=interview_body(), headers=staff).json()
    topic = client.post(f"{MANAGE}/{created['id']}/publish", headers=staff).json()
    assert topic["kind_label"] == "在线访谈" and topic["guests"] == "王明（区市场监管局副局长）" and topic["event_text"]

    url = f"{TOPICS}/{topic['id']}/comments"
    asked = client.post(url, json={"body": "学校周边小摊贩如何监管？我的电话 13812345678"}, headers=citizen)
    assert asked.status_code == 201, asked.text
    other = client.post(url, json={"body": "网购食品出了问题找谁投诉？", "name": "赵先生", "contact": "021-58881234"}).json()
    client.post(url, json={"body": "外卖平台的后厨如何检查？", "name": "钱女士", "contact": "qian@example.cn"})

    # another department's staff may not answer; the department answers before the event
    answer = {"answer": "我们每学期开展校园周边专项检查，并设置投诉电话。"}
    assert_problem(client.post(f"{MANAGE}/{topic['id']}/comments/{asked.json()['id']}/answer", json=answer,
                               headers=as_role(OTHER_STAFF)), 403, "department-scope")
    assert_problem(client.post(f"{MANAGE}/{topic['id']}/comments/{asked.json()['id']}/answer", json={"answer": ""},
                               headers=staff), 422, "validation-error")
    done = client.post(f"{MANAGE}/{topic['id']}/comments/{asked.json()['id']}/answer", json=answer, headers=staff)
    assert done.status_code == 200 and done.json()["selected"] is True
    client.post(f"{MANAGE}/{topic['id']}/comments/{other['id']}/answer", json={"answer": "可拨打 12315 投诉举报。"}, headers=staff)
    assert client.get(f"{TOPICS}/{topic['id']}").json()["answers"] == []  # not yet public

    transcript = {"summary": "主持人：各位网友好，今天我们邀请到区市场监管局副局长王明……"}
    fixed_clock.advance(days=2, hours=1)  # questions closed, the event not yet held
    staff = as_role(STAFF)
    assert_problem(client.post(url, json={"body": "迟到的问题"}, headers=as_role(CITIZEN)), 409, "participation-closed")
    assert_problem(client.post(f"{MANAGE}/{topic['id']}/summary", json=transcript, headers=staff), 409, "participation-state")
    fixed_clock.advance(days=1)
    staff = as_role(STAFF)
    assert_problem(client.post(f"{MANAGE}/{topic['id']}/summary", headers=staff,
                               json={**transcript, "adoptions": [{"subject": "x" * 3, "decision": "adopted", "reason": "理由"}]}),
                   422, "validation-error")
    published = client.post(f"{MANAGE}/{topic['id']}/summary", json=transcript, headers=staff)
    assert published.status_code == 200, published.text

    public = client.get(f"{TOPICS}/{topic['id']}")
    shown = public.json()
    assert shown["phase"] == "results" and shown["summary"].startswith("主持人")
    assert [a["question"] for a in shown["answers"]] == ["学校周边小摊贩如何监管？我的电话 [电话号码已隐去]", "网购食品出了问题找谁投诉？"]
    assert shown["answers"][1]["answer"] == "可拨打 12315 投诉举报。"
    for private in ("13812345678", "赵先生", "021-58881234", "钱女士", "外卖平台"):
        assert private not in public.text
    page = client.get(f"/participation/{topic['id']}")
    assert "访谈实录" in page.text and "[电话号码已隐去]" in page.text and "13812345678" not in page.text
    # answers are final once the transcript is out
    assert_problem(client.post(f"{MANAGE}/{topic['id']}/comments/{other['id']}/answer", json=answer, headers=staff),
                   409, "participation-state")
