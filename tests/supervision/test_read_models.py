"""The labels supervision keeps of cases' statuses (it reads applications through its read model,
checked with every other read model in tests/test_architecture.py) are cases' own."""

from __future__ import annotations

from tongban.cases.models import STATUS_LABELS, ApplicationStatus
from tongban.supervision import ratings


def test_the_application_labels_are_cases_own():
    assert ratings.APPLICATION_STATUS_LABELS == {status.value: label for status, label in STATUS_LABELS.items()}
    assert set(ratings.RATED) == {ApplicationStatus.APPROVED.value, ApplicationStatus.REFUSED.value}
