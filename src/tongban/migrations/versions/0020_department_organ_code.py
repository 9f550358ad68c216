"""org: each department's organ code (机构标识), the district's data rather than the code's

A service item's 实施编码 is "11", the district's GB/T 2260 code, the implementing department's
8-character organ identifier and the item's basic code. The identifiers were a table in the items
domain's source (with the district's code beside it), so another district could not use the
platform without editing code; they belong to the departments. ``departments.organ_code`` holds
it, nullable: streets, committees and departments that implement no service items have none.

Existing rows get none here: the identifiers are a district's own data, not the migration's; the
demo's set-up fills them in for the demo district's departments (as it does ``duty``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organ_code', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('organ_code')
    if op.get_bind().dialect.name == 'sqlite':
        # The batch copied the table into a new one; the copy has none of 0007's triggers.
        for operation in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS departments_{operation}_moves_reference_generation")
            op.execute(f"""
                CREATE TRIGGER departments_{operation}_moves_reference_generation AFTER {operation.upper()} ON departments
                BEGIN UPDATE reference_generation SET token = lower(hex(randomblob(16))) WHERE id = 1; END;
            """)
