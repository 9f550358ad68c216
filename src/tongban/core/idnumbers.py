"""Resident identity numbers (GB 11643) and unified social credit codes (GB 32100).

Checked with python-stdnum (checksum, birth date, region), never with home-made arithmetic.
Both are usable as Pydantic types so the edge of every API validates them the same way.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from tongban.core.inputs import normalise_code
from tongban.core import clock


class InvalidNumber(ValueError):
    """Carries a stable code and a Chinese reason."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@lru_cache(maxsize=8192)
def _region_known(code6: str) -> bool:
    return any(info for _part, info in numdb.get("cn/loc").info(code6) if info)


_PLAIN_ID = re.compile(r"\d{17}[\dX]", re.ASCII)  # ASCII digits only: \d alone also matches "３"
_STARTED_ON = clock.today()  # a birth on or before it is not in the future, whenever it is asked


def check_resident_id(value: str) -> str:
    """Return the normalised 18-character number, or raise InvalidNumber with the reason."""
    number = normalise_code(value)  # full-width digits are the same number, never a second person
    try:
        if not _PLAIN_ID.fullmatch(number):  # a plain number has the right length and digits
            number = ric.compact(number)  # separators, spaces: stdnum's own clean-up
            if len(number) != 18:
                raise InvalidLength()
            if not number[:17].isdigit():
                raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        # The same checks as ric.validate, cached by the parts they depend on: a million IDs
        # share a few thousand birth dates and regions.
        birth = _birth_date(number[6:14])
        _birth_place_known(number[:6], number[6:10])
    except InvalidLength:
        raise InvalidNumber("invalid_resident_id", "公民身份号码应为 18 位") from None
    except InvalidFormat:
        raise InvalidNumber("invalid_resident_id", "公民身份号码前 17 位应为数字，末位为数字或 X") from None
    except InvalidChecksum:
        raise InvalidNumber("invalid_resident_id", "公民身份号码校验位错误") from None
    except InvalidComponent:
        raise InvalidNumber("invalid_resident_id", "公民身份号码中的出生日期或地区代码无效") from None
    except ValidationError:
        raise InvalidNumber("invalid_resident_id", "公民身份号码无效") from None
    if birth > _STARTED_ON and birth > clock.today():  # asking the date costs more than the rest
        raise InvalidNumber("invalid_resident_id", "公民身份号码中的出生日期晚于今天")
    return number


@lru_cache(maxsize=65536)
def _birth_date(digits: str) -> date:
    return ric.get_birth_date("000000" + digits + "0000")


@lru_cache(maxsize=65536)
def _birth_place_known(region: str, year: str) -> None:
    ric.get_birth_place(region + year + "0101" + "0000")  # raises InvalidComponent when unknown that year


ORGANISATION_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the credit code alphabet (no I O S V Z)


def organisation_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    check = 11 - sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def new_credit_code(division: str, rng) -> str:
    """A new enterprise's unified social credit code: 91 (enterprise), the division, ``MA`` + 6
    characters and the two check characters — as a market regulator assigns one since 2016."""
    body = "MA" + "".join(rng.choice(ORGANISATION_ALPHABET) for _ in range(6))
    number = f"91{division}{body}{organisation_check(body)}"
    return number + uscc.calc_check_digit(number)


def check_credit_code(value: str) -> str:
    """Return the normalised unified social credit code, or raise InvalidNumber."""
    number = uscc.compact(normalise_code(value))
    try:
        uscc.validate(number)
    except InvalidLength:
        raise InvalidNumber("invalid_credit_code", "统一社会信用代码应为 18 位") from None
    except InvalidFormat:
        raise InvalidNumber("invalid_credit_code", "统一社会信用代码格式错误") from None
    except InvalidChecksum:
        raise InvalidNumber("invalid_credit_code", "统一社会信用代码校验位错误") from None
    except ValidationError:
        raise InvalidNumber("invalid_credit_code", "统一社会信用代码无效") from None
    # Characters 3-8 are the registering authority's administrative division (GB/T 2260).
    if not _region_known(number[2:8]):
        raise InvalidNumber("invalid_credit_code", "统一社会信用代码中的行政区划代码无效")
    return number


def birth_date_of(resident_id: str) -> date:
    return _birth_date(resident_id[6:14])


def gender_of(resident_id: str) -> str:
    """'男' or '女', from the 17th digit (odd: male)."""
    return "男" if int(resident_id[16]) % 2 else "女"


def mask_resident_id(resident_id: str) -> str:
    """``310101**********1234`` style: region kept, birth date and sequence hidden."""
    return resident_id[:4] + "*" * 10 + resident_id[-4:]


def _pydantic(check, code):
    def validate(value: str) -> str:
        try:
            return check(value)
        except InvalidNumber as error:
            raise PydanticCustomError(code, error.message) from None

    return validate


def _as_str(value):
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "应为字符串")
    return value


ResidentId = Annotated[str, BeforeValidator(_as_str), AfterValidator(_pydantic(check_resident_id, "invalid_resident_id"))]
CreditCode = Annotated[str, BeforeValidator(_as_str), AfterValidator(_pydantic(check_credit_code, "invalid_credit_code"))]
