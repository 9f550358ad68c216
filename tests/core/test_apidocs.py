"""The API document's sections: named by their tags' ASCII words, each with the schemas it reaches."""

from __future__ import annotations

from tongban.core.apidocs import section_slug, sections


def _op(tag, ref=None):
    operation = {"tags": [tag], "responses": {"200": {"description": "好"}}}
    if ref:
        operation["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}
    return operation


def test_slugs_come_from_the_tags_ascii_words():
    assert section_slug("城市网格化管理 grid") == "grid"
    assert section_slug("Open311 GeoReport v2") == "open311-georeport-v2"
    assert section_slug("12345 热线 hotline") == "12345-hotline"
    assert section_slug("好差评与整改") == ""


def test_a_section_holds_its_operations_and_the_schemas_they_reach_and_no_more():
    document = {
        "openapi": "3.1.0", "info": {"title": "T", "version": "1"},
        "paths": {
            "/z": {"get": _op("乙 b", "Outer"), "post": _op("甲 a")},
            "/a": {"get": _op("甲 a", "Leaf")},
            "/m": {"get": _op("丙")},
            "/n": {"get": _op("丁")},
            "/b": {"get": _op("戊 a")},  # the same ASCII words as 甲 a
        },
        "components": {"schemas": {
            "Outer": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Inner"},
                                                       "self": {"$ref": "#/components/schemas/Outer"}}},
            "Inner": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}},
            "Leaf": {"type": "string"},
            "Unused": {"type": "integer"},
        }},
    }
    parts = sections(document)
    # In the order of each section's first path, so /a's tag leads whatever order routers were mounted in.
    assert [(part.slug, part.tag) for part in parts] == [("a", "甲 a"), ("a-2", "戊 a"), ("section-3", "丙"),
                                                         ("section-4", "丁"), ("b", "乙 b")]
    first, *_, last = parts
    assert first.document["paths"] == {"/z": {"post": _op("甲 a")}, "/a": {"get": _op("甲 a", "Leaf")}}
    assert set(first.document["components"]["schemas"]) == {"Leaf"}
    assert set(last.document["components"]["schemas"]) == {"Outer", "Inner", "Leaf"}  # through Inner, cycle and all
    assert last.document["info"] == {"title": "T · 乙 b", "version": "1"}
    assert document["info"]["title"] == "T" and len(document["paths"]) == 5  # the whole document is left as it was
