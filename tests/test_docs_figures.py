"""The figures the README and the tour quote are what a fresh demo loads (issue 25, finding 12).

Each figure is read out of the text, so editing the demo without the docs (or the docs without
the demo) fails here, naming the figure.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tongban.core.workdays import WorkingCalendar
from tongban.demo.registries import DEMO_ADDRESSES, DEMO_ENTERPRISES, DEMO_PEOPLE
from tongban.items import content
from tongban.items import service as items
from tongban.org.models import Department
from tongban.org.schemas import Level

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOUR = (ROOT / "docs" / "tour.md").read_text(encoding="utf-8")
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
         "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16}
ROAD_DIGGING = "000115010000"


def _number(text: str, pattern: str) -> int:
    found = re.search(pattern.replace(" ", r"\s+"), text)  # a figure may sit across a line break
    assert found, f"the docs no longer say {pattern!r}: update this test with them"
    raw = found.group(1).replace(",", "")
    return WORDS[raw] if raw in WORDS else int(raw)


def test_the_docs_quote_the_demo_districts_figures(fresh_database):
    with fresh_database.sessionmaker()() as db:
        district = db.scalar(select(Department).where(Department.level == Level.DISTRICT, Department.parent_id.is_not(None),
                                                      Department.code == "PD"))
        counts = dict(db.execute(select(Department.level, func.count()).group_by(Department.level)).all())
        departments = db.scalar(select(func.count()).select_from(Department).where(
            Department.parent_id == district.id, Department.level == Level.DISTRICT))
        published = items.published_items(db)
        road = published[ROAD_DIGGING]
        deadline = WorkingCalendar.load(db).add_working_days(date(2025, 9, 30), 3)

    assert _number(README, r"with (\d+) departments") == departments
    assert _number(TOUR, r"(\d+) district departments") == departments
    assert _number(TOUR, r"(\w+) streets and towns") == counts[Level.TOWN]
    assert _number(TOUR, r"(\w+) neighbourhood/village committees") == counts[Level.VILLAGE]
    for text in (README, TOUR):
        assert _number(text, r"(\d[\d,]*) people") == DEMO_PEOPLE
        assert _number(text, r"(\d[\d,]*) enterprises") == DEMO_ENTERPRISES
        assert _number(text, r"(\d[\d,]*)\s+(?:standard\s+)?addresses") == DEMO_ADDRESSES
    assert _number(TOUR, r"道路挖掘（占用）许可\*\* \((\d+) sub-cases\)") == len(content.leaf_paths(road))
    assert _number(TOUR, r"the (\w+) prerequisite items") == len(content.prerequisite_order(list(published.values()), ROAD_DIGGING))
    asked = sorted({len(path) for path in content.leaf_paths(road)})  # questions from the first to the notice
    assert (_number(TOUR, r"(\w+) to \w+ questions"), _number(TOUR, r"\w+ to (\w+) questions")) == (asked[0], asked[-1])
    steps = re.findall(r"^(\d+)\. ", TOUR.split("## The tour", 1)[1], flags=re.MULTILINE)
    assert _number(README, r"long tour, (\w+) steps") == len(steps) == int(steps[-1])
    assert "2025-09-30, 3 working days → 2025-10-11" in TOUR and "2025-09-30 + 3 working days →\n   2025-10-11" in README
    assert deadline.due == date(2025, 10, 11)


def test_the_readme_stays_a_newcomers_page():
    # issue 24: what it is, the two commands, the accounts, a short tour, where the rest lives — under 12 KB
    size = len(README.encode("utf-8"))
    assert size < 12 * 1024, f"README.md is {size:,} bytes: move detail to docs/ (limit 12 KB)"
    for heading in ("## Two commands", "## Demo accounts", "## A short tour", "## Where the rest lives"):
        assert heading in README
