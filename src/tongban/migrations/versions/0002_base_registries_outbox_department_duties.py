"""base registries, outbox, department duties

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('addresses',
    sa.Column('address_code', sa.String(length=32), nullable=False),
    sa.Column('division_code', sa.String(length=32), nullable=True),
    sa.Column('town_code', sa.String(length=32), nullable=True),
    sa.Column('town_name', sa.String(length=50), nullable=True),
    sa.Column('community_code', sa.String(length=32), nullable=True),
    sa.Column('community_name', sa.String(length=50), nullable=True),
    sa.Column('road', sa.String(length=50), nullable=True),
    sa.Column('house_number', sa.String(length=20), nullable=True),
    sa.Column('building', sa.String(length=20), nullable=True),
    sa.Column('full_address', sa.String(length=200), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('import_job', sa.String(length=36), nullable=True),
    sa.Column('import_line', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('address_code', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index('ix_addresses_community_code', ['community_code'], unique=False)
        batch_op.create_index('ix_addresses_road', ['road'], unique=False)

    op.create_table('correction_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registry_name', sa.String(length=20), nullable=False),
    sa.Column('record_key', sa.String(length=32), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('current_value', sa.String(length=2000), nullable=True),
    sa.Column('proposed_value', sa.String(length=2000), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('evidence', sa.String(length=500), nullable=True),
    sa.Column('requester_name', sa.String(length=128), nullable=False),
    sa.Column('requester_department', sa.String(length=32), nullable=True),
    sa.Column('source_department', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests'))
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_record_key'), ['record_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_source_department'), ['source_department'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_status'), ['status'], unique=False)

    op.create_table('import_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('registry_name', sa.String(length=20), nullable=False),
    sa.Column('source_department', sa.String(length=32), nullable=False),
    sa.Column('actor_name', sa.String(length=128), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('committed_line', sa.BigInteger(), nullable=False),
    sa.Column('rows_accepted', sa.BigInteger(), nullable=False),
    sa.Column('rows_unchanged', sa.BigInteger(), nullable=False),
    sa.Column('rows_rejected', sa.BigInteger(), nullable=False),
    sa.Column('bytes_read', sa.BigInteger(), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('rejected_path', sa.String(length=500), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_file_sha256'), ['file_sha256'], unique=False)

    op.create_table('import_rejections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=False),
    sa.Column('record_key', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rejections')),
    sa.UniqueConstraint('job_id', 'line', name='uq_import_rejections_line')
    )
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_rejections_job_id'), ['job_id'], unique=False)

    op.create_table('legal_entities',
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=150), nullable=True),
    sa.Column('entity_type', sa.String(length=32), nullable=True),
    sa.Column('legal_representative_id', sa.String(length=18), nullable=True),
    sa.Column('legal_representative_name', sa.String(length=50), nullable=True),
    sa.Column('registered_capital', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=32), nullable=True),
    sa.Column('established_on', sa.Date(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('business_term_end', sa.Date(), nullable=True),
    sa.Column('registered_address', sa.String(length=200), nullable=True),
    sa.Column('business_scope', sa.Text(), nullable=True),
    sa.Column('industry_code', sa.String(length=32), nullable=True),
    sa.Column('registration_authority', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('tax_registration_status', sa.String(length=32), nullable=True),
    sa.Column('taxpayer_type', sa.String(length=32), nullable=True),
    sa.Column('social_insurance_registered', sa.String(length=32), nullable=True),
    sa.Column('housing_fund_registered', sa.String(length=32), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('import_job', sa.String(length=36), nullable=True),
    sa.Column('import_line', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('credit_code', name=op.f('pk_legal_entities'))
    )
    with op.batch_alter_table('legal_entities', schema=None) as batch_op:
        batch_op.create_index('ix_legal_entities_legal_representative_id', ['legal_representative_id'], unique=False)
        batch_op.create_index('ix_legal_entities_name', ['name'], unique=False)

    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('record_key', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_unpublished', ['id'], unique=False, sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))

    op.create_table('persons',
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('gender', sa.String(length=32), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('ethnicity', sa.String(length=32), nullable=True),
    sa.Column('household_address', sa.String(length=200), nullable=True),
    sa.Column('residence_address', sa.String(length=200), nullable=True),
    sa.Column('residence_status', sa.String(length=32), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('date_of_death', sa.Date(), nullable=True),
    sa.Column('marital_status', sa.String(length=32), nullable=True),
    sa.Column('education', sa.String(length=32), nullable=True),
    sa.Column('employment_status', sa.String(length=32), nullable=True),
    sa.Column('social_insurance_status', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('import_job', sa.String(length=36), nullable=True),
    sa.Column('import_line', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id_number', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_name', ['name'], unique=False)

    op.create_table('registry_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('registry_name', sa.String(length=20), nullable=False),
    sa.Column('record_key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('changed_fields', sa.Text(), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('actor_name', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_versions')),
    sa.UniqueConstraint('registry_name', 'record_key', 'version', name='uq_registry_versions_record')
    )
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duty', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_departments_duty'), ['duty'])



def downgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_departments_duty'), type_='unique')
        batch_op.drop_column('duty')

    op.drop_table('registry_versions')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_name')

    op.drop_table('persons')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_unpublished', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))

    op.drop_table('outbox_events')
    with op.batch_alter_table('legal_entities', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_entities_name')
        batch_op.drop_index('ix_legal_entities_legal_representative_id')

    op.drop_table('legal_entities')
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_rejections_job_id'))

    op.drop_table('import_rejections')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_jobs_file_sha256'))

    op.drop_table('import_jobs')
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_status'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_source_department'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_record_key'))

    op.drop_table('correction_requests')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_addresses_road')
        batch_op.drop_index('ix_addresses_community_code')

    op.drop_table('addresses')
