"""部件普查: the census of the city's components (manhole covers, street lamps, bins …), imported in
bulk as GeoJSON points and kept by their code; each found in its cell.

A component's code is the district (6) + its class (2) + subclass (2) + a serial (6): the class and
subclass are a component category of the national standard, so the code says what the thing is.
An import is checked whole; a code already in the census is updated (a survey again), a new one
added. Nothing is written unless every point passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.auth import Principal
from tongban.grid import geo
from tongban.grid.models import COMPONENT_STATE_LABELS, CategoryKind, Component, ComponentState, GridCategory
from tongban.org import service as org

MAX_FILE_MB = 60
_STATES = {label: state.value for state, label in COMPONENT_STATE_LABELS.items()} | {s.value: s.value for s in ComponentState}


@dataclass(frozen=True)
class ComponentImport:
    created: int
    updated: int
    outside_grid: int


def import_components(db: Session, principal: Principal, data: bytes, *, crs: geo.Crs, extent: geo.Extent,
                      district_code: str, index: geo.GridIndex) -> ComponentImport:
    features, crs = geo.read_collection(data, crs, max_mb=MAX_FILE_MB, what="部件")
    kinds = {code: name for code, name in db.execute(
        select(GridCategory.code, GridCategory.name).where(GridCategory.kind == CategoryKind.COMPONENT.value))}
    rows: dict[str, dict] = {}
    owners: set[str] = set()
    for number, feature in enumerate(features, start=1):
        where = f"第 {number} 个部件"
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            raise geo.invalid("grid-invalid-geojson", f"{where}：应为带 properties 的 Feature")
        geometry = feature.get("geometry")
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coordinates, list) \
                or len(coordinates) < 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   and math.isfinite(v) for v in coordinates[:2]):
            raise geo.invalid("grid-invalid-geojson", f"{where}：几何应为 Point，坐标为 [经度, 纬度]")
        properties = feature["properties"]
        code = geo.property_text(properties, "code", where, limit=16)
        where = f"部件 {code}"
        if not (code.isdigit() and len(code) == 16 and code.startswith(district_code)):
            raise geo.invalid("grid-invalid-code", f"{where}：部件编码应为 16 位数字（本区 {district_code} + 大类 2 位 + 小类 2 位 + 顺序号 6 位）")
        if code[6:10] not in kinds:
            raise geo.invalid("grid-invalid-code", f"{where}：编码中的分类 {code[6:10]} 不是部件分类")
        if code in rows:
            raise geo.invalid("grid-invalid-code", f"部件编码 {code} 在文件中重复")
        state = _STATES.get(geo.property_text(properties, "state", where, limit=8, required=False) or "完好")
        if state is None:
            raise geo.invalid("validation-error", f"{where}：状态应为 {'、'.join(COMPONENT_STATE_LABELS.values())} 之一")
        owner = geo.property_text(properties, "owner_department", where, limit=32, required=False)
        if owner:
            owners.add(owner)
        rows[code] = {"code": code, "category_code": code[6:10], "name": geo.property_text(properties, "name", where, limit=64, required=False)
                      or kinds[code[6:10]], "lon": float(coordinates[0]), "lat": float(coordinates[1]),
                      "owner": geo.property_text(properties, "owner", where, limit=100, required=False),
                      "maintainer": geo.property_text(properties, "maintainer", where, limit=100, required=False),
                      "state": state, "surveyed_on": geo.property_text(properties, "surveyed_on", where, limit=10, required=False) or None,
                      "owner_code": owner}
    codes = list(rows)
    lon, lat = geo.to_wgs84(crs, np.array([rows[c]["lon"] for c in codes]), np.array([rows[c]["lat"] for c in codes]))
    for code, x, y in zip(codes, lon.tolist(), lat.tolist(), strict=True):
        if not extent.contains(x, y):
            raise geo.invalid("grid-outside-district", f"部件 {code} 的坐标超出本区范围（{extent.text}）")
        rows[code]["lon"], rows[code]["lat"] = round(x, 7), round(y, 7)
    departments = org.ids_by_codes(db, owners)
    missing = owners - set(departments)
    if missing:
        raise geo.invalid("validation-error", f"主管部门 {sorted(missing)[0]} 不存在")
    cells = index.locate_many(lon, lat)
    existing = {c.code: c for c in db.scalars(select(Component).where(Component.code.in_(codes)))} if len(codes) <= 30_000 else {
        c.code: c for c in db.scalars(select(Component))}
    created = updated = 0
    for position, code in enumerate(codes):
        row = rows[code]
        values = {"category_code": row["category_code"], "name": row["name"], "lon": row["lon"], "lat": row["lat"],
                  "cell_code": index.refs[int(cells[position])].code if cells[position] >= 0 else None,
                  "owner_department_id": departments.get(row["owner_code"]), "owner": row["owner"] or "",
                  "maintainer": row["maintainer"] or "", "state": row["state"], "surveyed_on": row["surveyed_on"]}
        found = existing.get(code)
        if found is None:
            db.add(Component(code=code, **values))
            created += 1
        else:
            for key, value in values.items():
                setattr(found, key, value)
            updated += 1
    db.flush()
    outside = int((cells < 0).sum())
    audit.record(db, actor=principal, action="grid.components.import", object_type="grid_components",
                 object_id=str(len(codes)), details={"created": created, "updated": updated, "outside_grid": outside})
    return ComponentImport(created, updated, outside)


def component(db: Session, code: str) -> Component | None:
    return db.scalar(select(Component).where(Component.code == code))


def in_box(db: Session, box: tuple[float, float, float, float], limit: int) -> list[Component]:
    return list(db.scalars(select(Component).where(Component.lon.between(box[0], box[2]), Component.lat.between(box[1], box[3]))
                           .order_by(Component.code).limit(limit)))
