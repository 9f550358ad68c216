"""热线分析: how long the analysis of a period takes over many tickets (``hotline.analysis.analyse``).

A fresh migrated database with the demo government (SQLite file, or a PostgreSQL schema with
``--database-url``), then ``--tickets`` synthetic tickets (a grid case of source hotline, its
``hotline_tickets`` row, a dispatch and a reply in the trail, a follow-up grade) inserted in bulk,
not timed: spread over ``--weeks`` Beijing weeks, 40 categories, the demo's departments, 60 % in
the demo's cells (the rest located outside the grid or not located), callers drawn so that some
ring several times. Then ``analyse`` of those weeks ``--repeat`` times: p50 and max in ms.
Baseline in the same run: one ``SELECT count(*)`` of the period's tickets (a single scan of the
same rows); ``ratio_p50`` = analysis / baseline.

Prints one JSON line (the load average at start included).

    .venv/bin/python benchmarks/hotline_analysis.py [--tickets 50000] [--weeks 12] [--repeat 5]
        [--database-url postgresql://...] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import engine_name, fresh_database, workdir

from tongban.core import clock
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.grid.models import CaseEvent, GridCase, GridCell
from tongban.hotline import analysis
from tongban.hotline.models import HotlineTicket
from tongban.org.models import Department

GRADES = ["very_satisfied", "satisfied", "satisfied", "basically", "dissatisfied"]


def seed(db, *, tickets: int, weeks: int, first: date, rng: random.Random) -> None:
    departments = list(db.scalars(select(Department.id)))
    cells = list(db.execute(select(GridCell.code, GridCell.street_code, GridCell.min_lon, GridCell.min_lat)
                            .where(GridCell.current.is_(True))))
    start = datetime.combine(first, datetime.min.time(), clock.BEIJING)
    categories = [f"H-RS{i:02d}" for i in range(1, 41)]
    cases, rows, events = [], [], []
    for i in range(1, tickets + 1):
        at = start + timedelta(minutes=rng.randrange(weeks * 7 * 24 * 60))
        department = rng.choice(departments)
        where = rng.random()
        if where < 0.6 and cells:
            code, street, lon, lat = rng.choice(cells)
            lon, lat = lon + 0.0005, lat + 0.0005
        elif where < 0.8:
            code = street = None
            lon, lat = 121.44 + rng.random() * 0.02, 30.86 + rng.random() * 0.02
        else:
            code = street = lon = lat = None
        number = f"RX-B{i:08d}"
        cases.append({"number": number, "source": "hotline", "category_kind": "hotline", "category_code": "x",
                      "category_name": f"分类{i % 40}", "urgent": False, "lon": lon, "lat": lat, "description": "来电",
                      "cell_code": code, "street_code": street, "status": "closed", "department_id": department,
                      "duplicates": 0, "returns": 0, "reworks": 0, "created_at": at, "updated_at": at, "version": 1})
    db.execute(insert(GridCase.__table__), cases)
    ids = dict(db.execute(select(GridCase.number, GridCase.id).where(GridCase.number.like("RX-B%"))).all())
    for case in cases:
        case_id, at = ids[case["number"]], case["created_at"]
        rows.append({"case_id": case_id, "caller_phone": f"139{rng.randrange(tickets // 2):08d}", "said": "来电", "summary": "来电",
                     "category_code": rng.choice(categories), "outcome": "dispatched", "agent_account": "hotline", "urges": 0,
                     "reopens": 0, "created_at": at, "satisfaction": rng.choice(GRADES), "solved": rng.random() < 0.8,
                     "followed_up_at": at + timedelta(days=3)})
        for action, status, later, on_time in (("dispatch", "dispatched", 0, None), ("handle", "handled", 2, rng.random() < 0.9)):
            events.append({"case_id": case_id, "action": action, "status": status, "actor_name": "演示", "on_time": on_time,
                           "department_id": case["department_id"], "at": at + timedelta(days=later)})
    db.execute(insert(HotlineTicket.__table__), rows)
    db.execute(insert(CaseEvent.__table__), events)
    db.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rng = random.Random(args.seed)
    first = date(2026, 9, 7)  # a Monday
    last = first + timedelta(weeks=args.weeks, days=-1)
    with fresh_database(args.database_url, workdir()) as settings:
        engine = make_engine(settings)
        with make_sessionmaker(engine)() as db:
            seed(db, tickets=args.tickets, weeks=args.weeks, first=first, rng=rng)
            clock.set_clock(clock.FixedClock(last + timedelta(days=1)))
            since, until = (datetime.combine(day, datetime.min.time(), clock.BEIJING) for day in (first, last + timedelta(days=1)))
            timings, baselines = [], []
            result = None
            for _ in range(args.repeat):
                started = time.perf_counter()
                db.scalar(select(func.count()).select_from(HotlineTicket)
                          .where(HotlineTicket.created_at >= since, HotlineTicket.created_at < until))
                baselines.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                result = analysis.analyse(db, first, last)
                timings.append((time.perf_counter() - started) * 1000)
                db.rollback()
        engine.dispose()
    assert result is not None and result.total == args.tickets, result and result.total
    p50, base = statistics.median(timings), statistics.median(baselines)
    print(json.dumps({"benchmark": "hotline_analysis", "engine": engine_name(settings), "tickets": args.tickets,
                      "weeks": args.weeks, "analysis_p50_ms": round(p50, 1), "analysis_max_ms": round(max(timings), 1),
                      "baseline_count_p50_ms": round(base, 1), "ratio_p50": round(p50 / base, 1) if base else None,
                      "repeat_callers": len(result.repeat_callers), "repeat_places": len(result.repeat_places),
                      "departments": len(result.departments), "load_average": round(load, 2)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
