"""A subject's facts, as conditions read them, from the base registries: one record at a time (a
page, a stored match's explanation) or every record at once as a Polars frame (the bulk match).
Both derive the same facts the same way: 成立年限 and 年龄 in full years on the day of evaluation,
``健在`` from the date of death, a source's as-of date from its record's last change (Beijing)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.db.bulk import copy_out_csv, driver_rows
from tongban.policies.conditions import Facts, as_of_column, frame_schema
from tongban.policies.schemas import Target
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS

REGISTRY = {Target.ENTERPRISE: LEGAL_ENTITIES, Target.RESIDENT: PERSONS}
# The registry fields each target's facts are derived from.
RAW = {
    Target.ENTERPRISE: ("name", "entity_type", "registered_capital", "established_on", "industry_code", "status",
                        "tax_registration_status", "taxpayer_type", "social_insurance_registered", "employees"),
    Target.RESIDENT: ("name", "birth_date", "gender", "residence_status", "date_of_death", "marital_status",
                      "employment_status", "social_insurance_status"),
}
_COPIED = {
    Target.ENTERPRISE: ("entity_type", "industry_code", "status", "tax_registration_status", "taxpayer_type"),
    Target.RESIDENT: ("gender", "residence_status", "marital_status", "employment_status", "social_insurance_status"),
}


def full_years(start: date | None, on: date) -> float | None:
    if start is None:
        return None
    return float(on.year - start.year - ((on.month, on.day) < (start.month, start.day)))


def facts_of_record(target: Target, record: Mapping[str, Any], on: date) -> Facts:
    """The facts of one registry record (its fields and ``updated_at``)."""
    values: dict[str, Any] = {name: record.get(name) for name in _COPIED[target]}
    if target == Target.ENTERPRISE:
        capital = record.get("registered_capital")
        values["registered_capital"] = None if capital is None else float(capital)
        values["established_years"] = full_years(record.get("established_on"), on)
        registered = record.get("social_insurance_registered")
        values["social_insurance_registered"] = None if registered is None else registered == "已登记"
        employees = record.get("employees")
        values["employees"] = None if employees is None else float(employees)
    else:
        values["age"] = full_years(record.get("birth_date"), on)
        values["alive"] = record.get("date_of_death") is None
    updated = record.get("updated_at")
    return Facts(values, {REGISTRY[target].name: clock.beijing(updated).date() if updated else None})


def record_facts(db: Session, target: Target, key: str, on: date | None = None) -> tuple[str | None, Facts] | None:
    """The named subject's facts, or None when the registry has no such record."""
    rows = db.execute(registry.records_query(REGISTRY[target], RAW[target], keys=[key])).mappings().all()
    if not rows:
        return None
    return rows[0]["name"], facts_of_record(target, dict(rows[0]), on or clock.today())


def frame(db: Session, target: Target, on: date, *, keys: Sequence[str] | None = None) -> pl.DataFrame:
    """Every subject's facts (or those of ``keys``): ``subject_key``, ``subject_name`` and the
    columns of ``conditions.frame_schema``."""
    query = registry.records_query(REGISTRY[target], RAW[target], keys=keys)
    if keys is None:
        return derive(target, _every_record(db, query), on)
    result = db.execute(query)
    raw = pl.DataFrame([tuple(row) for row in result], schema=list(result.keys()), orient="row", infer_schema_length=None)
    return derive(target, raw, on)


_DATES = ("established_on", "birth_date", "date_of_death")
_NUMBERS = ("registered_capital", "employees")


def _every_record(db: Session, query) -> pl.DataFrame:
    """Every record, past SQLAlchemy's result rows (which cost more than the reading): through
    COPY as CSV on PostgreSQL, the driver's own rows on SQLite; read as text either way, with the
    last change as UTC text, then typed as the rows path types them."""
    records = query.subquery()
    if db.get_bind().dialect.name == "postgresql":
        stamp = func.to_char(func.timezone("UTC", records.c.updated_at), "YYYY-MM-DD HH24:MI:SS")
        text = copy_out_csv(db, select(*(c for c in records.c if c.name != "updated_at"), stamp.label("updated_at")))
        raw = pl.read_csv(io.BytesIO(text), infer_schema=False)
    else:  # SQLite keeps the moment as UTC text already
        names, rows = driver_rows(db, select(*records.c))
        raw = pl.DataFrame(rows, schema={name: pl.String for name in names}, orient="row", strict=False)
    return raw.with_columns(
        *(pl.col(name).str.to_date("%Y-%m-%d") for name in _DATES if name in raw.columns),
        *(pl.col(name).cast(pl.Float64) for name in _NUMBERS if name in raw.columns),
        pl.col("updated_at").str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us").dt.replace_time_zone("UTC"))


def _years(column: str, on: date) -> pl.Expr:
    start = pl.col(column)
    # month() and day() are Int8: widened before they are combined (12 * 100 overflows Int8).
    before_birthday = (start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)) > (on.month * 100 + on.day)
    return (pl.lit(on.year) - start.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Float64)


def derive(target: Target, raw: pl.DataFrame, on: date) -> pl.DataFrame:
    """The facts frame from raw registry columns (``records_query``'s), as ``facts_of_record`` does one."""
    source = REGISTRY[target].name
    schema = frame_schema(target)
    if raw.height == 0:
        return pl.DataFrame(schema={"subject_key": pl.String, "subject_name": pl.String, **schema})
    # A column of nothing but empty values comes typed as Null: give each raw column its type first.
    dates = [name for name in ("established_on", "birth_date", "date_of_death") if name in raw.columns]
    raw = raw.with_columns(*(pl.col(name).cast(pl.Date) for name in dates))
    stamp = raw.schema["updated_at"]
    updated = pl.col("updated_at")
    if not isinstance(stamp, pl.Datetime):
        updated = updated.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif stamp.time_zone is None:
        updated = updated.dt.replace_time_zone("UTC")
    columns = [pl.col("record_key").alias("subject_key"), pl.col("name").cast(pl.String).alias("subject_name"),
               *(pl.col(name).cast(pl.String) for name in _COPIED[target]),
               updated.dt.convert_time_zone("Asia/Shanghai").dt.date().alias(as_of_column(source))]
    if target == Target.ENTERPRISE:
        columns += [pl.col("registered_capital").cast(pl.Float64), _years("established_on", on).alias("established_years"),
                    pl.when(pl.col("social_insurance_registered").is_null()).then(None)
                    .otherwise(pl.col("social_insurance_registered") == "已登记").alias("social_insurance_registered"),
                    pl.col("employees").cast(pl.Float64)]
    else:
        columns += [_years("birth_date", on).alias("age"), pl.col("date_of_death").is_null().alias("alive")]
    return raw.select(columns).select("subject_key", "subject_name", *schema).cast(schema)  # type: ignore[arg-type]
