"""Labelled demo tickets: what callers say, assembled from phrase components (``data/phrases.json``).

Not one template per class: each ticket draws its own greeting, who calls, where (streets and roads
of 浦东), the problem in one of several phrasings, details, how long, when, what the caller asks,
polite noise, sometimes a phone number, and sometimes a second, minor topic of another category;
the parts come in varying order and punctuation. The same seed gives the same tickets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from tongban.hotline.categories import DATA, catalogue

PHRASES_FILE = DATA / "phrases.json"
SEED = 12345
DEFAULT_COUNT = 4000


@dataclass(frozen=True)
class Example:
    """A labelled ticket text: the category (and through it the department) a person chose for it."""

    text: str
    category: str
    department: str
    phrasing: int = -1  # which of the category's problem phrasings it uses (-1: not generated)


@cache
def phrases() -> dict[str, Any]:
    document = json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
    codes = set(catalogue().by_code())
    missing = codes - set(document["categories"])
    unknown = set(document["categories"]) - codes
    if missing or unknown:
        raise ValueError(f"phrases.json: categories without phrases {sorted(missing)}, unknown {sorted(unknown)}")
    return document


def _number(rng: random.Random, digits: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(digits))


def _where(rng: random.Random, common: dict[str, list[str]]) -> str:
    street, road, other = rng.choice(common["street"]), rng.choice(common["road"]), rng.choice(common["road"])
    forms = [
        f"我住在{street}{road}{rng.randint(1, 2000)}弄",
        f"在{road}{rng.choice(common['place'])}",
        f"地址是{street}街道{road}{rng.randint(1, 999)}号",
        f"就在{road}和{other}路口",
        f"{street}这边{rng.choice(common['place'])}",
        f"{road}{rng.randint(1, 1500)}弄{rng.randint(1, 40)}号{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
        f"{street}{rng.choice(common['place'])}",
    ]
    return rng.choice(forms)


def _ticket(rng: random.Random, code: str, document: dict[str, Any], codes: list[str]) -> tuple[str, int]:
    common = document["common"]
    own = document["categories"][code]
    phrasing = rng.randrange(len(own["say"]))
    problem = own["say"][phrasing]
    head: list[str] = []
    if rng.random() < 0.6:
        head.append(rng.choice(common["greeting"]))
    if rng.random() < 0.45:
        head.append(rng.choice(common["caller"]))
    if rng.random() < 0.25:
        head.append(rng.choice(common["polite"]))
    body: list[str] = [problem]
    if rng.random() < 0.7:
        body.extend(rng.sample(own["detail"], k=min(len(own["detail"]), rng.choice([1, 1, 2]))))
    if rng.random() < 0.5:
        body.insert(rng.randrange(len(body) + 1), rng.choice(common["duration"]))
    if rng.random() < 0.25:
        body.insert(0, rng.choice(common["time"]))
    where = _where(rng, common) if rng.random() < 0.75 else None
    if where:
        if rng.random() < 0.6:
            body.insert(0, where)
        else:
            body.append(where)
    tail: list[str] = []
    if rng.random() < 0.7:
        tail.append(rng.choice(own["ask"]))
    if rng.random() < 0.5:
        tail.append(rng.choice(common["urge"]))
    if rng.random() < 0.15:
        tail.append(rng.choice(common["contact"]).replace("{n}", _number(rng, 8)))
    if rng.random() < 0.15:  # one dominant topic, a minor one of another category mentioned in passing
        other = document["categories"][rng.choice([c for c in codes if c != code])]
        tail.insert(rng.randrange(len(tail) + 1), rng.choice(["另外", "还有", "顺便说一下", "对了"]) + rng.choice(other["say"]))
    if rng.random() < 0.2 and tail:  # the request first: 我想问一下……
        head.append(tail.pop(0))
    parts = [p for p in head + body + tail if p]
    separators = ["，", "，", "。", " ", "", "……", "，就是"]
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(separators) + part
    if rng.random() < 0.6:
        text += rng.choice(["。", "！", "", "。谢谢"])
    return text, phrasing


def generate(count: int = DEFAULT_COUNT, *, seed: int = SEED) -> list[Example]:
    """``count`` labelled tickets, the categories in equal shares (a few more for the first ones
    when ``count`` does not divide), shuffled; deterministic for a seed."""
    return list(iter_examples(count, seed=seed))


def iter_examples(count: int, *, seed: int = SEED) -> Iterator[Example]:
    document = phrases()
    by_code = catalogue().by_code()
    codes = sorted(by_code)
    rng = random.Random(seed)
    labels = [codes[i % len(codes)] for i in range(count)]
    rng.shuffle(labels)
    for code in labels:
        text, phrasing = _ticket(rng, code, document, codes)
        yield Example(text=text, category=code, department=by_code[code].department, phrasing=phrasing)
