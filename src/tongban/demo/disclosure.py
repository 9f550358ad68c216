"""The demo district's proactive-disclosure catalog: a few hundred published documents of its
departments (titles, 文号 and bodies from templates, reproducible), and a handful walked through
the real workflow: drafts waiting for the 保密审查, one withdrawn, one 废止 and replaced, and a
主动公开 draft two working days from its deadline (yellow once the warning scan runs).

The published history is written in bulk (as an import of the catalog kept before the platform
would be): one version each, no clocks (they were published in time, long ago)."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import clock as wall
from tongban.core.config import Settings
from tongban.core.auth import Principal
from tongban.core.workdays import WorkingCalendar
from tongban.demo.district import present
from tongban.disclosure import documents
from tongban.disclosure.models import DisclosureDocument, DisclosureVersion, IndexSequence
from tongban.disclosure.schemas import (
    DocumentFields, DocumentStatus, Genre, Openness, ReviewDecision, Theme, Validity,
)
from tongban.org import service as org

SEED = 2026
PUBLISHED_COUNT = 320
DRAFTER, REVIEWER = "gk.drafter", "gk.reviewer"

# Department: (theme, 文号 prefix, topics it writes about).
DEPARTMENTS: dict[str, tuple[Theme, str, tuple[str, ...]]] = {
    "PD": (Theme.GENERAL, "浦府", ("优化营商环境", "城市数字化转型", "一网通办改革", "重大行政决策", "政务公开")),
    "PD-CZ": (Theme.FINANCE, "浦财", ("政府采购", "预算绩效管理", "行政事业单位国有资产", "专项资金", "政府债务")),
    "PD-TJ": (Theme.ECONOMY, "浦统", ("国民经济运行", "规模以上工业", "社会消费品零售", "人口抽样调查", "统计执法")),
    "PD-RS": (Theme.LABOUR, "浦人社", ("就业补贴", "职业技能培训", "社会保险", "人才引进", "劳动关系")),
    "PD-MZ": (Theme.CIVIL, "浦民", ("最低生活保障", "养老服务", "社区治理", "婚姻登记", "殡葬管理")),
    "PD-SCJG": (Theme.MARKET, "浦市监", ("食品安全", "特种设备", "价格监督", "知识产权保护", "登记注册")),
    "PD-STHJ": (Theme.ENVIRONMENT, "浦环", ("大气污染防治", "水环境治理", "建设项目环评", "固体废物", "噪声治理")),
    "PD-JSJT": (Theme.TRANSPORT, "浦建交", ("道路挖掘", "公共交通", "建筑工地扬尘", "停车管理", "桥梁养护")),
    "PD-WJW": (Theme.HEALTH, "浦卫", ("基本公共卫生服务", "医疗机构管理", "传染病防控", "家庭医生签约", "卫生监督")),
    "PD-JY": (Theme.EDUCATION, "浦教", ("义务教育招生", "学前教育", "校园安全", "教师队伍建设", "课后服务")),
    "PD-ZJ": (Theme.HOUSING, "浦房", ("保障性租赁住房", "旧区改造", "物业管理", "公共租赁住房", "房屋安全")),
    "PD-GHZY": (Theme.PLANNING, "浦规资", ("国土空间规划", "土地供应", "耕地保护", "不动产登记", "规划许可")),
    "PD-KW": (Theme.SCIENCE, "浦科经", ("科技创新券", "高新技术企业", "产业扶持", "研发机构", "科技成果转化")),
    "PD-SF": (Theme.JUSTICE, "浦司", ("行政复议", "法律援助", "人民调解", "普法宣传", "行政执法监督")),
    "PD-WTL": (Theme.CULTURE, "浦文旅", ("公共文化服务", "文物保护", "旅游市场", "全民健身", "文化市场执法")),
}
GENRE_WEIGHTS = [(Genre.NOTICE, 30), (Genre.NORMATIVE, 14), (Genre.PLAN, 14), (Genre.STATISTICS, 12),
                 (Genre.PERSONNEL, 8), (Genre.BUDGET, 8), (Genre.REGULATION, 2), (Genre.OTHER, 4)]
TITLES: dict[Genre, tuple[str, ...]] = {
    Genre.NOTICE: ("关于开展{year}年{topic}专项检查的通知", "关于做好{topic}工作的通知", "关于{topic}有关事项的公告",
                   "关于征求《{topic}实施方案（征求意见稿）》意见的公告"),
    Genre.NORMATIVE: ("关于印发《浦东新区{topic}管理办法》的通知", "关于印发《浦东新区{topic}实施细则》的通知",
                      "关于进一步加强{topic}工作的若干意见"),
    Genre.PLAN: ("{dept}{year}年{topic}工作计划", "{dept}{year}年{topic}工作总结", "{year}年上半年{topic}工作情况"),
    Genre.STATISTICS: ("{year}年{month}月{topic}统计数据", "{year}年{topic}统计公报", "{year}年第{quarter}季度{topic}情况"),
    Genre.PERSONNEL: ("{dept}{year}年公开招聘工作人员公告", "{dept}{year}年公务员录用公示", "关于{topic}岗位人员任职前公示"),
    Genre.BUDGET: ("{dept}{year}年部门预算", "{dept}{year}年部门决算", "{dept}{year}年“三公”经费预算情况说明"),
    Genre.REGULATION: ("浦东新区{topic}规定", "浦东新区{topic}暂行办法"),
    Genre.OTHER: ("{topic}政策问答", "{dept}关于{topic}的情况说明"),
}
OPENINGS = ("为深入贯彻落实党中央、国务院和市委、市政府关于{topic}的决策部署，", "根据《中华人民共和国政府信息公开条例》和有关规定，",
            "为进一步规范{topic}工作，提升服务水平，", "按照区委、区政府{year}年重点工作安排，")
MIDDLES = ("现就{topic}有关事项通知如下。", "结合本区实际，制定本文件。", "经研究，决定开展{topic}工作。",
           "现将{topic}情况公布如下。")
POINTS = ("一、工作目标。到{year}年底，{topic}工作制度更加健全，服务事项全部实现“一网通办”。",
          "二、主要任务。各街镇、各部门要明确责任分工，加强协同配合，按时完成{topic}各项任务。",
          "三、保障措施。加强组织领导，落实经费保障，做好政策宣传解读和信息公开。",
          "四、监督检查。{dept}将对{topic}工作开展情况进行督促检查，检查结果纳入年度考核。",
          "五、本文件自发布之日起施行，有效期五年。执行中的问题由{dept}负责解释。",
          "联系电话：021-5878{n:04d}；地址：浦东新区世纪大道{n2}号。")


def _weighted(rng: random.Random) -> Genre:
    return rng.choices([g for g, _ in GENRE_WEIGHTS], weights=[w for _, w in GENRE_WEIGHTS])[0]


def _text(rng: random.Random, template: str, **values) -> str:
    return template.format(**values)


def _body(rng: random.Random, values: dict) -> str:
    points = rng.sample(POINTS[:5], k=rng.randint(2, 4)) + [POINTS[5]]
    lines = [_text(rng, rng.choice(OPENINGS), **values) + _text(rng, rng.choice(MIDDLES), **values)]
    lines += [_text(rng, p, **values) for p in points]
    return "\n".join(lines)


def _principal(db: Session, username: str) -> Principal:
    user = present(accounts.get_by_username(db, username), f"演示账号 {username}")
    return present(accounts.load_principal(db, f"user:{user.id}"), f"演示账号 {username} 的权限")


def _history(db: Session, today: date) -> None:
    """The catalog's published past, in bulk."""
    rng = random.Random(SEED)
    departments = org.by_codes(db, list(DEPARTMENTS))
    codes = [code for code in DEPARTMENTS if code in departments]
    sequences: dict[tuple[int, int], int] = {}
    numbers: dict[tuple[str, int], int] = {}
    rows: list[dict[str, Any]] = []
    now = wall.now()
    for n in range(PUBLISHED_COUNT):
        code = codes[n % len(codes)]
        department = departments[code]
        theme, prefix, topics = DEPARTMENTS[code]
        genre = _weighted(rng)
        published_on = today - timedelta(days=rng.randint(3, 700))
        issued_on = published_on - timedelta(days=rng.randint(0, 18))
        year = issued_on.year
        values = {"topic": rng.choice(topics), "dept": department.short_name, "year": year, "month": issued_on.month,
                  "quarter": (issued_on.month - 1) // 3 + 1, "n": rng.randint(0, 9999), "n2": rng.randint(100, 2999)}
        key = (department.id, year)
        sequences[key] = sequences.get(key, 0) + 1
        has_number = genre in (Genre.NORMATIVE, Genre.REGULATION, Genre.NOTICE) or rng.random() < 0.3
        number = None
        if has_number:
            numbers[(prefix, year)] = numbers.get((prefix, year), 0) + 1
            number = f"{prefix}〔{year}〕{numbers[(prefix, year)]}号"
        openness = Openness.ON_REQUEST if rng.random() < 0.04 else Openness.PROACTIVE
        moment = datetime.combine(published_on, time(2, rng.randint(0, 59)), tzinfo=now.tzinfo)
        rows.append({
            "index_number": f"{code}-{year}-{sequences[key]:05d}", "department_id": department.id,
            "title": _text(rng, rng.choice(TITLES[genre]), **values), "document_number": number,
            "issued_on": issued_on, "published_on": published_on,
            "theme": (theme if rng.random() < 0.8 else rng.choice(list(Theme))).value, "genre": genre.value,
            "openness": openness.value, "withheld_ground": None, "validity": Validity.IN_FORCE.value,
            "replaced_by_id": None, "body": _body(rng, values), "status": DocumentStatus.PUBLISHED.value, "version": 1,
            "drafted_by": "demo", "drafted_by_name": "演示数据", "reviewed_by": "demo", "reviewed_by_name": "演示数据",
            "review_ground": "经保密审查，不涉及国家秘密和工作秘密，同意公开。", "reviewed_at": moment,
            "published_at": moment, "withdrawn_at": None, "withdraw_reason": None, "created_at": moment,
            "row_version": 1})
    rows.sort(key=lambda r: r["published_at"])  # ids in the order they were published
    ids = db.execute(insert(cast(Table, DisclosureDocument.__table__)).returning(DisclosureDocument.id), rows).scalars().all()
    db.execute(insert(cast(Table, DisclosureVersion.__table__)), [
        {"document_id": id_, "version": 1, "action": "published", "actor_id": "demo", "actor_name": "演示数据",
         "note": None, "at": row["published_at"],
         "snapshot": json.dumps({k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()
                                 if k in ("title", "document_number", "issued_on", "theme", "genre", "openness", "validity",
                                          "body")}, ensure_ascii=False)}
        for id_, row in zip(ids, rows, strict=True)])
    db.execute(insert(cast(Table, IndexSequence.__table__)), [{"department_id": d, "year": y, "last": last}
                                                 for (d, y), last in sequences.items()])


def _working_days_ago(calendar: WorkingCalendar, today: date, count: int) -> date:
    day = today
    while count > 0:
        day -= timedelta(days=1)
        count -= calendar.is_working_day(day)
    return day


def _allocation_table() -> bytes:
    """The revised measure's annex: a spreadsheet, as departments attach their tables."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "专项资金分配"
    for row in (["街镇", "项目", "金额（万元）"], ["陆家嘴街道", "老旧小区改造", 860], ["花木街道", "社区养老服务", 420],
                ["张江镇", "科技创新载体", 1250], ["川沙新镇", "乡村振兴示范村", 980]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def load(db: Session, settings: Settings) -> None:
    """Idempotent: nothing is added to a catalog that has documents."""
    if db.scalar(select(func.count()).select_from(DisclosureDocument)):
        return
    today = wall.today()
    _history(db, today)
    documents.reindex(db)  # the history's rows were written in bulk; what follows is indexed as published
    drafter, reviewer = _principal(db, DRAFTER), _principal(db, REVIEWER)
    finance = org.get_by_code_or_404(db, "PD-CZ")
    calendar = WorkingCalendar.load(db)

    def draft(title: str, issued_on: date, genre: Genre = Genre.NOTICE, number: str | None = None,
              openness: Openness = Openness.PROACTIVE, body: str = "") -> DisclosureDocument:
        fields = DocumentFields(title=title, document_number=number, issued_on=issued_on, theme=Theme.FINANCE,
                                genre=genre, openness=openness, withheld_ground=None,
                                body=body or f"{title}。\n根据有关规定，现予公开。\n浦东新区财政局")
        return documents.create_draft(db, department=finance, fields=fields, actor=drafter)

    def published(document: DisclosureDocument) -> DisclosureDocument:
        documents.submit(db, document, drafter)
        documents.review(db, document, decision=ReviewDecision.APPROVE, ground="不涉及国家秘密、工作秘密，同意公开。",
                         actor=reviewer)
        return documents.publish(db, document, reviewer)

    # 废止, replaced: the old measure and the one that replaces it.
    old = published(draft("浦东新区区级财政专项资金管理办法", _working_days_ago(calendar, today, 12), Genre.NORMATIVE,
                          f"浦财〔{today.year}〕101号"))
    revised = draft("浦东新区区级财政专项资金管理办法（修订）", _working_days_ago(calendar, today, 4), Genre.NORMATIVE,
                    f"浦财〔{today.year}〕102号")
    documents.attach(db, settings, revised, filename="附件：区级专项资金分配表.xlsx", data=_allocation_table(), actor=drafter)
    new = published(revised)
    documents.set_validity(db, old, validity=Validity.REPEALED, replaced_by=new.index_number,
                           note="由修订后的办法替代", actor=reviewer)
    # Withdrawn: published with a mistake in its figures.
    wrong = published(draft("关于区级政府采购目录执行情况的通报", _working_days_ago(calendar, today, 6)))
    documents.withdraw(db, wrong, reason="通报数据有误，核实后重新发布", actor=reviewer)
    # Waiting for the 保密审查.
    for title, days in (("关于开展行政事业单位国有资产清查工作的通知", 3), ("浦东新区财政局2026年政府采购意向公开", 1),
                        ("关于预算绩效自评结果的公告", 5)):
        documents.submit(db, draft(title, _working_days_ago(calendar, today, days)), drafter)
    # Two working days left of the twenty: the scan warns yellow.
    draft("关于区级部门预算执行情况的说明", _working_days_ago(calendar, today, documents.PUBLICATION_DAYS - 2),
          Genre.BUDGET)
    db.flush()
