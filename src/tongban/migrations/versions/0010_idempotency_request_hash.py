"""idempotency: the hash of the request that used an application's key

With it, the same Idempotency-Key with a different body is refused (problem
``idempotency-key-reused``) instead of silently answering with the first application.
Applications filed before it have no hash and keep answering retries as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_applications') as batch:
        batch.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_applications') as batch:
        batch.drop_column('request_hash')
