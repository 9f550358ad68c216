"""org: which department is the e-government office (电子政务办), as data rather than a code in source

The e-government office arbitrates sharing requests, reviews the FAQ drafted from consultations,
takes consultations about no item in particular, and is the department the one-window platform
acts as. Its department code was a constant in the sharing domain (``EGOV_CODE``); it is a fact of
the district: ``departments.office`` = ``egov`` marks it (unique: one office).

An existing database is given the mark on the department whose accounts hold the e-government
administrator's role (``egov_admin``), when exactly one department does; otherwise it is left to
the office to set (the demo's set-up sets the demo district's).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 06:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def _sqlite_triggers() -> None:
    """SQLite: the departments' reference-generation triggers (0007), which a batch operation that
    copies the table into a new one leaves behind."""
    for operation in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS departments_{operation}_moves_reference_generation")
        op.execute(f"""
            CREATE TRIGGER departments_{operation}_moves_reference_generation AFTER {operation.upper()} ON departments
            BEGIN UPDATE reference_generation SET token = lower(hex(randomblob(16))) WHERE id = 1; END;
        """)


def upgrade() -> None:
    # A column and a unique index, not a unique constraint: on SQLite a constraint would copy the
    # table into a new one, and the copy would lose its triggers.
    op.add_column('departments', sa.Column('office', sa.String(length=16), nullable=True))
    op.create_index('uq_departments_office', 'departments', ['office'], unique=True)
    connection = op.get_bind()
    holders = connection.execute(sa.text(
        "SELECT DISTINCT u.department_id FROM users u JOIN user_roles r ON r.user_id = u.id "
        "WHERE r.role = 'egov_admin' AND u.department_id IS NOT NULL")).scalars().all()
    if len(holders) == 1:
        connection.execute(sa.text("UPDATE departments SET office = 'egov' WHERE id = :id"), {"id": holders[0]})


def downgrade() -> None:
    op.drop_index('uq_departments_office', table_name='departments')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('office')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_triggers()
