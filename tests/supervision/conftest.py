"""Each supervision test module has a database of its own, with the demo government, and an app
on it that runs no background jobs: scans and applications on chosen dates stay out of the other
modules' way, and no scan on the real date interferes."""

from __future__ import annotations

import uuid

import pytest

from tongban import demo

UNEMPLOYMENT = "000112010000"  # 失业保险金申领: 人社局, committed 5 working days, applied for by citizens


import own_database as _own  # noqa: E402

# A database of the module's own, an app without background jobs on it, its client and headers.
own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role


@pytest.fixture
def file_online(client, as_role):
    """``file_online()`` → the number of a new 失业保险金申领 the demo citizen filed online (complete, so
    it waits at the window)."""
    def file() -> str:
        citizen = as_role(demo.CITIZEN.username)
        form = client.get("/api/v1/applications/forms", params={"item": UNEMPLOYMENT}, headers=citizen).json()
        values = {f["key"]: f["value"] or "因单位裁员失业" for f in form["fields"]}
        materials = [m["name"] for m in form["materials"] if not m["exempt"]]
        created = client.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex},
                              json={"item": UNEMPLOYMENT, "form": values, "materials": materials})
        assert created.status_code == 201, created.text
        return created.json()["number"]
    return file
