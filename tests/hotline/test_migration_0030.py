"""Migration 0030 on the demo database of each engine: the mayor's mailbox moves onto the case
engine (a letter IS a grid case, its trail the case's) and back. Run from head to 0029 and up
again: every letter reads the same before and after, state, department, trail, reply and clocks."""

from __future__ import annotations

from conftest import downgrade
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from tongban.core import migrate
from tongban.hotline import mailbox_service as mailbox
from tongban.hotline.mailbox_models import Letter


def _letters(engine) -> dict[str, tuple]:
    with Session(engine) as db:
        found = {}
        for filed in mailbox.with_cases(db, list(db.query(Letter).order_by(Letter.id))):
            steps = [(mailbox.STEPS[e.action].value, e.actor_name, e.department_id, e.note)
                     for e in mailbox.trail(db, filed)]
            found[filed.number] = (filed.status.value, filed.department_id, filed.case.result, filed.letter.reply,
                                   filed.letter.for_leader, filed.letter.published_at is not None, steps,
                                   [(c.kind, c.subject_ref, c.status) for c in mailbox.clocks(db, filed)])
        return found


def test_0030_moves_the_letters_onto_the_case_engine_and_back(fresh_database):
    engine = fresh_database.engine
    before = _letters(engine)
    assert {status for status, *_ in before.values()} == {"received", "assigned", "answered", "published"}
    assert any(len(steps) >= 4 for *_, steps, _ in before.values())

    downgrade(engine, "0029")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM grid_cases WHERE source = 'mailbox'")).scalar() == 0
        rows = dict(connection.execute(text("SELECT number, status FROM mailbox_letters")).all())
        trail = connection.execute(text("SELECT l.number, e.action FROM mailbox_letter_events e "
                                        "JOIN mailbox_letters l ON l.id = e.letter_id ORDER BY e.id")).all()
    assert rows == {number: status for number, (status, *_) in before.items()}
    assert [action for number, action in trail if number == next(iter(before))][0] == "write"
    assert {action for _, action in trail} <= {"write", "answer", "assign", "reply", "send", "return", "leader", "publish"}
    assert "case_id" not in {column["name"] for column in inspect(engine).get_columns("mailbox_letters")}

    migrate.upgrade(engine)
    assert _letters(engine) == before
