"""A word only one test's documents hold, for tests that share a database (PostgreSQL's is shared
by the whole run, so another test's documents are there too)."""

from __future__ import annotations

import uuid

from tongban.disclosure import search_text

_CHARACTERS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"


def unique_word(length: int = 8) -> str:
    """Characters no dictionary joins into a common word, every one of them kept by the query's
    analysis: a character the analysis drops (a lone 甲 between two words) would leave a query that
    another test's word also satisfies."""
    while True:
        word = "".join(_CHARACTERS[int(c, 16)] for c in uuid.uuid4().hex[:length])
        kept = "".join(w for concept in search_text.analyse(word).concepts for alternative in concept.alternatives
                       for w in alternative)
        if set(word) <= set(kept):
            return word
