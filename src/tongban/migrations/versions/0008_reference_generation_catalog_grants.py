"""reference generation: the catalog and the sharing grants move it too

Every exchange call needs the resource (its items, status, provider) and the caller's grants on
it. They change only when the catalog is edited or a grant is given, changed or revoked; with
these triggers the exchange keeps them between calls (``core.db.per_generation``) and a
revocation still takes effect on the next call: the revoking transaction moves the token.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:10:00
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ("catalog_resources", "catalog_items", "sharing_grants")
OPERATIONS = ("insert", "update", "delete")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:  # the function is migration 0007's
            op.execute(f"""
                CREATE TRIGGER {table}_move_reference_generation
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION reference_generation_move();
            """)
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"""
                    CREATE TRIGGER {table}_{operation}_moves_reference_generation AFTER {operation.upper()} ON {table}
                    BEGIN UPDATE reference_generation SET token = lower(hex(randomblob(16))) WHERE id = 1; END;
                """)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_move_reference_generation ON {table}")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{operation}_moves_reference_generation")
