"""The one way to paginate: opaque cursors over a unique, ordered key column."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import BigInteger, Select
from sqlalchemy.orm import Session

from tongban.core.errors import Problem
from tongban.core.inputs import BIGINT_MAX, INTEGER_MAX, refused_character

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="每页条数，1–500")]
Cursor = Annotated[str | None, Query(max_length=200, description="上一页返回的 next_cursor")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    """The opaque cursor for ``value`` (any JSON value: a composite key such as a score with a
    tie-breaker, for orderings ``paginate`` cannot express)."""
    return base64.urlsafe_b64encode(json.dumps({"k": value}).encode()).decode().rstrip("=")



def invalid_cursor(field: str = "query.cursor") -> Problem:
    """The one answer to a cursor that is not one of ours (malformed, or forged)."""
    return Problem("validation-error", "分页游标无效，请从第一页重新开始",
                   errors=[{"field": field, "code": "invalid_cursor", "message": "分页游标无效"}])


def decode_cursor(cursor: str, field: str = "query.cursor") -> Any:
    """The JSON value a cursor made by ``encode_cursor`` stands for, or the one 422 answer to a
    cursor that is not one. Anyone can forge a cursor: the caller checks the value's shape, and
    answers a wrong one with ``invalid_cursor(field)``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (ValueError, KeyError, TypeError):
        raise invalid_cursor(field) from None


def _decode(cursor: str, key) -> Any:
    """The key value a cursor stands for; anyone can forge one, so it must be a value the key
    column can hold (an int in its INTEGER or BIGINT range, a string of the column's length), else a 422."""
    value = decode_cursor(cursor)
    try:
        expected = key.type.python_type
    except NotImplementedError:  # a type that does not say: only what a JSON cursor can carry
        expected = object
    if expected is int:
        largest = BIGINT_MAX if isinstance(key.type, BigInteger) else INTEGER_MAX
        valid = type(value) is int and -largest - 1 <= value <= largest
    elif expected is str:
        length = getattr(key.type, "length", None) or 1000
        valid = isinstance(value, str) and len(value) <= length and refused_character(value) is None
    else:
        valid = isinstance(value, (str, int)) and not isinstance(value, bool)
    if not valid:
        raise invalid_cursor()
    return value


def paginate(db: Session, query: Select, key, *, cursor: str | None, limit: int, descending: bool = True,
             mappings: bool = False) -> tuple[list, str | None]:
    """Rows after the cursor, ordered by ``key``; the next cursor, or None on the last page.

    ORM objects by default; ``mappings=True`` for a Core table's rows (dict-like).
    """
    if cursor:
        after = _decode(cursor, key)
        query = query.where(key < after if descending else key > after)
    query = query.order_by(key.desc() if descending else key.asc()).limit(limit + 1)
    rows = list(db.execute(query).mappings()) if mappings else list(db.scalars(query))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1][key.key] if mappings else getattr(rows[-1], key.key)
    return rows, encode_cursor(last)
