"""The demo's Open311 client: a 12345 citizen app that files city-management problems through
/open311/v2 with a fixed API key, so the tour and a reader's own Open311 client can try it.

``DEMO_OPEN311_KEY`` is public, in the source: a demo key, never one of a real district (a real
client's key is made by POST /api/v1/grid/open311-clients and shown once). Idempotent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.grid import open311
from tongban.grid.models import Open311Client

DEMO_OPEN311_KEY = "tongban-demo-open311-key-2026"  # demo only: documented in docs/open311.md
DEMO_OPEN311_CLIENT = "12345 市民热线 App（演示）"


def load_open311_client(db: Session) -> Open311Client:
    """The demo client with ``DEMO_OPEN311_KEY``, created if missing (one that exists is left as it is)."""
    found = db.scalar(select(Open311Client).where(Open311Client.key_hash == open311.key_hash(DEMO_OPEN311_KEY)))
    if found is None:
        found, _key = open311.create_client(db, audit.SystemActor(actor_name="tongban demo load"), DEMO_OPEN311_CLIENT,
                                            key=DEMO_OPEN311_KEY)
    return found
