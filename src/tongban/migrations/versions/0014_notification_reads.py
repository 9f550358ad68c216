"""notifications: read marks per person

A department's notice reaches every member of the department (or of one role in it); the single
``notifications.read_at`` could only say that *someone* read it, and nothing ever set it. Each
person's read mark is now a row of ``notification_reads``; the unused column goes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:50:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_reads',
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                            name=op.f('fk_notification_reads_notification_id_notifications')),
    sa.PrimaryKeyConstraint('notification_id', 'account_id', name=op.f('pk_notification_reads'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('read_at')


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_table('notification_reads')
