"""The tailored notice as a printable A4 PDF.

Chinese text uses the Adobe-GB1 CID font STSong-Light, which every PDF reader carries: nothing to
download or embed, and the text stays extractable (a reader can search and copy it).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table

from tongban.core import clock, pdf
from tongban.core.pdf import HEADING, SMALL, TITLE

_SUBTITLE = pdf.SUBTITLE.clone("notice-subtitle", fontSize=12, leading=18)
_p = pdf.paragraph


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    return pdf.table(rows, widths, cell=pdf.CELL, header="#f1e7e7")


def _source(material: dict) -> str:
    if material["exempt"]:
        return f"免提交：由平台从{material['shared_data']}共享获取"
    if material["source"] == "issuing_department":
        return f"由{material['issuer']}出具"
    return "申请人自备"


def render(notice: dict[str, Any]) -> bytes:
    item = notice["item"]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=f"{item['name']} 办事告知单 {notice['number']}",
                                 author=item["department_name"], subject="智能告知单")
    story: list[Any] = [
        _p("办事告知单", TITLE),
        _p(item["name"], _SUBTITLE),
        Spacer(1, 4),
        _p(f"告知单编号：{notice['number']}　　出具时间：{clock.beijing_text(datetime.fromisoformat(notice['issued_at']))}（北京时间）　　"
           f"事项编码：{item['implementation_code']}（第 {item['version']} 版）", SMALL),
        _p(f"实施部门：{item['department_name']}　　事项类型：{item['type']}　　"
           f"服务对象：{'、'.join(item['service_objects'])}", SMALL),
    ]
    if notice["situation"]:
        story.append(_p("您的情形", HEADING))
        story.extend(_p(f"{a['question']}　{a['answer']}") for a in notice["situation"])

    story.append(_p(f"申请材料（共 {len(notice['materials'])} 项，其中免提交 {notice['exempt_count']} 项）", HEADING))
    rows = [["序号", "材料名称", "形式及份数", "来源", "说明"]]
    for number, material in enumerate(notice["materials"], 1):
        form = f"{material['form']} {material['copies']} 份" if material["copies"] else material["form"]
        name = material["name"] + ("（免提交）" if material["exempt"] else "")
        rows.append([str(number), name, form, _source(material), material["notes"] or ""])
    story.append(_table(rows, [10 * mm, 52 * mm, 24 * mm, 40 * mm, 48 * mm]))

    if notice["prerequisites"]:
        story.append(_p("请按以下顺序先办理前置事项", HEADING))
        rows = [["顺序", "事项", "办理部门", "地址及电话", "时限"]]
        for number, other in enumerate(notice["prerequisites"], 1):
            rows.append([str(number), other["name"], other["department_name"],
                         f"{other['address']}\n电话：{other['phone']}", other["committed_days"] or "—"])
        story.append(_table(rows, [10 * mm, 46 * mm, 34 * mm, 62 * mm, 22 * mm]))
    if notice["parallel"]:
        story.append(_p("可同时办理（并联）", HEADING))
        story.extend(_p(f"{o['name']}（{o['department_name']}，{o['address']}）") for o in notice["parallel"])

    story.append(_p("办理时限与收费", HEADING))
    story.append(_p(f"法定办结时限：{notice['statutory_days'] or '无'}；承诺办结时限：{notice['committed_days'] or '无'}"
                    "（按工作日计算，法定节假日除外）"))
    fees = "；".join(f"{f['name']} {f['amount']}（依据：{f['basis']}）" for f in notice["fees"]) or "不收费"
    story.append(_p(f"收费：{fees}"))
    if notice["results"]:
        story.append(_p("办理结果：" + "、".join(r["name"] for r in notice["results"])))

    story.append(_p("受理条件", HEADING))
    story.extend(_p(f"{n}. {c}") for n, c in enumerate(notice["conditions"], 1))
    story.append(_p("办理流程", HEADING))
    story.append(_p(" → ".join(notice["steps"])))
    story.append(_p("办理地点与方式", HEADING))
    story.append(_p(f"地址：{item['address']}"))
    story.append(_p(f"时间：{item['hours']}　　咨询电话：{item['phone']}"))
    story.append(_p(f"办理渠道：{'、'.join(item['channels'])}　　网上办理：{item['online_url']}"))
    story.append(_p("设定依据", HEADING))
    story.extend(_p(f"{b['law']}{b['article']}：{b['text']}", SMALL) for b in notice["legal_basis"])
    story.append(Spacer(1, 8))
    story.append(_p(f"本告知单根据您选择的情形生成，凭编号 {notice['number']} 可在门户网站重新打开。"
                    "材料以受理时的告知为准；标注免提交的材料由平台通过数据共享获取，无需提供。", SMALL))

    pdf.build(document, story, lambda page: f"告知单编号 {notice['number']}　第 {page} 页")
    return buffer.getvalue()
