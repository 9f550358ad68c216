"""cases: an application's deadline is its supervision clock's only

``case_applications`` kept its own due date and pauses (``due_on``, ``paused_days``,
``paused_since``) beside the application's clock (kind ``application``, subject the application's
number), which keeps the same facts. The copies go; cases reads the clock. An application with a
due date but no clock (accepted before supervision existed, 0006) would lose its deadline: the
upgrade then stops and changes nothing, naming how many, rather than drop what only it knows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    orphans = op.get_bind().scalar(sa.text(
        "SELECT COUNT(*) FROM case_applications a WHERE a.due_on IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM supervision_clocks c WHERE c.kind = 'application' AND c.subject_ref = a.number)"))
    if orphans:
        raise RuntimeError(f"{orphans} applications have a due date but no supervision clock (accepted before "
                           "migration 0006); start their clocks before upgrading, or their deadlines are lost")
    with op.batch_alter_table('case_applications') as batch:
        batch.drop_column('due_on')
        batch.drop_column('paused_days')
        batch.drop_column('paused_since')


def downgrade() -> None:
    with op.batch_alter_table('case_applications') as batch:
        batch.add_column(sa.Column('paused_since', sa.Date(), nullable=True))
        batch.add_column(sa.Column('paused_days', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
    # The copies again, from the clocks.
    for column in ('paused_since', 'paused_days', 'due_on'):
        op.execute(f"UPDATE case_applications SET {column} = (SELECT c.{column} FROM supervision_clocks c "
                   "WHERE c.kind = 'application' AND c.subject_ref = case_applications.number) "
                   "WHERE EXISTS (SELECT 1 FROM supervision_clocks c "
                   "WHERE c.kind = 'application' AND c.subject_ref = case_applications.number)")
    with op.batch_alter_table('case_applications') as batch:
        batch.alter_column('paused_days', server_default=None)
