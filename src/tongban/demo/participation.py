"""The demo's 政民互动: the market regulator's (市场监管局, ``reviewer``) open survey, a draft policy
open for comment, an earlier draft with its published adoption summary, and an interview collecting
questions. Written through ``participation.service`` as its staff would; idempotent (nothing is
added once any topic exists)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.demo.district import principal
from tongban.participation import service
from tongban.participation.models import Topic
from tongban.participation.schemas import AdoptionIn, CommentIn, QuestionIn, SummaryIn, TopicIn

STAFF = "reviewer"  # 市场监管局
ADDRESS = "demo"


def load_participation(db: Session) -> None:
    if db.scalar(select(func.count()).select_from(Topic)):
        return
    staff = principal(db, STAFF)
    now = wall.now().replace(second=0, microsecond=0)

    survey = service.create(db, staff, TopicIn(
        kind="survey", title="农贸市场食品安全满意度网上调查",
        body="为了解居民对本区农贸市场食品安全状况的评价，听取改进建议，开展本次网上调查。每个账户可作答一次，调查结束后公布结果。",
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=28), questions=[
            QuestionIn(kind="single", text="您对常去的农贸市场食品安全状况是否满意？", options=["满意", "基本满意", "不满意"]),
            QuestionIn(kind="multiple", text="您最关注哪些食品安全问题？", options=["农药残留", "肉类来源", "水产品新鲜度", "计量准确"]),
            QuestionIn(kind="text", text="您对农贸市场监管有什么建议？", required=False)]))
    service.publish(db, staff, survey)

    draft = service.create(db, staff, TopicIn(
        kind="solicitation", title="《浦东新区农贸市场管理办法（征求意见稿）》",
        body="第一条 为规范农贸市场经营秩序，保障食品安全，制定本办法。\n第二条 本办法适用于本区行政区域内的农贸市场。\n"
             "第三条 市场开办者应当建立食用农产品进货查验和索证索票制度。\n第四条 鼓励市场开办者设置快速检测室，并公示检测结果。",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=29)))
    service.publish(db, staff, draft)

    earlier = service.create(db, staff, TopicIn(
        kind="solicitation", title="《浦东新区早餐工程网点设置规范（征求意见稿）》",
        body="第一条 为方便居民早餐消费，规范早餐网点设置，制定本规范。\n第二条 早餐网点应当持有效食品经营许可证。",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1)))
    service.publish(db, staff, earlier)
    comments = [service.comment(db, None, earlier, CommentIn(body=body, name=name, contact=contact), address=ADDRESS)
                for body, name, contact in (("建议在地铁站出入口增设早餐车停放点", "陈先生", "13900001111"),
                                            ("早餐网点的营业时间应提前到六点", "周女士", "zhou@example.cn"),
                                            ("希望允许早餐网点兼营简餐", "吴先生", "13900002222"))]
    earlier.opens_at, earlier.closes_at = now - timedelta(days=45), now - timedelta(days=15)  # its period, a month ago
    service.publish_summary(db, staff, earlier, SummaryIn(
        summary="征求意见期间共收到意见 3 条，经研究，采纳 1 条、部分采纳 1 条、未采纳 1 条，情况如下。", adoptions=[
            AdoptionIn(subject="增设地铁站周边早餐车停放点", decision="adopted", reason="已在第五条增加地铁站周边停放点的设置要求。",
                       comment_ids=[comments[0].id]),
            AdoptionIn(subject="提前营业时间", decision="partly", reason="营业时间由各网点自定，规范不作统一要求，但鼓励六点前开门。",
                       comment_ids=[comments[1].id]),
            AdoptionIn(subject="兼营简餐", decision="not_adopted", reason="兼营简餐需另行办理许可，不在本规范范围内。",
                       comment_ids=[comments[2].id])]))

    interview = service.create(db, staff, TopicIn(
        kind="interview", title="校园周边食品安全在线访谈",
        body="区市场监管局负责同志就校园周边食品安全监管与网民在线交流，欢迎提前提问。",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=6), event_at=now + timedelta(days=7),
        guests="李建国（区市场监管局食品安全科科长）"))
    service.publish(db, staff, interview)
    db.flush()
