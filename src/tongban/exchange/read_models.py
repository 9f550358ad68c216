"""What the exchange reads of the catalog's, sharing's and org's tables (owners:
tongban.catalog.models, tongban.sharing.models, tongban.org.models), read directly for two reasons:

- every exchange call needs a resource with its items and the caller's grants on it: read in one
  round trip (``service._RESOURCE_AND_GRANTS``), kept for the generation of the reference data;
- the usage report aggregates the call log against resources, grants and departments by the
  thousand rows (``usage``).

Only the columns read here are declared, on a metadata of their own: nothing here is created or
migrated (the owners' models are), and nothing here is written (the owners' services do that).
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text

from tongban.core.db.base import UTCDateTime

metadata = MetaData()

catalog_resources = Table(
    "catalog_resources", metadata,
    Column("id", Integer, primary_key=True), Column("code", String), Column("name", String), Column("status", String),
    Column("provider_id", Integer), Column("key_item", String), Column("registry_name", String),
)

catalog_items = Table(
    "catalog_items", metadata,
    Column("id", Integer, primary_key=True), Column("resource_id", Integer), Column("position", Integer),
    Column("code", String),
)

sharing_grants = Table(
    "sharing_grants", metadata,
    Column("id", Integer, primary_key=True), Column("department_id", Integer), Column("resource_id", Integer),
    Column("items", Text), Column("purpose", String), Column("valid_from", Date), Column("valid_to", Date),
    Column("granted_by", String), Column("created_at", UTCDateTime), Column("revoked_at", UTCDateTime),
)

departments = Table(
    "departments", metadata,
    Column("id", Integer, primary_key=True), Column("code", String), Column("short_name", String),
)
