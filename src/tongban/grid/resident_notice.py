"""Telling a resident that the problem they reported from the portal (公众举报, 随手拍) has ended.

A public report ends in one of three ways, each the end of a step (``service._done``): 核查结案
(closed, with the department's account of what it did), 不予立案 (rejected, with the reason), or
merged into an open case of the same problem another person reported first. The reporter is told
through the one notifier, addressed to their account, with a link to the report in 「我的上报」,
where the same reply is shown. When a case closes, the residents whose reports were merged into it
are told as well: their problem is fixed too.

Only portal reports have a resident's account to tell: a supervisor's report, a hotline transfer or
an Open311 client's request are told nothing here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.grid.models import Action, CaseStatus, GridCase, Source
from tongban.notifications.service import Notice, notify_many

KIND = "grid.report.closed"
# The steps that end a report, with the status they end it in.
ENDINGS = {Action.VERIFY: CaseStatus.CLOSED, Action.REJECT: CaseStatus.REJECTED, Action.MERGE: CaseStatus.MERGED}
MERGED = "此前已有人上报，已与该案件合并办理，不再单独立案；该案件结案后将另行告知。"


def link(case: GridCase) -> str:
    """The report in 「我的上报」."""
    return f"/grid/public-reports/{case.number}"


def _notice(case: GridCase, title: str, body: str) -> Notice:
    return Notice(department_id=None, account_id=case.reporter_account, kind=KIND, link=link(case),
                  title=f"{title}：{case.category_name}（{case.number}）",
                  body=f"您于 {wall.beijing_text(case.created_at)} 上报的「{case.category_name}」问题{body}")


def _told(case: GridCase) -> bool:
    return case.source == Source.PUBLIC and bool(case.reporter_account)


def tell_reporter(db: Session, case: GridCase, action: Action, note: str | None) -> int:
    """After a step of ``case``: the notices its ending sends (none for a step that ends nothing),
    in the step's transaction; how many."""
    if ENDINGS.get(action) != case.status:
        return 0
    notices = []
    if action == Action.VERIFY:
        reply = f"已处置完毕，经核查结案。处置结果：{case.result or '（无）'}"
        if _told(case):
            notices.append(_notice(case, "您的上报已结案", reply))
        merged = db.scalars(select(GridCase).where(GridCase.merged_into_id == case.id, GridCase.source == Source.PUBLIC.value,
                                                   GridCase.reporter_account.is_not(None)))
        notices += [_notice(m, "您的上报已结案", f"已与同一问题的案件合并办理，该案件{reply}") for m in merged]
    elif _told(case) and action == Action.REJECT:
        notices.append(_notice(case, "您的上报不予立案", f"经审核不予立案。理由：{note or '（无）'}"))
    elif _told(case) and action == Action.MERGE:
        notices.append(_notice(case, "您的上报已合并办理", MERGED))
    return notify_many(db, notices)


def merged_reply(db: Session, case: GridCase) -> str:
    """The reply 「我的上报」 shows for a report merged into another case: that case's result once
    it is closed."""
    target = db.get(GridCase, case.merged_into_id) if case.merged_into_id else None
    if target is not None and target.status == CaseStatus.CLOSED:
        return f"您反映的问题已与同一问题的案件合并办理，该案件已处置完毕，经核查结案。处置结果：{target.result or '（无）'}"
    return f"您反映的问题{MERGED}"
