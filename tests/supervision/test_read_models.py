"""What supervision reads of other domains' tables stays true to their models: each column of its
read model exists, under the same name, in the owner's table; the labels it keeps of cases' are
cases' own."""

from __future__ import annotations

import tongban.metadata  # noqa: F401 (every model on Base.metadata)
from tongban.cases.models import STATUS_LABELS, ApplicationStatus
from tongban.core.db.base import Base
from tongban.supervision import read_models, ratings


def test_every_column_read_exists_in_the_owners_table():
    assert read_models.metadata is not Base.metadata  # creates and migrates nothing
    for table in read_models.metadata.tables.values():
        owner = Base.metadata.tables[table.name]
        assert {c.name for c in table.columns} <= {c.name for c in owner.columns}, table.name
        assert {c.name for c in table.primary_key} == {c.name for c in owner.primary_key}, table.name


def test_the_application_labels_are_cases_own():
    assert ratings.APPLICATION_STATUS_LABELS == {status.value: label for status, label in STATUS_LABELS.items()}
    assert set(ratings.RATED) == {ApplicationStatus.APPROVED.value, ApplicationStatus.REFUSED.value}
