"""城市网格化管理 at the issue's sizes: routing a million points, importing 50,000 cells, the Open311
listing over a million cases, and a hundred reports a second.

A fresh database with the demo government (its grid of 2,483 cells over 陆家嘴, 潍坊新村 and 花木),
then four parts, each with a baseline measured in the same run and the ratio to it (``--skip``
leaves parts out; each part runs alone):

* **routing** — ``--points`` random points (nine in ten inside the demo grid's extent, the rest
  anywhere in the district, most of them outside the grid) to their cells and, for a random
  category each, to the department routing proposes. Timed apart: building the current grid's
  index (``service.grid_index``), ``GridIndex.locate_many`` over all the points, and
  ``service.route_many`` (the department of each point's handler in its cell). A sample is
  checked against ``service.route_department`` one by one. Baseline: ``shapely.points`` of the
  same points (what any spatial work on them costs first). Target: locate + route < 5 s.
* **import** — a grid of ``--cells`` cells of about 100 m × 100 m (rectangles sharing their
  edges exactly), in communities of at most 990 cells, eight communities to a street, in the
  south of the district away from the demo grid, codes district 6 + street 3 (310115101 …) +
  community 3 + sequence 3, as GeoJSON bytes; timed ``service.import_grid`` end to end (parse,
  ``check_shapes`` with the overlap and gap checks, insert, commit). Baseline: a raw bulk insert
  (COPY / executemany through ``bulk_insert_values``) of the same rows — the same columns and
  values, the same three indexes — into a scratch table, committed. Peak RSS of this process
  during the import (VmHWM, reset before it). Target: < 60 s.
* **open311** — ``GET /open311/v2/requests.json`` with ``--cases`` cases stored: that many
  grid_cases rows bulk-loaded (spread over 90 days; statuses by age, the common categories most
  often, positions inside cells of the current grid with cell, street and proposed department
  from routing; the loading is timed but not a target), then ~300 requests on one keep-alive
  connection, typical queries in turn: no filter, ``status=open``, ``service_code=`` (a code from
  ``/open311/v2/services.json``), ``start_date``/``end_date`` of one week, ``page=2&page_size=50``.
  Baseline: ``/readyz`` on the same server and connection, interleaved. Target: p95 < 50 ms.
  When the endpoint answers 404 (the Open311 module is not in this checkout), the part is
  skipped, with the reason in the output, before anything is loaded.
* **reports** — ``POST /api/v1/grid/cases`` (multipart: category, a random point inside a cell,
  a description, a small JPEG made with Pillow) as the demo supervisor ``grid`` with a bearer
  token, paced at ``--rate`` a second for ``--seconds`` by forked client processes (each on its
  own keep-alive connection, sending on a fixed schedule: the load does not slow down when the
  server does). Figures: achieved rate, p50/p95/p99 latency, errors (any answer but 201; must be
  0), server CPU (all of its processes) per report, and how far behind schedule sends fell.
  Baseline: the same pacing against ``/readyz``. Every report is checked to be in the database
  afterwards. Target (PostgreSQL): 100 a second for a minute, 0 errors.

The server (`tongban serve`, a real process, ``--workers`` processes) serves the open311 and
reports parts on the same database, after the import part has added its cells. Prints one JSON
line (the load average at start included); progress goes to stderr; exits 1 when a report or a
listing failed.

    .venv/bin/python benchmarks/grid.py [--points 1000000] [--cells 50000] [--cases 1000000]
        [--rate 100] [--seconds 60] [--database-url postgresql://...] [--skip routing,import,open311,reports]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import multiprocessing
import os
import resource
import shutil
import sys
import time
import traceback
from typing import cast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import shapely
from PIL import Image, ImageDraw
from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, served, server_cpu_seconds, workdir

from tongban import demo
from tongban.accounts import service as accounts
from tongban.core import clock as wall
from tongban.core.auth import Principal
from tongban.core.db import cache
from tongban.core.db.bulk import bulk_insert_values
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.demo.grid import COMMON, DESCRIPTIONS, SUPERVISOR
from tongban.demo.grid_cells import AREA, LAND_USES
from tongban.grid import geo, service
from tongban.grid.models import GridCase, GridCategory, Source

PARTS = ("routing", "import", "open311", "reports")
SEED = 20261207
OPEN311 = "/open311/v2/requests.json"
TARGETS = {"routing_s": 5.0, "import_s": 60.0, "open311_p95_ms": 50.0, "reports_per_s": 100.0}


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ms(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of ``values``, in ms, rounded."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(len(ordered) * q) - 1, 0)], 2)


def _principal(sessions, username: str) -> Principal:
    with sessions() as db:
        user = accounts.get_by_username(db, username)
        assert user is not None, username
        principal = accounts.load_principal(db, f"user:{user.id}")
        assert principal is not None, username
        return principal


# ---- routing -------------------------------------------------------------------------------------


def _routing(sessions, settings, count: int) -> dict:
    rng = np.random.default_rng(SEED)
    extent = geo.Extent.parse(settings.grid_extent)
    inside = count * 9 // 10
    lon = np.concatenate((rng.uniform(AREA[0], AREA[2], inside), rng.uniform(extent.min_lon, extent.max_lon, count - inside)))
    lat = np.concatenate((rng.uniform(AREA[1], AREA[3], inside), rng.uniform(extent.min_lat, extent.max_lat, count - inside)))
    with sessions() as db:
        handlers_of_categories = [c.handler for c in service.categories(db)]
        handlers = sorted(set(handlers_of_categories))
        of_category = np.array([handlers.index(h) for h in handlers_of_categories], dtype=np.int64)
        handler_of = of_category[rng.integers(0, len(of_category), count)]

        started = time.perf_counter()
        shapely.points(lon, lat)  # the baseline: the points themselves
        baseline = time.perf_counter() - started

        # The demo's loading (in this process) built the index already: built again here, timed.
        cache._SHARED.pop(service._INDEX, None)
        started = time.perf_counter()
        index = service.grid_index(db)
        build = time.perf_counter() - started
        started = time.perf_counter()
        cells = index.locate_many(lon, lat)
        located = time.perf_counter() - started
        started = time.perf_counter()
        departments = service.route_many(db, index, cells, handlers, handler_of)
        routed = time.perf_counter() - started

        # A sample checked against the one-by-one routing the report step uses.
        for i in rng.integers(0, count, 2000):
            ref = index.refs[cells[i]] if cells[i] >= 0 else None
            expected = service.route_department(db, handlers[handler_of[i]], ref)
            assert (expected if expected is not None else -1) == departments[i], (i, expected, departments[i])
            if i % 7 == 0:
                assert index.locate(float(lon[i]), float(lat[i])) == ref
        db.rollback()
    total = located + routed
    return {"points": count, "cells": len(index), "handlers": len(handlers),
            "in_a_cell": round(float((cells >= 0).mean()), 3), "with_department": round(float((departments >= 0).mean()), 3),
            "index_build_s": round(build, 3), "locate_s": round(located, 3), "route_s": round(routed, 3),
            "routing_s": round(total, 3), "baseline_points_s": round(baseline, 3),
            "routing_to_baseline": round(total / baseline, 2), "points_per_s": round(count / total),
            "target_s": TARGETS["routing_s"], "met": total < TARGETS["routing_s"]}


# ---- import --------------------------------------------------------------------------------------

STEP_LON, STEP_LAT = 0.00105, 0.0009  # about 100 m × 100 m at latitude 31°
BLOCK_COLS, BLOCK_ROWS = 30, 33  # a community: 990 cells at most
COMMUNITIES_PER_ROW, COMMUNITIES_PER_STREET = 8, 8
WEST, NORTH = 121.60, 31.10  # the south of the district, away from the demo grid


def _synthetic_grid(count: int, extent: geo.Extent) -> tuple[dict, list[tuple]]:
    """``count`` cells as a GeoJSON FeatureCollection, and the rows the import will store
    (geometry as the import writes it), for the baseline."""
    per_community = BLOCK_COLS * BLOCK_ROWS
    communities = math.ceil(count / per_community)
    rows_of_blocks = math.ceil(communities / COMMUNITIES_PER_ROW)
    south, east = NORTH - rows_of_blocks * BLOCK_ROWS * STEP_LAT, WEST + COMMUNITIES_PER_ROW * BLOCK_COLS * STEP_LON
    if not (extent.contains(WEST, south) and extent.contains(east, NORTH)):
        raise SystemExit(f"--cells {count} does not fit in the district's extent from ({WEST}, {NORTH})")
    features: list[dict] = []
    rows: list[tuple] = []
    kx = 111_320.0 * math.cos(math.radians(NORTH))
    for n in range(count):
        community, sequence = divmod(n, per_community)
        block_row, block_col = divmod(community, COMMUNITIES_PER_ROW)
        row, col = divmod(sequence, BLOCK_COLS)
        grid_row, grid_col = block_row * BLOCK_ROWS + row, block_col * BLOCK_COLS + col
        west, east = round(WEST + grid_col * STEP_LON, 7), round(WEST + (grid_col + 1) * STEP_LON, 7)
        north, south = round(NORTH - grid_row * STEP_LAT, 7), round(NORTH - (grid_row + 1) * STEP_LAT, 7)
        street = community // COMMUNITIES_PER_STREET
        street_code = f"310115{101 + street:03d}"
        community_code = f"{street_code}{community % COMMUNITIES_PER_STREET + 1:03d}"
        code = f"{community_code}{sequence + 1:03d}"
        land_use = LAND_USES[(grid_row * 7 + grid_col * 3) % len(LAND_USES)]
        responsible = "PD-LHSR" if land_use == "绿地" else None
        geometry = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}
        properties = {"code": code, "street_code": street_code, "street": f"基准第{street + 1}镇",
                      "community_code": community_code, "community": f"基准第{street + 1}镇第{community % COMMUNITIES_PER_STREET + 1}居委会",
                      "land_use": land_use}
        if responsible:
            properties["responsible_department"] = responsible
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
        area = (east - west) * kx * (north - south) * 110_574.0
        rows.append((code, 1, True, street_code, properties["street"], community_code, properties["community"], land_use,
                     None, json.dumps(geometry, separators=(",", ":")), round(area, 1), west, south, east, north))
    return {"type": "FeatureCollection", "features": features}, rows


_BASELINE_COLUMNS: list = [Column("id", Integer, primary_key=True), Column("code", String(15)), Column("version", Integer),
                     Column("current", Boolean), Column("street_code", String(9)), Column("street", String(64)),
                     Column("community_code", String(12)), Column("community", String(64)), Column("land_use", String(16)),
                     Column("responsible_department_id", Integer), Column("geometry", Text), Column("area_m2", Float),
                     Column("min_lon", Float), Column("min_lat", Float), Column("max_lon", Float), Column("max_lat", Float)]
_BASELINE = Table("bench_grid_cells_baseline", MetaData(), *_BASELINE_COLUMNS,
                  Index("ix_bench_grid_cells_code_version", "code", "version", unique=True),
                  Index("ix_bench_grid_cells_current_bbox", "current", "min_lon", "min_lat"),
                  Index("ix_bench_grid_cells_community", "community_code", "current"))


def _raw_insert(sessions, rows: list[tuple]) -> float:
    """Seconds to bulk-insert ``rows`` into a table like grid_cells (same columns and indexes) and commit."""
    columns = [c.name for c in _BASELINE.columns if c.name != "id"]
    with sessions() as db:
        _BASELINE.create(db.connection())
        db.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), 10_000):
            bulk_insert_values(db, _BASELINE, columns, rows[start:start + 10_000])
        db.commit()
        elapsed = time.perf_counter() - started
        _BASELINE.drop(db.connection())
        db.commit()
    return elapsed


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _import(sessions, settings, count: int) -> dict:
    extent = geo.Extent.parse(settings.grid_extent)
    started = time.perf_counter()
    document, rows = _synthetic_grid(count, extent)
    data = json.dumps(document, ensure_ascii=False).encode()
    del document
    generate = time.perf_counter() - started
    _say(f"import: {count} cells generated ({len(data) / 1e6:.1f} MB of GeoJSON) in {generate:.1f} s; raw insert baseline")
    baseline = _raw_insert(sessions, rows)
    del rows
    principal = _principal(sessions, "admin")
    _say(f"import: baseline {baseline:.1f} s; service.import_grid")
    rss_before = _rss_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (the peak) to the current RSS
    with sessions() as db:
        started = time.perf_counter()
        result = service.import_grid(db, principal, data, crs=geo.Crs.WGS84, source="bench-grid.geojson", extent=extent,
                                     district_code=settings.district_code)
        db.commit()
        seconds = time.perf_counter() - started
    peak = _rss_mb("VmHWM")
    with sessions() as db:
        stored = db.scalar(select(func.count()).select_from(service.GridCell)
                           .where(service.GridCell.current.is_(True), service.GridCell.version == result.version))
        assert stored == count == result.cells, (stored, count, result.cells)
        started = time.perf_counter()
        index = service.grid_index(db)  # the import moved the generation: built afresh, as a server's next report does
        rebuild = time.perf_counter() - started
        cells_now = len(index)
    # Where the time goes (not part of the figure): the shape checks alone, on the same cells.
    shapes = [geo.CellShape(f["properties"]["code"], f["properties"]["community_code"], geo.polygon_of(f["geometry"], ""))
              for f in json.loads(data)["features"]]
    started = time.perf_counter()
    geo.check_shapes(shapes, extent)
    checks = time.perf_counter() - started
    return {"cells": count, "communities": len(result.communities), "geojson_mb": round(len(data) / 1e6, 1),
            "import_s": round(seconds, 2), "check_shapes_s": round(checks, 2),
            "index_build_s": round(rebuild, 2), "index_cells": cells_now, "baseline_raw_insert_s": round(baseline, 2),
            "import_to_baseline": round(seconds / baseline, 1), "cells_per_s": round(count / seconds),
            "rss_before_mb": rss_before, "peak_rss_mb": peak, "peak_rss_growth_mb": round(peak - rss_before, 1), "target_s": TARGETS["import_s"],
            "met": seconds < TARGETS["import_s"]}


# ---- open311 -------------------------------------------------------------------------------------


class _Connection:
    """One keep-alive connection (the standard library's: the clients share the cores with the server)."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes, float]:
        """(status, body, milliseconds); reconnects once when the server closed an idle connection."""
        for attempt in (1, 2):
            try:
                began = time.perf_counter()
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                return response.status, data, (time.perf_counter() - began) * 1000
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def _statuses(age_days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A status for each case by its age: the old ones mostly closed, the last days' still moving."""
    draw = rng.random(len(age_days))
    old = np.select([draw < 0.86, draw < 0.93, draw < 0.96, draw < 0.98], ["closed", "rejected", "merged", "handled"],
                    "dispatched")
    young = np.select([draw < 0.15, draw < 0.30, draw < 0.55, draw < 0.70, draw < 0.90, draw < 0.95],
                      ["reported", "registered", "dispatched", "handled", "closed", "rejected"], "merged")
    return np.where(age_days > 7, old, young)


def _load_cases(sessions, count: int, database_is_sqlite: bool) -> float:
    """``count`` grid_cases rows, bulk-inserted in one transaction; returns the seconds it took."""
    rng = np.random.default_rng(SEED + 1)
    with sessions() as db:
        index = service.grid_index(db)
        categories = list(db.scalars(select(GridCategory).where(GridCategory.active.is_(True)).order_by(GridCategory.id)))
        common = [i for i, c in enumerate(categories) if (c.kind, c.name) in set(COMMON)]
        weights = np.full(len(categories), 0.4 / max(len(categories) - len(common), 1))
        weights[common] = 0.6 / len(common)
        chosen = rng.choice(len(categories), size=count, p=weights / weights.sum())
        handlers = sorted({c.handler for c in categories})
        handler_of = np.array([handlers.index(c.handler) for c in categories], dtype=np.int64)[chosen]
        # A random point in a random cell's bounds (near a border it may fall in the next cell, or just outside).
        picked = rng.integers(0, len(index), count)
        bounds = shapely.bounds(index.polygons[picked])
        lon = rng.uniform(bounds[:, 0], bounds[:, 2])
        lat = rng.uniform(bounds[:, 1], bounds[:, 3])
        cells = index.locate_many(lon, lat)
        proposed = service.route_many(db, index, cells, handlers, handler_of)
        now = wall.now()
        age = rng.uniform(0, 90, count)
        statuses = _statuses(age, rng)
        sources = rng.choice([Source.SUPERVISOR.value, Source.PUBLIC.value, Source.HOTLINE.value, Source.OPEN311.value],
                             size=count, p=[0.8, 0.12, 0.05, 0.03])
        table = cast(Table, GridCase.__table__)
        stamp = table.c.created_at.type._cached_bind_processor(db.connection().dialect) if database_is_sqlite else None

        def when(value: datetime | None):
            return stamp(value) if stamp is not None and value is not None else value

        columns = ["number", "source", "category_kind", "category_code", "category_name", "urgent", "lon", "lat", "address",
                   "description", "cell_code", "street_code", "status", "department_id", "proposed_department_id",
                   "reporter_account", "reporter_name", "client_id", "token", "duplicates", "returns", "reworks",
                   "expected_at", "created_at", "updated_at", "closed_at", "result", "version"]
        per_day: dict[str, int] = {}
        started = time.perf_counter()
        batch: list[tuple] = []
        steps = {"reported": 1, "registered": 2, "dispatched": 3, "handled": 4, "closed": 5, "rejected": 2, "merged": 2}
        for i in range(count):
            category = categories[int(chosen[i])]
            created = now - timedelta(days=float(age[i]))
            day = f"{(created + timedelta(hours=8)):%Y%m%d}"
            serial = per_day.get(day, 0)
            per_day[day] = serial + 1
            status = str(statuses[i])
            cell = int(cells[i])
            ref = index.refs[cell] if cell >= 0 else None
            department = int(proposed[i]) if proposed[i] >= 0 else None
            dispatched = status in ("dispatched", "handled", "closed")
            finished = status in ("closed", "rejected", "merged")
            closed_at = min(created + timedelta(hours=float(1 + age[i] % 1 * 100)), now) if finished else None
            expected = created + timedelta(days=3) if dispatched else None
            source = str(sources[i])
            supervisor = source == Source.SUPERVISOR.value
            batch.append((
                f"WG-{day}-0{serial:05d}", source, category.kind, category.code, category.name, category.urgent,
                round(float(lon[i]), 7), round(float(lat[i]), 7), None,
                DESCRIPTIONS.get(category.name, f"发现{category.name}问题，请处置"),
                ref.code if ref else None, ref.street_code if ref else None, status,
                department if dispatched else None, department, SUPERVISOR if supervisor else None,
                "网格监督员" if supervisor else "市民", "bench-client" if source == Source.OPEN311.value else None,
                os.urandom(12).hex(), 0, 0, 0, when(expected), when(created), when(closed_at or created), when(closed_at),
                "已处置完毕" if status == "closed" else None, steps[status]))
            if len(batch) == 20_000:
                bulk_insert_values(db, table, columns, batch)
                batch = []
                if (i + 1) % 200_000 == 0:
                    _say(f"open311: {i + 1} cases loaded")
        bulk_insert_values(db, table, columns, batch)
        db.commit()
        seconds = time.perf_counter() - started
    if not database_is_sqlite:  # statistics and the visibility map, as autovacuum would leave them after the load
        with sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE grid_cases"))
    return seconds


def _open311_queries(connection: _Connection) -> list[tuple[str, str]]:
    """The typical queries: (name, path)."""
    status, body, _ = connection.call("GET", "/open311/v2/services.json")
    if status != 200:
        raise SystemExit(f"GET /open311/v2/services.json: {status} {body[:300]!r}")
    services = json.loads(body)
    by_name = {s.get("service_name"): s["service_code"] for s in services}
    code = by_name.get("暴露垃圾") or services[0]["service_code"]
    week_end = datetime.now(UTC) - timedelta(days=20)
    week = {"start_date": (week_end - timedelta(days=7)).isoformat(timespec="seconds"),
            "end_date": week_end.isoformat(timespec="seconds")}
    return [("no_filter", OPEN311), ("status_open", f"{OPEN311}?status=open"),
            ("service_code", f"{OPEN311}?{urlencode({'service_code': code})}"),
            ("week", f"{OPEN311}?{urlencode(week)}"), ("page_2", f"{OPEN311}?page=2&page_size=50")]


def _open311(base: str, sessions, settings, count: int, requests: int) -> dict:
    connection = _Connection(base)
    status, body, _ = connection.call("GET", OPEN311)
    if status == 404:
        connection.close()
        _say(f"open311: skipped — GET {OPEN311} answered 404 (the Open311 API is not in this checkout)")
        return {"skipped": f"GET {OPEN311} answered 404: the Open311 API (grid/open311.py) is not in this checkout"}
    _say(f"open311: loading {count} cases")
    with sessions() as db:
        before = db.scalar(select(func.count()).select_from(GridCase))
    load = _load_cases(sessions, count, settings.is_sqlite)
    _say(f"open311: {count} cases loaded in {load:.1f} s; {requests} requests")
    queries = _open311_queries(connection)
    timings: dict[str, list[float]] = {name: [] for name, _ in queries}
    returned: dict[str, int] = {}
    baseline: list[float] = []
    errors: dict[str, int] = {}
    for round_ in range(2 + math.ceil(requests / len(queries))):
        for name, path in queries:
            status, body, ms = connection.call("GET", path)
            if status != 200:
                errors[f"{name} {status}"] = errors.get(f"{name} {status}", 0) + 1
                if sum(errors.values()) <= 3:
                    _say(f"open311: {path}: {status} {body[:300]!r}")
            ready, _, ready_ms = connection.call("GET", "/readyz")
            if ready != 200:
                errors[f"readyz {ready}"] = errors.get(f"readyz {ready}", 0) + 1
            if round_ < 2:  # warming up
                returned[name] = len(json.loads(body)) if status == 200 else -1
                continue
            timings[name].append(ms)
            baseline.append(ready_ms)
    connection.close()
    every = [ms for values in timings.values() for ms in values]
    p95 = _ms(every, 0.95) or 0.0
    return {"cases": before + count, "load_s": round(load, 1), "load_rows_per_s": round(count / load),
            "requests": len(every), "p50_ms": _ms(every, 0.5), "p95_ms": p95, "max_ms": round(max(every), 2),
            "by_query": {name: {"p50_ms": _ms(values, 0.5), "p95_ms": _ms(values, 0.95), "items": returned[name]}
                         for name, values in timings.items()},
            "baseline_readyz_p50_ms": _ms(baseline, 0.5), "baseline_readyz_p95_ms": _ms(baseline, 0.95),
            "p95_to_baseline": round(p95 / (_ms(baseline, 0.95) or 1), 1), "errors": sum(errors.values()),
            "error_kinds": errors, "target_p95_ms": TARGETS["open311_p95_ms"], "met": p95 < TARGETS["open311_p95_ms"] and not errors}


# ---- reports -------------------------------------------------------------------------------------


def _jpeg() -> bytes:
    """A small photo of a problem: 320×240, a few shapes, JPEG quality 80 (about 6 KB)."""
    image = Image.new("RGB", (320, 240), (128, 136, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 150, 280, 220), fill=(90, 90, 92))
    draw.ellipse((120, 60, 200, 140), fill=(60, 110, 60))
    draw.line((0, 150, 320, 140), fill=(220, 220, 200), width=4)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


BOUNDARY = "tongbanbenchgrid7c1e"


def _multipart(fields: dict[str, str], photo: bytes) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="photo.jpg"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n".encode() + photo + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def _points_in_cells(index: geo.GridIndex, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random points each strictly inside a random cell of the grid: (lon, lat) rows."""
    found: list[np.ndarray] = []
    need = count
    while need > 0:
        picked = rng.integers(0, len(index), need * 2)
        bounds = shapely.bounds(index.polygons[picked])
        lon, lat = rng.uniform(bounds[:, 0], bounds[:, 2]), rng.uniform(bounds[:, 1], bounds[:, 3])
        inside = shapely.contains_xy(index.polygons[picked], lon, lat)
        found.append(np.column_stack((lon[inside], lat[inside]))[:need])
        need -= len(found[-1])
    return np.concatenate(found)


def _pace(base: str, token: str, kind: str, jobs: list[tuple[float, bytes | None]], results) -> None:
    """A client process: each job (when, body) sent at its time on one keep-alive connection;
    puts (scheduled, sent, milliseconds, status) for each."""
    try:
        connection = _Connection(base)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        out: list[tuple[float, float, float, int]] = []
        failures = 0
        for when, body in jobs:
            time.sleep(max(when - time.time(), 0))
            sent = time.time()
            try:
                if kind == "reports":
                    status, answer, ms = connection.call("POST", "/api/v1/grid/cases", body, headers)
                else:
                    status, answer, ms = connection.call("GET", "/readyz")
            except (OSError, http.client.HTTPException) as failure:
                status, answer, ms = 0, str(failure).encode(), (time.time() - sent) * 1000
            if status not in (200, 201) and (failures := failures + 1) <= 3:
                print(f"[{kind}] {status} {answer[:300]!r}", file=sys.stderr, flush=True)
            out.append((when, sent, ms, status))
        connection.close()
        results.put(out)
    except BaseException:
        results.put(traceback.format_exc())


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat), all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def _postgres_cpu() -> float:
    """CPU seconds used so far by the machine's PostgreSQL processes (0 where there are none)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name, fields = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            if name.endswith("(postgres"):
                parts = fields.split()
                total += (int(parts[11]) + int(parts[12])) / tick
    return total


def _paced(base: str, token: str, kind: str, bodies: list[bytes | None], rate: float, clients: int) -> tuple[list, dict]:
    """``bodies`` sent at ``rate`` a second, spread over ``clients`` forked processes in turn; the
    (scheduled, sent, ms, status) of every call, and the CPU seconds spent meanwhile: the
    server's, PostgreSQL's, and the machine's (busy and available)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = time.time() + 1.0
    processes = [context.Process(target=_pace, daemon=True, args=(
        base, token, kind, [(start + n / rate, bodies[n]) for n in range(c, len(bodies), clients)], results))
        for c in range(clients)]
    own = resource.getrusage(resource.RUSAGE_CHILDREN)  # the client processes, once joined
    cpu, database, (busy, available) = server_cpu_seconds(base), _postgres_cpu(), _machine_cpu()
    for process in processes:
        process.start()
    calls: list = []
    for _ in processes:
        got = results.get()
        if isinstance(got, str):
            raise SystemExit(f"a client process crashed:\n{got}")
        calls.extend(got)
    busy_after, available_after = _machine_cpu()
    used = {"server": server_cpu_seconds(base) - cpu, "postgres": _postgres_cpu() - database,
            "machine_busy": (busy_after - busy) / max(available_after - available, 0.001)}
    for process in processes:
        process.join(timeout=10)
    joined = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["clients"] = joined.ru_utime + joined.ru_stime - own.ru_utime - own.ru_stime
    return calls, used


def _summary(calls: list, used: dict) -> dict:
    ok = [c for c in calls if c[3] in (200, 201)]
    latencies = [c[2] for c in ok]
    first = min(c[0] for c in calls)
    last = max(c[1] + c[2] / 1000 for c in calls)
    behind = [(c[1] - c[0]) * 1000 for c in calls]
    from_schedule = [(c[1] - c[0]) * 1000 + c[2] for c in ok]
    return {"sent": len(calls), "ok": len(ok), "errors": len(calls) - len(ok),
            "achieved_per_s": round(len(ok) / (last - first), 1), "span_s": round(last - first, 1),
            "p50_ms": _ms(latencies, 0.5), "p95_ms": _ms(latencies, 0.95), "p99_ms": _ms(latencies, 0.99),
            "max_ms": round(max(latencies), 1) if latencies else None,
            "behind_schedule_p99_ms": _ms(behind, 0.99), "p99_from_schedule_ms": _ms(from_schedule, 0.99),
            "server_cpu_ms_per_call": round(used["server"] * 1000 / len(calls), 2),
            "postgres_cpu_ms_per_call": round(used["postgres"] * 1000 / len(calls), 2),
            "clients_cpu_ms_per_call": round(used["clients"] * 1000 / len(calls), 2),
            "machine_cpu_busy": round(used["machine_busy"], 2)}


def _settle(base: str, limit: float = 120.0) -> float:
    """Waits until the server is idle (under 5 % of a core for two seconds running: its start-up
    warms search indexes in the background); returns the seconds waited."""
    started = time.perf_counter()
    quiet, before = 0, server_cpu_seconds(base)
    while quiet < 2 and time.perf_counter() - started < limit:
        time.sleep(1)
        now = server_cpu_seconds(base)
        quiet = quiet + 1 if now - before < 0.05 else 0
        before = now
    return round(time.perf_counter() - started, 1)


def _reports(base: str, sessions, rate: float, seconds: float, clients: int, postgres: bool) -> dict:
    connection = _Connection(base)
    form = urlencode({"grant_type": "password", "username": SUPERVISOR, "password": demo.DEMO_PASSWORD}).encode()
    status, body, _ = connection.call("POST", "/api/v1/auth/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise SystemExit(f"login of {SUPERVISOR}: {status} {body[:300]!r}")
    token = json.loads(body)["access_token"]
    status, body, _ = connection.call("GET", "/api/v1/grid/categories", headers={"Authorization": f"Bearer {token}"})
    if status != 200:
        raise SystemExit(f"categories: {status} {body[:300]!r}")
    listed = [(c["kind"], c["code"], c["name"]) for c in json.loads(body)]
    connection.close()
    count = int(rate * seconds)
    warm = max(20, clients * 2)
    rng = np.random.default_rng(SEED + 2)
    with sessions() as db:
        index = service.grid_index(db)
        before = db.scalar(select(func.count()).select_from(GridCase))
    points = _points_in_cells(index, count + warm, rng)
    photo = _jpeg()
    bodies: list[bytes | None] = []
    for n, (lon, lat) in enumerate(points):
        kind, code, name = listed[int(rng.integers(0, len(listed)))]
        bodies.append(_multipart({"kind": kind, "code": code, "lon": f"{lon:.7f}", "lat": f"{lat:.7f}",
                                  "description": DESCRIPTIONS.get(name, f"发现{name}问题（压测第{n}号）")}, photo))

    _say(f"reports: baseline, GET /readyz at {rate:g}/s for {seconds:g} s")
    calls, used = _paced(base, token, "readyz", [None] * count, rate, clients)
    baseline = _summary(calls, used)
    _say(f"reports: baseline {baseline['achieved_per_s']}/s p95 {baseline['p95_ms']} ms; warming up with {warm} reports")
    calls, _ = _paced(base, token, "reports", bodies[:warm], min(rate, 20.0), min(clients, 4))
    warm_errors = sum(1 for c in calls if c[3] != 201)
    _say(f"reports: POST /api/v1/grid/cases at {rate:g}/s for {seconds:g} s ({clients} client processes)")
    calls, used = _paced(base, token, "reports", bodies[warm:], rate, clients)
    figures = _summary(calls, used)
    if not postgres:  # the machine's PostgreSQL serves others, not this run
        figures.pop("postgres_cpu_ms_per_call")
        baseline.pop("postgres_cpu_ms_per_call")
    with sessions() as db:
        stored = db.scalar(select(func.count()).select_from(GridCase)) - before
    figures.update({"rate": rate, "seconds": seconds, "clients": clients, "photo_bytes": len(photo),
                    "stored": stored, "warm_up_errors": warm_errors,
                    "baseline_readyz": baseline,
                    "p95_to_baseline": round((figures["p95_ms"] or 0) / (baseline["p95_ms"] or 1), 1),
                    "cpu_to_baseline": round(figures["server_cpu_ms_per_call"] / max(baseline["server_cpu_ms_per_call"], 0.01), 1),
                    "met": figures["errors"] == 0 and warm_errors == 0 and stored == warm + figures["ok"]
                    and figures["achieved_per_s"] >= rate * 0.98})
    return figures


# ---- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000, help="points routed (routing)")
    parser.add_argument("--cells", type=int, default=50_000, help="cells imported (import)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases stored before the Open311 listing (open311)")
    parser.add_argument("--requests", type=int, default=300, help="Open311 listing requests timed (open311)")
    parser.add_argument("--rate", type=float, default=100.0, help="reports a second (reports)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the reports are sent (reports)")
    parser.add_argument("--clients", type=int, default=20, help="client processes sending the reports (reports)")
    parser.add_argument("--workers", type=int, default=0, help="server worker processes (default: one per core)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--skip", default="", help=f"parts left out, a comma list of {', '.join(PARTS)}")
    args = parser.parse_args()
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    if skip - set(PARTS):
        parser.error(f"--skip: unknown parts {sorted(skip - set(PARTS))}; the parts are {', '.join(PARTS)}")
    if min(args.points, args.cells, args.cases, args.requests, args.clients) < 1 or args.rate <= 0 or args.seconds <= 0:
        parser.error("sizes, --rate and --seconds must be positive")

    load_at_start = [round(v, 2) for v in os.getloadavg()]
    folder = workdir()
    output: dict = {"engine": None, "load_at_start": load_at_start, "started_utc": datetime.now(UTC).isoformat(timespec="seconds")}
    failed = False
    try:
        with fresh_database(args.database_url, folder) as settings:
            output["engine"] = engine_name(settings)
            engine = make_engine(settings)
            sessions = make_sessionmaker(engine)
            if "routing" not in skip:
                _say(f"routing: {args.points} points")
                output["routing"] = _routing(sessions, settings, args.points)
                _say(f"routing: {output['routing']}")
            if "import" not in skip:
                output["import"] = _import(sessions, settings, args.cells)
                _say(f"import: {output['import']}")
            if {"open311", "reports"} - skip:
                workers = args.workers or os.cpu_count() or 1
                with served(settings, folder, workers=workers) as base:
                    output["server_workers"] = workers
                    output["server_settled_s"] = _settle(base)
                    _say(f"server idle after {output['server_settled_s']} s")
                    if "open311" not in skip:
                        output["open311"] = _open311(base, sessions, settings, args.cases, args.requests)
                        _say(f"open311: {output['open311']}")
                        failed |= bool(output["open311"].get("errors"))
                    if "reports" not in skip:
                        output["reports"] = _reports(base, sessions, args.rate, args.seconds, args.clients,
                                                     postgres=not settings.is_sqlite)
                        _say(f"reports: {output['reports']}")
                        failed |= bool(output["reports"]["errors"] or output["reports"]["warm_up_errors"])
            engine.dispose()
            print(json.dumps(output, ensure_ascii=False))
            if failed:
                log = (folder / "server.log").read_text(errors="replace").splitlines()
                print("server log (last 60 lines):", *log[-60:], sep="\n", file=sys.stderr)
                sys.exit(1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
