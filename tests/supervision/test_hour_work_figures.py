"""Work timed in hours (a grid case's steps) in a department's figures: counted among the closed
and on-time work, but not in the averages of working days, where its limit of 0 days would pull
them down (a department with five-day work and two-hour work still promises five days on average)."""

from __future__ import annotations

import uuid

from tongban.core import clock as wall
from tongban.org.models import Department
from tongban.supervision import clocks, evaluation
from tongban.supervision.models import ClockKind
from tongban.supervision.schemas import HourBasis


def test_hour_work_counts_as_closed_but_not_in_the_day_averages(db):
    tag = uuid.uuid4().hex[:6].upper()
    department = Department(code=f"HW-{tag}", name=f"小时计时测试局{tag}", short_name=f"小时局{tag}", level="district",
                            division_code="310115")
    db.add(department)
    db.flush()
    today = wall.today()
    clocks.start(db, kind=ClockKind.APPLICATION, subject=f"{tag}-day", title="按工作日计时的办件", department_id=department.id,
                 limit_days=5, started_on=today)
    clocks.start(db, kind=ClockKind.GRID_HANDLE, subject=f"{tag}-hour/1", title="按小时计时的处置", department_id=department.id,
                 limit_days=0, started_on=today, limit_hours=2, hour_basis=HourBasis.CLOCK)
    clocks.close(db, ClockKind.APPLICATION, f"{tag}-day", on=today, outcome="approved")
    clocks.close(db, ClockKind.GRID_HANDLE, f"{tag}-hour/1", on=today, outcome="handled")
    db.flush()

    figures = evaluation.figures(evaluation.counters(db, today, today, [department.id])[department.id])
    assert figures["closed"] == 2 and figures["on_time"] == 2
    assert figures["avg_limit_days"] == "5.00"
    assert figures["avg_used_days"] == "0.00"
    db.rollback()
