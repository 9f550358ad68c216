"""mailbox: 领导信箱 — the letters residents and enterprises write and their trail.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('query_code_hash', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('writer_account', sa.String(length=64), nullable=True),
    sa.Column('writer_kind', sa.String(length=12), nullable=False),
    sa.Column('writer_name', sa.String(length=64), nullable=False),
    sa.Column('writer_phone', sa.String(length=32), nullable=True),
    sa.Column('writer_email', sa.String(length=120), nullable=True),
    sa.Column('writer_key', sa.String(length=64), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('limit_days', sa.Integer(), nullable=True),
    sa.Column('for_leader', sa.Boolean(), nullable=False),
    sa.Column('department_reply', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_by', sa.String(length=100), nullable=True),
    sa.Column('public_subject', sa.String(length=100), nullable=True),
    sa.Column('public_body', sa.Text(), nullable=True),
    sa.Column('public_reply', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_mailbox_letters_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_letters')),
    sa.UniqueConstraint('number', name=op.f('uq_mailbox_letters_number'))
    )
    with op.batch_alter_table('mailbox_letters', schema=None) as batch_op:
        batch_op.create_index('ix_mailbox_letters_department_status', ['department_id', 'status'], unique=False)
        batch_op.create_index('ix_mailbox_letters_duplicate', ['writer_key', 'text_hash', 'created_at'], unique=False)
        batch_op.create_index('ix_mailbox_letters_published', ['published_at'], unique=False)
        batch_op.create_index('ix_mailbox_letters_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_mailbox_letters_writer', ['writer_account', 'id'], unique=False)

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


def downgrade() -> None:
    op.drop_table('mailbox_letter_events')
    op.drop_table('mailbox_letters')
