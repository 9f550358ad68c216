"""The typed item document (``items.schemas.ServiceItemDocument``): every demo item reads as one,
its situations and materials typed, and nothing of the stored JSON is lost in the reading."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pathlib import Path

from tongban.items import content
from tongban.items import service as items
from tongban.items.schemas import ItemResult, LegalBasis, Material, ServiceItemDocument, Situation

SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"


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


def test_results_and_legal_basis_are_typed_as_stored():
    for stored in content.load()["items"]:
        typed = ServiceItemDocument.model_validate(stored)
        assert all(isinstance(r, ItemResult) for r in typed.results)
        assert [(r.name, r.kind, r.licence) for r in typed.results] == [
            (r["name"], r["kind"], r["licence"]) for r in stored["results"]]
        assert all(isinstance(b, LegalBasis) for b in typed.legal_basis)
        assert [b.law for b in typed.legal_basis] == [b["law"] for b in stored["legal_basis"]]


def test_an_item_whose_results_are_null_has_none():
    stored = {**content.load()["items"][0], "results": None}
    assert ServiceItemDocument.model_validate(stored).results == ()


def test_the_published_document_is_the_published_dict_typed_and_read_once(db):
    published = items.published_items(db)
    assert published
    for code, stored in published.items():
        typed = items.published_document(db, code)
        assert typed.model_dump(mode="json", exclude_unset=True) == stored
        assert items.published_document(db, code) is typed  # validated once, not per call
    db.rollback()


def test_no_domain_but_items_reads_the_item_document_as_a_dict():
    readers = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
               if path.relative_to(SRC).parts[0] != "items" and "published_item(" in path.read_text(encoding="utf-8")]
    assert readers == [], "read items.published_document (typed) instead of the dict of published_item"
