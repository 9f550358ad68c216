"""The demo's unit grid (万米单元网格) of digital urban management, over three streets of 浦东新区.

The streets (陆家嘴街道, 潍坊新村街道, 花木街道) are drawn as convex polygons in WGS 84 (lon, lat) that
stand roughly where the real streets are; their extents, the communities' (居委会) boundaries and the
roads are approximations made for a demo, not surveyed boundaries. Streets that touch share the same
vertices along their common border, so they tile without gaps there. Each street is cut into
communities by straight north-south and east-west lines (every community is the street's polygon
clipped to a box of a partition of the plane, so the communities of a street tile it exactly).

The unit cells are a regular grid of 0.00095° lon × 0.0009° lat (about 90 m × 100 m, 9,000 m² at
latitude 31.2°) anchored at one origin for the whole area, clipped to each community: a cell at a
community's border is the clipped piece, and a piece smaller than 500 m² is dropped. Within its
community, the cells are numbered row by row from the north, each row from the west (001…999), and a
cell's code is the community's code (12 digits: 6 of the district, 3 of the street, 3 of the
community) followed by that 3-digit sequence: 15 digits.

A cell's land use is derived from its position (the riverside, the Lujiazui financial core, Century
Park, the main roads, and a deterministic hash of its block elsewhere), so that every build of the
grid is the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Point = tuple[float, float]
Ring = tuple[Point, ...]

DISTRICT_CODE = "310115"

# Grid origin (north-west corner) and steps, in degrees.
GRID_WEST = 121.4940
GRID_NORTH = 31.2500
STEP_LON = 0.00095
STEP_LAT = 0.0009
MIN_CELL_AREA = 500.0  # m²; border pieces smaller than this are dropped

# Metres per degree at latitude 31.2° (equirectangular approximation, WGS 84 ellipsoid).
M_PER_DEG_LAT = 110_874.0
M_PER_DEG_LON = 95_287.0

DECIMALS = 7


@dataclass(frozen=True)
class Community:
    code: str  # 12 digits: street code + 3
    name: str
    # The community is the street polygon clipped to this box: (west, south, east, north), None = open.
    box: tuple[float | None, float | None, float | None, float | None]


@dataclass(frozen=True)
class Street:
    code: str  # 9 digits (GB/T 2260 district + 3-digit town code)
    name: str
    outline: Ring  # convex, counter-clockwise, not closed (the first vertex is not repeated)
    communities: tuple[Community, ...]


# Shared vertices of the streets' common borders.
_LJZ_S = (121.5150, 31.2250)  # 陆家嘴 / 潍坊新村
_LJZ_SE = (121.5300, 31.2300)  # 陆家嘴 / 潍坊新村
_WF_SE = (121.5400, 31.2200)  # 潍坊新村 / 花木
_WF_E = (121.5450, 31.2260)  # 潍坊新村 / 花木

STREETS: tuple[Street, ...] = (
    Street(
        code="310115004",
        name="陆家嘴街道",
        # The Huangpu bend: the river on the west and the north, 潍坊新村 on the south-east.
        outline=(
            (121.5020, 31.2255),
            _LJZ_S,
            _LJZ_SE,
            (121.5310, 31.2420),
            (121.5230, 31.2465),
            (121.5060, 31.2445),
            (121.4975, 31.2415),
            (121.4965, 31.2340),
        ),
        communities=(
            Community("310115004001", "梅园三村居委会", (121.5190, None, None, 31.2350)),
            Community("310115004003", "东园一村居委会", (121.5190, 31.2350, None, None)),
            Community("310115004006", "崂山一村居委会", (121.5085, None, 121.5190, 31.2350)),
            Community("310115004009", "世茂滨江居委会", (121.5085, 31.2350, 121.5190, None)),
            Community("310115004013", "东昌居委会", (None, None, 121.5085, 31.2350)),
            Community("310115004017", "仁恒滨江园居委会", (None, 31.2350, 121.5085, None)),
        ),
    ),
    Street(
        code="310115005",
        name="潍坊新村街道",
        outline=(
            _LJZ_S,
            (121.5200, 31.2200),
            _WF_SE,
            _WF_E,
            (121.5450, 31.2330),
            _LJZ_SE,
        ),
        communities=(
            Community("310115005002", "竹园居委会", (None, None, 121.5230, None)),
            Community("310115005004", "潍坊一村居委会", (121.5230, None, 121.5310, None)),
            Community("310115005007", "潍坊三村居委会", (121.5310, None, 121.5380, None)),
            Community("310115005010", "泉东居委会", (121.5380, None, None, None)),
        ),
    ),
    Street(
        code="310115009",
        name="花木街道",
        # West along 杨高南路, east to 罗山路, south to about 龙阳路; 世纪公园 in the middle.
        outline=(
            _WF_SE,
            (121.5380, 31.2070),
            (121.5450, 31.1975),
            (121.5720, 31.1965),
            (121.5755, 31.2050),
            (121.5745, 31.2240),
            (121.5580, 31.2300),
            _WF_E,
        ),
        communities=(
            Community("310115009003", "东建居委会", (None, 31.2140, 121.5500, None)),
            Community("310115009005", "牡丹第一居委会", (121.5500, 31.2140, 121.5610, None)),
            Community("310115009012", "联洋第一居委会", (121.5610, 31.2140, None, None)),
            Community("310115009008", "由由一村居委会", (None, None, 121.5500, 31.2140)),
            Community("310115009010", "培花一村居委会", (121.5500, None, 121.5610, 31.2140)),
            Community("310115009018", "钦洋居委会", (121.5610, None, None, 31.2140)),
        ),
    ),
)

# Main roads at their approximate positions (lon, lat), drawn for the offline base layer.
ROADS: tuple[tuple[str, Ring], ...] = (
    ("世纪大道", ((121.5010, 31.2398), (121.5060, 31.2372), (121.5250, 31.2285), (121.5440, 31.2200), (121.5460, 31.2188))),
    ("浦东南路", ((121.5060, 31.2430), (121.5105, 31.2350), (121.5125, 31.2290), (121.5140, 31.2200), (121.5150, 31.2100))),
    ("东方路", ((121.5225, 31.2445), (121.5240, 31.2350), (121.5250, 31.2285), (121.5262, 31.2200), (121.5275, 31.2080))),
    ("张杨路", ((121.5120, 31.2310), (121.5250, 31.2285), (121.5350, 31.2290), (121.5455, 31.2310), (121.5600, 31.2350), (121.5780, 31.2400))),
    ("杨高中路", ((121.5480, 31.2480), (121.5465, 31.2350), (121.5455, 31.2310), (121.5440, 31.2260))),
    ("杨高南路", ((121.5440, 31.2260), (121.5420, 31.2200), (121.5385, 31.2100), (121.5360, 31.1960))),
    (
        "陆家嘴环路",
        ((121.4990, 31.2410), (121.5030, 31.2435), (121.5090, 31.2425), (121.5110, 31.2385), (121.5080, 31.2345), (121.5030, 31.2330), (121.4990, 31.2350), (121.4980, 31.2385), (121.4990, 31.2410)),
    ),
    ("银城中路", ((121.5000, 31.2420), (121.5025, 31.2370), (121.5045, 31.2330), (121.5060, 31.2290))),
    ("浦东大道", ((121.5060, 31.2425), (121.5180, 31.2440), (121.5300, 31.2470), (121.5450, 31.2520))),
    ("源深路", ((121.5345, 31.2440), (121.5350, 31.2290), (121.5355, 31.2200))),
    ("锦绣路", ((121.5445, 31.2220), (121.5420, 31.2130), (121.5440, 31.2040), (121.5480, 31.1950))),
    ("芳甸路", ((121.5565, 31.2360), (121.5560, 31.2260), (121.5555, 31.2150), (121.5560, 31.2080))),
    ("花木路", ((121.5380, 31.2080), (121.5500, 31.2075), (121.5620, 31.2085), (121.5760, 31.2100))),
    ("龙阳路", ((121.5300, 31.2030), (121.5450, 31.2000), (121.5600, 31.1990), (121.5780, 31.1985))),
    ("罗山路", ((121.5760, 31.2350), (121.5750, 31.2200), (121.5745, 31.1950))),
)

# The area the base layer is drawn over (west, south, east, north).
AREA = (121.4940, 31.1940, 121.5780, 31.2480)

LAND_USES = ("居住", "商业", "道路", "绿地", "公共设施", "工业", "水域", "混合")


# --- geometry -------------------------------------------------------------------------------------


def _signed_area(ring: Ring) -> float:
    """The signed area in degrees² (shoelace), positive when counter-clockwise."""
    if not ring:
        return 0.0
    x0, y0 = ring[0]  # relative to a vertex: the products of raw degrees would lose the small areas' digits
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        total += (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    return total / 2.0


def area_m2(ring: Ring) -> float:
    """The area in m² of a ring in lon/lat, by an equirectangular projection at latitude 31.2°."""
    return abs(_signed_area(ring)) * M_PER_DEG_LAT * M_PER_DEG_LON


def _clip(ring: list[Point], a: float, b: float, c: float) -> list[Point]:
    """Sutherland–Hodgman: the part of `ring` in the half-plane a·x + b·y <= c."""
    if not ring:
        return []
    out: list[Point] = []
    prev = ring[-1]
    prev_in = a * prev[0] + b * prev[1] <= c
    for cur in ring:
        cur_in = a * cur[0] + b * cur[1] <= c
        if cur_in != prev_in:
            d_prev = a * prev[0] + b * prev[1] - c
            d_cur = a * cur[0] + b * cur[1] - c
            t = d_prev / (d_prev - d_cur)
            out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
        if cur_in:
            out.append(cur)
        prev, prev_in = cur, cur_in
    return out


def _clip_box(ring: list[Point], box: tuple[float | None, float | None, float | None, float | None]) -> list[Point]:
    west, south, east, north = box
    if west is not None:
        ring = _clip(ring, -1.0, 0.0, -west)
    if south is not None:
        ring = _clip(ring, 0.0, -1.0, -south)
    if east is not None:
        ring = _clip(ring, 1.0, 0.0, east)
    if north is not None:
        ring = _clip(ring, 0.0, 1.0, north)
    return ring


def _clip_convex(ring: list[Point], clip: Ring) -> list[Point]:
    """The part of `ring` inside the convex, counter-clockwise polygon `clip`."""
    for (x1, y1), (x2, y2) in zip(clip, clip[1:] + clip[:1]):
        # Inside is left of the edge: (x2-x1)(y-y1) - (y2-y1)(x-x1) >= 0.
        a = y2 - y1
        b = -(x2 - x1)
        ring = _clip(ring, a, b, a * x1 + b * y1)
        if not ring:
            break
    return ring


def _dedupe(ring: list[Point], tol: float = 1e-11) -> list[Point]:
    out: list[Point] = []
    for p in ring:
        if not out or abs(p[0] - out[-1][0]) > tol or abs(p[1] - out[-1][1]) > tol:
            out.append(p)
    while len(out) > 1 and abs(out[0][0] - out[-1][0]) <= tol and abs(out[0][1] - out[-1][1]) <= tol:
        out.pop()
    return out


def _geojson_ring(ring: Ring) -> list[list[float]]:
    """A closed, counter-clockwise GeoJSON ring, rounded, without repeated positions."""
    if _signed_area(ring) < 0:
        ring = ring[::-1]
    rounded: list[list[float]] = []
    for x, y in ring:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    while len(rounded) > 1 and rounded[0] == rounded[-1]:
        rounded.pop()
    rounded.append(list(rounded[0]))
    return rounded


def _polygon(ring: Ring) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_geojson_ring(ring)]}


def _segment_distance_m(p: Point, a: Point, b: Point) -> float:
    """The distance in metres from p to the segment ab (equirectangular)."""
    px, py = p[0] * M_PER_DEG_LON, p[1] * M_PER_DEG_LAT
    ax, ay = a[0] * M_PER_DEG_LON, a[1] * M_PER_DEG_LAT
    bx, by = b[0] * M_PER_DEG_LON, b[1] * M_PER_DEG_LAT
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _polyline_distance_m(p: Point, line: Ring) -> float:
    return min(_segment_distance_m(p, a, b) for a, b in zip(line, line[1:]))


def _clip_line(line: Ring, box: tuple[float, float, float, float]) -> list[list[Point]]:
    """The parts of a polyline inside an axis-aligned box (Liang–Barsky on each segment)."""
    west, south, east, north = box
    parts: list[list[Point]] = []
    current: list[Point] = []
    for (x1, y1), (x2, y2) in zip(line, line[1:]):
        dx, dy = x2 - x1, y2 - y1
        t0, t1 = 0.0, 1.0
        visible = True
        for p, q in ((-dx, x1 - west), (dx, east - x1), (-dy, y1 - south), (dy, north - y1)):
            if p == 0:
                if q < 0:
                    visible = False
                    break
                continue
            r = q / p
            if p < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                visible = False
                break
        if not visible:
            if current:
                parts.append(current)
                current = []
            continue
        start = (x1 + t0 * dx, y1 + t0 * dy)
        end = (x1 + t1 * dx, y1 + t1 * dy)
        if current and current[-1] == start:
            current.append(end)
        else:
            if current:
                parts.append(current)
            current = [start, end]
        if t1 < 1.0:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return [part for part in parts if len(part) >= 2]


# --- land use -------------------------------------------------------------------------------------


def _hash(*values: int) -> int:
    """A small deterministic integer hash (0..99), independent of PYTHONHASHSEED."""
    h = 2166136261
    for v in values:
        for byte in (v & 0xFFFFFFFF).to_bytes(4, "little"):
            h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h % 100


def _in_ellipse(p: Point, centre: Point, half_lon: float, half_lat: float) -> bool:
    return ((p[0] - centre[0]) / half_lon) ** 2 + ((p[1] - centre[1]) / half_lat) ** 2 <= 1.0


# The Pudong bank of the Huangpu along 陆家嘴 (north and west).
_RIVERBANK: Ring = ((121.5230, 31.2465), (121.5060, 31.2445), (121.4975, 31.2415), (121.4965, 31.2340), (121.5020, 31.2255))
_CENTURY_PARK = ((121.5495, 31.2150), 0.0062, 0.0068)
_CENTURY_PARK_LAKE = ((121.5490, 31.2148), 0.0022, 0.0014)
_LUJIAZUI_GREEN = ((121.5040, 31.2390), 0.0012, 0.0010)  # 陆家嘴中心绿地
_FINANCE_CORE = ((121.5050, 31.2385), 0.0075, 0.0055)  # 陆家嘴金融城 core
_BABAIBAN = ((121.5130, 31.2305), 0.0030, 0.0025)  # the 张杨路/浦东南路 shopping area
_CIVIC_CENTRE = ((121.5425, 31.2230), 0.0025, 0.0020)  # district government, 东方艺术中心
_CENTURY_AVENUE = dict(ROADS)["世纪大道"]
_ROAD_SEGMENTS: tuple[tuple[Point, Point], ...] = tuple((a, b) for _, line in ROADS for a, b in zip(line, line[1:]))
_ROAD_WIDTH = 30.0  # m: a cell whose centre is this close to a main road's centre line is road


def _on_road(p: Point) -> bool:
    margin_lon = _ROAD_WIDTH / M_PER_DEG_LON
    margin_lat = _ROAD_WIDTH / M_PER_DEG_LAT
    for a, b in _ROAD_SEGMENTS:
        if not (min(a[0], b[0]) - margin_lon <= p[0] <= max(a[0], b[0]) + margin_lon):
            continue
        if not (min(a[1], b[1]) - margin_lat <= p[1] <= max(a[1], b[1]) + margin_lat):
            continue
        if _segment_distance_m(p, a, b) < _ROAD_WIDTH:
            return True
    return False


def _land_use(centre: Point, row: int, col: int) -> str:
    if _in_ellipse(centre, *_CENTURY_PARK_LAKE):
        return "水域"
    if _in_ellipse(centre, *_CENTURY_PARK) or _in_ellipse(centre, *_LUJIAZUI_GREEN):
        return "绿地"
    if _polyline_distance_m(centre, _RIVERBANK) < 110:
        return "绿地"  # the riverside green belt (滨江绿地)
    if _on_road(centre):
        return "道路"
    block = _hash(row // 3, col // 3)  # land use comes in blocks of about 300 m
    cell = _hash(row, col, 7)
    if _in_ellipse(centre, *_FINANCE_CORE):
        return "商业" if cell < 85 else "混合"
    if _in_ellipse(centre, *_CIVIC_CENTRE):
        return "公共设施"
    if _in_ellipse(centre, *_BABAIBAN):
        return "商业" if cell < 80 else "混合"
    if _polyline_distance_m(centre, _CENTURY_AVENUE) < 250:
        return "商业" if block < 55 else ("混合" if block < 80 else "居住")
    if centre[0] > 121.5660 and centre[1] < 31.2030:
        return "工业" if block < 50 else "混合"  # a small works area near 龙阳路
    if block < 68:
        return "居住"
    if block < 78:
        return "公共设施"  # schools, clinics, community centres
    if block < 86:
        return "商业"
    if block < 93:
        return "混合"
    return "绿地"


# --- the grid -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    code: str
    street: Street
    community: Community
    ring: Ring
    land_use: str


def community_ring(street: Street, community: Community) -> Ring:
    return tuple(_dedupe(_clip_box(list(street.outline), community.box)))


@lru_cache(maxsize=1)
def _cells() -> tuple[_Cell, ...]:
    cells: list[_Cell] = []
    for street in STREETS:
        for community in street.communities:
            ring = community_ring(street, community)
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            first_row = math.floor((GRID_NORTH - max(ys)) / STEP_LAT)
            last_row = math.floor((GRID_NORTH - min(ys)) / STEP_LAT)
            first_col = math.floor((min(xs) - GRID_WEST) / STEP_LON)
            last_col = math.floor((max(xs) - GRID_WEST) / STEP_LON)
            sequence = 0
            for row in range(first_row, last_row + 1):
                north = GRID_NORTH - row * STEP_LAT
                south = GRID_NORTH - (row + 1) * STEP_LAT
                for col in range(first_col, last_col + 1):
                    west = GRID_WEST + col * STEP_LON
                    east = GRID_WEST + (col + 1) * STEP_LON
                    square = [(west, south), (east, south), (east, north), (west, north)]
                    piece = _dedupe(_clip_convex(square, ring))
                    if len(piece) < 3 or area_m2(tuple(piece)) < MIN_CELL_AREA:
                        continue
                    sequence += 1
                    if sequence > 999:
                        raise ValueError(f"{community.name} has more than 999 cells")
                    centre = (sum(p[0] for p in piece) / len(piece), sum(p[1] for p in piece) / len(piece))
                    cells.append(
                        _Cell(
                            code=f"{community.code}{sequence:03d}",
                            street=street,
                            community=community,
                            ring=tuple(piece),
                            land_use=_land_use(centre, row, col),
                        )
                    )
    return tuple(cells)


def demo_grid() -> dict[str, Any]:
    """The unit cells (万米单元网格) of the demo streets, as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": _polygon(cell.ring),
                "properties": {
                    "code": cell.code,
                    "street_code": cell.street.code,
                    "street": cell.street.name,
                    "community_code": cell.community.code,
                    "community": cell.community.name,
                    "land_use": cell.land_use,
                },
            }
            for cell in _cells()
        ],
    }


def demo_streets() -> dict[str, Any]:
    """The outlines of the demo streets, as a GeoJSON FeatureCollection (the map's base layer)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": _polygon(street.outline),
                "properties": {"code": street.code, "name": street.name},
            }
            for street in STREETS
        ],
    }


def demo_communities() -> dict[str, Any]:
    """The outlines of the demo communities (居委会), as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": _polygon(community_ring(street, community)),
                "properties": {"code": community.code, "name": community.name, "street_code": street.code},
            }
            for street in STREETS
            for community in street.communities
        ],
    }


def demo_roads() -> dict[str, Any]:
    """The main roads over the demo area, as LineStrings clipped to it (the offline base layer)."""
    features = []
    for name, line in ROADS:
        for part in _clip_line(line, AREA):
            coordinates: list[list[float]] = []
            for x, y in part:
                p = [round(x, DECIMALS), round(y, DECIMALS)]
                if not coordinates or coordinates[-1] != p:
                    coordinates.append(p)
            if len(coordinates) >= 2:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": coordinates},
                        "properties": {"name": name},
                    }
                )
    return {"type": "FeatureCollection", "features": features}
