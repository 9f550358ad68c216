"""Staff pages of the resource catalog: search it. A resource's own page, where departments ask to
share it, is sharing's (``tongban.sharing.pages``): it shows the requests and grants on it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from tongban.catalog import service
from tongban.catalog.models import Resource
from tongban.catalog.schemas import CLASSIFICATION_LABELS, SHARING_LABELS, STATUS_LABELS
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.core.templating import render
from tongban.org import service as org

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
LABELS = {"classification": CLASSIFICATION_LABELS, "sharing": SHARING_LABELS, "status": STATUS_LABELS}


@router.get("/catalog", summary="资源目录")
def search(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.CATALOG_READ)],
           q: Annotated[str | None, Query(max_length=100)] = None,
           provider: Annotated[str | None, Query(max_length=32)] = None,
           classification: Annotated[str | None, Query(pattern="^(base|theme|department|)$")] = None,
           sharing_type: Annotated[str | None, Query(pattern="^(unconditional|conditional|not_shared|)$")] = None,
           status: Annotated[str | None, Query(pattern="^(draft|published|withdrawn|)$")] = None,
           cursor: Annotated[str | None, Query(max_length=200)] = None):
    filters = {"q": (q or "").strip(), "provider": provider or "", "classification": classification or "",
               "sharing_type": sharing_type or "", "status": status or ""}
    query = service.search_query(q=filters["q"] or None, provider=filters["provider"] or None,
                                 classification=filters["classification"] or None,
                                 sharing_type=filters["sharing_type"] or None, status=filters["status"] or None)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    resources, next_cursor = paginate(db, query, Resource.code, cursor=cursor, limit=PAGE_SIZE, descending=False)
    listed = set(db.scalars(select(Resource.provider_id).distinct()))
    providers = [d for d in org.list_all(db) if d.id in listed]
    filled = {name: value for name, value in filters.items() if value}
    return render(request, "catalog_search.html", principal=principal, resources=resources, total=total,
                  filters=filters, providers=providers, labels=LABELS, paged=bool(cursor),
                  first_url="/catalog?" + urlencode(filled),
                  next_url="/catalog?" + urlencode({**filled, "cursor": next_cursor}) if next_cursor else None)
