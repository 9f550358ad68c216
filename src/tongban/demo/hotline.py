"""12345 demo tickets: ten weeks of calls, so the centre's analysis has something to show (hot
topics by category, street and week, a topic that rose last week, repeat callers, a repeat place),
and today's dispatched tickets in the departments' queues.

The weeks before are calls of the hotline's own classes that the centre answered directly or
transferred to a specialised line: such a ticket starts no department clock, so the history adds
nothing to a month's supervision figures. Today's tickets are dispatched through the same steps an
agent and a department take (waiting to be signed for, signed, replied and waiting for the
follow-up, followed up). Created once, when there is no ticket.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import clock as wall
from tongban.core.auth import Principal
from tongban.core.config import Settings
from tongban.demo.district import CITIZEN, principal
from tongban.grid import geo, service as grid
from tongban.hotline import examples, tickets
from tongban.hotline.categories import catalogue
from tongban.hotline.models import HotlineTicket, Outcome, Satisfaction

SEED = 20261208
AGENT = "hotline"
WEEKS = 10
CALLS = 240  # over the weeks before this one
RISING = "H-GA02"  # 噪声扰民: the topic that rose in the last complete week
RISING_EXTRA = 14
REPEAT_CALLERS = {"13917770001": 5, "13917770002": 4, "13817770003": 3}  # phone: calls over the weeks
# Today's dispatched tickets: (category, who answers it, how far it has come, what was said, the agent's summary)
TODAY = [
    ("H-RS01", "reviewer.rs", "waiting", "公司拖欠我两个月工资，老板说下个月再发，已经拖了好几次", "来电反映被拖欠两个月工资，要求督促支付"),
    ("H-RS03", "reviewer.rs", "signed", "我的养老保险缴费记录少了半年，想问怎么补", "来电反映养老保险缴费记录缺失半年，要求核查补缴"),
    ("G-E0102", "grid.lhsr", "replied", "小区门口的垃圾好几天没人清运了，味道很大", "来电反映小区门口生活垃圾多日未清运"),
    ("G-E0102", "grid.lhsr", "followed", "路口垃圾桶周围堆满了垃圾", "来电反映路口垃圾桶周边垃圾堆积"),
]


def load_hotline(db: Session, settings: Settings) -> None:
    if db.scalar(select(HotlineTicket.case_id).limit(1)) is not None:
        return
    rng = random.Random(SEED)
    agent = principal(db, AGENT)
    extent = geo.Extent.parse(settings.grid_extent)
    index = grid.grid_index(db)
    points = [index.polygons[rng.randrange(len(index.refs))].representative_point().coords[0] for _ in range(400)]
    repeat_place = points[0]
    own = {c.code: c for c in catalogue().categories if c.grid is None}
    calls = [e for e in examples.generate(CALLS * 3, seed=SEED) if e.category in own][:CALLS]
    now, local = wall.now(), wall.beijing_now()
    this_week = now - (local - local.replace(hour=0, minute=0, second=0, microsecond=0)) - timedelta(days=local.weekday())
    first = this_week - timedelta(weeks=WEEKS - 1)  # Monday 00:00, Beijing time, WEEKS - 1 weeks ago
    moments = sorted(first + timedelta(minutes=rng.randrange((WEEKS - 1) * 7 * 24 * 60)) for _ in calls)
    rising = [e for e in examples.generate(400, seed=SEED + 1) if e.category == RISING][:RISING_EXTRA]
    last_week = this_week - timedelta(weeks=1)
    spread = sorted([*zip(moments, calls, strict=True),
                     *[(last_week + timedelta(hours=8 + 11 * i), e) for i, e in enumerate(rising)]], key=lambda pair: pair[0])
    callers = {i: f"139{rng.randrange(10**8):08d}" for i in range(len(spread))}
    chosen = rng.sample(range(len(spread)), sum(REPEAT_CALLERS.values()))
    for phone, count in REPEAT_CALLERS.items():  # the same phone on calls spread over the weeks
        callers.update({chosen.pop(): phone for _ in range(count)})
    for number, (moment, example) in enumerate(spread):
        category, phone = own[example.category], callers[number]
        place = repeat_place if number % 23 == 0 else points[rng.randrange(len(points))] if number % 3 else None
        transfer = bool(category.transfer_line) and number % 2 == 0
        call = tickets.CallIn(
            caller_phone=phone, said=example.text, summary=f"来电反映{category.name}相关问题",
            category=category.code, outcome=Outcome.TRANSFERRED if transfer else Outcome.ANSWERED,
            knowledge_text=None if transfer else f"已向来电人解答{category.name}的办理渠道、所需材料和承办部门",
            lon=place[0] if place else None, lat=place[1] if place else None)
        with wall.frozen(moment):
            tickets.create(db, agent, call, extent=extent)
    _today(db, agent, extent, points)
    db.flush()


def _today(db: Session, agent: Principal, extent: geo.Extent, points: list[tuple[float, float]]) -> None:
    for number, (code, username, stage, said, summary) in enumerate(TODAY):
        place = points[number + 1] if code.startswith("G-") else (None, None)
        # the demo citizen called twice and gave their ID: 「我的 12345 诉求」 shows both
        by_citizen = stage in ("signed", "replied")
        case, _, _ = tickets.create(db, agent, tickets.CallIn(
            caller_phone=f"1350000{number:04d}", caller_name=CITIZEN.name if by_citizen else "市民", said=said,
            summary=summary, category=code, outcome=Outcome.DISPATCHED, lon=place[0], lat=place[1],
            caller_id_number=CITIZEN.username if by_citizen else None), extent=extent)
        if stage == "waiting":
            continue
        department = principal(db, username)
        case = tickets.sign(db, department, case.number, version=None)
        if stage == "signed":
            continue
        case = tickets.reply(db, department, case.number, reply_text="已安排人员到场处理，现场已清理完毕，后续加强巡查。",
                             version=None)
        if stage == "followed":
            tickets.follow_up(db, agent, case.number, satisfaction=Satisfaction.SATISFIED.value, solved=True,
                              note="来电人表示满意", version=None)
