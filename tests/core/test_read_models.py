"""A domain reads another's tables only through a read model (``<domain>/read_models.py``): Core
tables on a private MetaData, each column one the owner's model has, under the same name."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from sqlalchemy import MetaData, Table

import tongban
from tongban.metadata import metadata as owned


def _read_models() -> list:
    found = []
    for package in pkgutil.iter_modules(tongban.__path__):
        if package.ispkg:
            spec = importlib.util.find_spec(f"tongban.{package.name}.read_models")
            if spec is not None:
                found.append(importlib.import_module(f"tongban.{package.name}.read_models"))
    return found


def test_read_models_declare_only_what_the_owners_have():
    modules = _read_models()
    assert any(module.__name__ == "tongban.accounts.read_models" for module in modules)
    for module in modules:
        assert module.__doc__, module.__name__  # whose tables they are, and why they are read directly
        tables = [value for value in vars(module).values() if isinstance(value, Table)]
        assert tables, module.__name__
        for table in tables:
            assert isinstance(table.metadata, MetaData) and table.metadata is not owned, (module.__name__, table.name)
            assert table.name in owned.tables, (module.__name__, table.name)
            missing = {column.name for column in table.columns} - {column.name for column in owned.tables[table.name].columns}
            assert not missing, (module.__name__, table.name, missing)
