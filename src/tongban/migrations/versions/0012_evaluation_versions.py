"""supervision: evaluations kept in versions, so published figures never change silently

A period's evaluation was one row per department, replaced by every re-run: figures that changed
went back to internal and left the portal until published again, and the published figures were
lost. Rows now belong to a version of the period (``supervision_evaluation_versions``); the portal
shows the newest published version, and a re-run that finds other figures adds a version.

Existing rows become version 1 of their period, published if every row of the period was public.
A period left half published by the old re-run (some rows public, some back to internal) becomes
what the portal showed and what the inspectors saw: version 1, published, with the public rows
only, and version 2, not published, with every row — the inspector sees the difference and
publishes it. Downgrading keeps one row per department and period: the published version's (the
portal's figures) or, for a period never published, the newest; other versions are dropped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supervision_evaluation_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_by', sa.String(length=128), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_evaluation_versions')),
    sa.UniqueConstraint('period_start', 'period_end', 'number', name=op.f('uq_supervision_evaluation_versions_period_start'))
    )
    with op.batch_alter_table('supervision_evaluations') as batch:  # a department's row may now be in two versions
        batch.add_column(sa.Column('version_id', sa.Integer(), nullable=True))
        batch.drop_constraint('uq_supervision_evaluations_department_id', type_='unique')

    bind = op.get_bind()
    versions = sa.table('supervision_evaluation_versions', sa.column('id', sa.Integer), sa.column('period_start', sa.Date),
                        sa.column('period_end', sa.Date), sa.column('number', sa.Integer),
                        sa.column('created_at', sa.DateTime(timezone=True)),
                        sa.column('computed_at', sa.DateTime(timezone=True)), sa.column('computed_by', sa.String),
                        sa.column('published_at', sa.DateTime(timezone=True)), sa.column('published_by', sa.String))
    rows = sa.table('supervision_evaluations', sa.column('id', sa.Integer), sa.column('version_id', sa.Integer),
                    sa.column('department_id', sa.Integer), sa.column('period_start', sa.Date),
                    sa.column('period_end', sa.Date), sa.column('figures', sa.Text), sa.column('grade', sa.String),
                    sa.column('computed_at', sa.DateTime(timezone=True)), sa.column('computed_by', sa.String),
                    sa.column('published_at', sa.DateTime(timezone=True)))
    periods: dict[tuple, list] = {}
    for row in bind.execute(sa.select(rows).order_by(rows.c.period_start, rows.c.period_end, rows.c.department_id)):
        periods.setdefault((row.period_start, row.period_end), []).append(row)

    def add_version(start, end, number: int, of: list, published: bool) -> int:
        newest = max(of, key=lambda r: r.computed_at)
        stamps = [r.published_at for r in of if r.published_at is not None]
        return bind.execute(versions.insert().values(
            period_start=start, period_end=end, number=number, created_at=min(r.computed_at for r in of),
            computed_at=newest.computed_at, computed_by=newest.computed_by,
            published_at=max(stamps) if published and stamps else None,
            published_by='未记录（升级前公布）' if published else None).returning(versions.c.id)).scalar_one()

    for (start, end), found in periods.items():
        public = [r for r in found if r.grade == 'public']
        first = add_version(start, end, 1, public if public and len(public) < len(found) else found,
                            published=bool(public))
        if public and len(public) < len(found):  # half published: the portal's rows, then every row
            second = add_version(start, end, 2, found, published=False)
            for row in public:
                bind.execute(rows.insert().values(version_id=second, department_id=row.department_id,
                                                  period_start=start, period_end=end, figures=row.figures,
                                                  grade='internal', computed_at=row.computed_at,
                                                  computed_by=row.computed_by))
            moved = [r.id for r in found if r.grade != 'public']
            bind.execute(rows.update().where(rows.c.id.in_(moved)).values(version_id=second))
            bind.execute(rows.update().where(rows.c.id.in_([r.id for r in public])).values(version_id=first))
        else:
            bind.execute(rows.update().where(rows.c.id.in_([r.id for r in found])).values(version_id=first))

    with op.batch_alter_table('supervision_evaluations') as batch:
        batch.alter_column('version_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f('fk_supervision_evaluations_version_id_supervision_evaluation_versions'),
                                 'supervision_evaluation_versions', ['version_id'], ['id'])
        batch.create_unique_constraint(op.f('uq_supervision_evaluations_version_id'), ['version_id', 'department_id'])
        batch.drop_column('period_start')
        batch.drop_column('period_end')
        batch.drop_column('grade')
        batch.drop_column('computed_at')
        batch.drop_column('computed_by')
        batch.drop_column('published_at')


def downgrade() -> None:
    with op.batch_alter_table('supervision_evaluations') as batch:
        batch.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch.add_column(sa.Column('grade', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('computed_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
    # Per period, the version kept: the newest published one, else the newest.
    op.execute(
        "DELETE FROM supervision_evaluations WHERE version_id NOT IN ("
        " SELECT v.id FROM supervision_evaluation_versions v WHERE v.number = ("
        "  SELECT COALESCE(MAX(CASE WHEN w.published_at IS NOT NULL THEN w.number END), MAX(w.number))"
        "  FROM supervision_evaluation_versions w"
        "  WHERE w.period_start = v.period_start AND w.period_end = v.period_end))")
    for column, value in (('period_start', 'v.period_start'), ('period_end', 'v.period_end'),
                          ('computed_at', 'v.computed_at'), ('computed_by', 'v.computed_by'),
                          ('published_at', 'v.published_at'),
                          ('grade', "CASE WHEN v.published_at IS NULL THEN 'internal' ELSE 'public' END")):
        op.execute(f"UPDATE supervision_evaluations SET {column} = (SELECT {value} FROM supervision_evaluation_versions v "
                   "WHERE v.id = supervision_evaluations.version_id)")
    # The foreign key's name as the engine keeps it (PostgreSQL shortens names over 63 characters).
    to_versions = next(fk['name'] for fk in sa.inspect(op.get_bind()).get_foreign_keys('supervision_evaluations')
                       if fk['referred_table'] == 'supervision_evaluation_versions')
    with op.batch_alter_table('supervision_evaluations') as batch:
        batch.drop_constraint('uq_supervision_evaluations_version_id', type_='unique')
        batch.drop_constraint(str(to_versions), type_='foreignkey')
        batch.drop_column('version_id')
        for column, kind in (('period_start', sa.Date()), ('period_end', sa.Date()),
                             ('computed_at', sa.DateTime(timezone=True)), ('computed_by', sa.String(length=128))):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.create_unique_constraint('uq_supervision_evaluations_department_id',
                                       ['department_id', 'period_start', 'period_end'])
    op.drop_table('supervision_evaluation_versions')
