"""Resident identity numbers: the reasons a number is refused, each with its stable code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import resident_id

from tongban.core.idnumbers import InvalidNumber, check_resident_id
from tongban.core import clock


def test_a_valid_number_comes_back_normalised():
    number = resident_id(birth="19960229", seq=7)
    assert check_resident_id(f" {number.lower()} ") == number


@pytest.mark.parametrize(("number", "reason"), [
    (resident_id()[:17], "18 位"),
    (resident_id()[:-1] + ("1" if resident_id()[-1] != "1" else "2"), "校验位"),
    (resident_id(birth="19990231"), "出生日期或地区代码无效"),
    ("31011519950101A23X", "前 17 位应为数字"),
])
def test_malformed_numbers_are_refused_with_their_reason(number, reason):
    with pytest.raises(InvalidNumber, match=reason) as refused:
        check_resident_id(number)
    assert refused.value.code == "invalid_resident_id"


def test_a_birth_date_later_than_today_is_refused():
    for later in (clock.today() + timedelta(days=1), clock.today() + timedelta(days=400)):
        with pytest.raises(InvalidNumber, match="晚于今天"):
            check_resident_id(resident_id(birth=f"{later:%Y%m%d}"))
    assert check_resident_id(resident_id(birth=f"{clock.today():%Y%m%d}"))
