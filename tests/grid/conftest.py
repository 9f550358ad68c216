"""Each grid test module has a database of its own (the demo district, its grid and its day of
cases) and an app on it without background jobs: the tests move the clock and run the scan."""

from __future__ import annotations

import io
import json

import pytest
import shapely
from PIL import Image
from shapely.geometry import shape
from sqlalchemy import select

import own_database as _own

own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role


def jpeg(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    """A real JPEG, as a phone's camera would give (small)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def cell_point(db):
    """``cell_point(street=None)`` → (code, lon, lat) of a point well inside a current demo cell."""
    from tongban.grid.models import GridCell

    def pick(street: str | None = None, offset: int = 0):
        query = select(GridCell).where(GridCell.current.is_(True), GridCell.area_m2 > 8000).order_by(GridCell.code)
        if street:
            query = query.where(GridCell.street_code == street)
        cell = db.scalars(query.offset(offset).limit(1)).one()
        code, geometry = cell.code, cell.geometry
        db.rollback()  # SQLite: a reading transaction holds the write lock
        point = shape(json.loads(geometry)).representative_point()
        return code, round(point.x, 7), round(point.y, 7)
    return pick


def category_code(client, kind: str, name: str) -> str:
    found = [c for c in client.get("/api/v1/grid/categories", params={"kind": kind}).json() if c["name"] == name]
    assert found, name
    return found[0]["code"]


__all__ = ["jpeg", "category_code", "shapely"]
