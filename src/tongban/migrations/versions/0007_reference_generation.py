"""reference generation: one token that every write to the reference data replaces

Each step of a case reads departments, published items, the working calendar and the warning
rules. Processes keep them between transactions (``core.db.per_generation``) as long as this
token is unchanged; the triggers below replace it in the writing transaction itself, whatever
wrote (the platform, another process, a hand-made SQL statement).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ("departments", "service_items", "service_item_versions", "calendar_years", "calendar_days",
          "supervision_rules")
OPERATIONS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table('reference_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_generation'))
    )
    if op.get_context().dialect.name == "postgresql":
        # A random start too: two databases never share a token (a process may serve, or test, several).
        op.execute("INSERT INTO reference_generation (id, token) VALUES (1, replace(gen_random_uuid()::text, '-', ''))")
        op.execute("""
            CREATE FUNCTION reference_generation_move() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE reference_generation SET token = replace(gen_random_uuid()::text, '-', '') WHERE id = 1;
                RETURN NULL;
            END $$;
        """)
        for table in TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_move_reference_generation
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_move();
            """)
    else:
        op.execute("INSERT INTO reference_generation (id, token) VALUES (1, lower(hex(randomblob(16))))")
        for table in TABLES:
            for operation in OPERATIONS:  # SQLite has row triggers only, one event each
                op.execute(f"""
                    CREATE TRIGGER {table}_{operation}_moves_reference_generation AFTER {operation.upper()} ON {table}
                    BEGIN UPDATE reference_generation SET token = lower(hex(randomblob(16))) WHERE id = 1; END;
                """)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_move_reference_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS reference_generation_move()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{operation}_moves_reference_generation")
    op.drop_table('reference_generation')
