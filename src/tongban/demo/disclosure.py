"""The demo district's proactive-disclosure catalog: two thousand published documents of its
departments (titles, 文号 and bodies from ``disclosure_corpus``, reproducible), and a handful walked through
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

from tongban.core import clock as wall
from tongban.core.config import Settings
from tongban.core.workdays import WorkingCalendar
from tongban.demo import disclosure_corpus
from tongban.demo.district import principal
from tongban.disclosure import documents
from tongban.disclosure.models import DisclosureDocument, DisclosureVersion, IndexSequence
from tongban.disclosure.schemas import (
    GENRE_LABELS, THEME_LABELS, VALIDITY_LABELS, DocumentFields, DocumentStatus, Genre, Openness, ReviewDecision, Theme,
    Validity,
)
from tongban.org import service as org

SEED = 2026
PUBLISHED_COUNT = 2000  # "a few thousand" published before the platform; the benchmark takes 300,000 of the same
DRAFTER, REVIEWER = "gk.drafter", "gk.reviewer"
_THEMES = {label: code for code, label in THEME_LABELS.items()}
_GENRES = {label: code for code, label in GENRE_LABELS.items()}
_VALIDITIES = {label: code for code, label in VALIDITY_LABELS.items()}


def _history(db: Session, today: date) -> None:
    """The catalog's published past, in bulk: the documents of ``disclosure_corpus`` (the generator
    the search benchmark uses) of the departments the district has, published before today."""
    rng = random.Random(SEED)
    departments = org.by_codes(db, {publisher.code for publisher in disclosure_corpus.PUBLISHERS})
    sequences: dict[tuple[int, int], int] = {}
    rows: list[dict[str, Any]] = []
    now = wall.now()
    for generated in disclosure_corpus.documents(SEED, PUBLISHED_COUNT):
        department = departments.get(generated.department_code)
        if department is None or generated.published_on >= today:
            continue
        year = generated.issued_on.year
        key = (department.id, year)
        sequences[key] = max(sequences.get(key, 0), int(generated.index_number.rsplit("-", 1)[1]))
        openness = Openness.ON_REQUEST if rng.random() < 0.04 else Openness.PROACTIVE
        moment = datetime.combine(generated.published_on, time(2, rng.randint(0, 59)), tzinfo=now.tzinfo)
        rows.append({
            "index_number": generated.index_number, "department_id": department.id, "title": generated.title,
            "document_number": generated.document_number, "issued_on": generated.issued_on,
            "published_on": generated.published_on, "theme": _THEMES[generated.theme], "genre": _GENRES[generated.genre],
            "openness": openness.value, "withheld_ground": None, "validity": _VALIDITIES[generated.validity],
            "replaced_by_id": None, "body": generated.body_text, "status": DocumentStatus.PUBLISHED.value, "version": 1,
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
    drafter, reviewer = principal(db, DRAFTER), principal(db, REVIEWER)
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
