"""hotline classifier: the centre's corrections and one row per retraining; the versions table
moves the reference generation (every server process notices a retraining on its next proposal,
``core.db.cache.per_generation``).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

GENERATION_TABLES = ("hotline_classifier_versions",)


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
    op.create_table('hotline_classifier_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('said', sa.String(length=2000), nullable=False),
    sa.Column('category_code', sa.String(length=16), nullable=False),
    sa.Column('proposed_code', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('actor_account', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['grid_cases.id'], name=op.f('fk_hotline_classifier_corrections_case_id_grid_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_classifier_corrections'))
    )
    with op.batch_alter_table('hotline_classifier_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotline_classifier_corrections_case_id'), ['case_id'], unique=False)
    op.create_table('hotline_classifier_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corrections_upto', sa.Integer(), nullable=False),
    sa.Column('confirmed_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('examples', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=False),
    sa.Column('trained_by', sa.String(length=64), nullable=False),
    sa.Column('trained_by_name', sa.String(length=100), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_classifier_versions'))
    )
    _generation_triggers()


def downgrade() -> None:
    _drop_generation_triggers()
    op.drop_table('hotline_classifier_versions')
    with op.batch_alter_table('hotline_classifier_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotline_classifier_corrections_case_id'))
    op.drop_table('hotline_classifier_corrections')
