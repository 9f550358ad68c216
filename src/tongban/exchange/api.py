"""/api/v1/exchange: reads of shared data by department systems, under grants, every call logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog
from tongban.core.auth import Principal, require
from tongban.core.db.session import ReadDbSession, run_db
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.responses import PlainJSONResponse
from tongban.exchange import service
from tongban.exchange.schemas import ChangesAnswer, FeaturesAnswer, QueryAnswer, RecordAnswer
from tongban.exchange.service import Call
from tongban.grid import service as grid
from tongban.registry import service as registry_service

router = APIRouter(prefix="/api/v1/exchange", tags=["数据交换 exchange"])

Purpose = Annotated[str | None, Query(description="本次调用的用途（必填）", max_length=1000)]
Items = Annotated[str | None, Query(description="要读取的信息项编码，逗号分隔；省略则为全部已授权项", max_length=4000)]


class QueryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[Any] = Field(description=f"主键，最多 {service.MAX_KEYS} 个", max_length=100_000)
    items: list[str] | None = Field(default=None, max_length=500)
    purpose: str | None = Field(default=None, max_length=1000)


async def _run(request: Request, db, call: Call, work):
    """Run one exchange call; log it whatever happens, and answer problems without any data.

    The exchange is what department systems call many times a second, so its routes are async
    ``work`` only reads (a reading session never waits for a lock) and goes through ``run_db``,
    which also hands the connection back before the call waits for its usage row. The row is
    committed by the log's own thread while the loop goes on."""
    usage = request.app.state.usage_log

    def work_then_release():
        try:
            return work()
        finally:
            db.rollback()

    try:
        answer = await run_db(db, work_then_release)
    except Problem as problem:
        call.outcome = service.outcome_of(problem)
        await usage.write(call)
        raise
    await usage.write(call)
    return PlainJSONResponse(answer)


@router.get("/{resource}/records/{key}", summary="按主键读取一条记录的已授权信息项", response_model=RecordAnswer)
async def read_record(request: Request, resource: str, key: str, db: ReadDbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)],
                purpose: Purpose = None, items: Items = None) -> Response:
    call = Call(principal, resource, "record", purpose, keys_count=1)

    def work():
        service.check_purpose(purpose)
        access = service.authorize(db, principal, resource, service.parse_items(items))
        call.grant_ids = [g.id for g in access.grants]
        clean = service.check_key(access.resource, key)
        found = catalog.read_records(db, access.resource, [clean], access.items).get(clean)
        if found is None:
            raise Problem("not-found", f"{access.resource.name}中没有主键为 {clean} 的记录")
        call.items = access.items
        return {"resource": access.resource.code, **service.record_answer(access, clean, found)}

    return await _run(request, db, call, work)


@router.post("/{resource}/query", summary=f"按主键批量读取（最多 {service.MAX_KEYS} 个）", response_model=QueryAnswer)
async def query_records(request: Request, resource: str, body: QueryBody, db: ReadDbSession,
                  principal: Annotated[Principal, require(Permission.EXCHANGE_READ)]) -> Response:
    call = Call(principal, resource, "query", body.purpose, keys_count=len(body.keys))

    def work():
        service.check_purpose(body.purpose)
        access = service.authorize(db, principal, resource, service.parse_items(body.items))
        call.grant_ids = [g.id for g in access.grants]
        keys = service.check_keys(access.resource, body.keys)
        found = catalog.read_records(db, access.resource, keys, access.items)
        call.items = access.items
        return {"resource": access.resource.code, "items": access.items,
                "records": [service.record_answer(access, key, found[key]) for key in keys if key in found],
                "missing": [key for key in keys if key not in found]}

    return await _run(request, db, call, work)


MAX_FEATURES = 5000
Box = tuple[float, float, float, float]


def _layer(resource: catalog.ResourceView) -> Callable[[Session, Box, list[str], int], list[dict]] | None:
    """Who serves the resource's features: a point registry (the standard addresses), one of the
    grid's layers, or no one (a resource read by key only)."""
    registry = catalog.registry_of(resource)
    if registry is not None and registry.point is not None:
        return lambda db, box, items, limit: registry_service.features_in_box(db, registry, box, items, limit)
    if grid.is_layer(resource.code):
        return lambda db, box, items, limit: grid.layer_features(db, resource.code, box, items, limit)
    return None


@router.get("/{resource}/features", summary="空间数据：范围内的要素（GeoJSON），仅含已授权信息项",
            response_model=FeaturesAnswer)
async def read_features(request: Request, resource: str, db: ReadDbSession,
                        principal: Annotated[Principal, require(Permission.EXCHANGE_READ)],
                        bbox: Annotated[str, Query(max_length=100, pattern=grid.BBOX_PATTERN,
                                                   description="min_lon,min_lat,max_lon,max_lat（WGS 84）")],
                        purpose: Purpose = None, items: Items = None) -> Response:
    call = Call(principal, resource, "features", purpose)

    def work():
        service.check_purpose(purpose)
        access = service.authorize(db, principal, resource, service.parse_items(items))
        call.grant_ids = [g.id for g in access.grants]
        layer = _layer(access.resource)
        if layer is None:
            raise Problem("not-spatial", f"信息资源 {access.resource.code} 不是空间数据，请按主键读取")
        box = grid.parse_bbox(bbox)
        features = layer(db, box, access.items, MAX_FEATURES + 1)
        if len(features) > MAX_FEATURES:
            raise Problem("validation-error", f"范围内要素超过 {MAX_FEATURES} 个，请缩小范围",
                          errors=[{"field": "query.bbox", "message": "范围过大"}])
        call.items, call.keys_count = access.items, len(features)
        return {"type": "FeatureCollection", "resource": access.resource.code, "items": access.items, "features": features}

    return await _run(request, db, call, work)


@router.get("/{resource}/changes", summary="变更流：自游标之后的已授权信息项变更，按顺序", response_model=ChangesAnswer)
async def read_changes(request: Request, resource: str, db: ReadDbSession, principal: Annotated[Principal, require(Permission.EXCHANGE_READ)],
                 purpose: Purpose = None, items: Items = None,
                 cursor: Annotated[str | None, Query(max_length=20, description="上次返回的 next_cursor；省略则从头开始")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    call = Call(principal, resource, "changes", purpose)

    def work():
        service.check_purpose(purpose)
        after = service.parse_cursor(cursor)
        access = service.authorize(db, principal, resource, service.parse_items(items), need_key=True)
        call.grant_ids = [g.id for g in access.grants]
        found, next_position = service.changes(db, access, after=after, limit=limit)
        call.items, call.keys_count = access.items, len(found)
        return {"resource": access.resource.code, "items": access.items, "changes": found,
                "next_cursor": str(next_position)}

    return await _run(request, db, call, work)

