"""The district's bundles (一件事) are data, ``cases/bundles.json``, read by one loader: each names
a process that exists and fields that fill only its own items; a key the loader does not know is
refused rather than ignored."""

from __future__ import annotations

import json

import pytest

from tongban.cases import bundles


def test_every_bundle_of_the_file_has_its_process_and_fills_only_its_own_items():
    loaded = bundles.load_bundles()
    assert list(loaded) == ["enterprise-setup", "road-excavation"] and loaded == bundles.BUNDLES
    processes = bundles.BUNDLES_FILE.parent / "processes"
    for bundle in loaded.values():
        assert (processes / f"{bundle.process_key}.bpmn").is_file(), bundle.code
        assert bundle.applicant_type in ("自然人", "法人") and bundle.limit_days > 0 and len(set(bundle.items)) == len(bundle.items)
        assert len({field.key for field in bundle.fields}) == len(bundle.fields), bundle.code
        for field in bundle.fields:
            assert set(field.items) <= set(bundle.items), (bundle.code, field.key)
            assert isinstance(field.items, tuple) and isinstance(field.choices, tuple)  # frozen, as declared
    setup = loaded["enterprise-setup"].fields
    assert next(f for f in setup if f.key == "seal_count").integer  # a value the file sets over the default
    assert next(f for f in setup if f.key == "enterprise_name").kind == "text"  # and a default it leaves


def test_a_misspelt_key_in_the_file_is_refused(tmp_path):
    entries = json.loads(bundles.BUNDLES_FILE.read_text(encoding="utf-8"))
    entries[0]["fields"][0]["requried"] = False
    path = tmp_path / "bundles.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TypeError, match="requried"):
        bundles.load_bundles(path)
