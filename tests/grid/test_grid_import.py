"""Importing the unit grid (GeoJSON), and bad input: every refusal is problem+json in Chinese and
changes nothing."""

from __future__ import annotations

import json

import pytest
from helpers import assert_problem
from sqlalchemy import func, select

from tongban.grid import geo
from tongban.grid.models import GridCase, GridCell, GridVersion

from .conftest import category_code, jpeg
from .test_case_cycle import SUPERVISOR, report

ADMIN = "admin"
# A community of its own east of the demo grid, inside 浦东: 2 × 2 cells of 0.001° (~95 m × 111 m).
COMMUNITY, STREET = "310115125901", "310115125"
LON0, LAT0, STEP = 121.6000, 31.2000, 0.001


def square(lon: float, lat: float, size: float = STEP) -> list[list[list[float]]]:
    return [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]


def feature(code: str, rings, community: str = COMMUNITY, street: str = STREET) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
            "properties": {"code": code, "street_code": street, "street": "张江镇", "community_code": community,
                           "community": "演示新区居委会", "land_use": "居住"}}


def cells(**changes) -> dict:
    features = []
    for row in range(2):
        for column in range(2):
            sequence = row * 2 + column + 1
            features.append(feature(f"{COMMUNITY}{sequence:03d}", square(LON0 + column * STEP, LAT0 - row * STEP)))
    for index, replacement in changes.items():
        features[int(index[1:])] = replacement
    return {"type": "FeatureCollection", "features": features}


def upload(client, headers, document, crs: str = "wgs84", raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(document).encode()
    return client.post("/api/v1/grid/cells/import", headers=headers, data={"crs": crs},
                       files={"file": ("cells.geojson", data, "application/geo+json")})


def counts(db) -> tuple[int, int]:
    found = (db.scalar(select(func.count()).select_from(GridVersion)),
             db.scalar(select(func.count()).select_from(GridCell).where(GridCell.current.is_(True))))
    db.rollback()
    return found


def test_import_a_community_then_replace_it(client, db, as_role):
    headers = as_role(ADMIN)
    versions, current = counts(db)
    first = upload(client, headers, cells())
    assert first.status_code == 201, first.text
    assert first.json()["cells"] == 4 and first.json()["replaced"] == 0
    second = upload(client, headers, cells())
    assert second.status_code == 201 and second.json()["replaced"] == 4 and second.json()["version"] == first.json()["version"] + 1
    assert counts(db) == (versions + 2, current + 4)
    geojson = client.get("/api/v1/grid/cells.geojson", headers=headers, params={"community": COMMUNITY}).json()
    assert [f["properties"]["code"] for f in geojson["features"]] == [f"{COMMUNITY}00{i}" for i in range(1, 5)]
    # the new cells route at once (the import moved the reference generation)
    located = client.get("/api/v1/grid/locate", headers=headers, params={"lon": LON0 + 0.0005, "lat": LAT0 + 0.0005}).json()
    assert located["cell"] == f"{COMMUNITY}001"


def test_gcj02_cells_are_stored_in_wgs84(client, db, as_role):
    community = "310115125902"
    lon, lat = 121.6100, 31.2100
    rings = [[[float(v) for v in geo.wgs84_to_gcj02(x, y)] for x, y in square(lon, lat)[0]]]
    document = {"type": "FeatureCollection", "features": [feature(f"{community}001", rings, community=community)]}
    created = upload(client, as_role(ADMIN), document, crs="gcj02")
    assert created.status_code == 201, created.text
    assert created.json()["crs"] == "gcj02"
    stored = db.scalar(select(GridCell).where(GridCell.code == f"{community}001", GridCell.current.is_(True)))
    coordinates = json.loads(stored.geometry)["coordinates"][0]
    db.rollback()
    assert abs(coordinates[0][0] - lon) < 1e-6 and abs(coordinates[0][1] - lat) < 1e-6
    # a file that names its system must agree with the one chosen
    named = {**document, "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}}
    assert_problem(upload(client, as_role(ADMIN), named, crs="wgs84"), 422, "grid-crs-mismatch")
    assert upload(client, as_role(ADMIN), named, crs="cgcs2000").status_code == 201


BOW_TIE = [[[LON0, LAT0], [LON0 + STEP, LAT0 + STEP], [LON0 + STEP, LAT0], [LON0, LAT0 + STEP], [LON0, LAT0]]]


@pytest.mark.parametrize(("name", "document", "raw", "status", "slug"), [
    ("not json", None, b"{not json", 422, "grid-invalid-geojson"),
    ("not a collection", {"type": "Feature"}, None, 422, "grid-invalid-geojson"),
    ("empty", {"type": "FeatureCollection", "features": []}, None, 422, "grid-invalid-geojson"),
    ("a point", cells(f0={**feature(f"{COMMUNITY}001", []), "geometry": {"type": "Point", "coordinates": [LON0, LAT0]}}),
     None, 422, "grid-invalid-geojson"),
    ("open ring", cells(f0=feature(f"{COMMUNITY}001", [square(LON0, LAT0)[0][:-1]])), None, 422, "grid-invalid-geojson"),
    ("text coordinates", cells(f0=feature(f"{COMMUNITY}001", [[["a", "b"]] * 4])), None, 422, "grid-invalid-geojson"),
    ("self-intersecting", cells(f0=feature(f"{COMMUNITY}001", BOW_TIE)), None, 422, "grid-invalid-cell"),
    ("overlapping", cells(f1=feature(f"{COMMUNITY}002", square(LON0 + STEP / 2, LAT0))), None, 422, "grid-overlap"),
    ("a gap", {"type": "FeatureCollection", "features": [
        feature(f"{COMMUNITY}{i + 1:03d}", square(LON0 + (i % 3) * STEP, LAT0 - (i // 3) * STEP))
        for i in range(9) if i != 4]}, None, 422, "grid-gap"),
    ("outside the district", cells(f0=feature(f"{COMMUNITY}001", square(120.0, 30.0))), None, 422, "grid-outside-district"),
    ("code of another community", cells(f0=feature("310115125999001", square(LON0, LAT0))), None, 422, "grid-invalid-code"),
    ("code of another district", cells(f0=feature("310101001001001", square(LON0, LAT0), community="310101001001",
                                                   street="310101001")), None, 422, "grid-invalid-code"),
    ("duplicate code", cells(f1=feature(f"{COMMUNITY}001", square(LON0 + STEP, LAT0))), None, 422, "grid-invalid-code"),
    ("short code", cells(f0=feature("3101151259010", square(LON0, LAT0))), None, 422, "grid-invalid-code"),
])
def test_bad_grid_files_change_nothing(client, db, as_role, name, document, raw, status, slug):
    before = counts(db)
    body = assert_problem(upload(client, as_role(ADMIN), document, raw=raw), status, slug)
    assert body["errors"][0]["field"].startswith("body.")
    assert counts(db) == before, name


def test_only_the_grid_managers_import(client, as_role):
    assert_problem(upload(client, as_role(SUPERVISOR), cells()), 403, "permission-denied")
    assert_problem(upload(client, {}, cells()), 401, "not-authenticated")


def test_bad_reports_change_nothing(client, db, as_role, cell_point):
    headers = as_role(SUPERVISOR)
    garbage = category_code(client, "event", "暴露垃圾")
    _cell, lon, lat = cell_point("310115004", offset=5)
    before = db.scalar(select(func.count()).select_from(GridCase))
    db.rollback()
    not_an_image = client.post("/api/v1/grid/cases", headers=headers, data={
        "kind": "event", "code": garbage, "lon": str(lon), "lat": str(lat), "description": "垃圾堆放"},
        files=[("photos", ("photo.jpg", b"%PDF-1.4 not a photo", "image/jpeg"))])
    assert_problem(not_an_image, 422, "grid-invalid-photo")
    no_position = client.post("/api/v1/grid/cases", headers=headers, data={
        "kind": "event", "code": garbage, "description": "垃圾堆放"}, files=[("photos", ("p.jpg", jpeg(), "image/jpeg"))])
    assert_problem(no_position, 422, "validation-error")
    assert_problem(report(client, headers, "event", garbage, 116.4, 39.9), 422, "grid-outside-district")
    assert_problem(report(client, headers, "event", "9999", lon, lat), 404, "not-found")
    assert_problem(report(client, headers, "event", garbage, lon, lat, description=" ", photos=0), 422, "validation-error")
    assert db.scalar(select(func.count()).select_from(GridCase)) == before
    db.rollback()


def component(code: str, lon: float, lat: float, **properties) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "owner": "浦东新区建设和交通委员会", "maintainer": "浦东路灯管理所", **properties}}


def upload_components(client, headers, document, crs="wgs84"):
    return client.post("/api/v1/grid/components/import", headers=headers, data={"crs": crs},
                       files={"file": ("components.geojson", json.dumps(document).encode(), "application/geo+json")})


def test_components_census_import_update_and_refusals(client, as_role, cell_point):
    headers = as_role(ADMIN)
    cell, lon, lat = cell_point("310115005", offset=4)
    lamp = "310115" + "0116" + "900001"
    first = upload_components(client, headers, {"type": "FeatureCollection", "features": [
        component(lamp, lon, lat, state="完好", owner_department="PD-JSJT")]})
    assert first.status_code == 201, first.text
    assert first.json() == {"created": 1, "updated": 0, "outside_grid": 0}
    read = client.get(f"/api/v1/grid/components/{lamp}", headers=headers).json()
    assert read["cell_code"] == cell and read["name"] == "路灯" and read["state_label"] == "完好"
    again = upload_components(client, headers, {"type": "FeatureCollection", "features": [component(lamp, lon, lat, state="破损")]})
    assert again.json() == {"created": 0, "updated": 1, "outside_grid": 0}
    assert client.get(f"/api/v1/grid/components/{lamp}", headers=headers).json()["state_label"] == "破损"
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    near = client.get("/api/v1/grid/components.geojson", headers=headers, params={"bbox": box}).json()
    assert lamp in [f["id"] for f in near["features"]]
    # a report may name the component it is about, of its own kind only
    supervisor = as_role(SUPERVISOR)
    lamp_class = category_code(client, "component", "路灯")
    named = client.post("/api/v1/grid/cases", headers=supervisor, data={
        "kind": "component", "code": lamp_class, "lon": str(lon), "lat": str(lat), "description": "路灯夜间不亮",
        "component_code": lamp})
    assert named.status_code == 201, named.text
    wrong = client.post("/api/v1/grid/cases", headers=supervisor, data={
        "kind": "component", "code": category_code(client, "component", "垃圾箱"), "lon": str(lon), "lat": str(lat),
        "description": "垃圾箱破损", "component_code": lamp})
    assert_problem(wrong, 422, "validation-error")
    for bad, slug in [
        (component("3101159999900001", lon, lat), "grid-invalid-code"),  # class 9999 is no component class
        (component("31011501169", lon, lat), "grid-invalid-code"),
        (component(lamp, 120.0, 30.0), "grid-outside-district"),
        (component(lamp, lon, lat, state="很好"), "validation-error"),
        (component(lamp, lon, lat, owner_department="PD-NONE"), "validation-error"),
        ({**component(lamp, lon, lat), "geometry": {"type": "Polygon", "coordinates": []}}, "grid-invalid-geojson"),
    ]:
        refused = upload_components(client, headers, {"type": "FeatureCollection", "features": [bad]})
        assert_problem(refused, 422, slug)
    assert client.get(f"/api/v1/grid/components/{lamp}", headers=headers).json()["state_label"] == "破损"
