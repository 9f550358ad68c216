"""Which category is a call, and which department answers it: proposed while the agent types.

jieba words (the platform's tokenizer, with the hotline's own words) and character 1–3-grams, both
TF-IDF weighted, into a linear support vector classifier from scikit-learn whose scores are
calibrated into probabilities (``CalibratedClassifierCV``, sigmoid, three folds). A department's confidence is the sum of its categories' probabilities; the
top three departments are proposed, each with its most likely category and transfer line. Below
``THRESHOLD`` the agent must choose.

Trained in memory, once per process, on the demo tickets (``examples.generate``); after the centre
retrains (``training``), on the demo's training part plus the centre's corrections and confirmed
tickets: ``train(examples)`` makes a new ``Classifier``; ``install`` swaps the process's one
atomically. Nothing binary is stored anywhere. Touches no database.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from tongban.core.segmentation import jieba_tokenizer
from tongban.hotline.categories import DATA, Catalogue, catalogue
from tongban.hotline.examples import Example, generate

THRESHOLD = 0.5  # below it the agent chooses (the proposals are shown all the same)
TOP = 3
MAX_TEXT = 2000
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


class NotEnoughExamples(ValueError):
    """Training needs at least two categories with examples."""


@dataclass(frozen=True)
class Proposal:
    category: str  # the category's code
    category_name: str
    department: str  # the responsible department's code
    transfer_line: str | None  # a specialised line answers such calls (12319, 12333, 12315)
    confidence: float  # the department's probability, 0–1


@dataclass(frozen=True)
class Proposals:
    proposals: list[Proposal]  # at most three departments, the likeliest first
    must_choose: bool  # the first is below the threshold: the agent chooses
    threshold: float


@cache
def tokenizer() -> Any:
    words = [c.name for c in catalogue().categories if len(c.name) <= 6]
    return jieba_tokenizer(DATA / "words.txt", words)


def normalise(text: str) -> str:
    """Digits (phone numbers, house numbers) carry no topic: one placeholder for every run."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text)).strip()


def words(text: str) -> list[str]:
    return [w for w in tokenizer().lcut(text) if w.strip() and not (len(w) == 1 and not w.isalnum())]


class Classifier:
    """A trained model: ``propose`` is read-only and safe from many threads at once."""

    def __init__(self, pipeline: Any, categories: Catalogue, trained_on: int) -> None:
        self._pipeline = pipeline
        self._classes: list[str] = list(pipeline.classes_)
        by_code = categories.by_code()
        self._category = [by_code[c] for c in self._classes]
        self._departments = sorted({c.department for c in self._category})
        index = {d: i for i, d in enumerate(self._departments)}
        # categories × departments: one matrix product turns category probabilities into departments'
        self._to_department = np.zeros((len(self._classes), len(self._departments)))
        for row, category in enumerate(self._category):
            self._to_department[row, index[category.department]] = 1.0
        self.trained_on = trained_on
        self._features = pipeline[0]
        self._fast = _collapsed(pipeline[-1], len(self._classes))

    @property
    def categories(self) -> list[str]:
        return list(self._classes)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's probability for each category of ``categories`` (rows: texts)."""
        cleaned = [normalise(t) for t in texts]
        if self._fast is not None:
            return self._fast.probabilities(self._features.transform(cleaned))
        if hasattr(self._pipeline, "predict_proba"):
            return self._pipeline.predict_proba(cleaned)
        scores = self._pipeline.decision_function(cleaned)  # too few examples to calibrate: a softmax
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def department_scores(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The departments and each text's probability for each (rows: texts)."""
        return self._departments, self.probabilities(texts) @ self._to_department

    def propose(self, text: str, top: int = TOP) -> Proposals:
        probabilities = self.probabilities([text])[0]
        by_department = probabilities @ self._to_department
        proposals: list[Proposal] = []
        for column in np.argsort(-by_department)[:top]:
            department = self._departments[column]
            rows = [r for r, c in enumerate(self._category) if c.department == department]
            best = self._category[max(rows, key=lambda r: probabilities[r])]
            proposals.append(Proposal(category=best.code, category_name=best.name, department=department,
                                      transfer_line=best.transfer_line, confidence=round(float(by_department[column]), 4)))
        return Proposals(proposals=proposals, must_choose=not proposals or proposals[0].confidence < THRESHOLD,
                         threshold=THRESHOLD)


@dataclass(frozen=True)
class _Calibrated:
    """The calibrated ensemble's arithmetic as three array operations: every fold's linear scores
    at once, their sigmoids, normalised per fold and averaged over the folds. The same numbers as
    ``CalibratedClassifierCV.predict_proba`` (checked in the tests), without its per-class loop in
    Python: a proposal in about a tenth of the time."""

    weights: Any  # features × (folds · classes)
    intercepts: np.ndarray
    a: np.ndarray
    b: np.ndarray
    folds: int
    classes: int

    def probabilities(self, features: Any) -> np.ndarray:
        scores = np.asarray(features @ self.weights) + self.intercepts
        sigmoid = 1.0 / (1.0 + np.exp(self.a * scores + self.b))
        per_fold = sigmoid.reshape(-1, self.folds, self.classes)
        totals = per_fold.sum(axis=2, keepdims=True)
        per_fold = np.where(totals > 0, per_fold / np.where(totals > 0, totals, 1.0), 1.0 / self.classes)
        return np.clip(per_fold, 0.0, 1.0).mean(axis=1)


def _collapsed(model: Any, classes: int) -> _Calibrated | None:
    """The fast form of a calibrated ensemble of linear models with sigmoid calibrators; None for
    any other model (or when scikit-learn's internals are not what this expects: the slow way then)."""
    try:
        folds = model.calibrated_classifiers_
        weights: list[Any] = []
        intercepts: list[Any] = []
        a: list[float] = []
        b: list[float] = []
        for fold in folds:
            estimator = fold.estimator
            if list(estimator.classes_) != list(model.classes_) or len(fold.calibrators) != classes:
                return None
            weights.append(estimator.coef_)
            intercepts.append(estimator.intercept_)
            a.extend(c.a_ for c in fold.calibrators)
            b.extend(c.b_ for c in fold.calibrators)
    except AttributeError:
        return None
    return _Calibrated(weights=np.ascontiguousarray(np.vstack(weights).T), intercepts=np.concatenate(intercepts),
                       a=np.asarray(a, dtype=float), b=np.asarray(b, dtype=float), folds=len(folds), classes=classes)


def train(examples: Iterable[Example], *, categories: Catalogue | None = None) -> Classifier:
    """A classifier trained on ``examples`` (each labelled with a category of the catalogue; an
    example whose category the catalogue no longer has is left out). Seconds for a few thousand."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    categories = categories or catalogue()
    known = categories.by_code()
    kept = [e for e in examples if e.category in known]
    if len({e.category for e in kept}) < 2:
        raise NotEnoughExamples("训练至少需要两个分类的样本")
    features = make_union(
        TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=1),
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
    )
    # A multinomial logistic regression was as accurate and three times slower to train (51 classes).
    folds = min(3, min(Counter(e.category for e in kept).values()))
    # Fixed seeds, unshuffled folds: the same examples in the same order make the same model in every process.
    svc = LinearSVC(C=0.5, random_state=0)
    model = CalibratedClassifierCV(svc, cv=folds, method="sigmoid") if folds >= 2 else svc
    pipeline = make_pipeline(features, model)
    pipeline.fit([normalise(e.text) for e in kept], [e.category for e in kept])
    return Classifier(pipeline, categories, trained_on=len(kept))


_current: Classifier | None = None
_version: int | None = None  # the ``hotline_classifier_versions`` row the current model was trained as (None: the demo's)
_lock = threading.Lock()


def current() -> Classifier:
    """The process's classifier: trained on the demo tickets the first time it is asked for."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = train(generate())
    return _current


def replace(examples: Iterable[Example]) -> Classifier:
    """Train on the demo tickets plus ``examples`` (the centre's corrections) and use the result
    from now on; proposals in progress finish on the old one."""
    made = train([*generate(), *examples])
    install(made, None)
    return made


def loaded() -> bool:
    return _current is not None


def version() -> int | None:
    """Which retraining the process's model is (None: the demo model, or none trained yet)."""
    return _version if _current is not None else None


def install(made: Classifier, as_version: int | None) -> None:
    """Use ``made`` (trained as retraining ``as_version``) from now on: proposals in progress
    finish on the old one."""
    global _current, _version
    with _lock:
        _current, _version = made, as_version


def forget() -> None:
    """Drop the process's model (the next proposal trains again): what a fresh process has."""
    global _current, _version
    with _lock:
        _current, _version = None, None


def propose(text: str) -> Proposals:
    return current().propose(text)
