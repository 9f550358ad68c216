"""Resident identity numbers (GB 11643) and unified social credit codes (GB 32100).

Checked with python-stdnum (checksum, birth date, region), never with home-made arithmetic.
Both are usable as Pydantic types so the edge of every API validates them the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


class InvalidNumber(ValueError):
    """Carries a stable code and a Chinese reason."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def _region_known(code6: str) -> bool:
    return any(info for _part, info in numdb.get("cn/loc").info(code6) if info)


def check_resident_id(value: str) -> str:
    """Return the normalised 18-character number, or raise InvalidNumber with the reason."""
    number = ric.compact(str(value)).upper()
    try:
        ric.validate(number)
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
    if ric.get_birth_date(number) > date.today():
        raise InvalidNumber("invalid_resident_id", "公民身份号码中的出生日期晚于今天")
    return number


def check_credit_code(value: str) -> str:
    """Return the normalised unified social credit code, or raise InvalidNumber."""
    number = uscc.compact(str(value)).upper()
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
    return ric.get_birth_date(resident_id)


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
