"""/api/v1/exchange-usage: who uses which shared resource, per day, and grants left unused.

Not under /api/v1/exchange/: there ``/{resource}/...`` names a resource, and "usage" could be one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import Permission
from tongban.exchange import usage
from tongban.exchange.usage import UsageReport

router = APIRouter(prefix="/api/v1/exchange-usage", tags=["数据交换 exchange"])


@router.get("", response_model=UsageReport, summary="数据使用情况：按部门和资源统计调用、每日调用量、闲置授权")
def usage_report(db: DbSession, principal: Annotated[Principal, require(Permission.USAGE_READ)],
                 from_: Annotated[date | None, Query(alias="from",
                                                     description="开始日期（北京时间，含）；默认为结束日期前 29 天")] = None,
                 to: Annotated[date | None, Query(description="结束日期（北京时间，含）；默认为今天")] = None,
                 resource: Annotated[str | None, Query(max_length=40, description="资源编码")] = None,
                 department: Annotated[str | None, Query(max_length=32, description="调用部门编码")] = None):
    """提供部门只能看到本部门资源的使用情况；电子政务办和电子监察人员可看全平台。"""
    return usage.report(db, principal, within=usage.period(from_, to), resource=resource or None,
                        department=department or None)
