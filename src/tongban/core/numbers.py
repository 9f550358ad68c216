"""The one minter of document numbers: applications (BJ-), notices, consultations, sharing requests.

A number is dated (Beijing date), unguessable and easy to read aloud at a window. Random rather than
counted: two writers minting at once need no lock and no counter row, and a count would tell anyone
how many others applied that day. The number's column is unique, so a clash between two writers at
the same moment (one in 10^9 a day at tens of thousands of numbers) fails the second insert instead
of giving two documents one number.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import clock

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: numbers are read out at windows
LENGTH = 6


def compose(prefix: str, on: date, draw=secrets.choice) -> str:
    """A number of ``prefix`` on ``on`` (``draw`` picks each character: a seeded one for demo data)."""
    return f"{prefix}-{on:%Y%m%d}-" + "".join(draw(ALPHABET) for _ in range(LENGTH))


def mint(db: Session, column, prefix: str) -> str:
    """A new number for ``column`` (unique), not yet taken there."""
    while True:
        number = compose(prefix, clock.today())
        if db.scalar(select(column).where(column == number)) is None:
            return number
