"""The one input edge: what every request's strings, ids, codes and numbers must be before any
route reads them.

- ``Id``: a database id, bounded to what its INTEGER column holds, so no driver or database overflows.
- ``check_request``: an app-wide dependency refusing NUL bytes, lone surrogates and other control
  characters in every JSON body, form, query and path value, and integers or floats a JSON body
  cannot mean (beyond BIGINT, NaN, infinity), with a 422 naming the field.
- ``normalise_code``: ID numbers, credit codes and other codes as people type them on a Chinese
  keyboard (full-width digits) become the one ASCII spelling (NFKC, upper case).
- ``parse_number``: the one way a number typed as text is read (registry values, application
  forms): NFKC, plain decimal notation, finite, in range.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import FastAPI, Request

from tongban.core.auth import api_routes
from tongban.core.errors import Problem

BIGINT_MAX = 2**63 - 1  # the largest integer any column or driver here holds
INTEGER_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL: every id and version a route takes

Id = Annotated[int, Ge(1), Le(INTEGER_MAX)]
"""Any integer id or version in a path, query or form: 1 … 2^31-1 (PostgreSQL's INTEGER, which
every routed id column is), else a 422 — never an OverflowError on SQLite or "integer out of range"
on PostgreSQL."""


# ------------------------------------------------------------------ characters

# NUL, the other C0 controls but tab, line feed and carriage return (a textarea sends CRLF), DEL,
# the C1 controls, and UTF-16 surrogates, which no real character is made of alone.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refused_character(text: str) -> str | None:
    """The Chinese reason a string cannot be accepted, or None."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "不能包含空字符 (NUL)"
    if "\ud800" <= char <= "\udfff":
        return "包含无效的 Unicode 字符（孤立的代理项）"
    return f"不能包含控制字符 (U+{ord(char):04X})"


def _refuse(errors: list[dict[str, Any]]) -> Problem:
    fields = "、".join(e["field"] for e in errors[:5])
    return Problem("validation-error", f"以下字段有误：{fields}", errors=errors)


def _walk_json(document: Any, location: str, errors: list[dict[str, Any]]) -> None:
    """Every string, key and number of a parsed document; iterative, so nesting costs no stack."""
    stack = [(document, location)]
    while stack and len(errors) < 20:  # twenty are enough to show what is wrong
        value, where = stack.pop()
        if isinstance(value, str):
            reason = refused_character(value)
            if reason:
                errors.append({"field": where, "code": "invalid_character", "message": reason})
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -BIGINT_MAX - 1 <= value <= BIGINT_MAX:
                errors.append({"field": where, "code": "integer_out_of_range", "message": "整数超出允许的范围"})
        elif isinstance(value, float):
            if not math.isfinite(value):  # NaN, Infinity, or a literal too big for a float (1e999)
                errors.append({"field": where, "code": "number_not_finite", "message": "应为有限的数字"})
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                reason = refused_character(key)
                if reason:
                    errors.append({"field": f"{where}.{key!a}", "code": "invalid_character", "message": "字段名" + reason})
                else:
                    stack.append((item, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{index}") for index, item in reversed(list(enumerate(value))))


def _check_text(where: str, name: str, value: str, errors: list[dict[str, Any]]) -> None:
    """A query, path or form value and its name."""
    if name_reason := refused_character(name):
        errors.append({"field": f"{where}.{name!a}", "code": "invalid_character", "message": "字段名" + name_reason})
    elif reason := refused_character(value):
        errors.append({"field": f"{where}.{name}", "code": "invalid_character", "message": reason})


def _json_media(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def check_request(request: Request) -> None:
    """App-wide dependency: one check of every string a route could read, before it reads any.

    FastAPI has already read (and cached on the request) the body of a route that takes one;
    reading it here again costs nothing. A body that is not JSON is left to the route.
    """
    errors: list[dict[str, Any]] = []
    for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in items:
            if isinstance(value, str):
                _check_text(where, name, value, errors)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            for name, value in form.multi_items():
                if isinstance(value, str):  # a file's content is checked by its own route
                    _check_text("body", name, value, errors)
        elif not content_type or _json_media(content_type):
            if await request.body():
                try:
                    document = await request.json()
                except (ValueError, RecursionError):  # malformed: the route's own parsing answers it
                    document = None
                _walk_json(document, "body", errors)
    if errors:
        raise _refuse(errors)


def check_bounded_ids(app: FastAPI) -> None:
    """Refuse to start if a route takes an int path, query or form value that may exceed INTEGER."""
    def fields(dependant):
        yield from dependant.path_params
        yield from dependant.query_params
        yield from dependant.body_params
        for sub in dependant.dependencies:
            yield from fields(sub)

    unbounded = []
    for route in api_routes(app.routes):
        for field in fields(route.dependant):
            annotation = field.field_info.annotation
            if annotation is int or annotation == (int | None):
                bounds = [m.le for m in field.field_info.metadata if hasattr(m, "le")]
                if not bounds or bounds[0] > INTEGER_MAX:
                    unbounded.append(f"{route.path} {field.name}")
    if unbounded:
        raise RuntimeError("int parameters without tongban.core.inputs.Id: " + "; ".join(sorted(set(unbounded))))


# ------------------------------------------------------------------ codes and numbers

def normalise_code(value: str) -> str:
    """A code (ID number, credit code, address code) in its one spelling: NFKC, trimmed, upper case.
    Only for codes: free Chinese text keeps the full-width punctuation people typed on purpose."""
    return unicodedata.normalize("NFKC", str(value)).strip().upper()


class InvalidNumberText(ValueError):
    """A number that cannot be accepted; the message is Chinese and begins after the field's label."""


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_DEFAULT_LIMIT = Decimal(10) ** 15  # the digits a float keeps exactly; no form needs more


@lru_cache(maxsize=256)
def _bound(limit: float) -> Decimal:
    return Decimal(str(limit))  # str: 1e9 is 1000000000, not the float's binary expansion


def parse_number(value: Any, *, integer: bool = False, minimum: float | None = None,
                 maximum: float | None = None) -> Decimal:
    """The exact value of a number typed as text (or sent as a JSON number): full-width digits
    become ASCII (NFKC); NaN, infinities, ``1e999`` and anything out of range are refused.
    ``integer``: a whole number (``3.0`` is 3)."""
    if isinstance(value, bool):
        raise InvalidNumberText("应为数字")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidNumberText("应为数字")
    text = unicodedata.normalize("NFKC", str(value)).strip()  # no thousands commas: "1,5" may mean 1.5
    if len(text) > 40 or not _PLAIN_NUMBER.fullmatch(text):
        raise InvalidNumberText("应为整数" if integer else "应为数字")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidNumberText("应为数字") from None
    low = _bound(minimum) if minimum is not None else -_DEFAULT_LIMIT
    high = _bound(maximum) if maximum is not None else _DEFAULT_LIMIT
    if number < low:
        raise InvalidNumberText(f"不能小于 {float(low):g}")
    if number > high:
        raise InvalidNumberText(f"不能大于 {float(high):g}")
    if integer and number != number.to_integral_value():
        raise InvalidNumberText("应为整数")
    return number
