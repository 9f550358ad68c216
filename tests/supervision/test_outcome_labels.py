"""A closed clock's outcome reads in Chinese on the clock page and its timeline (issue 25, finding 5)."""

from __future__ import annotations

from tongban.cases.models import ApplicationStatus
from tongban.supervision.models import OUTCOME_LABELS, outcome_label


def test_every_outcome_a_domain_closes_a_clock_with_has_a_name():
    # Applications close with their final status, tasks with the decision, corrections with the answer.
    outcomes = {"accepted", "not_accepted", "approve", "refuse", "supplement", "answered", "escalated", "rectified",
                "cancelled", "rejected", ApplicationStatus.APPROVED.value, ApplicationStatus.REFUSED.value}
    assert outcomes <= set(OUTCOME_LABELS)
    assert outcome_label("correction", "accepted") == "已采纳" and outcome_label("acceptance", "accepted") == "已受理"
    assert outcome_label("task", "something_new") == "已办结"
