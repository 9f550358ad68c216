"""registry: the standard addresses by bounding box, and listed in the catalog as spatial data

The exchange serves the standard addresses as a GeoJSON point layer (``…/addresses/features?bbox=``):
an index on (longitude, latitude) reads a box as a range of longitudes instead of scanning every
address. The catalog lists the addresses as 空间数据 (what ``catalog.sync_registries`` now says of a
registry of points).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 09:00:00
"""

from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_addresses_point', 'addresses', ['longitude', 'latitude'], unique=False)
    op.execute("UPDATE catalog_resources SET format = '空间数据', version = version + 1 "
               "WHERE registry_name = 'addresses' AND format <> '空间数据'")


def downgrade() -> None:
    op.execute("UPDATE catalog_resources SET format = '接口', version = version + 1 "
               "WHERE registry_name = 'addresses' AND format = '空间数据'")
    op.drop_index('ix_addresses_point', table_name='addresses')
