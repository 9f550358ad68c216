"""Personal data taken out of free text before it is published (an Open311 listing, a published
letter): what a person may type into a description about themselves or others — a resident ID
number, a mobile or landline number, an e-mail address — each replaced by a mask that says what
was there. Text is kept as written everywhere else; only what the public reads is redacted."""

from __future__ import annotations

import re
from datetime import date

# An 18-character resident ID (the 17 digits and the check character) or a 15-digit old one,
# not part of a longer run of digits.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# A mainland mobile number (11 digits from 13x to 19x), optionally +86 / 86 before it and
# spaced or hyphenated 3-4-4.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
# A landline: an area code (0 + 2 or 3 digits) and a 7 or 8 digit number.
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

ID_MASK, EMAIL_MASK, PHONE_MASK = "[身份证号已隐去]", "[电子邮箱已隐去]", "[电话号码已隐去]"


def _birth_date_plausible(digits: str) -> bool:
    """Whether a run of digits has a birth date where a resident ID has it (YYYYMMDD after the
    region, or YYMMDD in an old 15-digit one): a grid cell's or a component's code has not."""
    year, month, day = (int(digits[6:10]), int(digits[10:12]), int(digits[12:14])) if len(digits) == 18 \
        else (1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def _resident_id(found: re.Match) -> str:
    return ID_MASK if _birth_date_plausible(found.group(0)) else found.group(0)


def redact_personal(text: str | None) -> str | None:
    """``text`` with the personal data it holds masked (None stays None)."""
    if not text:
        return text
    text = _RESIDENT_ID.sub(_resident_id, text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _MOBILE.sub(PHONE_MASK, text)
    return _LANDLINE.sub(PHONE_MASK, text)
