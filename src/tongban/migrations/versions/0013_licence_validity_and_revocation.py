"""cases: a licence's validity and its revocation, for the printed licence and the public check

``case_licences`` gains ``valid_until`` (the last valid day; NULL: 长期有效) and ``revoked_at`` /
``revoked_reason``: the public check page (/verify/licences/{number}) answers valid, expired or
revoked from them. Licences issued before keep NULLs: valid without a limit, not revoked.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:50:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_licences') as batch:
        batch.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
        batch.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('revoked_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_licences') as batch:
        batch.drop_column('revoked_reason')
        batch.drop_column('revoked_at')
        batch.drop_column('valid_until')
