"""/api/v1: 好差评 of a finished application, and the rectifications (整改) poor ratings open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.supervision import evaluation, ratings
from tongban.supervision.models import Rectification, RectificationStatus
from tongban.supervision.report_schemas import (
    ClosureIn, FollowUpIn, RatingIn, RatingRead, ReasonList, RectificationRead, rating_read, reason_list,
    rectification_read,
)

router = APIRouter(prefix="/api/v1", tags=["好差评与整改 ratings"])


@router.get("/supervision/rating-reasons", response_model=ReasonList, summary="好差评的原因选项")
def reasons(_: Annotated[Principal | None, require(Permission.PUBLIC)]):
    return reason_list()


@router.post("/applications/{number}/rating", response_model=RatingRead, status_code=201,
             summary="评价已办结的办件（申请人本人，每件一次）；1–2 分差评转部门整改")
def rate(number: str, body: RatingIn, request: Request, db: DbSession,
         principal: Annotated[Principal, require(Permission.RATING_SUBMIT)]):
    rating, rectification = ratings.rate(db, request.app.state.settings, number, principal, score=body.score,
                                         reasons=body.reasons, comment=body.comment)
    db.commit()
    return rating_read(rating, number, rectification)


# The path names the rectification {id}: the audit log records refused calls by route, in 64 characters.


def _read(db, row: Rectification) -> RectificationRead:
    return rectification_read(row, evaluation.department_names(db, [row.department_id])[row.department_id])


@router.get("/supervision/rectifications", response_model=Page[RectificationRead],
            summary="整改列表（监察人员：全部；部门负责人：本部门）")
def list_rectifications(db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                        status: RectificationStatus | None = None,
                        department: Annotated[str | None, Query(max_length=32)] = None,
                        cursor: Cursor = None, limit: Limit = 50):
    query = ratings.rectifications_query(db, principal, status=status, department=department)
    rows, next_cursor = paginate(db, query, Rectification.id, cursor=cursor, limit=limit)
    names = evaluation.department_names(db, {r.department_id for r in rows})
    return Page[RectificationRead](items=[rectification_read(r, names[r.department_id]) for r in rows],
                                   next_cursor=next_cursor)


@router.get("/supervision/rectifications/{id}", response_model=RectificationRead, summary="一项整改及其进展")
def read_rectification(id: Id, db: DbSession,
                       principal: Annotated[Principal, require(Permission.EVALUATION_READ)]):
    return _read(db, ratings.rectification_or_404(db, principal, id))


@router.post("/supervision/rectifications/{id}/follow-ups", response_model=RectificationRead,
             status_code=201, summary="记录整改进展（本部门负责人）")
def add_follow_up(id: Id, body: FollowUpIn, db: DbSession,
                  principal: Annotated[Principal, require(Permission.RECTIFICATION_HANDLE)]):
    ratings.follow_up(db, id, principal, text=body.text)
    db.commit()
    return _read(db, ratings.rectification_or_404(db, principal, id))


@router.post("/supervision/rectifications/{id}/closure", response_model=RectificationRead,
             summary="整改完成：记录结果并结束计时（本部门负责人）")
def close_rectification(id: Id, body: ClosureIn, db: DbSession,
                        principal: Annotated[Principal, require(Permission.RECTIFICATION_HANDLE)]):
    row = ratings.close(db, id, principal, result=body.result)
    db.commit()
    return _read(db, row)
