"""The domain boundary as an import-linter contract (``.importlinter``, run by ``make lint``).

A domain (``tongban.<domain>``) may import from another domain only its public face: the
``service`` and ``schemas`` modules (and the package itself). Everything else of a domain (its
models, pages, API, engine) is its own business: another domain that needs its data reads it
through the owner's service or through a read model of its own (``<domain>/read_models.py``,
declaring the tables it reads: see docs/architecture.md).
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class DomainBoundaryContract(Contract):
    type_name = "domain_boundaries"

    domains = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        domains = sorted(self.domains)  # type: ignore[arg-type]
        public = set(self.public)  # type: ignore[arg-type]

        def domain_of(module: str) -> str | None:
            return next((d for d in domains if module == d or module.startswith(d + ".")), None)

        broken = []
        for domain in domains:
            for importer in sorted({domain} | graph.find_descendants(domain)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    other = domain_of(imported)
                    if other is None or other == domain:
                        continue
                    face = imported[len(other) + 1:].split(".")[0]
                    if face == "" or face in public:
                        continue
                    lines = [(d["line_number"], d["line_contents"])
                             for d in graph.get_import_details(importer=importer, imported=imported)]
                    broken.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, warnings=[], metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for link in check.metadata["broken"]:
            output.print_error(f"{link['importer']} -> {link['imported']} (not a service or schemas module)")
            for number, contents in link["lines"]:
                output.indent_cursor()
                output.print_error(f"l.{number}: {contents}", bold=False)
            output.new_line()
