"""Migration 0024 on the demo database of each engine: the addresses' (longitude, latitude) index,
and the catalog listing the addresses as 空间数据; and back. Run from head to 0023 and up again."""

from __future__ import annotations

from conftest import downgrade
from sqlalchemy import inspect, text

from tongban.core import migrate


def _state(engine) -> tuple[bool, str, int]:
    indexed = "ix_addresses_point" in {index["name"] for index in inspect(engine).get_indexes("addresses")}
    with engine.connect() as connection:
        format_, version = connection.execute(text(
            "SELECT format, version FROM catalog_resources WHERE registry_name = 'addresses'")).one()
    return indexed, format_, version


def test_0024_indexes_the_address_points_and_lists_them_as_spatial_data(fresh_database):
    engine = fresh_database.engine
    indexed, format_, version = _state(engine)
    assert indexed and format_ == "空间数据"
    downgrade(engine, "0023")
    assert _state(engine) == (False, "接口", version + 1)
    with engine.connect() as connection:  # the other registries keep their format
        assert set(connection.execute(text("SELECT format FROM catalog_resources WHERE registry_name IS NOT NULL")).scalars()) == {"接口"}
    migrate.upgrade(engine)
    assert _state(engine) == (True, "空间数据", version + 2)
