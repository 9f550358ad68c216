"""disclosure: the one-stop search's index (一站式检索)

One row per published document in ``disclosure_search_entries``, its full text (for snippets) in
``disclosure_search_texts``. PostgreSQL keeps the words in
its ``search_vector`` (tsvector, GIN index); SQLite in the FTS5 table ``disclosure_search_fts``
(rowid = the entry's id), which only SQLite has.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'disclosure_search_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('index_number', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('document_number', sa.String(length=100), nullable=True),
        sa.Column('number_key', sa.String(length=100), nullable=True),
        sa.Column('department_code', sa.String(length=32), nullable=False),
        sa.Column('department_name', sa.String(length=200), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=50), nullable=False),
        sa.Column('genre', sa.String(length=50), nullable=False),
        sa.Column('validity', sa.String(length=10), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=False),
        sa.Column('search_vector', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_search_entries')),
        sa.UniqueConstraint('index_number', name=op.f('uq_disclosure_search_entries_index_number')),
    )
    op.create_table(
        'disclosure_search_texts',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_search_texts')),
    )
    op.create_index(op.f('ix_disclosure_search_entries_number_key'), 'disclosure_search_entries', ['number_key'])
    op.create_index('ix_disclosure_search_entries_facets', 'disclosure_search_entries',
                    ['department_code', 'year', 'theme', 'genre', 'validity'])
    op.create_index('ix_disclosure_search_entries_published', 'disclosure_search_entries',
                    ['published_on', 'index_number'])
    op.create_index('ix_disclosure_search_entries_vector', 'disclosure_search_entries', ['search_vector'],
                    postgresql_using='gin', sqlite_where=sa.text('search_vector IS NOT NULL'))
    if op.get_bind().dialect.name == 'sqlite':
        # Words already segmented (jieba) and joined by spaces: the ascii tokenizer only splits them.
        op.execute("CREATE VIRTUAL TABLE disclosure_search_fts USING fts5(title, body, tokenize='ascii')")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TABLE disclosure_search_fts')
    op.drop_table('disclosure_search_texts')
    op.drop_table('disclosure_search_entries')
