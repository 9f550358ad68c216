"""Geometry shared by the charts the pages draw as inline SVG (no script, no CDN)."""

from __future__ import annotations


def nice_ceiling(value: int) -> int:
    """The smallest 2, 4, 6, 8 or 10 × 10^n at or above the value: round numbers, and an even top
    so the middle gridline is a whole number too."""
    magnitude = 10 ** (len(str(max(value - 1, 1))) - 1)  # 10 → 10, 11 → 20
    return next(step * magnitude for step in (2, 4, 6, 8, 10) if step * magnitude >= value)
