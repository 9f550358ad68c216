"""Filler service items for load and latency benchmarks: a district catalogue's other services.

Moved from ``tongban.items.search``; reproducible (same count and seed, same items).
"""

from __future__ import annotations

import random

__all__ = ["generated_items"]


# Other services of a district catalogue, by department: (subject, category, service objects, law).
# Categories: L licence, F filing, R registration, A approval, B benefit, C certification, S service.
_FILLER_SUBJECTS: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    "PD-CGZF": (("户外广告设施设置", "L", ("法人",), "上海市户外广告设施管理办法"),
                ("户外招牌设置", "F", ("法人", "自然人"), "上海市户外招牌设置管理办法"),
                ("景观灯光设施", "A", ("法人",), "上海市景观照明管理办法"),
                ("生活垃圾收运", "L", ("法人",), "上海市生活垃圾管理条例"),
                ("餐厨废弃油脂收运", "F", ("法人",), "上海市餐厨废弃油脂处理管理办法"),
                ("城市绿化树木修剪", "A", ("法人", "自然人"), "上海市绿化条例"),
                ("临时设摊", "A", ("自然人",), "上海市市容环境卫生管理条例")),
    "PD-JSJT": (("建筑业资质", "L", ("法人",), "建筑业企业资质管理规定"),
                ("工程监理资质", "L", ("法人",), "工程监理企业资质管理规定"),
                ("燃气经营", "L", ("法人",), "城镇燃气管理条例"),
                ("城镇污水排入排水管网", "L", ("法人",), "城镇排水与污水处理条例"),
                ("公共停车场经营", "F", ("法人",), "上海市停车场（库）管理办法"),
                ("机动车维修经营", "F", ("法人", "自然人"), "机动车维修管理规定"),
                ("道路货物运输经营", "L", ("法人", "自然人"), "道路运输条例"),
                ("超限运输车辆行驶公路", "A", ("法人", "自然人"), "公路安全保护条例"),
                ("建设工程招标投标", "F", ("法人",), "招标投标法")),
    "PD-STHJ": (("排污", "L", ("法人",), "排污许可管理条例"),
                ("辐射安全", "L", ("法人",), "放射性同位素与射线装置安全和防护条例"),
                ("危险废物经营", "L", ("法人",), "危险废物经营许可证管理办法"),
                ("固体废物跨省转移", "A", ("法人",), "固体废物污染环境防治法"),
                ("突发环境事件应急预案", "F", ("法人",), "突发环境事件应急管理办法"),
                ("社会生活噪声排放", "C", ("法人", "自然人"), "噪声污染防治法")),
    "PD-SCJG": (("计量标准器具核准", "C", ("法人",), "计量法"),
                ("工业产品生产", "L", ("法人",), "工业产品生产许可证管理条例"),
                ("化妆品经营", "F", ("法人", "自然人"), "化妆品监督管理条例"),
                ("检验检测机构资质", "C", ("法人",), "检验检测机构资质认定管理办法"),
                ("动产抵押", "R", ("法人", "自然人"), "动产和权利担保统一登记办法"),
                ("广告发布", "R", ("法人",), "广告法")),
    "PD-WJW": (("放射诊疗", "L", ("法人",), "放射诊疗管理规定"),
               ("母婴保健技术服务", "L", ("法人",), "母婴保健法"),
               ("职业健康检查机构", "F", ("法人",), "职业健康检查管理办法"),
               ("消毒产品生产单位", "L", ("法人",), "消毒管理办法"),
               ("集中式供水单位卫生", "L", ("法人",), "生活饮用水卫生监督管理办法")),
    "PD-RS": (("职业技能等级", "C", ("自然人",), "国家职业资格目录"),
              ("就业见习补贴", "B", ("法人",), "上海市就业见习管理办法"),
              ("专业技术职称", "C", ("自然人",), "职称评审管理暂行规定")),
    "PD-MZ": (("慈善组织公开募捐资格", "C", ("法人",), "慈善法"),
              ("殡葬服务机构", "F", ("法人",), "殡葬管理条例"),
              ("地名命名更名", "A", ("法人",), "地名管理条例"),
              ("高龄老人营养补贴", "B", ("自然人",), "上海市老年人权益保障条例")),
    "PD-GHZY": (("临时建筑", "A", ("法人", "自然人"), "上海市城乡规划条例"),
                ("乡村建设规划", "L", ("自然人", "法人"), "城乡规划法"),
                ("测绘资质", "C", ("法人",), "测绘资质管理办法"),
                ("林木采伐", "L", ("法人", "自然人"), "森林法"),
                ("土地复垦方案", "A", ("法人",), "土地复垦条例"),
                ("地质灾害危险性评估", "F", ("法人",), "地质灾害防治条例")),
    "PD-GA": (("旅馆业特种行业", "L", ("法人",), "旅馆业治安管理办法"),
              ("典当业特种行业", "L", ("法人",), "典当管理办法"),
              ("大型群众性活动安全", "L", ("法人",), "大型群众性活动安全管理条例"),
              ("烟花爆竹零售", "L", ("法人", "自然人"), "烟花爆竹安全管理条例"),
              ("保安服务", "L", ("法人",), "保安服务管理条例"),
              ("易制毒化学品购买", "F", ("法人",), "易制毒化学品管理条例")),
    "PD-FGW": (("政府投资项目建议书", "A", ("法人",), "政府投资条例"),
               ("固定资产投资项目节能审查", "A", ("法人",), "固定资产投资项目节能审查办法"),
               ("价格认定", "S", ("法人", "自然人"), "价格认定规定"),
               ("粮食收购", "F", ("法人",), "粮食流通管理条例")),
    "PD-YB": (("定点医药机构", "C", ("法人",), "医疗保障定点医药机构管理暂行办法"),),
    "PD-GJJ": (("单位缴存比例调整", "A", ("法人",), "住房公积金管理条例"),
               ("单位缓缴", "A", ("法人",), "住房公积金管理条例")),
    "PD-ZJ": (("物业服务", "F", ("法人",), "物业管理条例"),
              ("商品房预售", "L", ("法人",), "城市商品房预售管理办法"),
              ("住宅专项维修资金使用", "A", ("自然人", "法人"), "住宅专项维修资金管理办法")),
    "PD-JY": (("民办学校办学", "L", ("法人",), "民办教育促进法"),
              ("校外培训机构", "L", ("法人",), "校外培训行政处罚暂行办法"),
              ("中小学教师职称", "C", ("自然人",), "中小学教师职称评审办法")),
    "PD-SW": (("契税减免", "A", ("自然人", "法人"), "契税法"),
              ("房产税减免", "A", ("自然人", "法人"), "房产税暂行条例"),
              ("车船税减免", "A", ("自然人", "法人"), "车船税法")),
}
# Per category: (action in the name, item type, result, result kind, keyword, variants of the item).
_FILLER_ACTIONS = {
    "L": ("许可", "行政许可", "许可证", "证照", "许可", ("（新办）", "（变更）", "（延续）", "（补证）", "（注销）")),
    "F": ("备案", "其他行政权力", "备案回执", "登记", "备案", ("", "（变更）", "（注销）")),
    "R": ("登记", "行政确认", "登记证明", "登记", "登记", ("（设立）", "（变更）", "（注销）")),
    "A": ("审批", "行政许可", "审批决定书", "批文", "审批", ("", "（变更）")),
    "B": ("申领", "行政给付", "核定结果", "其他", "补贴", ("", "（续领）")),
    "C": ("认定", "行政确认", "认定结果", "其他", "认定", ("", "（复核）")),
    "S": ("办理", "公共服务", "办理结果", "其他", "服务", ("",)),
}
# Later rounds when more items are asked for than subjects × variants.
_FILLER_ROUNDS = ("", "（告知承诺）", "（容缺受理）", "（跨区通办）", "（一网通办）", "（帮办代办）")
_FILLER_MATERIALS = ("营业执照", "法定代表人身份证件", "经办人身份证件及授权委托书", "场地使用证明",
                     "相关人员资格证明", "管理制度文本", "现场照片", "承诺书")


def generated_items(count: int, seed: int = 7) -> list[dict]:
    """``count`` realistic-looking filler items (for load and latency benchmarks).

    Names combine a service subject of a district catalogue with the action and variant usual for
    it ("燃气经营许可（变更）", "物业服务备案", "养犬登记（注销）"); subjects deliberately avoid those of
    the demo items so fillers do not compete with them. Basic codes start with "9"; every item has
    the keys and shape of a demo item and passes ``content.validate``. The same count and seed
    always give the same items.
    """
    from tongban.demo.district import implementation_prefixes

    prefixes = implementation_prefixes()

    rng = random.Random(seed)
    combinations = [(department, subject, variant)
                    for department, subjects in _FILLER_SUBJECTS.items()
                    for subject in subjects for variant in _FILLER_ACTIONS[subject[1]][5]]
    rng.shuffle(combinations)
    items: list[dict] = []
    for number in range(count):
        department, (subject, category, objects, law), variant = combinations[number % len(combinations)]
        action, kind, result, result_kind, keyword, _variants = _FILLER_ACTIONS[category]
        round_ = _FILLER_ROUNDS[(number // len(combinations)) % len(_FILLER_ROUNDS)]
        extra = number // (len(combinations) * len(_FILLER_ROUNDS))
        name = subject + action + variant + round_ + (f"（{extra + 1}）" if extra else "")
        basic = f"9{number:011d}"
        materials = [{"id": "m1", "name": f"{subject}{action}申请表", "form": "原件", "copies": 1,
                      "required": "required", "when": [], "source": "applicant", "issuer": None,
                      "shared_resource": None, "blank_form": True, "sample": True, "notes": "可在网上下载空白表格"}]
        for k, material in enumerate(rng.sample(_FILLER_MATERIALS, 3), start=2):
            shared = material == "营业执照"
            materials.append({"id": f"m{k}", "name": material, "form": "复印件", "copies": 1,
                              "required": "required", "when": [],
                              "source": "shared_data" if shared else "applicant", "issuer": None,
                              "shared_resource": "legal-entities" if shared else None,
                              "blank_form": False, "sample": False,
                              "notes": "通过法人库共享获取，免提交" if shared else ""})
        statutory = rng.choice((None, 20, 30))
        items.append({
            "basic_code": basic,
            "implementation_code": prefixes[department] + basic,
            "name": name,
            "type": kind,
            "department": department,
            "level": "区级",
            "service_objects": list(objects),
            "legal_basis": [{"law": f"《{law}》", "article": f"第{rng.randint(5, 40)}条",
                             "text": f"{subject}{action}依照本规定办理"}],
            "conditions": [f"申请人具备{subject}相关条件", "符合国家和本市有关标准和规范"],
            "situations": [],
            "materials": materials,
            "steps": ["申请", "受理", "审查", "决定"],
            "statutory_days": statutory,
            "committed_days": None if statutory is None else statutory // 2,
            "fees": [],
            "results": [{"name": f"{subject}{result}", "kind": result_kind, "licence": result_kind == "证照"}],
            "channels": ["网上", "窗口"],
            "online_url": None,
            "address": "浦东新区合欢路201号 浦东新区企业服务中心",
            "hours": "周一至周五 9:00-17:00（法定节假日除外）",
            "phone": "021-12345",
            "online_depth": rng.randint(2, 4),
            "relations": [],
            "keywords": [subject, keyword],
            "colloquial": [f"办{subject}{action}需要什么条件"],
        })
    return items
