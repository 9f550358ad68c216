"""/api/v1/hotline: what the hotline's agents ask while a call is in progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.hotline import service
from tongban.hotline.schemas import CategoryRead, ProposalIn, ProposalsRead

router = APIRouter(prefix="/api/v1/hotline", tags=["12345 热线 hotline"])


@router.post("/proposals", response_model=ProposalsRead,
             summary="来电分类建议：按坐席已记录的来电内容，建议承办部门（至多 3 个）、分类和应转接的专线，附置信度")
def proposals(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)], body: ProposalIn):
    """Nothing is stored: a proposal is asked again and again while the agent types. The first one in a
    process waits for the classifier to be trained (a few seconds)."""
    return service.propose(db, body.text)


@router.get("/categories", response_model=list[CategoryRead],
            summary="热线分类：城市网格化管理的部件、事件分类与热线特有分类，各自的承办部门和转接专线")
def categories(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)]):
    return service.categories(db)
