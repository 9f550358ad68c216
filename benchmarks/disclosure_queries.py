"""Writes ``disclosure_queries.csv``: citizens' questions about specific generated documents, each
with every document that answers it.

The questions are phrased from the reader's side ("张杨路和崮山路那段修路封到什么时候", "恒达餐饮管理
被罚款了吗", a 文号 typed with the brackets at hand), one phrasing per kind chosen in turn, about
documents picked at even steps through the corpus the benchmark indexes (``--seed``, ``--documents``).
What answers a question is decided from the documents' content — the names in their titles, their
year, genre, department and 文号 — never by running the search. Run again only when the generator
changes (the file is kept in the repository):

    .venv/bin/python benchmarks/disclosure_queries.py [--seed 2026] [--documents 300000]
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tongban.demo import disclosure_corpus as corpus

OUT = Path(__file__).with_name("disclosure_queries.csv")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Doc:
    index_number: str
    title: str
    number: str | None
    department: str
    year: int
    genre: str
    validity: str


def _firm_short(firm: str) -> str:
    return firm.removeprefix("上海").removesuffix("有限公司")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--documents", type=int, default=300_000)
    args = parser.parse_args()
    docs = [Doc(d.index_number, d.title, d.document_number, d.department_code, d.issued_on.year, d.genre, d.validity)
            for d in corpus.documents(args.seed, args.documents)]
    shorts = {p.code: p.short for p in corpus.PUBLISHERS}
    rows: list[dict] = []

    def add(q: str, want: Callable[[Doc], bool], kind: str, filters: str = "") -> None:
        expected = [d.index_number for d in docs if want(d)]
        assert expected, (q, kind)
        rows.append({"q": q, "filters": filters, "kind": kind, "expected": "|".join(expected)})

    def picks(pattern: str, count: int, genre: str | None = None, valid: bool = False) -> list[tuple[Doc, re.Match]]:
        found = [(d, m) for d in docs if (genre is None or d.genre == genre) and (not valid or d.validity == "有效")
                 and (m := re.search(pattern, d.title))]
        step = max(len(found) // count, 1)
        return found[::step][:count]

    # A. 文号, typed the ways people type them.
    numbered = [d for d in docs if d.number]
    forms = ("{p}[{y}]{n}号", "{p}（{y}）{n}号", "{p}{y}年{n}号", "{p}〔{y}〕第{n}号", "{p}［{Y}］{N}号", "{p}({y}){n}号",
             "{p}〔{y}〕{n}号", "{p}{y}年第{n}号")
    for i, d in enumerate(numbered[::len(numbered) // 40][:40]):
        p, y, n = re.fullmatch(r"(.+?)〔(\d{4})〕(\d+)号", d.number).groups()
        typed = forms[i % len(forms)].format(p=p, y=y, n=n, Y=y.translate(FULL_WIDTH), N=n.translate(FULL_WIDTH))
        add(typed, lambda x, want=d.number: x.number == want, "文号")

    # B. Road works and traffic control.
    for i, (d, m) in enumerate(picks(r"关于(.+?路)（(.+?路)至.+?路）道路施工期间实施交通管制", 12)):
        road, other = m.groups()
        control = "交通管治" if i == 4 else "交通管制"  # a typo, as typed
        q = (f"{d.year}年{road}{other}那段修路封路的通知", f"{road}和{other}之间施工{control}是哪天开始",
             f"{other}到{road}道路施工封路")[i % 3]
        add(q, lambda x, r=road, o=other, y=d.year, first=i % 3 == 0: "交通管制" in x.title and r in x.title and o in x.title
            and (not first or x.year == y), "修路封路")
    for i, (_d, m) in enumerate(picks(r"关于(.+?(?:街道|镇|新镇))(.+?路)段(\d+)月封闭施工", 10)):
        town, road, month = m.groups()
        q = (f"{town}{road}{month}月份要封路施工吗", f"{road}{town}段{month}月封闭施工")[i % 2]
        add(q, lambda x, t=town, r=road, mo=month: f"{t}{r}段{mo}月封闭施工" in x.title, "修路封路")
    for i, (_d, m) in enumerate(picks(r"关于(.+?路)(.+?路)路口改建工程", 8)):
        road, other = m.groups()
        q = (f"{road}{other}路口改建期间交通怎么调整", f"{road}{other}路口改建")[i % 2]
        add(q, lambda x, r=road, o=other: f"{r}{o}路口改建" in x.title, "修路封路")

    # C, D. A company's penalty or licence.
    for i, (_d, m) in enumerate(picks(r"(上海.+?有限公司)", 30, genre="行政处罚")):
        firm = m.group(1)
        short = _firm_short(firm)
        q = (f"{short}被罚款了吗", f"{firm}行政处罚", f"{short}的处罚决定书", f"{short}违法被处罚")[i % 4]
        add(q, lambda x, f=firm: x.genre == "行政处罚" and f in x.title, "企业处罚")
    for i, (_d, m) in enumerate(picks(r"准予(上海.+?有限公司)(.+?)的决定", 12, genre="行政许可")):
        firm, what = m.groups()
        q = (f"{_firm_short(firm)}{what}批下来了吗", f"{firm}{what}决定")[i % 2]
        add(q, lambda x, f=firm, w=what: x.genre == "行政许可" and f in x.title and w in x.title, "企业许可")

    # E. Tenders and procurement.
    for _i, (d, m) in enumerate(picks(r"^(?:\d{4}年)?(.+?)(" + "|".join(corpus.PROJECTS) + r")项目(招标公告|中标结果公告|政府采购意向公开)?", 25,
                                     genre="招标采购")):
        place, project = m.group(1), m.group(2)
        kind = "中标" if "中标" in d.title else "采购意向" if "采购意向" in d.title else "招标公告"
        q = {"中标": f"{place}{project}谁中标了", "采购意向": f"{d.year}年{place}{project}采购意向",
             "招标公告": f"{place}{project}项目招标"}[kind]
        add(q, lambda x, pl=place, pr=project, k=kind, y=d.year: x.genre == "招标采购" and f"{pl}{pr}" in x.title and k in x.title
            and (k != "采购意向" or x.year == y), "招标采购")

    # F. People appointed or publicly named.
    for i, (d, m) in enumerate(picks(r"关于(.+?)等同志职务任免|任前公示（(.+?)）", 20, genre="人事信息")):
        person = m.group(1) or m.group(2)
        q = (f"{person}任职的通知", f"{shorts[d.department]}{person}任前公示", f"{person}任免")[i % 3]
        add(q, lambda x, p=person: x.genre == "人事信息" and p in x.title, "人事任免")

    # G. Budgets and final accounts.
    for _i, (d, m) in enumerate(picks(r"(\d{4})年(部门预算|部门决算|“三公”经费预算情况说明)$", 15, genre="财政预决算")):
        year, what = m.groups()
        short = shorts[d.department]
        q = {"部门预算": f"{short}{year}年预算", "部门决算": f"{short}{year}年决算花了多少钱",
             "“三公”经费预算情况说明": f"{short}{year}年三公经费"}[what]
        add(q, lambda x, dep=d.department, y=year, w=what: x.department == dep and f"{y}年{w}" in x.title, "预决算")

    # H. Statistics.
    for i, (d, m) in enumerate(picks(r"^(\d{4})年(\d+)月(.+?)统计数据$", 15, genre="统计信息")):
        year, month, subject = m.groups()
        q = (f"{year}年{month}月{subject}数据", f"{subject}统计 {year}年{month}月")[i % 2]
        add(q, lambda x, t=d.title: x.title == t, "统计数据")

    # I. Rules in force, by year.
    for i, (d, m) in enumerate(picks(r"浦东新区(.+?)(管理办法|实施细则|暂行办法)", 20, genre="规范性文件", valid=True)):
        subject, form = m.groups()
        q = (f"{subject}{form}", f"{subject}的{form}有哪些规定", f"最新的{subject}{form}")[i % 3]
        add(q, lambda x, s=subject, f=form, y=d.year: x.genre == "规范性文件" and f"{s}{f}" in x.title and x.year == y
            and x.validity == "有效", "规范性文件", f"year={d.year};validity=有效")

    # J. Lifts for old blocks of flats.
    for i, (_d, m) in enumerate(picks(r"(.+?)既有多层住宅加装电梯意见征询结果公示", 10)):
        estate = m.group(1)
        q = (f"{estate}加装电梯征询结果", f"{estate}老房子加电梯同意了吗")[i % 2]
        add(q, lambda x, e=estate: f"{e}既有多层住宅加装电梯" in x.title, "加装电梯")

    # K. Subsidies and their standards, in everyday words (and a few typos).
    for i, (_d, m) in enumerate(picks(r"关于(\d{4})年(.+?)申报工作的通知", 20, genre="通知公告")):
        year, subject = m.groups()
        spoken = subject.replace("补贴", "补帖") if i % 5 == 4 else subject  # a typo, as typed
        q = (f"{year}年{spoken}怎么申报", f"{spoken}申报通知{year}年", f"{year}{spoken}申报")[i % 3]
        add(q, lambda x, y=year, s=subject: f"关于{y}年{s}申报工作的通知" == x.title, "申报通知")
    for i, (d, m) in enumerate(picks(r"关于调整(.+?)标准的通知", 10, genre="通知公告")):
        subject = m.group(1)
        q = (f"{subject}标准调整了吗", f"{subject}新标准")[i % 2]
        add(q, lambda x, s=subject: f"关于调整{s}标准的通知" == x.title, "标准调整", f"year={d.year}")
        rows[-1]["expected"] = "|".join(x.index_number for x in docs if x.title == d.title and x.year == d.year)

    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["q", "filters", "kind", "expected"])
        writer.writeheader()
        writer.writerows(rows)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["kind"]] += 1
    print(len(rows), dict(counts))


if __name__ == "__main__":
    main()
