"""hotline: 12345 tickets on the grid's case engine

A call often names no place: grid_cases.lon/lat become nullable; the hotline's own categories
(H-RS01) need a longer category code. The call's own facts live in hotline_tickets, 1:1 with the
case; indexes for a caller's earlier tickets and for a channel's queues.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 14:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('grid_cases') as batch:
        batch.alter_column('lon', existing_type=sa.Float(), nullable=True)
        batch.alter_column('lat', existing_type=sa.Float(), nullable=True)
        batch.alter_column('category_code', existing_type=sa.String(4), type_=sa.String(16), existing_nullable=False)
    op.create_index('ix_grid_cases_source_status', 'grid_cases', ['source', 'status', 'department_id'], unique=False)
    op.create_table(
        'hotline_tickets',
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('grid_cases.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('caller_phone', sa.String(20), nullable=False),
        sa.Column('caller_name', sa.String(64), nullable=True),
        sa.Column('caller_id_number', sa.String(18), nullable=True),
        sa.Column('said', sa.String(2000), nullable=False),
        sa.Column('summary', sa.String(500), nullable=False),
        sa.Column('category_code', sa.String(16), nullable=False),
        sa.Column('outcome', sa.String(12), nullable=False),
        sa.Column('knowledge_ref', sa.String(64), nullable=True),
        sa.Column('knowledge_text', sa.String(2000), nullable=True),
        sa.Column('transfer_line', sa.String(8), nullable=True),
        sa.Column('agent_account', sa.String(64), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('extension_days', sa.Integer(), nullable=True),
        sa.Column('extension_reason', sa.String(500), nullable=True),
        sa.Column('extension_state', sa.String(10), nullable=True),
        sa.Column('urges', sa.Integer(), nullable=False),
        sa.Column('satisfaction', sa.String(20), nullable=True),
        sa.Column('solved', sa.Boolean(), nullable=True),
        sa.Column('follow_up_note', sa.String(500), nullable=True),
        sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reopens', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(64), nullable=True, unique=True),
        sa.Column('request_hash', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_hotline_tickets_caller', 'hotline_tickets', ['caller_phone', 'created_at'], unique=False)
    op.create_index('ix_hotline_tickets_extension', 'hotline_tickets', ['extension_state'], unique=False)


def downgrade() -> None:
    # The cases the earlier schema cannot hold (no place, or a hotline class's longer code) are the
    # tickets this revision brought: they go with their table, their trail and photos first.
    unfit = "SELECT id FROM grid_cases WHERE lon IS NULL OR lat IS NULL OR length(category_code) > 4"
    op.execute(f"UPDATE grid_cases SET merged_into_id = NULL WHERE merged_into_id IN ({unfit})")
    for child in ('grid_case_events', 'grid_case_photos', 'hotline_tickets'):
        op.execute(f"DELETE FROM {child} WHERE case_id IN ({unfit})")
    op.execute("DELETE FROM grid_cases WHERE lon IS NULL OR lat IS NULL OR length(category_code) > 4")
    op.drop_index('ix_hotline_tickets_extension', table_name='hotline_tickets')
    op.drop_index('ix_hotline_tickets_caller', table_name='hotline_tickets')
    op.drop_table('hotline_tickets')
    op.drop_index('ix_grid_cases_source_status', table_name='grid_cases')
    with op.batch_alter_table('grid_cases') as batch:
        batch.alter_column('category_code', existing_type=sa.String(16), type_=sa.String(4), existing_nullable=False)
        batch.alter_column('lat', existing_type=sa.Float(), nullable=False)
        batch.alter_column('lon', existing_type=sa.Float(), nullable=False)
