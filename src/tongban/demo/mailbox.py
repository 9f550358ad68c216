"""领导信箱 demo letters: one published (assigned, replied, sent, 选登), one answered by the letters
office whose writer did not consent (never public), one with a department and put before the
leader (呈报领导), one just received. Created once, when the mailbox is empty."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.demo.district import CITIZEN, principal
from tongban.hotline import mailbox_service as mailbox
from tongban.hotline.mailbox_models import Letter

OFFICER = "xinfang"  # 信访办工作人员 (the letters office, in the e-government office)


def load_mailbox(db: Session) -> None:
    if db.scalar(select(func.count()).select_from(Letter)):
        return
    office, transport, citizen = principal(db, OFFICER), principal(db, "reviewer.jsjt"), principal(db, CITIZEN.username)
    published, _ = mailbox.write(
        db, None, name="李敏", phone="13912345678", consent=True, subject="建议延长地铁接驳公交末班车时间",
        body="我住在花木街道，每天加班到晚上十点左右下地铁，接驳的公交末班车九点半就停了，只能步行二十多分钟回家。"
             "建议把末班车延长到十一点。我的电话13912345678，李敏。")
    mailbox.assign(db, office, published.number, department_code="PD-JSJT", limit_days=10, note="请研究答复")
    mailbox.reply(db, transport, published.number,
                  reply="经研究，我委已会同公交企业将该线路末班车调整至 22:50，自下月起执行，并将根据客流情况继续评估。感谢您的建议。")
    mailbox.send(db, office, published.number)
    mailbox.publish(db, office, published.number)
    private, _ = mailbox.write(
        db, None, name="王强", email="wangqiang@example.com", consent=False, subject="询问老旧小区加装电梯的补贴政策",
        body="我家住在潍坊新村一个六层老小区，邻居们想加装电梯，请问区里有什么补贴，找哪个部门办理？")
    mailbox.answer(db, office, private.number,
                   reply="老旧住宅加装电梯可申请区级补贴，由所在街道受理，具体标准见区住房保障和房屋管理局网站。")
    pending, _ = mailbox.write(
        db, citizen, consent=True, subject="张江路口早高峰拥堵严重",
        body="张江路与科苑路路口早高峰排队很长，左转信号时间太短，建议优化信号配时。")
    mailbox.assign(db, office, pending.number, department_code="PD-JSJT", limit_days=15)
    mailbox.mark_for_leader(db, office, pending.number, note="涉及主干道交通组织，呈领导阅")
    mailbox.write(db, None, name="赵女士", phone="021-58881234", consent=True, subject="小区门口夜间施工噪声扰民",
                  body="最近一周小区门口道路夜间施工到凌晨，严重影响休息，请有关部门查处。")
