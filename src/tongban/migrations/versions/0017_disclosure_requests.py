"""disclosure: requests for disclosure (依申请公开), their events (letters) and the review and litigation recorded

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:15:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('applicant_category', sa.String(length=16), nullable=False),
    sa.Column('applicant_name', sa.String(length=128), nullable=False),
    sa.Column('applicant_key', sa.String(length=18), nullable=False),
    sa.Column('applicant_account', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('contact_address', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=120), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=1000), nullable=True),
    sa.Column('delivery', sa.String(length=8), nullable=False),
    sa.Column('normalised', sa.String(length=2000), nullable=False),
    sa.Column('repeat_of', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('clock_round', sa.Integer(), nullable=False),
    sa.Column('correction_due_on', sa.Date(), nullable=True),
    sa.Column('consultation_due_on', sa.Date(), nullable=True),
    sa.Column('extended_days', sa.Integer(), nullable=False),
    sa.Column('fee_ordinal', sa.Integer(), nullable=False),
    sa.Column('fee_yuan', sa.Integer(), nullable=False),
    sa.Column('fee_waived', sa.Boolean(), nullable=False),
    sa.Column('fee_waiver_reason', sa.String(length=500), nullable=True),
    sa.Column('reply_type', sa.String(length=16), nullable=True),
    sa.Column('reply_ground', sa.String(length=24), nullable=True),
    sa.Column('concluded_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_disclosure_requests_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_requests')),
    sa.UniqueConstraint('number', name=op.f('uq_disclosure_requests_number'))
    )
    with op.batch_alter_table('disclosure_requests', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_requests_applicant_filed', ['applicant_key', 'filed_on'], unique=False)
        batch_op.create_index('ix_disclosure_requests_department_status', ['department_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_requests_applicant_account'), ['applicant_account'], unique=False)

    op.create_table('disclosure_request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_disclosure_request_events_department_id_departments')),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_requests.id'], ondelete='CASCADE',
                            name=op.f('fk_disclosure_request_events_request_id_disclosure_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_request_events'))
    )
    with op.batch_alter_table('disclosure_request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_request_events_request_id'), ['request_id'], unique=False)

    op.create_table('disclosure_remedies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=12), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['disclosure_requests.id'], ondelete='CASCADE',
                            name=op.f('fk_disclosure_remedies_request_id_disclosure_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_remedies')),
    sa.UniqueConstraint('request_id', 'kind', name=op.f('uq_disclosure_remedies_request_id'))
    )


def downgrade() -> None:
    op.drop_table('disclosure_remedies')
    with op.batch_alter_table('disclosure_request_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_request_events_request_id'))
    op.drop_table('disclosure_request_events')
    with op.batch_alter_table('disclosure_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_requests_applicant_account'))
        batch_op.drop_index('ix_disclosure_requests_department_status')
        batch_op.drop_index('ix_disclosure_requests_applicant_filed')
    op.drop_table('disclosure_requests')
