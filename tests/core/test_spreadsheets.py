"""The one rule for spreadsheet cells: text a spreadsheet would run as a formula is made inert."""

from __future__ import annotations

import pytest

from tongban.core.spreadsheets import neutralise, neutralise_row


@pytest.mark.parametrize("text", ['=HYPERLINK("https://evil.example/","点我")', "+1+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=", "-", "--"])
def test_text_that_would_run_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -2.5, 0, 12, "-12", "-12.50", "+86", "1e-3", "市场监管局", "", None,
                                   "a=b", " =1"])
def test_numbers_and_ordinary_text_are_kept(value):
    assert neutralise(value) == value


def test_a_row():
    assert neutralise_row([1, "=1+1", "张伟", -3]) == [1, "'=1+1", "张伟", -3]
