"""The typed item document (``items.schemas.ServiceItemDocument``): every demo item reads as one,
its situations and materials typed, and nothing of the stored JSON is lost in the reading."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tongban.items import content
from tongban.items.schemas import Material, ServiceItemDocument, Situation


def test_every_demo_item_reads_as_a_typed_document_and_keeps_all_it_stored():
    documents = content.load()["items"]
    assert documents
    for stored in documents:
        typed = ServiceItemDocument.model_validate(stored)
        assert all(isinstance(s, Situation) for s in typed.situations)
        assert all(isinstance(m, Material) for m in typed.materials)
        assert [m.id for m in typed.materials] == [m["id"] for m in stored["materials"]]
        assert typed.model_dump(mode="json") == stored  # every field, extensions too, as stored


def test_a_material_without_its_source_is_not_a_material():
    stored = next(m for item in content.load()["items"] for m in item["materials"])
    with pytest.raises(ValidationError):
        Material.model_validate({key: value for key, value in stored.items() if key != "source"})
