"""信息处理费 (条例第四十二条; 《政府信息公开信息处理费管理办法》, 国办函〔2020〕109号), charged by request.

办法第四条, 按件计收, counted per applicant per calendar month:
(一) up to the 10th request (inclusive): free;
(二) the 11th to the 30th: ¥100 each;
(三) from the 31st: in bands of 10, each band ¥100 a request more than the one before
    (31–40: ¥200, 41–50: ¥300, …).
The fee is progressive by request: the n-th request of the month pays its band's price, whatever
the others paid. (按量计收, by pages, applies to paper copies; this platform charges by request.)
"""

from __future__ import annotations

from dataclasses import dataclass

FREE_PER_MONTH = 10
FIRST_BAND_END = 30
FIRST_BAND_YUAN = 100
BAND_SIZE = 10
BAND_STEP_YUAN = 100


@dataclass(frozen=True)
class Fee:
    ordinal: int  # the applicant's n-th request of the calendar month
    yuan: int
    band: str  # the band in words, as the applicant is shown it

    @property
    def text(self) -> str:
        if self.yuan == 0:
            return f"本月第 {self.ordinal} 件申请，{self.band}，不收费"
        return f"本月第 {self.ordinal} 件申请，{self.band}，信息处理费 {self.yuan} 元"


def fee_for(ordinal: int) -> Fee:
    """The fee of an applicant's ``ordinal``-th request of a calendar month."""
    if ordinal < 1:
        raise ValueError("ordinal starts at 1")
    if ordinal <= FREE_PER_MONTH:
        return Fee(ordinal, 0, f"{FREE_PER_MONTH} 件以内（含）")
    if ordinal <= FIRST_BAND_END:
        return Fee(ordinal, FIRST_BAND_YUAN, f"第 {FREE_PER_MONTH + 1}–{FIRST_BAND_END} 件")
    band = (ordinal - FIRST_BAND_END - 1) // BAND_SIZE  # 0 for the 31st–40th
    first = FIRST_BAND_END + 1 + band * BAND_SIZE
    return Fee(ordinal, FIRST_BAND_YUAN + BAND_STEP_YUAN * (band + 1), f"第 {first}–{first + BAND_SIZE - 1} 件")
