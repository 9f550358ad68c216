"""Cells that are safe to open in a spreadsheet (CSV and XLSX exports).

Excel, WPS and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(tab and carriage return can hide such a start), so text someone else wrote — a rejected import
row, a department's name — could run ``=HYPERLINK(...)`` on the reader's machine. Every writer
passes its cells through ``neutralise`` (OWASP's rule for CSV injection): such text gets a leading
apostrophe and is shown as text. Numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")  # "-12.5" in a CSV is a number, not a formula


def neutralise(value: Any) -> Any:
    """The value, made inert if it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in values]
