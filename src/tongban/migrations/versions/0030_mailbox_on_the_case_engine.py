"""mailbox on the case engine: a letter IS a grid case (source mailbox, its XF- number), as a 12345
ticket is; ``mailbox_letters`` keeps only what a letter has beside it, and its trail moves into
``grid_case_events`` (the letter's steps in the engine's words: write → report, assign → dispatch,
reply → handle, send → verify, return → rework; answer, leader and publish keep their names).

Its clocks need no change: their subjects were already the number and ``number/round``, the way
the engine names its rounds. Each letter's case is filed under the mailbox's own category
(``mailbox``/``XF``); ``expected_at`` of a letter assigned before this migration stays empty (its
reply clock still times it).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

# the letter's states and steps in the engine's words, and back
STATES = (("received", "registered"), ("assigned", "dispatched"), ("replied", "handled"), ("answered", "closed"),
          ("published", "closed"))
STEPS = (("write", "report"), ("assign", "dispatch"), ("reply", "handle"), ("send", "verify"), ("return", "rework"))


def _case(column: str, pairs, otherwise: str) -> str:
    whens = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in pairs)
    return f"CASE {column} {whens} ELSE {otherwise} END"


def upgrade() -> None:
    with op.batch_alter_table('mailbox_letters') as batch:
        batch.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
    op.execute(f"""
        INSERT INTO grid_cases (number, source, category_kind, category_code, category_name, urgent, description, status,
                                department_id, reporter_name, duplicates, returns, reworks, created_at, updated_at,
                                closed_at, result, version)
        SELECT number, 'mailbox', 'mailbox', 'XF', '领导信箱来信', false, subject, {_case('status', STATES, 'status')},
               department_id, writer_name, 0, 0, CASE WHEN rounds > 1 THEN rounds - 1 ELSE 0 END, created_at, updated_at,
               answered_at, department_reply, version
        FROM mailbox_letters ORDER BY id
    """)
    op.execute("UPDATE mailbox_letters SET case_id = (SELECT id FROM grid_cases WHERE grid_cases.number = mailbox_letters.number)")
    op.execute(f"""
        INSERT INTO grid_case_events (case_id, action, status, actor_account, actor_name, department_id, note, at)
        SELECT l.case_id, {_case('e.action', STEPS, 'e.action')}, {_case('e.status', STATES, 'e.status')},
               e.actor_account, e.actor_name, e.department_id, substr(e.note, 1, 1000), e.at
        FROM mailbox_letter_events e JOIN mailbox_letters l ON l.id = e.letter_id ORDER BY e.id
    """)
    op.drop_table('mailbox_letter_events')
    with op.batch_alter_table('mailbox_letters') as batch:
        batch.drop_index('ix_mailbox_letters_department_status')
        batch.drop_index('ix_mailbox_letters_status_created')
        batch.drop_constraint('uq_mailbox_letters_number', type_='unique')
        batch.drop_constraint('fk_mailbox_letters_department_id_departments', type_='foreignkey')
        for column in ('number', 'status', 'department_id', 'department_reply', 'updated_at', 'rounds', 'version'):
            batch.drop_column(column)
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(batch.f('fk_mailbox_letters_case_id_grid_cases'), 'grid_cases', ['case_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_unique_constraint(batch.f('uq_mailbox_letters_case_id'), ['case_id'])


def downgrade() -> None:
    with op.batch_alter_table('mailbox_letters') as batch:
        batch.add_column(sa.Column('number', sa.String(length=24), nullable=True))
        batch.add_column(sa.Column('status', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('department_reply', sa.Text(), nullable=True))
        batch.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('rounds', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), nullable=True))
    case_of = "FROM grid_cases c WHERE c.id = mailbox_letters.case_id"
    back = tuple((b, a) for a, b in STATES if a != "published")
    op.execute(f"""
        UPDATE mailbox_letters SET
            number = (SELECT c.number {case_of}),
            status = CASE WHEN published_at IS NOT NULL THEN 'published'
                          ELSE (SELECT {_case('c.status', back, 'c.status')} {case_of}) END,
            department_id = (SELECT c.department_id {case_of}),
            department_reply = (SELECT c.result {case_of}),
            updated_at = (SELECT c.updated_at {case_of}),
            rounds = (SELECT CASE WHEN EXISTS (SELECT 1 FROM grid_case_events e WHERE e.case_id = c.id AND e.action = 'dispatch')
                                  THEN c.returns + c.reworks + 1 ELSE 0 END {case_of}),
            version = (SELECT c.version {case_of})
    """)
    with op.batch_alter_table('mailbox_letters') as batch:
        batch.drop_constraint('uq_mailbox_letters_case_id', type_='unique')
        batch.drop_constraint('fk_mailbox_letters_case_id_grid_cases', type_='foreignkey')
        batch.drop_column('case_id')
        for column, kind in (('number', sa.String(length=24)), ('status', sa.String(length=10)),
                             ('updated_at', sa.DateTime(timezone=True)), ('rounds', sa.Integer()), ('version', sa.Integer())):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.create_foreign_key('fk_mailbox_letters_department_id_departments', 'departments', ['department_id'], ['id'])
        batch.create_unique_constraint('uq_mailbox_letters_number', ['number'])
        batch.create_index('ix_mailbox_letters_department_status', ['department_id', 'status'], unique=False)
        batch.create_index('ix_mailbox_letters_status_created', ['status', 'created_at'], unique=False)
    # the trail after the table is rebuilt: SQLite's rebuild would cascade the events away
    op.create_table('mailbox_letter_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actor_account', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_mailbox_letter_events_department_id_departments')),
    sa.ForeignKeyConstraint(['letter_id'], ['mailbox_letters.id'], name=op.f('fk_mailbox_letter_events_letter_id_mailbox_letters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_letter_events'))
    )
    with op.batch_alter_table('mailbox_letter_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_letter_events_letter_id'), ['letter_id'], unique=False)
    op.execute(f"""
        INSERT INTO mailbox_letter_events (letter_id, action, status, actor_account, actor_name, department_id, note, at)
        SELECT l.id, {_case('e.action', tuple((b, a) for a, b in STEPS), 'e.action')},
               CASE WHEN e.action = 'publish' THEN 'published' ELSE {_case('e.status', back, 'e.status')} END,
               e.actor_account, e.actor_name, e.department_id, e.note, e.at
        FROM grid_case_events e JOIN grid_cases c ON c.id = e.case_id JOIN mailbox_letters l ON l.number = c.number
        WHERE c.source = 'mailbox' ORDER BY e.id
    """)
    mailbox_cases = "SELECT id FROM grid_cases WHERE source = 'mailbox'"
    op.execute(f"DELETE FROM grid_case_events WHERE case_id IN ({mailbox_cases})")
    op.execute(f"DELETE FROM grid_case_photos WHERE case_id IN ({mailbox_cases})")
    op.execute("DELETE FROM grid_cases WHERE source = 'mailbox'")
