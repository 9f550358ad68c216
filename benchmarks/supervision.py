"""The warning scan of 电子监察 over N clocks, and one month's evaluation of every department.

Loads N clocks (not timed) by bulk insert (COPY on PostgreSQL): a month of work started from
2026-09-30 to 2026-10-30 across the district's departments and every kind, the National Day
week inside it; about three quarters closed (most on time), the rest open or paused (applicants
supplementing), none warned yet. Then, for 2026-10-30, times:

- ``scan_seconds``: the scan as the server runs it, including the warnings it raises and their
  notifications (owner or department; for red also the department heads and the inspectors) —
  the first scan over that backlog, the worst case;
- ``rescan_seconds``: the same scan again, raising nothing (what every later run of the day does);
- ``evaluation_seconds``: October 2026's evaluation of every department computed from the clocks
  (and ratings, warnings) and stored, one row per department, as an inspector's 生成评估 does;
  run twice, and the second run must give the same figures (``reevaluation_seconds``).

Prints one JSON line: engine, clocks, open, warnings_raised, notifications, scan_seconds,
rescan_seconds, departments_evaluated, evaluation_seconds, reevaluation_seconds.

    .venv/bin/python benchmarks/supervision.py [--clocks 1000000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, workdir

from tongban.core.db.bulk import bulk_insert

from tongban.core.clock import now as utcnow

from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.workdays import WorkingCalendar
from tongban.org.models import Department
from tongban.supervision import evaluation, service
from tongban.supervision.clocks import warning_days
from tongban.supervision.models import ClockKind, SupervisionClock

TODAY = date(2026, 10, 30)
FIRST = date(2026, 9, 30)
MONTH = (date(2026, 10, 1), date(2026, 10, 31))  # the period evaluated
SEED = 2026
CHUNK = 20_000
# kind: (share of the clocks, the limits in working days its work comes with)
KINDS = {
    ClockKind.TASK: (0.40, (1, 2, 3, 5, 10)),
    ClockKind.ACCEPTANCE: (0.15, (5,)),
    ClockKind.APPLICATION: (0.15, (1, 3, 5, 10, 15, 20)),
    ClockKind.CORRECTION: (0.10, (5,)),
    ClockKind.CONSULTATION: (0.10, (3,)),
    ClockKind.SHARING_REQUEST: (0.05, (10,)),
    ClockKind.RECTIFICATION: (0.05, (10, 15)),
}


def _clocks(count: int, departments: list[int], calendar: WorkingCalendar):
    """Rows of clocks as the modules would have left them; yields lists of CHUNK dicts."""
    rng = random.Random(SEED)
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    span = (TODAY - FIRST).days
    deadlines: dict[tuple[date, int], date] = {}
    marks: dict[tuple[date, date], tuple[date, date]] = {}
    between: dict[tuple[date, date], int] = {}

    def due(start: date, days: int) -> date:
        if (start, days) not in deadlines:
            deadlines[start, days] = calendar.add_working_days(start, days).due
        return deadlines[start, days]

    def used(start: date, end: date) -> int:
        if (start, end) not in between:
            between[start, end] = calendar.working_days_between(start, end)
        return between[start, end]

    created = utcnow()
    chunk = []
    for number in range(count):
        kind = rng.choices(kinds, weights)[0]
        limit = rng.choice(KINDS[kind][1])
        started = FIRST + timedelta(days=rng.randrange(span + 1))
        paused_days = rng.choice((1, 2, 3, 5)) if kind == ClockKind.APPLICATION and rng.random() < 0.2 else 0
        due_on = due(started, limit + paused_days)
        if (started, due_on) not in marks:
            marks[started, due_on] = warning_days(calendar, started, due_on, 2, 0)
        yellow_on, red_on = marks[started, due_on]
        # Most work ends within its limit; one in eight runs late, by up to its limit again.
        factor = rng.uniform(0.2, 1.0) if rng.random() < 0.875 else rng.uniform(1.05, 2.0)
        finished = due(started, max(round(limit * factor), 0) + paused_days)
        row = {"kind": kind.value, "subject_ref": f"B{number}", "title": f"基准测试计时 {number}",
               "link": None, "department_id": rng.choice(departments),
               "owner_account": str(rng.randrange(1, 5000)) if kind == ClockKind.TASK and rng.random() < 0.7 else None,
               "started_on": started, "limit_days": limit, "paused_since": None, "paused_days": paused_days,
               "pause_count": 1 if paused_days else 0, "due_on": due_on, "provisional": False, "yellow_on": yellow_on,
               "red_on": red_on, "status": "closed", "level": "none", "closed_on": None,
               "outcome": None, "on_time": None, "used_days": None, "created_at": created}
        if finished < TODAY:
            row.update(closed_on=finished, outcome="done", on_time=finished <= due_on,
                       used_days=max(used(started, finished) - paused_days, 0))
        elif kind == ClockKind.APPLICATION and rng.random() < 0.1:
            row.update(status="paused", paused_since=TODAY - timedelta(days=rng.randrange(1, 4)), pause_count=1)
        else:
            row["status"] = "open"
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            engine = make_engine(settings)
            sessions = make_sessionmaker(engine)
            with sessions() as db:
                departments = list(db.scalars(select(Department.id).where(Department.level == "district")))
                calendar = WorkingCalendar.load(db)
                for rows in _clocks(args.clocks, departments, calendar):
                    bulk_insert(db, SupervisionClock.__table__, rows)
                db.commit()
                db.execute(text("ANALYZE"))  # statistics, as autovacuum would have them
                db.commit()
                still_open = db.scalar(select(func.count()).select_from(SupervisionClock)
                                       .where(SupervisionClock.status != "closed"))

            def timed_scan() -> tuple[float, service.ScanResult]:
                started = time.perf_counter()
                with sessions() as db:
                    result = service.scan(db, today=TODAY)
                    db.commit()
                return time.perf_counter() - started, result

            scan_seconds, first = timed_scan()
            rescan_seconds, again = timed_scan()
            if again.yellow or again.red:
                sys.exit(f"the second scan raised warnings again: {again}")

            def timed_evaluation() -> tuple[float, dict[int, str]]:
                started = time.perf_counter()
                with sessions() as db:
                    rows = evaluation.evaluate(db, period_start=MONTH[0], period_end=MONTH[1], computed_by="benchmark")
                    figures = {row.department_id: row.figures for row in rows}
                    db.commit()
                return time.perf_counter() - started, figures

            evaluation_seconds, evaluated = timed_evaluation()
            reevaluation_seconds, again_evaluated = timed_evaluation()
            if evaluated != again_evaluated or not evaluated:
                sys.exit("re-running the evaluation gave other figures (or none)")
            engine.dispose()
            print(json.dumps({"engine": engine_name(settings), "clocks": args.clocks, "open": still_open,
                              "warnings_raised": first.yellow + first.red, "yellow": first.yellow, "red": first.red,
                              "notifications": first.notifications, "scan_seconds": round(scan_seconds, 2),
                              "rescan_seconds": round(rescan_seconds, 2), "departments_evaluated": len(evaluated),
                              "evaluation_seconds": round(evaluation_seconds, 2),
                              "reevaluation_seconds": round(reevaluation_seconds, 2)}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
