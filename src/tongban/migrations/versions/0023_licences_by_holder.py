"""cases: a holder's licences by (holder_id, id), newest first without a sort

Every application form and submission reads the applicant's licences newest first (免提交); the
single-column index made a holder with thousands of licences sort them all each time.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 08:20:00
"""

from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_licences_holder', 'case_licences', ['holder_id', 'id'], unique=False)
    op.drop_index('ix_case_licences_holder_id', table_name='case_licences')


def downgrade() -> None:
    op.create_index('ix_case_licences_holder_id', 'case_licences', ['holder_id'], unique=False)
    op.drop_index('ix_case_licences_holder', table_name='case_licences')
