"""The standard addresses shared as a GeoJSON point layer through the exchange (嘉兴's shared GIS
platform): by bounding box, only the granted items, each call in the usage log; no grant, no data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from helpers import assert_problem, register_addresses
from sqlalchemy import Row, delete, select, text

from tongban import demo
from tongban.catalog import service as catalog
from tongban.core import clock
from tongban.exchange import api as exchange_api
from tongban.exchange.models import ExchangeCall
from tongban.exchange.schemas import FeaturesAnswer
from tongban.org import service as org
from tongban.registry import service as registry_service
from tongban.registry.models import TABLES
from tongban.registry.schemas import ADDRESSES, PERSONS
from tongban.sharing.models import Grant

PURPOSE = "社区警务室辖区地址核对"
GRANTED = ["address_code", "full_address", "longitude", "latitude"]
URL = "/api/v1/exchange/addresses/features"


def _headers(client, client_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def ga_grant(app):
    """公安分局 (the demo's department system) holds a grant of four items of the addresses; other
    tests share the database, so the grant goes at the end."""
    def set_grant(items: list[str] | None) -> None:
        with app.state.sessionmaker() as session:
            resource, ga = catalog.get(session, "addresses"), org.get_by_code(session, "PD-GA")
            session.execute(delete(Grant).where(Grant.department_id == ga.id, Grant.resource_id == resource.id))
            if items is not None:
                today = clock.today()
                session.add(Grant(department_id=ga.id, resource_id=resource.id, items=json.dumps(items), purpose=PURPOSE,
                                  valid_from=today - timedelta(days=1), valid_to=today + timedelta(days=30),
                                  granted_by="provider", created_at=clock.now()))
            session.commit()

    set_grant(GRANTED)
    yield set_grant
    set_grant(None)


@pytest.fixture(scope="module")
def addresses(app) -> list[dict[str, str]]:
    return register_addresses(app.state.sessionmaker)


def _a_box(addresses: list[dict[str, str]]) -> tuple[str, str]:
    """A box of about 300 m around the first address, and that address's code."""
    lon, lat = float(addresses[0]["longitude"]), float(addresses[0]["latitude"])
    return f"{lon - 0.0015:.6f},{lat - 0.0015:.6f},{lon + 0.0015:.6f},{lat + 0.0015:.6f}", addresses[0]["address_code"]


def _inside(db, box: str) -> list[str]:
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in box.split(","))
    addresses = TABLES["addresses"]
    codes = list(db.scalars(select(addresses.c.address_code).where(
        addresses.c.longitude.between(min_lon, max_lon), addresses.c.latitude.between(min_lat, max_lat))
        .order_by(addresses.c.address_code)))
    db.rollback()
    return codes


def _calls(db) -> list[Row]:
    """The usage rows of the address layer, oldest first (read, then the transaction ended)."""
    calls = list(db.execute(select(ExchangeCall.outcome, ExchangeCall.keys_count, ExchangeCall.items, ExchangeCall.purpose,
                                   ExchangeCall.department_code, ExchangeCall.grant_ids)
                            .where(ExchangeCall.resource_code == "addresses", ExchangeCall.operation == "features")
                            .order_by(ExchangeCall.id)))
    db.rollback()
    return calls


def test_a_granted_department_reads_the_addresses_in_a_box_with_the_granted_items_only(client, db, addresses, ga_grant):
    ga = _headers(client, demo.CLIENT_ID)
    box, code = _a_box(addresses)
    before = len(_calls(db))
    response = client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE})
    assert response.status_code == 200, response.text
    body = FeaturesAnswer.model_validate(response.json()).model_dump()
    assert body["type"] == "FeatureCollection" and body["resource"] == "addresses" and body["items"] == GRANTED
    features = body["features"]
    # every address of the box, and only those, by code; points in WGS 84 inside the box
    assert [f["properties"]["address_code"] for f in features] == _inside(db, box) and code in _inside(db, box)
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in box.split(","))
    outside = [a["address_code"] for a in addresses
               if not (min_lon <= float(a["longitude"]) <= max_lon and min_lat <= float(a["latitude"]) <= max_lat)]
    assert outside and not set(outside) & {f["properties"]["address_code"] for f in features}
    for feature in features:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert min_lon <= lon <= max_lon and min_lat <= lat <= max_lat
        assert set(feature["properties"]) == set(GRANTED)  # no road, community, house number: not granted
        assert float(feature["properties"]["longitude"]) == lon and feature["properties"]["full_address"]
    # asking for fewer items gives fewer; an ungranted item is refused and never shown
    only = client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE, "items": "full_address"}).json()
    assert all(set(f["properties"]) == {"full_address"} for f in only["features"]) and only["items"] == ["full_address"]
    refused = assert_problem(client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE, "items": "road"}),
                             403, "item-not-granted")
    assert "road" in refused["detail"]
    # the usage log: one row a call, the items answered and how many features
    calls = _calls(db)[before:]
    assert [(c.outcome, c.keys_count, json.loads(c.items)) for c in calls] == [
        ("ok", len(features), GRANTED), ("ok", len(features), ["full_address"]), ("denied", 0, [])]
    assert calls[0].purpose == PURPOSE and calls[0].department_code == "PD-GA" and calls[0].grant_ids


def test_no_grant_no_addresses(client, db, addresses, ga_grant):
    box, _ = _a_box(addresses)
    ga = _headers(client, demo.CLIENT_ID)
    assert client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE}).status_code == 200
    ga_grant(None)  # the grant gone: refused from the next call, with no feature in the answer
    body = assert_problem(client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE}), 403, "no-grant")
    assert "标准地址" in body["detail"] and "features" not in body
    assert [c.outcome for c in _calls(db)[-2:]] == ["ok", "denied"]


@pytest.mark.parametrize("bbox", ["121.6,31.3,121.5,31.2", "121.5,31.2,121.6", "121.5,31.2,200.0,31.3", "a,b,c,d"])
def test_a_bad_box_is_refused_as_for_the_grid_layers(client, db, ga_grant, bbox):
    ga = _headers(client, demo.CLIENT_ID)
    body = assert_problem(client.get(URL, headers=ga, params={"bbox": bbox, "purpose": PURPOSE}), 422, "validation-error")
    assert "bbox" in json.dumps(body["errors"])
    assert_problem(client.get(URL, headers=ga, params={"purpose": PURPOSE}), 422, "validation-error")  # required


def test_more_addresses_than_a_call_answers_are_refused(client, db, addresses, ga_grant, monkeypatch):
    monkeypatch.setattr(exchange_api, "MAX_FEATURES", 3)
    box, _ = _a_box(addresses)
    assert len(_inside(db, box)) > 3
    ga = _headers(client, demo.CLIENT_ID)
    body = assert_problem(client.get(URL, headers=ga, params={"bbox": box, "purpose": PURPOSE}), 422, "validation-error")
    assert "缩小范围" in body["detail"]
    assert _calls(db)[-1].outcome == "invalid"


def test_the_catalog_says_the_addresses_are_spatial_data(client, as_role):
    resource = client.get("/api/v1/catalog/resources/addresses", headers=as_role("clerk")).json()
    assert resource["format"] == "空间数据"
    page = client.get("/catalog/addresses", headers=as_role("clerk"))
    assert page.status_code == 200 and "/api/v1/exchange/addresses/features?bbox=" in page.text
    assert catalog.registry_format(ADDRESSES) == "空间数据"


def test_the_registry_reads_a_box_through_its_index(db, addresses):
    text_box, code = _a_box(addresses)
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in text_box.split(","))
    features = registry_service.features_in_box(db, ADDRESSES, (min_lon, min_lat, max_lon, max_lat), ["address_code"], 3)
    assert len(features) == 3 and all(set(f["properties"]) == {"address_code"} for f in features)
    codes = [f["properties"]["address_code"] for f in features]
    assert codes == sorted(codes) == _inside(db, text_box)[:3]
    # the box's edges belong to it
    lon, lat = float(addresses[0]["longitude"]), float(addresses[0]["latitude"])
    assert code in [f["properties"]["address_code"]
                    for f in registry_service.features_in_box(db, ADDRESSES, (lon, lat, lon, lat), ["address_code"], 10)]
    box = (min_lon, min_lat, max_lon, max_lat)
    if db.get_bind().dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in db.execute(text(
            "EXPLAIN QUERY PLAN SELECT address_code FROM addresses WHERE longitude BETWEEN 121.5 AND 121.52 "
            "AND latitude BETWEEN 31.2 AND 31.22")))
        assert "ix_addresses_point" in plan, plan
    db.rollback()
    with pytest.raises(ValueError):
        registry_service.features_in_box(db, PERSONS, box, ["name"], 10)  # no point, and personal
