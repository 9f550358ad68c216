"""The annual report from a year of requests built here, every figure worked out by hand below; the
page, the XLSX and the PDF say the same."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date

from helpers import assert_problem
from openpyxl import load_workbook

from disclosure.requests.conftest import GH, OFFICER, OTHER_OFFICER, ZJ, credit_code, pdf_text, resident_id
from tongban import demo
from tongban.disclosure.requests import report as reports
from tongban.org import service as org

API = "/api/v1/disclosure"
PERSON = resident_id(1)
#  自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计


def _post(client, headers, path: str, body: dict) -> dict:
    response = client.post(f"{API}{path}", headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


class Year:
    """Requests filed and worked on chosen days."""

    def __init__(self, client, as_role, clock) -> None:
        self.client, self.as_role, self.clock = client, as_role, clock

    def on(self, day: date) -> Year:
        self.clock.set(day)
        return self

    def online(self, description: str, department: str = GH) -> str:
        return _post(self.client, self.as_role(demo.CITIZEN.username), "/requests",
                     {"department": department, "description": description})["number"]

    def letter(self, category: str, description: str, *, seed: int = 0, officer: str = OFFICER,
               department: str = GH) -> str:
        applicant = PERSON if category == "natural" else credit_code(seed)
        return _post(self.client, self.as_role(officer), "/requests", {
            "department": department, "channel": "letter", "applicant_name": "来信人", "applicant_category": category,
            "applicant_id": applicant, "description": description, "delivery": "post"})["number"]

    def reply(self, number: str, reply_type: str, officer: str = OFFICER, **body) -> None:
        _post(self.client, self.as_role(officer), f"/requests/{number}/reply", {"reply_type": reply_type, **body})

    def act(self, number: str, action: str, body: dict, officer: str = OFFICER) -> None:
        _post(self.client, self.as_role(officer), f"/requests/{number}/{action}", body)


def build_the_year(client, as_role, clock) -> None:
    y = Year(client, as_role, clock)
    a = y.on(date(2024, 12, 16)).online("2024年某小区旧改征收方案")  # carried over into 2025
    b = y.on(date(2024, 12, 2)).letter("commercial", "2024年某地块出让合同", seed=2)
    y.on(date(2024, 12, 20)).reply(b, "disclosed", content="合同全文")  # concluded in 2024: not in 2025's report
    y.on(date(2025, 1, 6)).reply(a, "disclosed", content="征收方案全文")
    c = y.on(date(2025, 3, 3)).letter("natural", "某路拓宽工程的规划许可证")
    d = y.letter("research", "某军事设施周边规划图", seed=4)
    y.on(date(2025, 3, 10)).reply(c, "partial", content="许可证正文", withheld="内部审查意见", ground="deliberative")
    y.on(date(2025, 3, 12)).reply(d, "withheld", ground="state_secret")
    e = y.on(date(2025, 4, 1)).letter("public_interest", "某企业排污许可中的工艺参数", seed=5)
    f = y.letter("legal_service", "1990年某村土地征用批文", seed=6)
    g = y.letter("other", "上海市国土空间总体规划审批过程文件", seed=7)
    y.act(d, "remedies", {"kind": "review", "result": "corrected", "filed_on": "2025-04-01"})
    y.reply(e, "withheld", ground="third_party")
    y.reply(f, "not_exist")
    y.reply(g, "not_ours", organ_name="上海市规划和自然资源局", organ_contact="021-23111111")
    y.on(date(2025, 4, 10)).act(c, "remedies", {"kind": "review", "result": "upheld", "filed_on": "2025-04-10"})
    h = y.on(date(2025, 5, 6)).letter("commercial", "全区近十年规划调整的统计分析", seed=8)
    i = y.online("举报某工地夜间违规施工")
    j = y.letter("natural", "某路拓宽工程的规划许可证。")  # the same person, the same information as c
    y.reply(h, "needs_creation")
    y.reply(i, "not_processed", ground="petition")
    y.reply(j, "repeat")
    y.act(e, "remedies", {"kind": "lawsuit", "result": "pending", "filed_on": "2025-05-01"})
    k = y.on(date(2025, 6, 2)).online("那份文件")
    l_ = y.letter("commercial", "某公司名下不动产登记簿", seed=9)
    y.on(date(2025, 6, 3)).act(k, "correction-notice", {"items": "请写明文件名称", "days": 15})  # due 24 June
    y.reply(l_, "special_law", content="请依照《不动产登记暂行条例》到不动产登记中心查询")
    y.on(date(2025, 6, 30)).act(k, "abandonment", {})
    o = y.on(date(2025, 7, 1)).letter("other", "2025年区级部门预算", seed=10)
    p = y.letter("research", "区政府公报2024年合订本", seed=11)
    y.reply(o, "already_public", content="区政府网站“财政预决算”栏目")
    y.reply(p, "not_processed", ground="publication")
    q = y.on(date(2025, 8, 4)).online("本街道2025年住房保障对象公示名单", department=ZJ)
    y.reply(q, "disclosed", officer=OTHER_OFFICER, content="公示名单")
    r = y.on(date(2025, 9, 1)).letter("commercial", "某地块控制性详细规划", seed=12, officer=OTHER_OFFICER, department=ZJ)
    y.on(date(2025, 9, 2)).act(r, "transfer", {"department": GH, "note": "规划由规划资源局负责公开"}, officer=OTHER_OFFICER)
    y.on(date(2025, 9, 10)).reply(r, "disclosed", content="控规图则")
    y.on(date(2025, 12, 22)).online("2025年第四季度建设用地供应计划")  # m: open at the year's end
    n = y.on(date(2025, 12, 29)).letter("commercial", "某产业园区规划环评批复", seed=13)
    y.on(date(2026, 1, 5)).reply(n, "disclosed", content="批复全文")  # concluded next year
    y.on(date(2026, 1, 15)).act(c, "remedies", {"kind": "lawsuit_after_review", "result": "upheld",
                                                "filed_on": "2026-01-15"})  # brought in 2026: not in 2025's table


# Worked out from the year above, column by column: 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计.
EXPECTED_GH = {
    "一、本年新收政府信息公开申请数量": [5, 4, 2, 1, 1, 2, 15],  # c i j k m | h l n r | d p | e | f | g o
    "二、上年结转政府信息公开申请数量": [1, 0, 0, 0, 0, 0, 1],  # a (b was concluded in 2024)
    "（一）予以公开": [1, 1, 0, 0, 0, 1, 3],  # a | r | o (already published)
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）": [1, 0, 0, 0, 0, 0, 1],  # c
    "（三）不予公开": [0, 1, 1, 1, 0, 0, 3],
    "1.属于国家秘密": [0, 0, 1, 0, 0, 0, 1],  # d
    "2.其他法律行政法规禁止公开": [0] * 7,
    "3.危及“三安全一稳定”": [0] * 7,
    "4.保护第三方合法权益": [0, 0, 0, 1, 0, 0, 1],  # e
    "5.属于三类内部事务信息": [0] * 7,
    "6.属于四类过程性信息": [0] * 7,  # c's withheld part counts as 部分公开 only
    "7.属于行政执法案卷": [0] * 7,
    "8.属于行政查询事项": [0, 1, 0, 0, 0, 0, 1],  # l
    "（四）无法提供": [0, 1, 0, 0, 1, 1, 3],
    "1.本机关不掌握相关政府信息": [0, 0, 0, 0, 1, 1, 2],  # f (not exist) | g (not ours)
    "2.没有现成信息需要另行制作": [0, 1, 0, 0, 0, 0, 1],  # h
    "3.补正后申请内容仍不明确": [0] * 7,
    "（五）不予处理": [2, 0, 1, 0, 0, 0, 3],
    "1.信访举报投诉类申请": [1, 0, 0, 0, 0, 0, 1],  # i
    "2.重复申请": [1, 0, 0, 0, 0, 0, 1],  # j
    "3.要求提供公开出版物": [0, 0, 1, 0, 0, 0, 1],  # p
    "4.无正当理由大量反复申请": [0] * 7,
    "5.要求行政机关确认或重新出具已获取信息": [0] * 7,
    "（六）其他处理": [1, 0, 0, 0, 0, 0, 1],
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请": [1, 0, 0, 0, 0, 0, 1],  # k
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请": [0] * 7,
    "3.其他": [0] * 7,
    "（七）总计": [5, 3, 2, 1, 1, 2, 14],
    "四、结转下年度继续办理": [1, 1, 0, 0, 0, 0, 2],  # m | n
}
# 行政复议: 维持 c, 纠正 d; 直接起诉: e 尚未审结; 复议后起诉: c's was brought in 2026.
EXPECTED_REMEDIES_GH = [1, 1, 0, 0, 2, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def rows_of(table: dict) -> dict[str, list[int]]:
    return {row["label"]: row["values"] for row in table["rows"] if row["values"]}


def page_rows(text: str) -> list[dict[str, list[int]]]:
    tables = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", text, re.S):
        rows = {}
        for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
            values = [int(v) for v in re.findall(r"<td>(\d+)</td>", cells)]
            if values:
                rows[html.unescape(label).strip("　 ")] = values
        tables.append(rows)
    return tables


def xlsx_rows(content: bytes) -> dict[str, list[int]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return {str(row[0]).strip("　 "): [v for v in row[1:] if v is not None] for row in sheet.iter_rows(values_only=True)
            if row and row[0] and len(row) > 1 and all(isinstance(v, int) for v in row[1:] if v is not None)
            and any(v is not None for v in row[1:])}


def test_the_annual_report_from_a_year_of_requests(client, as_role, db, fixed_clock):
    build_the_year(client, as_role, fixed_clock)

    fixed_clock.set(date(2025, 12, 31))  # the year still running: only the office previews it
    client.cookies.clear()
    assert_problem(client.get(f"{API}/reports/2025", params={"department": GH}), 403, "permission-denied")
    assert client.get(f"{API}/reports/2025", params={"department": GH}, headers=as_role(OFFICER)).status_code == 200
    assert_problem(client.get(f"{API}/reports/2025", params={"department": GH}, headers=as_role(OTHER_OFFICER)),
                   403, "permission-denied")

    fixed_clock.set(date(2026, 1, 20))  # published by 31 January: public
    report = client.get(f"{API}/reports/2025", params={"department": GH})
    assert report.status_code == 200, report.text
    found = report.json()
    assert found["due_on"] == "2026-01-31" and found["scope_name"] == "浦东新区规划和自然资源局"
    proactive, requests_, remedies = found["tables"]
    assert requests_["columns"] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    assert rows_of(requests_) == EXPECTED_GH
    assert rows_of(remedies) == {"件数": EXPECTED_REMEDIES_GH}
    # Every column reconciles: new + carried = concluded + carried forward.
    for column in range(7):
        assert (EXPECTED_GH["一、本年新收政府信息公开申请数量"][column] + EXPECTED_GH["二、上年结转政府信息公开申请数量"][column]
                == EXPECTED_GH["（七）总计"][column] + EXPECTED_GH["四、结转下年度继续办理"][column])

    district = client.get(f"{API}/reports/2025").json()
    district_rows = rows_of(district["tables"][1])
    assert district_rows["一、本年新收政府信息公开申请数量"] == [6, 4, 2, 1, 1, 2, 16]  # + q at 住房保障局
    assert district_rows["（一）予以公开"] == [2, 1, 0, 0, 0, 1, 4]
    assert district_rows["（七）总计"] == [6, 3, 2, 1, 1, 2, 15]
    zj = rows_of(client.get(f"{API}/reports/2025", params={"department": ZJ}).json()["tables"][1])
    assert zj["一、本年新收政府信息公开申请数量"] == [1, 0, 0, 0, 0, 0, 1]  # r counts where it was transferred to

    # The page, the XLSX and the PDF say the same.
    page = client.get("/disclosure/reports", params={"year": 2025, "department": GH})
    assert page.status_code == 200 and "2026年1月31日" in page.text
    shown = page_rows(page.text)
    assert shown[1] == EXPECTED_GH and shown[2] == {"件数": EXPECTED_REMEDIES_GH}
    workbook = client.get(f"{API}/reports/2025/xlsx", params={"department": GH})
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    cells = xlsx_rows(workbook.content)
    assert {label: cells[label] for label in EXPECTED_GH} == EXPECTED_GH and cells["件数"] == EXPECTED_REMEDIES_GH
    printed = client.get(f"{API}/reports/2025/pdf", params={"department": GH})
    compact = re.sub(r"\s+", "", pdf_text(printed.content))
    assert "浦东新区规划和自然资源局2025年政府信息公开工作年度报告" in compact and "2026年1月31日" in compact
    for label, values in EXPECTED_GH.items():
        assert re.sub(r"\s+", "", label) + "".join(map(str, values)) in compact, label
    assert "件数" + "".join(map(str, EXPECTED_REMEDIES_GH)) in compact


@dataclass
class Figures:
    """The catalog's figures of a year (what ``disclosure.service.proactive_figures`` answers)."""

    published_total: int = 128
    in_force_total: int = 117
    by_genre: dict[str, int] = field(default_factory=lambda: {"规范性文件": 12, "通知公告": 96, "统计信息": 20})


def test_the_proactive_table_takes_the_catalogs_figures(db, fixed_clock):
    fixed_clock.set(date(2026, 1, 20))
    department = org.get_by_code(db, GH)
    report = reports.build(db, year=2025, department=department, proactive=Figures())
    db.rollback()
    proactive = {row.label: row.values for row in report.tables[0].rows}
    assert proactive == {"本年主动公开政府信息": [128], "其中现行有效": [117], "规范性文件": [12], "统计信息": [20],
                         "通知公告": [96]}
    cells = xlsx_rows(reports.xlsx(report))
    assert cells["本年主动公开政府信息"] == [128] and cells["通知公告"] == [96]
    compact = re.sub(r"\s+", "", pdf_text(reports.pdf_bytes(report)))
    assert "本年主动公开政府信息128" in compact and "其中现行有效117" in compact and "规范性文件12" in compact
