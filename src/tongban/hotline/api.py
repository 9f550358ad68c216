"""/api/v1/hotline: what the hotline's agents ask while a call is in progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.hotline import service
from tongban.hotline.schemas import CategoryRead, ClassifierRead, ProposalIn, ProposalsRead

router = APIRouter(prefix="/api/v1/hotline", tags=["12345 热线 hotline"])


@router.post("/proposals", response_model=ProposalsRead,
             summary="来电分类建议：按坐席已记录的来电内容，建议承办部门（至多 3 个）、分类和应转接的专线，附置信度")
def proposals(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)], body: ProposalIn):
    """Nothing is stored: a proposal is asked again and again while the agent types. The first one in a
    process waits for the classifier to be trained (a few seconds), and so does the first one after
    the centre retrained it (``training.ensure_current``); the others take milliseconds."""
    return service.propose(db, body.text)


@router.get("/categories", response_model=list[CategoryRead],
            summary="热线分类：城市网格化管理的部件、事件分类与热线特有分类，各自的承办部门和转接专线")
def categories(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_ANSWER)]):
    return service.categories(db)


@router.get("/classifier", response_model=ClassifierRead,
            summary="分类模型：在用版本（训练时间、训练人、样本数、留出集准确率）和上次训练以来的纠正、回访确认数")
def classifier(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    return service.classifier(db)


@router.post("/classifier", response_model=ClassifierRead,
             summary="重新训练分类模型（热线中心）：演示工单训练部分加全部纠正和回访确认的工单，约数秒；各服务进程随后自动换用")
def retrain(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE)]):
    """The request waits for the training (a few seconds); other requests go on meanwhile."""
    return service.retrain(db, principal)
