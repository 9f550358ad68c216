"""Working-day deadlines, and the published holiday schedules administrators store."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tongban.core import audit
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.workdays import CalendarYear, DeadlineStart, WorkingCalendar, publish_year

router = APIRouter(prefix="/api/v1/calendar", tags=["工作日 working days"])


class DeadlineRead(BaseModel):
    start: date
    working_days: int
    due: date
    provisional: bool
    unknown_years: list[int]
    note: str | None


class ScheduleDay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date
    name: str = Field(min_length=1, max_length=64)


class YearSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: str = Field(min_length=4, max_length=300, description="国务院办公厅通知文号或标题")
    holidays: list[ScheduleDay] = Field(max_length=60, description="放假日期")
    workdays: list[ScheduleDay] = Field(max_length=20, description="调休上班日期")


class YearRead(BaseModel):
    year: int
    source: str  # package | published | unknown
    notice: str | None
    holidays: list[ScheduleDay]
    workdays: list[ScheduleDay]


@router.get("/deadline", response_model=DeadlineRead, summary="按法定工作日计算期限")
def deadline(
    db: DbSession,
    _: Annotated[Principal | None, require(Permission.PUBLIC)],
    start: DeadlineStart,
    working_days: Annotated[int, Query(ge=0, le=1000)],
):
    result = WorkingCalendar.load(db).add_working_days(start, working_days)
    return DeadlineRead(start=result.start, working_days=result.working_days, due=result.due,
                        provisional=result.provisional, unknown_years=list(result.unknown_years), note=result.note)


@router.get("/years/{year}", response_model=YearRead, summary="某年的节假日与调休安排")
def year_schedule(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
                  year: Annotated[int, Path(ge=2004, le=2100)]):
    calendar = WorkingCalendar.load(db)
    stored = db.get(CalendarYear, year)
    holidays, workdays = [], []
    if stored is not None or calendar.package_knows(year):
        for month in range(1, 13):
            for day, working in calendar.month(year, month):
                weekend = day.weekday() >= 5
                if not working and not weekend:
                    holidays.append(ScheduleDay(day=day, name="法定节假日"))
                elif working and weekend:
                    workdays.append(ScheduleDay(day=day, name="调休上班"))
    source = "published" if stored is not None else ("package" if calendar.package_knows(year) else "unknown")
    return YearRead(year=year, source=source, notice=stored.notice if stored else None, holidays=holidays, workdays=workdays)


@router.put("/years/{year}", response_model=YearRead, summary="录入某年国务院公布的节假日安排")
def store_year(db: DbSession, principal: Annotated[Principal, require(Permission.CALENDAR_MANAGE)],
               year: Annotated[int, Path(ge=2004, le=2100)], body: YearSchedule):
    try:
        publish_year(db, year=year, notice=body.notice,
                     holidays={d.day: d.name for d in body.holidays},
                     workdays={d.day: d.name for d in body.workdays}, published_by=principal.actor_name)
    except ValueError as error:
        raise Problem("validation-error", str(error),
                      errors=[{"field": "body", "code": "invalid_schedule", "message": str(error)}]) from None
    audit.record(db, actor=principal, action="calendar.publish_year", object_type="calendar_year", object_id=str(year),
                 details={"notice": body.notice, "holidays": len(body.holidays), "workdays": len(body.workdays)})
    db.commit()
    return year_schedule(db, None, year)
