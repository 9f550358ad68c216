"""items: an FAQ answer promoted from the consultation queue is a draft until a reviewer approves it

``item_faqs.status`` is ``draft``, ``published`` or ``rejected``; only published entries answer the
public. Entries that exist already were public, so they stay ``published``. ``reviewed_by`` names
the reviewer who decided.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_faqs') as batch:
        batch.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='published'))
        batch.add_column(sa.Column('reviewed_by', sa.String(length=128), nullable=True))
        batch.create_index(batch.f('ix_item_faqs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_faqs') as batch:
        batch.drop_index(batch.f('ix_item_faqs_status'))
        batch.drop_column('reviewed_by')
        batch.drop_column('status')
