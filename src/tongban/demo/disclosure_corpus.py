"""Realistic disclosure documents (政府信息公开) of the demo district, reproducible from a seed.

Every department of the demo district (and the district government and its streets and towns)
publishes under its own 文号 prefix (浦府, 浦府办, 浦民, 浦人社, 浦市监 …) documents of the kinds a
disclosure catalog holds: 规范性文件 and their 政策解读, 通知公告 (subsidies, road works and
traffic control, consultations), 行政处罚 and 行政许可 decisions, 招标采购, 人事信息, 统计信息,
财政预决算 and 计划总结 — titles, 文号 and bodies built from varied templates and each
department's own vocabulary, over the years 2015–2026, with the 主题/体裁/有效性 mix of a real
catalog (notices outnumber rules; older documents more often 失效 or 废止).

``documents(seed, count)`` yields ``SearchableDocument`` values, the first *n* the same whatever
``count`` is; fast enough for 300,000. Specific documents (a road's traffic control, a company's
penalty, a project's tender, a 文号) carry names drawn from large lists, so a citizen's question
about one of them has few right answers: the benchmark's queries are about such documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from tongban.demo.district import DISTRICT, DISTRICT_DEPARTMENTS, TOWNS
from tongban.disclosure.search import SearchableDocument

FIRST_YEAR, LAST_YEAR = 2015, 2026


@dataclass(frozen=True)
class Publisher:
    code: str
    name: str
    short: str
    prefixes: tuple[str, ...]  # 文号 prefixes, the first the usual one
    theme: str  # its usual 主题分类
    subjects: tuple[str, ...]  # what its documents are about
    laws: tuple[str, ...]


_PUBLISHERS_OF = {
    "PD": (("浦府", "浦府办", "浦府发"), "综合政务",
           ("优化营商环境", "城市更新", "防汛防台", "乡村振兴", "民生实事项目", "数字化转型", "安全生产", "重大行政决策"),
           ("《中华人民共和国地方各级人民代表大会和地方各级人民政府组织法》", "《上海市行政规范性文件管理规定》")),
    "PD-EGOV": (("浦电政",), "综合政务", ("一网通办", "政务服务", "数据共享", "电子证照", "政务公开"),
                ("《上海市公共数据和一网通办管理办法》", "《政府信息公开条例》")),
    "PD-GA": (("沪公浦",), "公安、安全、司法", ("交通管制", "户籍管理", "居住证办理", "烟花爆竹燃放", "养犬管理"),
              ("《中华人民共和国道路交通安全法》", "《上海市养犬管理条例》")),
    "PD-RS": (("浦人社",), "劳动、人事、监察",
              ("就业补贴", "稳岗补贴", "职业技能培训补贴", "创业担保贷款", "人才引进", "劳动保障监察", "工伤认定",
               "事业单位公开招聘"),
              ("《中华人民共和国就业促进法》", "《上海市职业技能培训补贴管理办法》", "《工伤保险条例》")),
    "PD-MZ": (("浦民",), "民政、扶贫、救灾",
              ("最低生活保障", "居家养老服务补贴", "高龄津贴", "特困人员供养", "临时救助", "养老机构", "社会组织登记",
               "婚姻登记", "殡葬管理", "社区养老"),
              ("《社会救助暂行办法》", "《上海市养老服务条例》", "《上海市社会救助条例》")),
    "PD-SCJG": (("浦市监",), "市场监管、安全生产监管",
                ("食品安全", "特种设备安全", "价格监督检查", "广告监管", "计量器具检定", "药品零售", "网络交易监管"),
                ("《中华人民共和国食品安全法》", "《中华人民共和国行政处罚法》", "《中华人民共和国价格法》")),
    "PD-SW": (("浦税",), "财政、金融、审计", ("增值税留抵退税", "个人所得税汇算", "小微企业税收优惠", "发票管理"),
              ("《中华人民共和国税收征收管理法》",)),
    "PD-GHZY": (("浦规划资源",), "国土资源、能源",
                ("控制性详细规划", "土地出让", "建设工程规划许可", "不动产登记", "耕地保护"),
                ("《中华人民共和国城乡规划法》", "《中华人民共和国土地管理法》")),
    "PD-STHJ": (("浦环",), "生态环境",
                ("环境影响评价", "大气污染防治", "水污染防治", "扬尘治理", "噪声污染防治", "危险废物"),
                ("《中华人民共和国环境保护法》", "《中华人民共和国大气污染防治法》")),
    "PD-JSJT": (("浦建委",), "交通",
                ("道路施工", "建设工程施工许可", "既有多层住宅加装电梯", "公交线路调整", "停车收费", "非机动车停放"),
                ("《上海市城市道路管理条例》", "《建筑工程施工许可管理办法》")),
    "PD-CGZF": (("浦城管",), "城乡建设", ("违法建筑拆除", "市容环境", "生活垃圾分类", "占道经营", "户外广告"),
                ("《上海市市容环境卫生管理条例》", "《上海市生活垃圾管理条例》")),
    "PD-WJW": (("浦卫",), "卫生、体育",
               ("家庭医生签约", "疫苗接种", "传染病防控", "基本公共卫生服务", "医疗机构执业", "健康体检"),
               ("《中华人民共和国基本医疗卫生与健康促进法》", "《中华人民共和国传染病防治法》")),
    "PD-YB": (("浦医保",), "劳动、人事、监察", ("城乡居民医疗保险", "长期护理保险", "医保定点机构", "门诊大病"),
              ("《医疗保障基金使用监督管理条例》",)),
    "PD-GJJ": (("沪公积金浦",), "住房保障", ("住房公积金缴存", "住房公积金提取", "公积金贷款"),
               ("《住房公积金管理条例》",)),
    "PD-CZ": (("浦财",), "财政、金融、审计", ("政府采购", "财政专项资金", "国有资产管理", "政府债务"),
              ("《中华人民共和国预算法》", "《中华人民共和国政府采购法》")),
    "PD-TJ": (("浦统",), "国民经济管理",
              ("国民经济和社会发展", "规模以上工业", "社会消费品零售", "居民收入", "人口抽样调查"),
              ("《中华人民共和国统计法》",)),
    "PD-KW": (("浦科经委",), "科技", ("高新技术企业", "科技创新券", "专精特新企业", "产业扶持资金", "孵化器"),
              ("《中华人民共和国科学技术进步法》", "《上海市促进科技成果转化条例》")),
    "PD-FGW": (("浦发改",), "国民经济管理", ("重大项目", "价格听证", "节能审查", "粮食储备", "社会信用"),
               ("《中华人民共和国价格法》", "《政府投资条例》")),
    "PD-JY": (("浦教",), "教育", ("义务教育入学", "幼儿园招生", "校外培训机构", "学生资助", "托育服务"),
              ("《中华人民共和国义务教育法》", "《中华人民共和国学前教育法》")),
    "PD-ZJ": (("浦房",), "住房保障",
              ("公共租赁住房", "共有产权保障住房", "旧区改造", "房屋征收", "物业管理", "住宅维修资金"),
              ("《国有土地上房屋征收与补偿条例》", "《上海市住宅物业管理规定》")),
    "PD-WGZX": (("浦城运",), "综合政务", ("一网统管", "城市运行", "12345热线", "应急处置"),
                ("《上海市城市运行管理条例》",)),
    "PD-JCJ": (("浦监委",), "劳动、人事、监察", ("廉政建设", "作风建设", "监察建议"), ("《中华人民共和国监察法》",)),
    "PD-TYJR": (("浦退役军人",), "民政、扶贫、救灾", ("优抚对象抚恤", "退役军人就业", "烈士褒扬", "拥军优属"),
                ("《退役军人保障法》", "《军人抚恤优待条例》")),
    "PD-CL": (("浦残联",), "民政、扶贫、救灾", ("残疾人就业", "残疾人康复", "无障碍环境建设", "残疾人证"),
              ("《中华人民共和国残疾人保障法》",)),
    "PD-SF": (("浦司",), "公安、安全、司法", ("法律援助", "人民调解", "普法宣传", "社区矫正", "公共法律服务"),
              ("《中华人民共和国法律援助法》", "《中华人民共和国人民调解法》")),
    "PD-WTL": (("浦文旅",), "文化、广电、新闻出版", ("公共文化服务", "文物保护", "旅游市场", "全民健身", "体育场馆开放"),
               ("《中华人民共和国文物保护法》", "《中华人民共和国公共文化服务保障法》")),
}
_TOWN_PREFIXES = {"PD-LJZ": "陆街", "PD-WF": "潍街", "PD-HM": "花街", "PD-ZJ-TOWN": "张江府", "PD-CS": "川府"}
_TOWN_SUBJECTS = ("社区养老", "垃圾分类", "居民区治理", "老旧小区改造", "防汛防台", "平安建设", "社区文化活动")


def _publishers() -> list[Publisher]:
    out = [Publisher(DISTRICT[0], DISTRICT[1], DISTRICT[2], *_PUBLISHERS_OF["PD"])]
    for code, name, short in DISTRICT_DEPARTMENTS:
        if code in _PUBLISHERS_OF:  # a department added later publishes nothing here: the corpus stays the same
            out.append(Publisher(code, name, short, *_PUBLISHERS_OF[code]))
    for code, name, short, _division in TOWNS:
        out.append(Publisher(code, name, short, (_TOWN_PREFIXES[code],), "综合政务", _TOWN_SUBJECTS,
                             ("《上海市街道办事处条例》",)))
    return out


PUBLISHERS = _publishers()

ROADS = ("张杨路", "世纪大道", "浦东南路", "东方路", "杨高中路", "锦绣路", "龙阳路", "川沙路", "华夏中路", "罗山路",
         "金桥路", "源深路", "博山东路", "浦建路", "高科西路", "祖冲之路", "郭守敬路", "碧波路", "芳华路", "长清路",
         "周家嘴路", "五莲路", "沪南公路", "申江路", "外环路", "成山路", "海阳路", "金科路", "晨晖路", "商城路",
         "民生路", "崮山路", "栖霞路", "乳山路", "灵山路", "云山路", "金高路", "巨峰路", "凌河路", "航津路")
ESTATES = ("梅园三村", "联洋新村", "金杨新村", "潍坊四村", "崂山五村", "竹园小区", "锦绣苑", "仁恒河滨", "东方城市花园",
           "上南花城", "浦发绿城", "张江汤臣豪园", "川沙城厢", "南码头小区", "洋泾西村", "塘桥新村", "德州一村", "高行绿洲")
FIRMS_A = ("恒", "润", "锦", "盛", "嘉", "泰", "鑫", "华", "瑞", "宏", "博", "卓", "弘", "祥", "安", "德", "诚", "众",
           "晟", "沃", "峰", "澜", "启", "智")
FIRMS_B = ("达", "丰", "源", "誉", "信", "程", "辉", "腾", "远", "通", "海", "康", "禾", "景", "业", "航", "拓", "恺")
INDUSTRIES = ("餐饮管理", "食品", "贸易", "建筑工程", "物业管理", "科技", "医药", "物流", "装饰工程", "环保科技",
              "电子商务", "汽车服务", "教育科技", "酒店管理", "商业管理", "生物科技", "机械设备", "信息技术")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌浩宇晨昊然欣怡子轩梓涵一诺思远佳琪嘉怡"
POSTS = ("科长", "副科长", "主任", "副主任", "副局长", "党组成员", "一级主任科员", "二级调研员", "办公室主任")
PROJECTS = ("社区卫生服务中心改扩建", "道路大修", "公共绿地养护", "学校校舍修缮", "河道综合整治", "智慧社区平台",
            "办公设备采购", "物业管理服务", "档案数字化", "食堂餐饮服务", "安保服务", "垃圾清运服务", "路灯改造",
            "体育设施更新", "老年助餐点建设", "排水管网改造")
MONTHS = tuple(range(1, 13))

_OPENINGS = (
    "为进一步做好{subject}工作，根据{law}等有关规定，结合本区实际，现就有关事项{verb}如下。",
    "为贯彻落实{law}，推进{subject}工作高质量发展，经{publisher}研究，现{verb}如下。",
    "根据{law}和市、区有关工作部署，为切实加强{subject}，保障群众合法权益，现将有关事项{verb}如下。",
    "按照区委、区政府关于{subject}的工作要求，依据{law}，{publisher}制定本{kind}。",
)
_SECTIONS = {
    "对象": ("本{kind}适用于本区户籍或持有《上海市居住证》的{people}。", "符合条件的{people}可向户籍所在地街镇社区事务受理服务中心提出申请。",
             "{people}因特殊情况无法亲自办理的，可委托他人代为申请。"),
    "标准": ("{subject}标准为每人每月{amount}元，自{start}起执行。", "对符合条件的{people}，按照每人每年{amount}元的标准给予补贴。",
             "补贴资金由区财政和街镇按规定比例分担，按月发放至本人社会保障卡。"),
    "程序": ("申请人应当提交身份证明、户口簿或居住证以及相关证明材料。", "受理部门应当在{days}个工作日内完成审核，并将结果告知申请人。",
             "经审核符合条件的，在居（村）民委员会公示{short_days}日，公示无异议的予以批准。",
             "申请人可以通过一网通办平台在线提交申请，也可以到社区事务受理服务中心窗口办理。"),
    "要求": ("各街镇、各有关部门要高度重视，明确责任分工，确保各项工作落到实处。", "要加强政策宣传解读，主动回应群众关切。",
             "对弄虚作假骗取补贴的，依法追回已发放资金，并依法追究相关责任。", "各单位应当于{deadline}前将工作情况报送{publisher}。"),
    "监管": ("{publisher}将会同有关部门开展监督检查，检查结果向社会公开。", "对检查中发现的问题，责令限期整改；逾期未整改的，依法予以处理。",
             "建立健全长效管理机制，强化事中事后监管。"),
}
_CLOSINGS = ("本{kind}自{start}起施行，有效期至{end}。", "本{kind}自印发之日起施行，由{publisher}负责解释。",
             "特此通知。", "联系电话：{phone}。", "欢迎社会各界监督，监督电话：{phone}。")


def _pick(rng: random.Random, values):
    """``rng.choice``, three times faster (the generator makes 300,000 documents)."""
    return values[int(rng.random() * len(values))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _person(rng: random.Random) -> str:
    return _pick(rng, SURNAMES) + _pick(rng, GIVEN) + (_pick(rng, GIVEN) if rng.random() < 0.6 else "")


def _firm(rng: random.Random) -> str:
    return f"上海{_pick(rng, FIRMS_A)}{_pick(rng, FIRMS_B)}{_pick(rng, INDUSTRIES)}有限公司"


def _phone(rng: random.Random) -> str:
    return f"{_between(rng, 5000, 6899)}{_between(rng, 1000, 9999)}"


def _people(subject: str) -> str:
    for needle, people in (("养老", "老年人"), ("高龄", "高龄老人"), ("低保", "困难家庭"), ("生活保障", "困难家庭"),
                           ("救助", "困难群众"), ("就业", "用人单位和劳动者"), ("残疾", "残疾人"), ("退役", "退役军人"),
                           ("入学", "适龄儿童"), ("幼儿", "适龄幼儿"), ("住房", "住房困难家庭"), ("企业", "企业")):
        if needle in subject:
            return people
    return "单位和个人"


@dataclass
class _Draft:
    title: str
    genre: str
    kind: str  # 通知 / 办法 / 公告 / 决定书 … (how the body refers to itself)
    facts: dict
    sections: tuple[str, ...]


def _draft(rng: random.Random, publisher: Publisher, year: int) -> _Draft:
    subject = _pick(rng, publisher.subjects)
    town = _pick(rng, TOWNS)[2]
    pick = rng.random()
    if pick < 0.22:
        title = _pick(rng, (f"关于做好{year}年度{subject}工作的通知", f"关于开展{subject}专项检查的通知",
                            f"关于调整{subject}标准的通知", f"关于进一步加强{subject}工作的通知",
                            f"关于{year}年{subject}申报工作的通知"))
        return _Draft(title, "通知公告", "通知", {"subject": subject}, ("对象", "标准", "程序", "要求"))
    if pick < 0.32:
        road = _pick(rng, ROADS)
        other = _pick(rng, [r for r in ROADS if r != road])
        month = _pick(rng, MONTHS)
        title = _pick(rng, (f"关于{road}（{other}至{_pick(rng, ROADS)}）道路施工期间实施交通管制的公告",
                            f"关于{town}{road}段{month}月封闭施工的公告",
                            f"关于{road}{other}路口改建工程交通组织调整的通告"))
        return _Draft(title, "通知公告", "公告", {"road": road, "other_road": other, "month": month, "town": town},
                      ("要求", "监管"))
    if pick < 0.42:
        firm = _firm(rng)
        title = _pick(rng, (f"{publisher.short}行政处罚决定书（{firm}）", f"关于{firm}违法行为的行政处罚决定",
                            f"{firm}行政处罚信息公示"))
        return _Draft(title, "行政处罚", "决定书", {"firm": firm, "subject": subject}, ("监管",))
    if pick < 0.48:
        firm = _firm(rng)
        title = f"关于准予{firm}{_pick(rng, ('行政许可', '设立登记', '施工许可', '经营许可'))}的决定"
        return _Draft(title, "行政许可", "决定", {"firm": firm}, ("程序",))
    if pick < 0.56:
        project = _pick(rng, PROJECTS)
        place = _pick(rng, (town, _pick(rng, ESTATES), _pick(rng, ROADS)))
        title = _pick(rng, (f"{place}{project}项目招标公告", f"{place}{project}项目中标结果公告",
                            f"{year}年{place}{project}政府采购意向公开"))
        return _Draft(title, "招标采购", "公告", {"project": project, "place": place}, ("程序",))
    if pick < 0.63:
        person = _person(rng)
        post = _pick(rng, POSTS)
        title = _pick(rng, (f"关于{person}等同志职务任免的通知", f"{publisher.short}干部任前公示（{person}）",
                            f"{publisher.name}{year}年公开招聘工作人员公告"))
        return _Draft(title, "人事信息", "通知", {"person": person, "post": post}, ("程序",))
    if pick < 0.70:
        month = _pick(rng, MONTHS)
        title = _pick(rng, (f"{year}年{month}月{subject}统计数据", f"{year}年{publisher.short}{subject}情况统计",
                            f"浦东新区{year}年1-{month}月{subject}主要指标"))
        return _Draft(title, "统计信息", "数据", {"subject": subject, "month": month}, ())
    if pick < 0.76:
        title = _pick(rng, (f"{publisher.name}{year}年部门预算", f"{publisher.name}{year}年部门决算",
                            f"{publisher.name}{year}年“三公”经费预算情况说明"))
        return _Draft(title, "财政预决算", "报告", {}, ())
    if pick < 0.82:
        title = _pick(rng, (f"{publisher.name}{year}年工作总结和{year + 1}年工作计划", f"{publisher.short}{year}年{subject}工作要点",
                            f"{publisher.name}{year}年政府信息公开工作年度报告"))
        return _Draft(title, "计划总结", "计划", {"subject": subject}, ("要求",))
    if pick < 0.90:
        title = _pick(rng, (f"关于印发《浦东新区{subject}管理办法》的通知", f"浦东新区{subject}实施细则",
                            f"关于进一步推进{subject}的实施意见", f"浦东新区{subject}暂行办法"))
        return _Draft(title, "规范性文件", "办法", {"subject": subject}, ("对象", "标准", "程序", "监管"))
    if pick < 0.95:
        title = _pick(rng, (f"《浦东新区{subject}管理办法》政策解读", f"一图读懂{subject}新政", f"关于{subject}的政策问答"))
        return _Draft(title, "政策解读", "解读", {"subject": subject}, ("对象", "标准", "程序"))
    estate = _pick(rng, ESTATES)
    title = _pick(rng, (f"{town}{estate}{subject}工作推进情况", f"{publisher.short}召开{subject}工作推进会",
                        f"{estate}既有多层住宅加装电梯意见征询结果公示"))
    return _Draft(title, "工作动态", "动态", {"estate": estate, "subject": subject}, ("要求",))


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


def _body(rng: random.Random, publisher: Publisher, draft: _Draft, issued: date) -> str:
    subject = draft.facts.get("subject") or _pick(rng, publisher.subjects)
    values = {"subject": subject, "law": _pick(rng, publisher.laws), "publisher": publisher.name,
              "kind": draft.kind, "verb": _pick(rng, ("通知", "公告", "明确")), "people": _people(subject),
              "amount": _pick(rng, (75, 100, 150, 200, 300, 500, 800, 1200, 1500, 3000)),
              "start": f"{issued.year}年{issued.month}月{_between(rng, 1, 28)}日",
              "end": f"{issued.year + _pick(rng, (2, 3, 5))}年{issued.month}月{_between(rng, 1, 28)}日",
              "deadline": f"{issued.year}年{_between(rng, 1, 12)}月{_between(rng, 1, 28)}日",
              "days": _pick(rng, (5, 10, 15, 20)), "short_days": _pick(rng, (5, 7)), "phone": _phone(rng)}
    parts = [_fill(_pick(rng, _OPENINGS), values)]
    facts = draft.facts
    if "road" in facts:
        parts.append(f"因{facts['road']}（{facts['town']}段）道路大修工程施工需要，自{values['start']}起至"
                     f"{values['end'][:4]}年{facts['month']}月底，{facts['road']}与{facts['other_road']}交叉口实施交通管制，"
                     f"过往车辆请绕行{_pick(rng, ROADS)}。公交线路作相应调整，具体以公交站点公告为准。")
    if "firm" in facts:
        parts.append(f"当事人{facts['firm']}，统一社会信用代码91310115MA1{_between(rng, 100000, 999999)}，"
                     f"经营场所位于浦东新区{_pick(rng, ROADS)}{_between(rng, 1, 2999)}号。经查，当事人存在违反"
                     f"{values['law']}的行为，依法责令改正，并处罚款人民币{_between(rng, 1, 50) * 1000}元。"
                     "当事人如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内提起行政诉讼。")
    if "project" in facts:
        parts.append(f"项目名称：{facts['place']}{facts['project']}项目。预算金额：{_between(rng, 20, 3000)}万元。"
                     f"采购方式：{_pick(rng, ('公开招标', '竞争性磋商', '竞争性谈判', '询价'))}。"
                     f"投标截止时间：{values['deadline']}。")
    if "person" in facts:
        parts.append(f"经研究决定，任命{facts['person']}同志为{publisher.short}{facts['post']}。"
                     f"公示期间，如对公示对象有情况反映，可通过来信、来电等方式向区委组织部反映，电话：{values['phone']}。")
    if "estate" in facts:
        parts.append(f"{facts['estate']}共有{_between(rng, 4, 60)}个门栋完成意见征询，其中{_between(rng, 1, 20)}个门栋"
                     f"同意比例达到规定要求，现予以公示。")
    if draft.genre == "统计信息":
        parts.append(f"{values['subject']}相关指标：总量{_between(rng, 100, 99999)}，同比增长{_between(rng, 1, 150) / 10}%；"
                     f"其中{_pick(rng, TOWNS)[2]}{_between(rng, 10, 999)}，{_pick(rng, TOWNS)[2]}{_between(rng, 10, 999)}。")
    if draft.genre == "财政预决算":
        parts.append(f"{publisher.name}{issued.year}年收入预算{_between(rng, 1000, 90000)}万元，支出预算"
                     f"{_between(rng, 1000, 90000)}万元，其中“三公”经费{_between(rng, 5, 300)}万元，"
                     f"比上年{_pick(rng, ('减少', '持平', '增加'))}。")
    numbers = "一二三四五六"
    for n, heading in enumerate(draft.sections):
        sentences = _SECTIONS[heading]
        chosen = rng.sample(sentences, _between(rng, 2, len(sentences)))
        parts.append(f"{numbers[n]}、{heading}。" + "".join(_fill(s, values) for s in chosen))
    parts.extend(_fill(c, values) for c in rng.sample(_CLOSINGS, 2))
    parts.append(f"{publisher.name}　{issued.year}年{issued.month}月{issued.day}日")
    return "\n".join(parts)


def _validity(rng: random.Random, genre: str, year: int) -> str:
    if genre not in ("规范性文件", "规章", "政策解读", "通知公告"):
        return "有效"
    age = LAST_YEAR - year
    roll = rng.random()
    if roll < 0.03 * age:
        return "失效"
    if roll < 0.045 * age:
        return "废止"
    return "有效"


def documents(seed: int, count: int) -> Iterator[SearchableDocument]:
    """``count`` documents, always the same for the same seed (the first n whatever the count)."""
    rng = random.Random(seed)
    sequences: dict[tuple[str, int], int] = {}
    numbers: dict[tuple[str, int], int] = {}
    weights = [6 if p.code == "PD" else (1 if p.code in _TOWN_PREFIXES else 3) for p in PUBLISHERS]
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    year_weights = [1 + (y - FIRST_YEAR) * 0.15 for y in years]  # more of them each year
    for _ in range(count):
        publisher = rng.choices(PUBLISHERS, weights)[0]
        year = rng.choices(years, year_weights)[0]
        issued = date(year, 1, 1) + timedelta(days=_between(rng, 0, 330 if year == LAST_YEAR else 364))
        published = issued + timedelta(days=_between(rng, 1, 20))
        draft = _draft(rng, publisher, year)
        sequence = sequences[(publisher.code, year)] = sequences.get((publisher.code, year), 0) + 1
        index_number = f"{publisher.code}-{year}-{sequence:05d}"
        document_number = None
        if draft.genre in ("规范性文件", "通知公告", "行政处罚", "行政许可", "人事信息", "计划总结") and rng.random() < 0.8:
            prefix = publisher.prefixes[0] if rng.random() < 0.7 else _pick(rng, publisher.prefixes)
            serial = numbers[(prefix, year)] = numbers.get((prefix, year), 0) + 1
            document_number = f"{prefix}〔{year}〕{serial}号"
        theme = publisher.theme if rng.random() < 0.85 else _pick(rng, _THEME_MIX)
        yield SearchableDocument(
            index_number=index_number, title=draft.title, document_number=document_number,
            department_code=publisher.code, department_name=publisher.name, issued_on=issued, published_on=published,
            theme=theme, genre=draft.genre, validity=_validity(rng, draft.genre, year),
            body_text=_body(rng, publisher, draft, issued), url=f"/disclosure/documents/{index_number}")


_THEME_MIX = ("综合政务", "城乡建设", "民政、扶贫、救灾", "劳动、人事、监察", "财政、金融、审计", "科技",
              "卫生、体育", "交通", "其他")
