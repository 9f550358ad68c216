"""What accounts reads of org's tables (owner: tongban.org.models), for the principal of a request.

Every request signs in with one statement (``service.load_principal``): the account, its roles and
its department's code, name and duty in one round trip, so the department is joined there rather
than asked of org's service in a second read. Declared on a private ``MetaData``: nothing here is
created or migrated.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()

departments = Table(
    "departments", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32)),
    Column("name", String(100)),
    Column("duty", String(32)),
)
