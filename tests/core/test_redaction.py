"""Personal data masked in text the public reads: resident IDs, mobile and landline numbers, e-mail
addresses, in the forms people type them; dates, amounts, codes and house numbers left alone."""

from __future__ import annotations

import pytest

from tongban.core.redaction import redact_personal


@pytest.mark.parametrize(("written", "published"), [
    ("我的身份证 31011519900101123X，请联系", "我的身份证 [身份证号已隐去]，请联系"),
    ("旧证号310115900101123", "旧证号[身份证号已隐去]"),
    ("电话13800138000", "电话[电话号码已隐去]"),
    ("电话 138-0013-8000 或 +86 139 1234 5678", "电话 [电话号码已隐去] 或 [电话号码已隐去]"),
    ("物业电话021-58881234，晚上打 02158881234", "物业电话[电话号码已隐去]，晚上打 [电话号码已隐去]"),
    ("邮箱 zhang.wei@example.com.cn", "邮箱 [电子邮箱已隐去]"),
])
def test_personal_data_is_masked(written, published):
    assert redact_personal(written) == published


@pytest.mark.parametrize("kept", [
    "2026年12月7日上午10时发现，井盖缺失约3天",
    "浦东新区世纪大道100号3号楼，损坏路灯编号3101150116000001",
    "案件 WG-20261207-N3B7M4 的处置费用约 12000 元",
    "网格 310115004001001 内有暴露垃圾",
])
def test_other_text_is_kept_as_written(kept):
    assert redact_personal(kept) == kept


def test_nothing_stays_nothing():
    assert redact_personal(None) is None and redact_personal("") == ""
