"""The one notifier: one notice, several at once, or as many as a SELECT chooses; each lands as
a row its recipients' workbench lists, at the platform's moment unless given one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String, literal, select

from tongban.notifications import service
from tongban.notifications.models import Notification
from tongban.org import service as org


def _sent(db, kind: str) -> list[Notification]:
    return list(db.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def test_several_notices_in_one_statement(db, fixed_clock):
    rs = org.get_by_code(db, "PD-RS").id
    sent = service.notify_many(db, [
        service.Notice(department_id=rs, title="甲" * 250, body="乙" * 2500, kind="test.many", role="department_head"),
        service.Notice(department_id=None, account_id="someone", title="结果", body="已办结", kind="test.many",
                       link="/applications/X"),
    ])
    assert sent == 2 and service.notify_many(db, []) == 0
    first, second = _sent(db, "test.many")
    assert (len(first.title), len(first.body), first.role, first.account_id) == (200, 2000, "department_head", None)
    assert (second.department_id, second.account_id, second.link) == (None, "someone", "/applications/X")
    assert first.created_at == second.created_at == fixed_clock.now()
    db.rollback()


def test_as_many_as_a_select_chooses(db):
    rs, ga = org.get_by_code(db, "PD-RS").id, org.get_by_code(db, "PD-GA").id
    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    for department_id in (rs, ga):
        chosen = select(literal(department_id), literal("department_head"), literal(None, String), literal("标题"),
                        literal("正文"), literal("/supervision"), literal("test.selected"))
        assert service.notify_selected(db, chosen, at=at) == 1
        assert service.notify_selected(db, chosen.where(literal(False)), at=at) == 0  # nothing chosen, nothing sent
    rows = _sent(db, "test.selected")
    assert [(n.department_id, n.role, n.title, n.link, n.created_at) for n in rows] == [
        (rs, "department_head", "标题", "/supervision", at), (ga, "department_head", "标题", "/supervision", at)]
    db.rollback()


def test_every_kind_of_notice_the_demo_sends_is_named_in_chinese(db):
    """The list page names each notice's kind (``KIND_LABELS``); a kind without a name would show
    only 「通知」. The demo sends notices of every domain."""
    from tongban.notifications.schemas import KIND_LABELS

    kinds = set(db.scalars(select(Notification.kind).distinct()))
    assert len(kinds) >= 8
    unnamed = {kind for kind in kinds if not kind.startswith("test.")} - set(KIND_LABELS)
    assert not unnamed, f"notice kinds without a Chinese name: {sorted(unnamed)}"
