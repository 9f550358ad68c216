"""What the catalog reads of the registry's tables (owner: tongban.registry.models), read directly
because the exchange answers a base registry's records through the catalog: a batch reads the
values of up to a thousand records in one statement (``service.read_records``), and the change
feed reads the values of every changed version (``service.values_at``). The registry's service
reads one record at a time; these reads are by the batch, of the columns asked for alone.

Only the columns read here are declared, on a metadata of their own: nothing here is created or
migrated (the registry's models are). A registry's table has a column for each field of its
definition (``tongban.registry.schemas``), typed as the registry types it, so values come back as
the registry's own reads would give them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Date, Float, Integer, MetaData, Numeric, String, Table, Text
from sqlalchemy.types import TypeEngine

from tongban.core.db.base import UTCDateTime
from tongban.registry.schemas import REGISTRIES, Field, Registry

metadata = MetaData()


def _read_type(field: Field) -> TypeEngine[Any]:
    """The type a field's column gives its values in (as ``registry.models`` declares it)."""
    types: dict[str, TypeEngine[Any]] = {"date": Date(), "decimal": Numeric(20, 4), "int": Integer(), "float": Float()}
    return types.get(field.kind, String())


def _registry_table(registry: Registry) -> Table:
    return Table(registry.name, metadata,
                 *[Column(f.name, _read_type(f), primary_key=f.name == registry.key) for f in registry.fields],
                 Column("version", Integer), Column("updated_at", UTCDateTime))


# The current values of each base registry: key, every field, version, time of the last change.
REGISTRY_TABLES: dict[str, Table] = {name: _registry_table(registry) for name, registry in REGISTRIES.items()}

# Every version of every registry record: the values after each change, as JSON text.
registry_versions = Table(
    "registry_versions", metadata,
    Column("registry_name", String), Column("record_key", String), Column("version", Integer), Column("data", Text),
)
