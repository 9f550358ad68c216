"""Many rows at once: bulk inserts and whole lists bound as one parameter."""

from __future__ import annotations

import json

from sqlalchemy import String, Table, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tongban.core.db.driver import driver_of
from tongban.core.db.engine import _WROTE

def bulk_insert(db: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows (dicts of Python values) in the caller's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    dialect = db.connection().dialect
    if dialect.name == "postgresql":  # COPY adapts Python values itself
        bulk_insert_values(db, table, columns, [tuple(row[c] for c in columns) for row in rows])
        return
    # Each column's own bind processor, applied once per distinct value (timestamps and dates repeat).
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    memos: list[dict] = [{} for _ in columns]

    def bound(value, process, memo):
        if process is None or value is None:
            return value
        try:
            return memo[value]
        except KeyError:
            memo[value] = result = process(value)
            return result
        except TypeError:  # unhashable
            return process(value)

    triples = list(zip(columns, processors, memos))
    bulk_insert_values(db, table, columns, [tuple(bound(row[c], p, m) for c, p, m in triples) for row in rows])


def bulk_insert_values(db: Session, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows already in the database's own form: text for dates and numbers,
    ``db_value`` for timestamps. COPY on PostgreSQL, the DB-API's executemany on SQLite
    (SQLAlchemy's per-row parameter handling would cost more than SQLite's insert itself)."""
    if not rows:
        return
    connection = db.connection()
    connection.info[_WROTE] = True  # written through the driver, past the statement events
    if connection.dialect.name != "postgresql":
        placeholders = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})'
        driver_of(connection).cursor().executemany(sql, rows)
        return
    column_list = ", ".join(f'"{c}"' for c in columns)
    with driver_of(connection).cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def copy_out_csv(db: Session, query) -> bytes:
    """The rows of ``query`` as CSV with a header, through PostgreSQL's COPY TO: a million rows in a
    second or two, where building a million result rows costs several (PostgreSQL only)."""
    connection = db.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    buffer = bytearray()
    with driver_of(connection).cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buffer += chunk
    return bytes(buffer)


def driver_rows(db: Session, query) -> tuple[list[str], list[tuple]]:
    """The column names and rows of ``query`` from the driver's own cursor, values as the driver
    gives them (text for SQLite's dates and moments): for reading a million rows, where
    SQLAlchemy's result rows cost as much again as the reading."""
    connection = db.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = driver_of(connection).cursor()
    try:
        cursor.execute(sql)
        return [column[0] for column in cursor.description], cursor.fetchall()
    finally:
        cursor.close()


def in_list(dialect: str, column, name: str):
    """``column IN (:name)`` with the whole list bound as one parameter (give it with
    ``list_parameter``): an array on PostgreSQL, a JSON list read by json_each on SQLite. Bound
    one by one, a thousand keys cost SQLAlchemy more than the database needs to find them; one
    named parameter also lets a hot statement be built once and reused."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name, type_=String))))


def list_parameter(db: Session, values: list) -> list | str:
    """The value of an ``in_list`` parameter."""
    return list(values) if db.get_bind().dialect.name == "postgresql" else json.dumps(list(values))


def db_value(db: Session, column, value):
    """``value`` as the driver takes it for ``column`` (for ``bulk_insert_values``)."""
    dialect = db.connection().dialect
    if dialect.name == "postgresql":
        return value
    process = column.type._cached_bind_processor(dialect)
    return process(value) if process else value
