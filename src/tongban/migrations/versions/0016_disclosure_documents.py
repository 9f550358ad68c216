"""disclosure: the proactive-disclosure catalog (documents, attachments, versions, 索引号 sequences, subscriptions)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 01:36:16.259787
"""

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_subscriptions')),
    sa.UniqueConstraint('account_id', 'kind', 'target', name=op.f('uq_disclosure_subscriptions_account_id'))
    )
    with op.batch_alter_table('disclosure_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_subscriptions_target', ['kind', 'target'], unique=False)

    op.create_table('disclosure_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index_number', sa.String(length=40), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('document_number', sa.String(length=60), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('theme', sa.String(length=32), nullable=False),
    sa.Column('genre', sa.String(length=32), nullable=False),
    sa.Column('openness', sa.String(length=16), nullable=False),
    sa.Column('withheld_ground', sa.String(length=500), nullable=True),
    sa.Column('validity', sa.String(length=16), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('drafted_by', sa.String(length=64), nullable=False),
    sa.Column('drafted_by_name', sa.String(length=128), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_by_name', sa.String(length=128), nullable=True),
    sa.Column('review_ground', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_disclosure_documents_department_id_departments')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['disclosure_documents.id'], name=op.f('fk_disclosure_documents_replaced_by_id_disclosure_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_documents')),
    sa.UniqueConstraint('index_number', name=op.f('uq_disclosure_documents_index_number'))
    )
    with op.batch_alter_table('disclosure_documents', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_documents_catalog', ['status', 'department_id', 'published_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_documents_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_documents_status'), ['status'], unique=False)
        batch_op.create_index('ix_disclosure_documents_theme', ['status', 'theme', 'published_on'], unique=False)

    op.create_table('disclosure_index_sequences',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_disclosure_index_sequences_department_id_departments')),
    sa.PrimaryKeyConstraint('department_id', 'year', name=op.f('pk_disclosure_index_sequences'))
    )
    op.create_table('disclosure_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_as', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['disclosure_documents.id'], name=op.f('fk_disclosure_attachments_document_id_disclosure_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_attachments'))
    )
    with op.batch_alter_table('disclosure_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_attachments_document_id'), ['document_id'], unique=False)

    op.create_table('disclosure_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_name', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['disclosure_documents.id'], name=op.f('fk_disclosure_versions_document_id_disclosure_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_versions')),
    sa.UniqueConstraint('document_id', 'version', name=op.f('uq_disclosure_versions_document_id'))
    )


def downgrade() -> None:
    op.drop_table('disclosure_versions')
    with op.batch_alter_table('disclosure_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_attachments_document_id'))

    op.drop_table('disclosure_attachments')
    op.drop_table('disclosure_index_sequences')
    with op.batch_alter_table('disclosure_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_documents_theme')
        batch_op.drop_index(batch_op.f('ix_disclosure_documents_status'))
        batch_op.drop_index(batch_op.f('ix_disclosure_documents_department_id'))
        batch_op.drop_index('ix_disclosure_documents_catalog')

    op.drop_table('disclosure_documents')
    with op.batch_alter_table('disclosure_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_subscriptions_target')

    op.drop_table('disclosure_subscriptions')
