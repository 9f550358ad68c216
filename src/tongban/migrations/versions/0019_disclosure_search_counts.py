"""disclosure: the search's counts per combination of filters

``disclosure_search_counts`` holds how many published documents each combination of 发布机构,
year, 主题, 体裁 and 有效性 has, kept by the index as it indexes and unindexes: browsing the whole
catalog (no words) reads its facet counts from a few thousand rows instead of grouping every
document.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'disclosure_search_counts',
        sa.Column('department_code', sa.String(length=32), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=50), nullable=False),
        sa.Column('genre', sa.String(length=50), nullable=False),
        sa.Column('validity', sa.String(length=10), nullable=False),
        sa.Column('department_name', sa.String(length=200), nullable=False),
        sa.Column('documents', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('department_code', 'year', 'theme', 'genre', 'validity',
                                name=op.f('pk_disclosure_search_counts')),
    )
    op.execute("INSERT INTO disclosure_search_counts (department_code, year, theme, genre, validity, department_name, "
               "documents) SELECT department_code, year, theme, genre, validity, max(department_name), count(*) "
               "FROM disclosure_search_entries GROUP BY department_code, year, theme, genre, validity")


def downgrade() -> None:
    op.drop_table('disclosure_search_counts')
