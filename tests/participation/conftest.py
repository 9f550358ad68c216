"""Each participation test module has a database of its own (the demo district) and an app on it
without background jobs; the tests move the platform's clock across a topic's period."""

from __future__ import annotations

from datetime import datetime, timedelta

import own_database as _own

from tongban.core import clock

own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role

STAFF, OTHER_STAFF = "reviewer", "reviewer.ga"  # 市场监管局; 公安分局
CITIZEN, ENTERPRISE = "310115199306151236", "91310115MA1FL0001N"
MANAGE = "/api/v1/participation/manage/topics"
TOPICS = "/api/v1/participation/topics"


def iso(moment: datetime) -> str:
    return moment.astimezone(clock.BEIJING).isoformat()


def period(*, opens: timedelta = timedelta(hours=-1), closes: timedelta = timedelta(days=7)) -> dict[str, str]:
    now = clock.now()
    return {"opens_at": iso(now + opens), "closes_at": iso(now + closes)}


def survey_body(**extra) -> dict:
    return {"kind": "survey", "title": "关于社区养老服务需求的调查", "body": "为了解居民对社区养老服务的需求，开展本次调查。",
            **period(), "questions": [
                {"kind": "single", "text": "您家中是否有 60 岁以上老人？", "options": ["有", "没有"]},
                {"kind": "multiple", "text": "您最需要哪些服务？", "options": ["助餐", "助浴", "日间照料", "上门医疗"]},
                {"kind": "text", "text": "其他建议", "required": False}], **extra}


def published(client, headers, body: dict) -> dict:
    created = client.post(MANAGE, json=body, headers=headers)
    assert created.status_code == 201, created.text
    done = client.post(f"{MANAGE}/{created.json()['id']}/publish", headers=headers)
    assert done.status_code == 200, done.text
    return done.json()
