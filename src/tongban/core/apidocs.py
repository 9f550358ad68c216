"""The API document in sections, one per tag, for the docs page.

``/openapi.json`` states every operation (about 1 MB): Swagger UI needs seconds to read and resolve
it, and many more on a phone or a busy machine. The docs page offers one section at a time instead
(``/openapi/{slug}.json``: that tag's operations and only the schemas they reach), and the whole
document as one more choice. Clients and code generators keep reading ``/openapi.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SCHEMA_REF = re.compile(r"^#/components/schemas/(.+)$")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Section:
    """One tag's part of the API document; ``slug`` names it in the address."""
    slug: str
    tag: str
    document: dict[str, Any]


def section_slug(tag: str) -> str:
    """The tag's ASCII words, lower case, joined by hyphens ("城市网格化管理 grid" → ``grid``,
    "Open311 GeoReport v2" → ``open311-georeport-v2``); empty for a tag without any."""
    return "-".join(word.lower() for word in _ASCII_WORD.findall(tag))


def sections(openapi: dict[str, Any]) -> list[Section]:
    """The document cut by each operation's first tag; sections in the order of their first path
    (``/api/v1/accounts`` before ``/healthz``), so the order does not follow how routers are mounted."""
    by_tag: dict[str, dict[str, dict[str, Any]]] = {}
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            tag = (operation.get("tags") or ["其他 other"])[0]
            by_tag.setdefault(tag, {}).setdefault(path, {})[method] = operation
    schemas = openapi.get("components", {}).get("schemas", {})
    result: list[Section] = []
    slugs: set[str] = set()
    in_order = sorted(by_tag.items(), key=lambda tag_paths: min(tag_paths[1]))
    for position, (tag, paths) in enumerate(in_order, start=1):
        slug = section_slug(tag) or f"section-{position}"
        if slug in slugs:
            slug = f"{slug}-{position}"
        slugs.add(slug)
        reached = _schemas_reached(paths, schemas)
        document = {key: value for key, value in openapi.items() if key not in ("paths", "components", "tags")}
        document["info"] = {**openapi.get("info", {}), "title": f"{openapi.get('info', {}).get('title', '')} · {tag}"}
        document["paths"] = paths
        document["components"] = {**openapi.get("components", {}),
                                  "schemas": {name: schemas[name] for name in sorted(reached)}}
        result.append(Section(slug=slug, tag=tag, document=document))
    return result


def _schemas_reached(root: Any, schemas: dict[str, Any]) -> set[str]:
    """The names of the schemas ``root`` refers to, and those they refer to, and so on."""
    reached: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            match = _SCHEMA_REF.match(node["$ref"]) if isinstance(node.get("$ref"), str) else None
            if match and match.group(1) not in reached and match.group(1) in schemas:
                reached.add(match.group(1))
                stack.append(schemas[match.group(1)])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return reached
