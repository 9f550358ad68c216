"""The classifier retrained from the centre's corrections, the same in every server process.

Labels the centre gives: a **correction** (``ClassifierCorrection``) when the agent files a call
under another category than the proposal the call page showed (the service re-checks the proposal)
or the centre re-routes a returned ticket under another category; a **confirmed** ticket when a
follow-up finds the problem solved (its category was right).

``retrain`` (the centre: 「重新训练分类模型」) trains on the demo tickets' training part (four in five,
``demo_split``) plus every correction and confirmed ticket so far, in a fixed order with fixed
seeds, scores the model on the demo's held-back fifth (department top-1), and keeps a
``hotline_classifier_versions`` row saying which rows it used. That table is reference data: its
write moves the generation, so every other process notices on its next proposal (``ensure_current``:
one ``per_generation`` read, no statement while the generation stands) and trains the same model
from the same rows. That one request waits for the training (about two seconds with the demo's
4,000 tickets); the process's other threads go on proposing with the model they have meanwhile
(the training lock is only tried, never waited for, once a model exists). Until the first
retraining every process uses the demo model (``classify.current``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import audit, clock as wall
from tongban.core.auth import Principal
from tongban.core.db.cache import per_generation
from tongban.hotline import classify
from tongban.hotline.categories import catalogue
from tongban.hotline.examples import Example, generate
from tongban.hotline.models import ClassifierCorrection, ClassifierVersion, CorrectionKind, HotlineTicket

HOLD_BACK_EVERY = 5  # every fifth demo ticket is never trained on: the accuracy is measured on them
_KEY = "hotline.classifier.latest"
_training = threading.Lock()


@dataclass(frozen=True)
class Latest:
    """The newest retraining, as plain data every session of the process may share."""

    id: int
    corrections_upto: int
    confirmed_until: datetime


@cache
def demo_split() -> tuple[list[Example], list[Example]]:
    """The demo tickets: (training part, held-back part), the same in every process."""
    demo = generate()
    return ([e for i, e in enumerate(demo) if i % HOLD_BACK_EVERY != HOLD_BACK_EVERY - 1],
            [e for i, e in enumerate(demo) if i % HOLD_BACK_EVERY == HOLD_BACK_EVERY - 1])


def _example(text: str, code: str) -> Example:
    found = catalogue().by_code().get(code)
    return Example(text=text, category=code, department=found.department if found else "")


def labelled(db: Session, corrections_upto: int, confirmed_until: datetime) -> tuple[list[Example], list[Example]]:
    """(corrections up to that id, tickets confirmed solved until then), each in a fixed order."""
    corrections = [_example(said, code) for said, code in db.execute(
        select(ClassifierCorrection.said, ClassifierCorrection.category_code)
        .where(ClassifierCorrection.id <= corrections_upto).order_by(ClassifierCorrection.id))]
    confirmed = [_example(said, code) for said, code in db.execute(
        select(HotlineTicket.said, HotlineTicket.category_code)
        .where(HotlineTicket.solved.is_(True), HotlineTicket.followed_up_at <= confirmed_until)
        .order_by(HotlineTicket.case_id))]
    return corrections, confirmed


def _train(db: Session, corrections_upto: int, confirmed_until: datetime) -> tuple[classify.Classifier, int, int]:
    corrections, confirmed = labelled(db, corrections_upto, confirmed_until)
    return classify.train([*demo_split()[0], *corrections, *confirmed]), len(corrections), len(confirmed)


def accuracy(model: classify.Classifier, held_back: list[Example]) -> float:
    """The share of ``held_back`` whose likeliest department is theirs."""
    if not held_back:
        return 0.0
    departments, scores = model.department_scores([e.text for e in held_back])
    best = np.argmax(scores, axis=1)
    return round(sum(departments[b] == e.department for b, e in zip(best, held_back, strict=True)) / len(held_back), 4)


def _latest(db: Session) -> Latest | None:
    row = db.execute(select(ClassifierVersion.id, ClassifierVersion.corrections_upto, ClassifierVersion.confirmed_until)
                     .order_by(ClassifierVersion.id.desc()).limit(1)).first()
    return Latest(*row) if row is not None else None


def ensure_current(db: Session) -> None:
    """The process proposes with the newest retraining: trained here the first time it is seen."""
    latest = per_generation(db, _KEY, lambda: _latest(db))
    if latest is None or classify.version() == latest.id:
        return
    if not _training.acquire(blocking=not classify.loaded()):
        return  # another thread of this process is training it: propose with the model there is
    try:
        if classify.version() != latest.id:
            made, _, _ = _train(db, latest.corrections_upto, latest.confirmed_until)
            classify.install(made, latest.id)
    finally:
        _training.release()


def propose(db: Session, text: str) -> classify.Proposals:
    ensure_current(db)
    return classify.propose(text)


def record(db: Session, principal: Principal, *, case_id: int, number: str, said: str, chosen: str, proposed: str,
           kind: CorrectionKind) -> ClassifierCorrection:
    correction = ClassifierCorrection(case_id=case_id, number=number[:24], said=said[:2000], category_code=chosen[:16],
                                      proposed_code=proposed[:16], kind=kind.value, actor_account=principal.actor_id[:64],
                                      created_at=wall.now())
    db.add(correction)
    return correction


def retrain(db: Session, principal: Principal) -> ClassifierVersion:
    """Train on the demo's training part and every label so far; keep the version row (the
    caller commits) and use the model in this process at once."""
    with _training:
        upto = db.scalar(select(func.max(ClassifierCorrection.id))) or 0
        until = wall.now()
        made, corrections, confirmed = _train(db, upto, until)
        version = ClassifierVersion(corrections_upto=upto, confirmed_until=until, corrections=corrections,
                                    confirmed=confirmed, examples=made.trained_on,
                                    accuracy=accuracy(made, demo_split()[1]), trained_by=principal.actor_id[:64],
                                    trained_by_name=principal.actor_name[:100], trained_at=wall.now())
        db.add(version)
        db.flush()
        audit.record(db, actor=principal, action="hotline.classifier.retrain", object_type="hotline_classifier_version",
                     object_id=str(version.id), details={"examples": version.examples, "corrections": corrections,
                                                         "confirmed": confirmed, "accuracy": version.accuracy})
        classify.install(made, version.id)
    return version


@dataclass(frozen=True)
class Status:
    latest: ClassifierVersion | None
    corrections_since: int
    confirmed_since: int
    process_version: int | None


def status(db: Session) -> Status:
    latest = db.scalar(select(ClassifierVersion).order_by(ClassifierVersion.id.desc()).limit(1))
    upto = latest.corrections_upto if latest is not None else 0
    confirmed = select(func.count()).select_from(HotlineTicket).where(HotlineTicket.solved.is_(True))
    if latest is not None:
        confirmed = confirmed.where(HotlineTicket.followed_up_at > latest.confirmed_until)
    return Status(latest=latest,
                  corrections_since=db.scalar(select(func.count()).select_from(ClassifierCorrection)
                                              .where(ClassifierCorrection.id > upto)) or 0,
                  confirmed_since=db.scalar(confirmed) or 0, process_version=classify.version())
