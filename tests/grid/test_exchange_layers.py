"""The grid's layers shared with other departments as GeoJSON through the exchange: by bounding
box, only the granted items, each call in the usage log; no grant, no data."""

from __future__ import annotations

from helpers import assert_problem
from sqlalchemy import select

from tongban import demo
from tongban.exchange.models import ExchangeCall

PURPOSE = "社区警务网格划分与巡逻部署"


def system_headers(client, client_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_granted_department_reads_cells_and_components_by_bbox(client, db, cell_point):
    ga = system_headers(client, demo.CLIENT_ID)  # 公安分局: the demo granted it the cells and the components
    code, lon, lat = cell_point("310115004", offset=2)
    box = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    cells = client.get("/api/v1/exchange/GRID-CELLS/features", headers=ga, params={"bbox": box, "purpose": PURPOSE})
    assert cells.status_code == 200, cells.text
    body = cells.json()
    assert body["type"] == "FeatureCollection" and body["resource"] == "GRID-CELLS"
    assert code in [f["properties"]["code"] for f in body["features"]]
    assert all(f["geometry"]["type"] == "Polygon" for f in body["features"])
    only = client.get("/api/v1/exchange/GRID-CELLS/features", headers=ga,
                      params={"bbox": box, "purpose": PURPOSE, "items": "code,land_use"}).json()
    assert set(only["features"][0]["properties"]) == {"code", "land_use"}
    components = client.get("/api/v1/exchange/GRID-COMPONENTS/features", headers=ga,
                            params={"bbox": "121.4,31.1,121.7,31.3", "purpose": PURPOSE}).json()
    assert components["features"] and all(f["geometry"]["type"] == "Point" for f in components["features"])
    # the cases were not granted; a registry resource is no layer; the purpose is required
    assert_problem(client.get("/api/v1/exchange/GRID-CASES/features", headers=ga, params={"bbox": box, "purpose": PURPOSE}),
                   403, "no-grant")
    assert_problem(client.get("/api/v1/exchange/persons/features", headers=ga, params={"bbox": box, "purpose": PURPOSE}),
                   422, "not-spatial")
    assert_problem(client.get("/api/v1/exchange/GRID-CELLS/features", headers=ga, params={"bbox": box}), 422, "purpose-required")
    calls = db.scalars(select(ExchangeCall).where(ExchangeCall.resource_code.like("GRID-%"))).all()
    db.rollback()
    assert {c.operation for c in calls} == {"features"}
    assert sorted(c.outcome for c in calls if c.resource_code == "GRID-CELLS")[:2] == ["invalid", "ok"]
