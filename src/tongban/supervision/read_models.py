"""What supervision reads of other domains' tables, declared with only the columns it reads.

Owners: ``case_applications`` and ``case_tasks`` are tongban.cases.models', ``departments``
tongban.org.models', ``users`` and ``user_roles`` tongban.accounts.models'. Supervision reads them
directly, never writes them, for work that asks for sets of rows in one statement:

- the evaluations and the dashboard count a period's ratings per department by joining the
  ratings to the applications' clocks (``case_applications.number`` is the clock's subject),
  one GROUP BY over thousands of rows;
- 好差评 reads the one application an applicant rates (and its first review task's department,
  for a case finished before supervision began), and the clock page names the application it
  times: cases imports supervision (its clocks), so supervision does not import cases;
- the reports name the departments of their rows, read at once by id;
- the warning scan tells the departments that have an active inspector (监察委), as one
  INSERT … SELECT per department.

These tables live on a private ``MetaData``: they create and migrate nothing (the owners' models do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

metadata = MetaData()

applications = Table(
    "case_applications", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String),
    Column("name", String),
    Column("applicant_account", String),
    Column("status", String),
)

case_tasks = Table(
    "case_tasks", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer),
    Column("department_id", Integer),
)

departments = Table(
    "departments", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String),
    Column("name", String),
    Column("short_name", String),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("department_id", Integer),
    Column("is_active", Boolean),
)

user_roles = Table(
    "user_roles", metadata,
    Column("user_id", Integer, primary_key=True),
    Column("role", String, primary_key=True),
)


@dataclass(frozen=True)
class ApplicationRow:
    """The application as supervision reads it (for 好差评 and the clock page)."""

    id: int
    number: str
    name: str
    applicant_account: str | None
    status: str


@dataclass(frozen=True)
class DepartmentRow:
    """A department as supervision's reports name it."""

    id: int
    code: str
    name: str
    short_name: str


class Department(Protocol):
    """What supervision uses of a department, whoever read it: org's model (``org.service``,
    a clock's ``department``) or a ``DepartmentRow`` of this read model."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def short_name(self) -> str: ...
