"""What the hotline reads of other domains' tables, declared with only the columns it reads.

Owner: ``grid_cases``, ``grid_case_events`` and ``grid_cells`` are tongban.grid.models'. A ticket
IS a grid case (``source = hotline``): the analysis (``hotline.analysis``) counts a period's
tickets by category, street, week, caller and place, and the departments' hotline steps, in a few
GROUP BY statements over thousands of rows, joined to the ``hotline_tickets`` beside them; loading
every case through ``grid.service`` to count it would read every row into Python. The street's
name is the one the grid's cells carry. Read only, never written.

These tables live on a private ``MetaData``: they create and migrate nothing (the owner's models do).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table

from tongban.core.db.base import UTCDateTime

metadata = MetaData()

grid_cases = Table(
    "grid_cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String),
    Column("source", String),
    Column("category_name", String),
    Column("lon", Float),
    Column("lat", Float),
    Column("cell_code", String),
    Column("street_code", String),
    Column("status", String),
    Column("department_id", Integer),
    Column("created_at", UTCDateTime),
)

grid_case_events = Table(
    "grid_case_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer),
    Column("action", String),
    Column("department_id", Integer),
    Column("on_time", Boolean),
    Column("at", UTCDateTime),
)

grid_cells = Table(
    "grid_cells", metadata,
    Column("id", Integer, primary_key=True),
    Column("street_code", String),
    Column("street", String),
    Column("current", Boolean),
)
