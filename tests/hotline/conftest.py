"""One classifier per test process, trained on part of the demo tickets (a few seconds), and the
rest held back: ``held_back`` the model never saw, ``unseen_phrasing`` whose problem phrasing it
never saw either."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tongban.hotline import classify, examples

TRAIN = 2000


@dataclass
class Trained:
    classifier: classify.Classifier
    held_back: list[examples.Example]
    unseen_phrasing: list[examples.Example]


@pytest.fixture(scope="session")
def trained() -> Trained:
    tickets = examples.generate(TRAIN + 500, seed=2026)
    unseen = [e for e in tickets if e.phrasing == 0]  # every category's first phrasing: never trained on
    rest = [e for e in tickets if e.phrasing != 0]
    held_back, training = rest[:400], rest[400:]  # shuffled by the generator; every category in both
    return Trained(classify.train(training), held_back, unseen)


@pytest.fixture
def proposing(trained, monkeypatch) -> classify.Classifier:
    """The API proposes with the session's classifier (not one trained on all the demo tickets)."""
    monkeypatch.setattr(classify, "_current", trained.classifier)
    return trained.classifier
