"""Hot statements run on the driver's own cursor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session


def driver_of(connection: Connection) -> Any:
    """The DB-API connection under ``connection`` (psycopg's or sqlite3's)."""
    driver = connection.connection.driver_connection
    if driver is None:  # only a connection already given back to the pool has none
        raise RuntimeError("the connection has no driver connection")
    return driver


class DriverStatement:
    """A hot statement, built with SQLAlchemy, compiled once per dialect and run on the driver's
    own cursor: the reads and the log row that every exchange call makes. SQLAlchemy's handling
    of an execution (the cache key, the execution context, the result object) cost more CPU than
    the statement's round trip (measured 2026-11-23: about 100 of the 220 µs a statement cost on
    PostgreSQL, a tenth of a served exchange read). Values pass through the column types'
    bind and result processors as SQLAlchemy would pass them; the engine's cursor events are
    told of the statement (the write tracking and whoever observes statements); a driver error
    is raised as SQLAlchemy's. Rows are plain tuples."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._forms: dict[str, _DriverForm] = {}

    def rows(self, db: Session, params: dict) -> list[tuple]:
        connection = db.connection()
        form = self.form(connection.dialect)
        driver = driver_of(connection)
        values = form.values(params)
        try:
            cursor = driver.cursor()
            try:
                for listen in connection.dispatch.before_cursor_execute:
                    listen(connection, cursor, form.sql, values, None, False)
                cursor.execute(form.sql, values)
                rows = cursor.fetchall() if cursor.description is not None else []
                for listen in connection.dispatch.after_cursor_execute:
                    listen(connection, cursor, form.sql, values, None, False)
                results = form.results if form.results is not None else form.read_results(cursor)
            finally:
                cursor.close()
        except connection.dialect.loaded_dbapi.Error as error:
            raise driver_error(connection.dialect, driver, form.sql, values, error) from error
        processed = [(index, process) for index, process in enumerate(results) if process is not None]
        if processed:  # only the columns that need it: a batch reads thousands of rows
            done = []
            for row in rows:
                row = list(row)
                for index, process in processed:
                    if row[index] is not None:
                        row[index] = process(row[index])
                done.append(tuple(row))
            rows = done
        return rows

    def execute_many(self, driver, dialect, rows: list[dict]) -> None:
        """Run the statement once per row on a psycopg connection held by the caller, in one round
        trip (its pipeline mode: the rows end in one Sync, so in autocommit they commit together
        or not at all)."""
        form = self.form(dialect)
        values = [form.values(row) for row in rows]
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                cursor.executemany(form.sql, values)
        except dialect.loaded_dbapi.Error as error:
            raise driver_error(dialect, driver, form.sql, values, error) from error

    def form(self, dialect) -> _DriverForm:
        """The statement as the dialect's driver takes it: ``.sql``, and ``.values(params)`` for
        the parameters (for work that sends several statements in one pipeline itself)."""
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _DriverForm(self.statement, dialect)
        return form


class _DriverForm:
    """A statement as one dialect's driver takes it."""

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise TypeError("a driver statement takes lists as one parameter (in_list), not expanded")
        self.sql = str(compiled)
        self.dialect = dialect
        self.defaults = dict(compiled.params)  # the values the statement binds itself
        self.positions = compiled.positiontup if dialect.paramstyle in ("qmark", "numeric") else None
        self.binds = {name: process for name, bind in compiled.binds.items()
                      if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        self.columns = [column.type for column in statement.selected_columns] if statement.is_select else []
        self.results: list | None = None  # known at the first execution (a processor may ask the column's type)

    def values(self, params: dict):
        merged = {**self.defaults, **params}
        for name, process in self.binds.items():
            if merged.get(name) is not None:
                merged[name] = process(merged[name])
        return merged if self.positions is None else tuple(merged[name] for name in self.positions)

    def read_results(self, cursor) -> list:
        described = cursor.description or []
        self.results = [type_.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                        for type_, column in zip(self.columns, described)]
        return self.results


def driver_error(dialect: Any, driver: Any, sql: str, params: Any, error: Exception) -> StatementError:
    """A driver's error as SQLAlchemy would have raised it (a ``DBAPIError`` for the driver's own
    errors): callers catch SQLAlchemy's types."""
    return DBAPIError.instance(sql, params, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=dialect.is_disconnect(error, driver, None), dialect=dialect)
