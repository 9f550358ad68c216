"""The domain boundary as an import-linter contract (``.importlinter``, run by ``make lint``).

A domain (``tongban.<domain>``) may import from another domain only its public face: the
``service`` and ``schemas`` modules (and the package itself, whose ``__init__`` re-exports
nothing private). Everything else of a domain (its models, pages, API, engine) is its own
business: another domain that needs its data reads it through the owner's service or through a
read model of its own (``<domain>/read_models.py``, declaring the tables it reads: see
docs/architecture.md). A read model is private to its reader: no other domain imports it, and it
can never be configured public.
"""

from __future__ import annotations

from typing import TypedDict

import grimp
from importlinter import Contract, ContractCheck, fields, output

READ_MODELS = "read_models"  # the reader's own declaration of the tables it reads: never public


class BrokenLink(TypedDict):
    importer: str
    imported: str
    lines: list[tuple[int, str]]
    why: str


def _strings(value: object, name: str) -> list[str]:
    """A list field's value: the class declares the field, an instance holds the parsed list."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"domain_boundaries: {name} must be a list of names, not {value!r}")
    return value


class DomainBoundaryContract(Contract):
    type_name = "domain_boundaries"

    domains = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        domains = sorted(_strings(self.domains, "domains"))
        public = set(_strings(self.public, "public"))
        if READ_MODELS in public:
            raise ValueError(f"domain_boundaries: {READ_MODELS} is its reader's own and cannot be public")

        def domain_of(module: str) -> str | None:
            return next((d for d in domains if module == d or module.startswith(d + ".")), None)

        def face_of(module: str, domain: str) -> str:
            """``tongban.cases.service.x`` -> ``service``; the package itself -> ``""``."""
            return module[len(domain) + 1:].split(".")[0]

        def link(importer: str, imported: str, why: str) -> BrokenLink:
            lines = [(int(d["line_number"]), str(d["line_contents"]))
                     for d in graph.get_import_details(importer=importer, imported=imported)]
            return {"importer": importer, "imported": imported, "lines": lines, "why": why}

        broken: list[BrokenLink] = []
        for domain in domains:
            # The package itself is public only while its __init__ passes nothing private on.
            for imported in sorted(graph.find_modules_directly_imported_by(domain)):
                if domain_of(imported) == domain and face_of(imported, domain) not in public | {""}:
                    broken.append(link(domain, imported, "re-exported by the package, which other domains may import"))
            for importer in sorted({domain} | graph.find_descendants(domain)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    other = domain_of(imported)
                    if other is None or other == domain:
                        continue
                    face = face_of(imported, other)
                    if face == "" or face in public:
                        continue
                    why = ("another domain's read model: it is its reader's own" if face == READ_MODELS
                           else "not a service or schemas module")
                    broken.append(link(importer, imported, why))
        return ContractCheck(kept=not broken, warnings=[], metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        broken: list[BrokenLink] = check.metadata["broken"]
        for item in broken:
            output.print_error(f"{item['importer']} -> {item['imported']} ({item['why']})")
            for number, contents in item["lines"]:
                output.indent_cursor()
                output.print_error(f"l.{number}: {contents}", bold=False)
            output.new_line()
