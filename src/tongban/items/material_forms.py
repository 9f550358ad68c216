"""The blank form (空白表格) and filled-in sample (样表) of a material an item marks as having
them: a printable PDF headed by the item and the material, with the lines the applicant fills in
(the one form's fields of the item's applicant) and, on the sample, how they are filled."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from tongban.core import pdf

# What the applicant writes on a form, by who applies; the sample shows a made-up applicant.
LINES = {
    "自然人": (("申请人姓名", "张三（示例）"), ("身份证号", "310115199001011234"), ("联系电话", "13800000000"),
            ("联系地址", "上海市浦东新区示例路 1 号"), ("申请事项说明", "按本事项办理要求如实填写"),
            ("申请人签字", "张三"), ("日期", "2026 年 1 月 5 日")),
    "法人": (("单位名称", "上海示例科技有限公司"), ("统一社会信用代码", "91310115MA1FL0000X"),
           ("法定代表人", "李四（示例）"), ("联系电话", "021-00000000"), ("申请事项说明", "按本事项办理要求如实填写"),
           ("单位盖章", "（盖章）"), ("日期", "2026 年 1 月 5 日")),
}


def render(item: dict, material: dict, *, sample: bool) -> bytes:
    title = ParagraphStyle("title", fontName=pdf.FONT, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("body", fontName=pdf.FONT, fontSize=10.5, leading=16)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                 topMargin=20 * mm, bottomMargin=20 * mm, title=material["name"])
    kind = item["service_objects"][0] if item["service_objects"] else "自然人"
    rows = [["项目", "填写内容"]] + [[label, example if sample else ""] for label, example in LINES.get(kind, LINES["自然人"])]
    story = [pdf.paragraph(material["name"] + ("（样表）" if sample else ""), title), Spacer(1, 6 * mm),
             pdf.paragraph(f"办理事项：{item['name']}（事项编码 {item['basic_code']}）", body),
             pdf.paragraph(f"材料形式：{material['form']}，{material['copies']} 份", body)]
    if material["notes"]:
        story.append(pdf.paragraph(f"填写说明：{material['notes']}", body))
    story += [Spacer(1, 4 * mm), pdf.table(rows, [45 * mm, 125 * mm], cell=body, header="#eeeeee")]
    if sample:
        story += [Spacer(1, 4 * mm), pdf.paragraph("本样表仅示范填写方式，所列信息均为虚构。", body)]
    pdf.build(document, story, lambda page: f"{item['name']} · {material['name']} · 第 {page} 页")
    return buffer.getvalue()
