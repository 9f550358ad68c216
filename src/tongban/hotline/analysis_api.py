"""/api/v1/hotline/analysis: 热线分析 of a period — hot topics, rising topics, repeat callers and
places, and the departments' hotline figures (``hotline.analysis``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.hotline import analysis

router = APIRouter(prefix="/api/v1/hotline", tags=["12345 热线 hotline"])
Day = Annotated[str, Query(max_length=32, description="日期 YYYY-MM-DD（北京时间）")]


def read(db: Session, principal: Principal, start: str, end: str) -> analysis.Analysis:
    """The analysis as the signed-in person may read it, the read recorded."""
    analysis.check_reader(db, principal)
    first, last = analysis.period(analysis.parse_day(start, "start", "开始日期"), analysis.parse_day(end, "end", "结束日期"))
    result = analysis.analyse(db, first, last)
    audit.record(db, actor=principal, action="hotline.analysis.read", object_type="hotline_analysis",
                 object_id=f"{first}/{last}")
    db.commit()
    return result


@router.get("/analysis", response_model=analysis.Analysis,
            summary="热线分析：热点分类（按分类、街道、周）、上升话题、重复来电（号码脱敏）、重复地点、承办部门的热线指标；"
                    "默认最近 12 周（北京时间，周一至周日）")
def get_analysis(db: DbSession, principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE, Permission.SUPERVISION_READ)],
                 start: Day = "", end: Day = ""):
    """Leaders and inspectors with the district-wide supervision right, and the hotline centre; a
    department's own supervision right is refused (the figures are every department's)."""
    return read(db, principal, start, end)
