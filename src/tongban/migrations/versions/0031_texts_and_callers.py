"""text messages and callers: ``notification_texts`` (短信 written with the step they tell of, sent
after commit by the text sender; only the waiting ones indexed) and the index a resident's own
12345 tickets are found by (``hotline_tickets (caller_id_number, created_at)``).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_texts'))
    )
    with op.batch_alter_table('notification_texts', schema=None) as batch_op:
        batch_op.create_index('ix_notification_texts_waiting', ['id'], unique=False,
                              sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))
    with op.batch_alter_table('hotline_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_hotline_tickets_caller_id', ['caller_id_number', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hotline_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_hotline_tickets_caller_id')
    op.drop_table('notification_texts')
