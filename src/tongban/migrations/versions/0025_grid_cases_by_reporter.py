"""grid: a reporter's cases by (reporter_account, id)

「我的上报」 lists a resident's own reports newest first, and a supervisor's 「等我处理」 asks for
the cases they reported; without an index both read every case of the city.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:20:00
"""

from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_grid_cases_reporter', 'grid_cases', ['reporter_account', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_grid_cases_reporter', table_name='grid_cases')
