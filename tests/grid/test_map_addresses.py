"""The map's 标准地址 layer: the address registry's points in view, for staff who read the
registries; the box is required and checked; anyone else is refused."""

from __future__ import annotations

import pytest
from helpers import assert_problem, bearer, register_addresses

from tongban import demo
from tongban.registry.schemas import ADDRESSES

URL = "/api/v1/grid/addresses.geojson"


@pytest.fixture(scope="module")
def addresses(quiet_app) -> list[dict[str, str]]:
    return register_addresses(quiet_app.state.sessionmaker)  # the module's own database (grid/conftest.py)


def test_staff_see_the_addresses_in_view(client, addresses):
    supervisor = bearer(client, "grid")
    lon, lat = float(addresses[0]["longitude"]), float(addresses[0]["latitude"])
    box = (lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002)
    answer = client.get(URL, headers=supervisor, params={"bbox": ",".join(f"{v:.6f}" for v in box)})
    assert answer.status_code == 200, answer.text
    features = answer.json()["features"]
    assert addresses[0]["address_code"] in [f["properties"]["address_code"] for f in features]
    for feature in features:
        lon_, lat_ = feature["geometry"]["coordinates"]
        assert box[0] <= lon_ <= box[2] and box[1] <= lat_ <= box[3]
        assert set(feature["properties"]) == set(ADDRESSES.names)
    assert_problem(client.get(URL, headers=supervisor), 422, "validation-error")
    assert_problem(client.get(URL, headers=supervisor, params={"bbox": "121.6,31.2,121.5,31.3"}), 422, "validation-error")


def test_a_citizen_is_refused(client):
    citizen = bearer(client, demo.CITIZEN.username)
    assert_problem(client.get(URL, headers=citizen, params={"bbox": "121.5,31.2,121.6,31.3"}), 403, "permission-denied")


def test_the_map_offers_the_layer_to_staff_who_read_the_registries(client, as_role):
    page = client.get("/grid/map", headers=as_role("grid"))
    assert page.status_code == 200 and 'id="map-addresses"' in page.text and "标准地址" in page.text
