"""Coordinates and shapes: the reference systems cells arrive in, the checks a grid passes, and
the index that finds the cell of a point.

Everything is stored in WGS 84 (what GPS, GeoJSON (RFC 7946) and Open311 speak):
- CGCS2000 (EPSG:4490, China's national system) differs from WGS 84 by centimetres at city scale:
  its coordinates are taken as they are, and the import says so;
- GCJ-02 (the offset system of Chinese web maps) is a published, deliberately non-linear offset
  with no EPSG code: converted back to WGS 84 by inverting the offset iteratively (to 1e-7°, about
  a centimetre).
Areas, distances and the checks' tolerances are in metres, on a local equirectangular projection
around the district (errors well under 0.1 % over a district).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry import Polygon, shape
from shapely.validation import explain_validity

from tongban.core.errors import Problem


def invalid(slug: str, message: str, *, field: str = "body.file") -> Problem:
    """A refused grid file or position: the problem names the field, as every refusal does."""
    return Problem(slug, message, errors=[{"field": field, "message": message}])


class Crs(StrEnum):
    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"


CRS_LABELS = {Crs.WGS84: "WGS 84（GPS）", Crs.CGCS2000: "CGCS2000（国家大地坐标系）", Crs.GCJ02: "GCJ-02（国测局偏移坐标）"}
# The names a GeoJSON file may give its system (the 2008 format's "crs" member); GCJ-02 has none.
_CRS_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84": Crs.WGS84, "urn:ogc:def:crs:EPSG::4326": Crs.WGS84,
              "EPSG:4326": Crs.WGS84, "urn:ogc:def:crs:EPSG::4490": Crs.CGCS2000, "EPSG:4490": Crs.CGCS2000}

# ---- an uploaded GeoJSON file ------------------------------------------------------------------------


def read_collection(data: bytes, stated: Crs, *, max_mb: int, what: str) -> tuple[list, Crs]:
    """The features of an uploaded FeatureCollection (at least one) and the system they are in;
    ``what``: the things it holds, for the refusals (网格, 部件)."""
    if len(data) > max_mb * 1024 * 1024:
        raise invalid("payload-too-large", f"{what}文件超过 {max_mb} MB，请分批导入")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise invalid("grid-invalid-geojson", "文件不是合法的 JSON（GeoJSON 应为 UTF-8 编码的 JSON 文本）") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise invalid("grid-invalid-geojson", "GeoJSON 顶层应为 FeatureCollection，且含 features 列表")
    if not document["features"]:
        raise invalid("grid-invalid-geojson", f"文件中没有任何{what}（features 为空）")
    return document["features"], crs_of_file(document, stated)


def property_text(properties: dict, key: str, where: str, *, limit: int, required: bool = True) -> str:
    """A feature's property as text (a code may come as a number), within ``limit`` characters."""
    value = properties.get(key)
    if value is None or value == "":
        if required:
            raise invalid("grid-invalid-geojson", f"{where}：缺少属性 {key}")
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or len(str(value)) > limit:
        raise invalid("grid-invalid-geojson", f"{where}：属性 {key} 应为不超过 {limit} 字的文本")
    return str(value).strip()


# ---- GCJ-02 --------------------------------------------------------------------------------------

_A, _EE = 6378245.0, 0.00669342162296594323  # the Krasovsky ellipsoid the offset is defined on


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS 84 at a WGS 84 point, in degrees (the published formula)."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    waves_x = (20 * np.sin(6 * x * pi) + 20 * np.sin(2 * x * pi)) * 2 / 3
    d_lat = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + waves_x
             + (20 * np.sin(y * pi) + 40 * np.sin(y / 3 * pi)) * 2 / 3
             + (160 * np.sin(y / 12 * pi) + 320 * np.sin(y * pi / 30)) * 2 / 3)
    d_lon = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + waves_x
             + (20 * np.sin(x * pi) + 40 * np.sin(x / 3 * pi)) * 2 / 3
             + (150 * np.sin(x / 12 * pi) + 300 * np.sin(x / 30 * pi)) * 2 / 3)
    rad = lat / 180 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180 / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = d_lon * 180 / (_A / sqrt_magic * np.cos(rad) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon, lat):
    """The WGS 84 point whose GCJ-02 offset lands on (lon, lat): fixed-point iteration."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(30):
        c_lon, c_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = c_lon - g_lon, c_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if float(np.max(np.abs(e_lon), initial=0)) < 1e-9 and float(np.max(np.abs(e_lat), initial=0)) < 1e-9:
            break
    return w_lon, w_lat


def to_wgs84(crs: Crs, lon, lat):
    if crs == Crs.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def crs_of_file(document: dict, stated: Crs) -> Crs:
    """The system the file's coordinates are in: the one stated with the upload, which a "crs"
    member of the file (the 2008 GeoJSON format) must not contradict."""
    named = document.get("crs")
    if named is None:
        return stated
    name = (named.get("properties") or {}).get("name") if isinstance(named, dict) else None
    found = _CRS_NAMES.get(str(name))
    if found is None:
        raise invalid("grid-invalid-geojson", f"无法识别文件声明的坐标系「{name}」；请去掉 crs 成员并在上传时选择坐标系",
                      field="body.file")
    if stated == Crs.GCJ02 or found != stated:
        raise invalid("grid-crs-mismatch",
                      f"文件声明的坐标系是{CRS_LABELS[found]}，与所选的{CRS_LABELS[stated]}不一致", field="body.crs")
    return found


# ---- metres --------------------------------------------------------------------------------------

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True)
class LocalMetres:
    """An equirectangular projection around (lon0, lat0): metres east and north."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def project(self, geometry):
        kx, lon0, lat0 = self.kx, self.lon0, self.lat0
        return shapely.transform(geometry, lambda xy: np.column_stack(((xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * _M_PER_DEG_LAT)))

    def metres_to_degrees(self, metres: float) -> float:
        """A distance in metres as degrees of latitude/longitude, whichever is larger (a safe radius)."""
        return metres / min(self.kx, _M_PER_DEG_LAT)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    local = LocalMetres(lon1, lat1)
    return math.hypot((lon2 - lon1) * local.kx, (lat2 - lat1) * _M_PER_DEG_LAT)


# ---- the district's extent -----------------------------------------------------------------------


@dataclass(frozen=True)
class Extent:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> Extent:
        parts = [float(part) for part in text.split(",")]
        if len(parts) != 4 or parts[0] >= parts[2] or parts[1] >= parts[3]:
            raise ValueError("an extent is min_lon,min_lat,max_lon,max_lat")
        return cls(*parts)

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    @property
    def text(self) -> str:
        return f"东经 {self.min_lon}°–{self.max_lon}°，北纬 {self.min_lat}°–{self.max_lat}°"


# ---- a bounding box in a query ---------------------------------------------------------------------

_NUMBER = r"-?\d{1,3}(\.\d{1,20})?"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"


def parse_bbox(text: str, field: str = "query.bbox") -> tuple[float, float, float, float]:
    """min_lon,min_lat,max_lon,max_lat in degrees, each within the world, min before max."""
    parts = text.split(",")
    try:
        values = [float(part) for part in parts] if len(parts) == 4 else []
    except ValueError:
        values = []
    if (len(values) != 4 or not all(math.isfinite(v) for v in values) or not -180 <= values[0] <= values[2] <= 180
            or not -90 <= values[1] <= values[3] <= 90):
        raise invalid("validation-error", "bbox 应为 最小经度,最小纬度,最大经度,最大纬度（WGS 84 度数，最小值在前）",
                      field=field)
    return values[0], values[1], values[2], values[3]


# ---- checks of an imported grid ------------------------------------------------------------------

# Overlaps and gaps smaller than this are drawing noise, not errors (a few square metres).
TOLERANCE_M2 = 5.0
MIN_CELL_M2, MAX_CELL_M2 = 100.0, 1_000_000.0


@dataclass(frozen=True)
class CellShape:
    code: str
    community_code: str
    polygon: Polygon  # WGS 84


def polygon_of(geometry: object, where: str) -> Polygon:
    """A GeoJSON Polygon geometry as shapely's; anything else is refused."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise invalid("grid-invalid-geojson", f"{where}：几何类型必须是 Polygon（单元网格是一个多边形）", field="body.file")
    rings = geometry.get("coordinates")
    if (not isinstance(rings, list) or not rings
            or not all(isinstance(ring, list) and len(ring) >= 4 for ring in rings)):
        raise invalid("grid-invalid-geojson", f"{where}：多边形的每个环至少要有 4 个坐标点（首尾相同）", field="body.file")
    for ring in rings:
        for point in ring:
            if (not isinstance(point, list) or len(point) < 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point[:2])):
                raise invalid("grid-invalid-geojson", f"{where}：坐标必须是 [经度, 纬度] 数值对", field="body.file")
        if ring[0][:2] != ring[-1][:2]:
            raise invalid("grid-invalid-geojson", f"{where}：多边形的环没有闭合（首尾坐标不同）", field="body.file")
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, AttributeError):
        raise invalid("grid-invalid-geojson", f"{where}：无法读取多边形", field="body.file") from None
    assert isinstance(polygon, Polygon)
    return polygon


def check_shapes(cells: Sequence[CellShape], extent: Extent) -> dict[str, float]:
    """Each cell valid, inside the district, of a cell's size; no overlap and no gap inside a
    community beyond ``TOLERANCE_M2``. Returns each cell's area in m². The first fault found is
    raised, naming the cells."""
    if not cells:
        return {}
    polygons = np.array([cell.polygon for cell in cells], dtype=object)
    for cell in cells:
        min_lon, min_lat, max_lon, max_lat = cell.polygon.bounds
        if not (extent.contains(min_lon, min_lat) and extent.contains(max_lon, max_lat)):
            raise invalid("grid-outside-district", f"网格 {cell.code} 的坐标超出本区范围（{extent.text}）", field="body.file")
    valid = shapely.is_valid(polygons)
    if not valid.all():
        bad = cells[int(np.flatnonzero(~valid)[0])]
        raise invalid("grid-invalid-cell", f"网格 {bad.code} 的多边形无效（{_explain(bad.polygon)}），例如边自相交",
                      field="body.file")
    local = LocalMetres((extent.min_lon + extent.max_lon) / 2, (extent.min_lat + extent.max_lat) / 2)
    metric = local.project(polygons)
    areas = shapely.area(metric)
    for index in np.flatnonzero((areas < MIN_CELL_M2) | (areas > MAX_CELL_M2)):
        raise invalid("grid-invalid-cell",
                      f"网格 {cells[int(index)].code} 的面积为 {areas[index]:.0f} 平方米，不在单元网格的合理范围"
                      f"（{MIN_CELL_M2:.0f}–{MAX_CELL_M2:.0f} 平方米）", field="body.file")
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    communities = np.array([cell.community_code for cell in cells])
    same = communities[left] == communities[right]
    left, right = left[same], right[same]
    if len(left):
        shared = shapely.area(shapely.intersection(metric[left], metric[right]))
        for index in np.flatnonzero(shared > TOLERANCE_M2):
            a, b = cells[int(left[index])], cells[int(right[index])]
            raise invalid("grid-overlap", f"网格 {a.code} 与 {b.code} 重叠 {shared[index]:.0f} 平方米（同一社区内的网格不得重叠）",
                          field="body.file")
    _check_gaps(cells, metric, communities)
    return {cell.code: float(area) for cell, area in zip(cells, areas, strict=True)}


def _check_gaps(cells: Sequence[CellShape], metric: np.ndarray, communities: np.ndarray) -> None:
    """A hole inside the union of a community's cells is a gap (a piece of the community nobody covers)."""
    for community in dict.fromkeys(communities.tolist()):
        union = shapely.union_all(metric[communities == community], grid_size=0.01)
        parts = getattr(union, "geoms", [union])
        for part in parts:
            for ring in getattr(part, "interiors", []):
                hole = Polygon(ring)
                if hole.area > TOLERANCE_M2:
                    x, y = hole.representative_point().coords[0]
                    raise invalid("grid-gap", f"社区 {community} 的网格之间有 {hole.area:.0f} 平方米的空隙（未被任何网格覆盖），"
                                  f"位于网格 {_nearest(cells, metric, x, y)} 附近", field="body.file")


def _nearest(cells: Sequence[CellShape], metric: np.ndarray, x: float, y: float) -> str:
    distances = shapely.distance(metric, shapely.points(x, y))
    return cells[int(np.argmin(distances))].code


def _explain(polygon: Polygon) -> str:
    reason = explain_validity(polygon)
    return "边自相交" if reason.startswith("Self-intersection") or "Self-intersection" in reason else reason[:80]


# ---- the index of the current grid ---------------------------------------------------------------

BORDER_M = 30.0  # a point this close outside the grid's edge belongs to the nearest cell


@dataclass(frozen=True)
class CellRef:
    code: str
    street_code: str
    responsible_department_id: int | None


class GridIndex:
    """The current cells in an STRtree: the cell of a point, or of a million points at once.

    A point on a border between cells belongs to the cell with the smallest code (every point
    has one answer); a point outside every cell but within ``BORDER_M`` of one belongs to the
    nearest; farther out it has none (outside the grid)."""

    def __init__(self, refs: list[CellRef], polygons: list[Polygon]) -> None:
        self.refs = refs
        self.polygons = np.array(polygons, dtype=object)
        self.tree = shapely.STRtree(self.polygons)
        order = sorted(range(len(refs)), key=lambda i: refs[i].code)
        self.rank = np.empty(len(refs), dtype=np.int64)
        self.rank[order] = np.arange(len(refs))
        if refs:
            min_lon, min_lat, max_lon, max_lat = shapely.total_bounds(self.polygons)
            self.local = LocalMetres((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
        else:
            self.local = LocalMetres(121.5, 31.2)

    def __len__(self) -> int:
        return len(self.refs)

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The index into ``refs`` of each point's cell, -1 where it has none."""
        n = len(lon)
        found = np.full(n, -1, dtype=np.int64)
        if not self.refs or n == 0:
            return found
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        point_idx, cell_idx = self.tree.query(points, predicate="intersects")
        if len(point_idx):
            # The smallest code among a point's cells: sort by (point, rank), keep each point's first.
            order = np.lexsort((self.rank[cell_idx], point_idx))
            point_idx, cell_idx = point_idx[order], cell_idx[order]
            first = np.ones(len(point_idx), dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            found[point_idx[first]] = cell_idx[first]
        missing = np.flatnonzero(found < 0)
        if len(missing):
            radius = self.local.metres_to_degrees(BORDER_M)
            near_point, near_cell = self.tree.query_nearest(points[missing], max_distance=radius, all_matches=False)
            if len(near_point):
                # metres, not degrees: the radius in degrees was generous in one direction
                metres = shapely.distance(self.local.project(self.polygons[near_cell]),
                                          self.local.project(points[missing[near_point]]))
                keep = metres <= BORDER_M
                found[missing[near_point[keep]]] = near_cell[keep]
        return found

    def locate(self, lon: float, lat: float) -> CellRef | None:
        index = int(self.locate_many(np.array([lon]), np.array([lat]))[0])
        return self.refs[index] if index >= 0 else None


def distance_to(local: LocalMetres, polygon, point) -> float:
    return float(shapely.distance(local.project(polygon), local.project(point)))
