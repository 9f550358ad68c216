"""Chinese word segmentation: one way to make a jieba tokenizer with a domain's own dictionary."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def jieba_tokenizer(dictionary: Path, extra_words: Iterable[str] = ()) -> Any:
    """A jieba tokenizer of its own (not jieba's global one) with jieba's dictionary, ``dictionary``
    (a jieba user dictionary file) and ``extra_words`` it does not know yet. About a second: build
    it once per process and share it read-only."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its loading messages are debug logs, never stdout
    made = jieba.Tokenizer()
    made.initialize()
    made.load_userdict(str(dictionary))
    for word in extra_words:
        if len(word) >= 2 and not made.FREQ.get(word):
            made.add_word(word)
    return made
