"""The declarative base and the column types every table uses.

A JSON column is ``Text`` on both engines, as every JSON column was created: its owner writes
the text (often canonical, as some of it is hashed or compared as stored) and reads it back. One
kind of JSON column, not a second type beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Executable, MetaData
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC, on SQLite (which drops zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_for(db: Session, table):
    """An INSERT of the session's dialect, for ``on_conflict_do_nothing`` (both engines have it)."""
    return (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def affected(db: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE (or an INSERT from a SELECT); how many rows it touched, 0 when the
    driver does not say. (The one place a statement's row count is read: the stubs type every
    result as ``Result``, and an INSERT's count must be asked to be kept.)"""
    result = db.execute(statement.execution_options(preserve_rowcount=True))
    return cast(CursorResult[Any], result).rowcount or 0
