"""grid: the unit grid, the categories and their routing, the components census, city-management
cases with their trail and photos, Open311 clients; supervision clocks in hours.

The grid's versions, categories and routes move the reference generation (their readers keep the
grid index and the routing table between transactions, ``core.db.cache.per_generation``).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 08:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

GENERATION_TABLES = ("grid_versions", "grid_categories", "grid_routes")


def _generation_triggers() -> None:
    for table in GENERATION_TABLES:
        if op.get_context().dialect.name == "postgresql":  # the function is migration 0007's
            op.execute(f"""
                CREATE TRIGGER {table}_move_reference_generation
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_move();
            """)
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"""
                    CREATE TRIGGER {table}_{operation}_moves_reference_generation AFTER {operation.upper()} ON {table}
                    BEGIN UPDATE reference_generation SET token = lower(hex(randomblob(16))) WHERE id = 1; END;
                """)


def _drop_generation_triggers() -> None:
    for table in GENERATION_TABLES:
        if op.get_context().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_move_reference_generation ON {table}")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{operation}_moves_reference_generation")


def upgrade() -> None:
    op.create_table('grid_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('major_code', sa.String(length=2), nullable=False),
    sa.Column('major', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('register_condition', sa.String(length=300), nullable=False),
    sa.Column('close_condition', sa.String(length=300), nullable=False),
    sa.Column('limit_value', sa.Integer(), nullable=False),
    sa.Column('limit_unit', sa.String(length=16), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('handler', sa.String(length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_categories')),
    sa.UniqueConstraint('kind', 'code', name=op.f('uq_grid_categories_kind'))
    )
    op.create_table('grid_open311_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_open311_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_grid_open311_clients_key_hash'))
    )
    op.create_table('grid_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('crs', sa.String(length=16), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('communities', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_grid_versions'))
    )
    op.create_table('grid_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('category_kind', sa.String(length=10), nullable=False),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('category_name', sa.String(length=64), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('cell_code', sa.String(length=15), nullable=True),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('component_code', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('proposed_department_id', sa.Integer(), nullable=True),
    sa.Column('reporter_account', sa.String(length=64), nullable=True),
    sa.Column('reporter_name', sa.String(length=64), nullable=True),
    sa.Column('reporter_contact', sa.String(length=120), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('token', sa.String(length=40), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('reworks', sa.Integer(), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=2000), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_grid_cases_department_id_departments')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['grid_cases.id'], name=op.f('fk_grid_cases_merged_into_id_grid_cases')),
    sa.ForeignKeyConstraint(['proposed_department_id'], ['departments.id'], name=op.f('fk_grid_cases_proposed_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_grid_cases_number')),
    sa.UniqueConstraint('token', name=op.f('uq_grid_cases_token'))
    )
    with op.batch_alter_table('grid_cases', schema=None) as batch_op:
        batch_op.create_index('ix_grid_cases_category_created', ['category_kind', 'category_code', 'created_at'], unique=False)
        batch_op.create_index('ix_grid_cases_category_lon', ['category_kind', 'category_code', 'lon'], unique=False)
        batch_op.create_index('ix_grid_cases_created', ['created_at'], unique=False)
        batch_op.create_index('ix_grid_cases_department_status', ['department_id', 'status'], unique=False)
        batch_op.create_index('ix_grid_cases_status_created', ['status', 'created_at'], unique=False)

    op.create_table('grid_cells',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('street', sa.String(length=64), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('community', sa.String(length=64), nullable=False),
    sa.Column('land_use', sa.String(length=16), nullable=False),
    sa.Column('responsible_department_id', sa.Integer(), nullable=True),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['responsible_department_id'], ['departments.id'], name=op.f('fk_grid_cells_responsible_department_id_departments')),
    sa.ForeignKeyConstraint(['version'], ['grid_versions.version'], name=op.f('fk_grid_cells_version_grid_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_cells')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_grid_cells_code'))
    )
    with op.batch_alter_table('grid_cells', schema=None) as batch_op:
        batch_op.create_index('ix_grid_cells_community', ['community_code', 'current'], unique=False)
        batch_op.create_index('ix_grid_cells_current_bbox', ['current', 'min_lon', 'min_lat'], unique=False)

    op.create_table('grid_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('cell_code', sa.String(length=15), nullable=True),
    sa.Column('owner_department_id', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('maintainer', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('surveyed_on', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['owner_department_id'], ['departments.id'], name=op.f('fk_grid_components_owner_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_components')),
    sa.UniqueConstraint('code', name=op.f('uq_grid_components_code'))
    )
    with op.batch_alter_table('grid_components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_components_cell_code'), ['cell_code'], unique=False)
        batch_op.create_index('ix_grid_components_lon_lat', ['lon', 'lat'], unique=False)

    op.create_table('grid_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handler', sa.String(length=24), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_grid_routes_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_routes')),
    sa.UniqueConstraint('handler', 'street_code', name=op.f('uq_grid_routes_handler'))
    )
    op.create_table('grid_case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actor_account', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['grid_cases.id'], name=op.f('fk_grid_case_events_case_id_grid_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_grid_case_events_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_case_events'))
    )
    with op.batch_alter_table('grid_case_events', schema=None) as batch_op:
        batch_op.create_index('ix_grid_case_events_at_action', ['at', 'action'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('grid_case_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['grid_cases.id'], name=op.f('fk_grid_case_photos_case_id_grid_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['grid_case_events.id'], name=op.f('fk_grid_case_photos_event_id_grid_case_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_case_photos'))
    )
    with op.batch_alter_table('grid_case_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_case_photos_case_id'), ['case_id'], unique=False)

    # Plain ALTER TABLE on both engines (a batch copy would rebuild the clocks' partial indexes).
    for column in (sa.Column('limit_hours', sa.Integer(), nullable=True),
                   sa.Column('hour_basis', sa.String(length=8), nullable=True),
                   sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('paused_minutes', sa.Integer(), server_default='0', nullable=False),
                   sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('yellow_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('red_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('used_minutes', sa.Integer(), nullable=True)):
        op.add_column('supervision_clocks', column)
    _generation_triggers()


def downgrade() -> None:
    _drop_generation_triggers()
    for column in ('used_minutes', 'closed_at', 'red_at', 'yellow_at', 'due_at', 'paused_minutes', 'paused_at',
                   'started_at', 'hour_basis', 'limit_hours'):
        op.execute(f"ALTER TABLE supervision_clocks DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL

    with op.batch_alter_table('grid_case_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_case_photos_case_id'))

    op.drop_table('grid_case_photos')
    with op.batch_alter_table('grid_case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_case_events_case_id'))
        batch_op.drop_index('ix_grid_case_events_at_action')

    op.drop_table('grid_case_events')
    op.drop_table('grid_routes')
    with op.batch_alter_table('grid_components', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_components_lon_lat')
        batch_op.drop_index(batch_op.f('ix_grid_components_cell_code'))

    op.drop_table('grid_components')
    with op.batch_alter_table('grid_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_cells_current_bbox')
        batch_op.drop_index('ix_grid_cells_community')

    op.drop_table('grid_cells')
    with op.batch_alter_table('grid_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_cases_status_created')
        batch_op.drop_index('ix_grid_cases_department_status')
        batch_op.drop_index('ix_grid_cases_created')
        batch_op.drop_index('ix_grid_cases_category_lon')
        batch_op.drop_index('ix_grid_cases_category_created')

    op.drop_table('grid_cases')
    op.drop_table('grid_versions')
    op.drop_table('grid_open311_clients')
    op.drop_table('grid_categories')
