"""Fixtures of the request tests: a database of the module's own (the demo district loaded), an app
on it running no background jobs, the demo accounts' headers re-issued as the clock moves, and the
applicants' valid ID numbers."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import pypdf
from stdnum.cn import ric

from tongban.core.idnumbers import new_credit_code

OFFICER, HEAD, OTHER_OFFICER = "gongkai.gh", "gongkai.gh.head", "gongkai.zj"  # 规划资源局 ×2, 住房保障局
GH, ZJ = "PD-GHZY", "PD-ZJ"


def resident_id(serial: int) -> str:
    """A valid resident ID of a person born in 浦东 (its code exists since 1993) on 1 January 1995 (+ serial days)."""
    body = f"310115{(datetime(1995, 1, 1) + timedelta(days=serial)):%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # (stdnum reads the first 17 characters)


def credit_code(seed: int) -> str:
    return new_credit_code("310115", random.Random(seed))


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages).replace("\n", "")


import own_database as _own  # noqa: E402

# A database of the module's own, an app without background jobs on it, its client and headers.
own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role


