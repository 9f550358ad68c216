"""Demo requests for disclosure (依申请公开) in every state, filed and worked some working days ago
through the requests' service, as the applicants and the disclosure offices would have: answered
(a partial disclosure, another organ's information), on track, due soon, overdue, waiting for a
correction, given up, consulting a third party, extended, transferred. Their clocks stand where the
days put them; the warning scan then colours them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import clock as wall
from tongban.core.auth import Principal, principal_for
from tongban.core.workdays import WorkingCalendar
from tongban.demo.district import CITIZEN, ENTERPRISE, STAFF, present
from tongban.disclosure.requests import service as requests
from tongban.disclosure.requests.models import DisclosureRequest
from tongban.org import service as org
from tongban.supervision import service as supervision

GH, ZJ = "PD-GHZY", "PD-ZJ"


def _staff(db: Session, username: str) -> Principal:
    account = next(a for a in STAFF if a.username == username)
    user = present(accounts.get_by_username(db, username), username)
    department = org.get_by_code_or_404(db, present(account.department_code, username))
    return principal_for(actor_type="user", actor_id=str(user.id), actor_name=user.display_name, kind="staff",
                         department=department, roles=[account.role.value])


def _applicant(db: Session, username: str, kind: str) -> Principal:
    user = present(accounts.get_by_username(db, username), username)
    return principal_for(actor_type="user", actor_id=str(user.id), actor_name=user.display_name, kind=kind,
                         department=None, roles=[kind])


def load_disclosure_requests(db: Session) -> None:
    """Once: the demo applicants' requests to 规划资源局 and 住房保障局, in every state."""
    if db.scalar(select(DisclosureRequest.id).limit(1)) is not None:
        return
    calendar, today = WorkingCalendar.load(db), wall.today()

    def ago(count: int) -> date:
        day = today
        while count > 0:
            day -= timedelta(days=1)
            count -= calendar.is_working_day(day)
        return day

    citizen, enterprise = _applicant(db, CITIZEN.username, "citizen"), _applicant(db, ENTERPRISE.username, "enterprise")
    officer, head, zj = _staff(db, "gongkai.gh"), _staff(db, "gongkai.gh.head"), _staff(db, "gongkai.zj")

    def file(who: Principal, days_ago: int, description: str, department: str = GH, **extra) -> str:
        with wall.frozen(ago(days_ago)):
            return requests.file(db, who, requests.Filing(department=department, description=description, **extra)).number

    def on(days_ago: int):
        return wall.frozen(ago(days_ago))

    partial = file(citizen, 30, "花木街道某地块旧区改造房屋征收补偿方案及区政府批复", purpose="了解本人房屋征收补偿依据")
    with on(12):
        requests.answer(db, officer, partial, requests.Reply(
            reply_type="partial", content="征收补偿方案（正式稿）及批复文件全文，随本告知书提供。",
            withheld="被征收人名单中的身份证号码、联系电话", ground="third_party", reason="涉及他人个人隐私"))
    elsewhere = file(enterprise, 25, "上海市国土空间总体规划（2017—2035年）审批过程中的专家论证意见",
                     applicant_category="commercial")
    with on(20):
        requests.answer(db, officer, elsewhere, requests.Reply(
            reply_type="not_ours", organ_name="上海市规划和自然资源局", organ_contact="电话 021-23111111，北京西路99号"))
    file(citizen, 2, "张江科学城某路段道路红线调整的规划批复")
    file(enterprise, 19, "浦东新区2026年度国有建设用地供应计划", applicant_category="commercial", delivery="email")
    file(citizen, 23, "本小区东侧规划绿地的控制性详细规划图则")
    unclear = file(citizen, 6, "那份关于拆迁的文件")
    with on(4):
        requests.ask_correction(db, officer, unclear, items="请写明文件名称、文号或发布机关，以及大致的发布时间")
    silent = file(citizen, 30, "关于那件事的材料")
    with on(28):
        requests.ask_correction(db, officer, silent, items="请写明所需信息的内容")
    with on(12):
        requests.abandon_by_office(db, officer, silent)
    consulted = file(citizen, 10, "某商业综合体建设项目规划许可中的建筑方案")
    with on(5):
        requests.consult(db, officer, consulted, third_party="上海某置业有限公司",
                         matter="建筑方案中涉及企业商业秘密的部分是否同意公开")
    extended = file(enterprise, 18, "2016年以来本区全部规划调整的批复文件", applicant_category="commercial")
    with on(3):
        requests.extend(db, head, extended, days=20, reason="涉及近十年档案，需逐件检索并区分处理")
    moved = file(citizen, 4, "本街道某地块的控制性详细规划", department=ZJ)
    with on(3):
        requests.transfer(db, zj, moved, department=GH, note="控制性详细规划由规划和自然资源局负责公开")
    db.flush()
    supervision.scan(db)  # the clocks that are due soon or overdue turn yellow or red now
