"""The architecture, checked: the import contracts catch what they are written for, every read
model stays true to the tables it reads, and every JSON answer of the API has a declared shape.

No database: the contracts run on a copy of the source (``lint-imports`` in a subprocess), the
read models are compared with ``tongban.metadata``, and the OpenAPI document is built from an app
that never connects.
"""

from __future__ import annotations

import configparser
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest
from sqlalchemy import MetaData, Table

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
DOMAINS = ("accounts", "audit", "cases", "catalog", "exchange", "items", "notifications", "org", "registry",
           "sharing", "supervision", "web", "workdays")


def _lint_imports() -> str:
    found = shutil.which("lint-imports") or shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("lint-imports is not installed (import-linter is a development dependency)")
    return found


def _contract_names() -> dict[str, str]:
    """The contracts of ``.importlinter``: id -> name (the name is what its report prints)."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    prefix = "importlinter:contract:"
    return {section[len(prefix):]: config[section]["name"] for section in config.sections() if section.startswith(prefix)}


CONTRACTS = _contract_names()


def _run_contracts(root: Path, *contract_ids: str) -> tuple[int, str]:
    """``lint-imports`` on the tree at ``root``; returns its exit code and its report, whitespace
    folded to single spaces (the report wraps long lines)."""
    command = [_lint_imports(), "--no-cache", "--no-logo", *(arg for cid in contract_ids for arg in ("--contract", cid))]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root / 'tools'}", "COLUMNS": "1000",
           "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the contracts read: ``src/``, ``tools/`` and ``.importlinter``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    shutil.copytree(SRC, tmp_path / "src", ignore=ignore)
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=ignore)
    shutil.copy2(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _append(tree: Path, module: str, line: str) -> None:
    path = tree / "src" / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    assert path.exists(), f"{module} is gone: pick another module to inject into"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")


def test_core_importing_a_domain_breaks_core_is_plumbing(tree: Path) -> None:
    _append(tree, "tongban.core.clock", "from tongban.cases import models  # noqa")
    code, report = _run_contracts(tree, "core-imports-no-domain")
    assert code != 0, report
    assert f"{CONTRACTS['core-imports-no-domain']} BROKEN" in report, report
    assert "tongban.core.clock -> tongban.cases.models" in report, report


def test_a_domain_importing_anothers_models_breaks_the_domain_boundary(tree: Path) -> None:
    _append(tree, "tongban.items.api", "from tongban.cases import models as _m  # noqa")
    code, report = _run_contracts(tree, "domain-boundaries")
    assert code != 0, report
    assert f"{CONTRACTS['domain-boundaries']} BROKEN" in report, report
    assert "tongban.items.api -> tongban.cases.models (not a service or schemas module)" in report, report


def test_a_domain_importing_a_read_model_of_another_breaks_the_domain_boundary(tree: Path) -> None:
    """A read model is its reader's own business: no other domain imports it."""
    (tree / "src" / "tongban" / "supervision" / "read_models.py").write_text(
        '"""A read model for this test."""\n', encoding="utf-8")
    _append(tree, "tongban.items.api", "from tongban.supervision import read_models as _r  # noqa")
    code, report = _run_contracts(tree, "domain-boundaries")
    assert code != 0, report
    assert "tongban.items.api -> tongban.supervision.read_models (another domain's read model" in report, report


def test_a_package_passing_on_its_private_modules_breaks_the_domain_boundary(tree: Path) -> None:
    """``from tongban.cases import Application`` would be a back door if cases' __init__ re-exported its models."""
    _append(tree, "tongban.cases", "from tongban.cases.models import Application  # noqa")
    code, report = _run_contracts(tree, "domain-boundaries")
    assert code != 0, report
    assert "tongban.cases -> tongban.cases.models (re-exported by the package" in report, report


def _importing_pair(root: Path) -> tuple[str, str]:
    """Two domains of the tree, the first importing the second (through its service or schemas)."""
    graph = grimp.build_graph("tongban", exclude_type_checking_imports=True)
    for importer in DOMAINS:
        for imported in DOMAINS:
            faces = [root / "src" / "tongban" / domain / "service.py" for domain in (importer, imported)]
            if importer != imported and all(face.exists() for face in faces) and \
                    graph.direct_import_exists(importer=f"tongban.{importer}", imported=f"tongban.{imported}",
                                               as_packages=True):
                return importer, imported
    pytest.fail("no domain imports another: nothing to close a cycle with")


def test_a_cycle_between_two_domains_breaks_no_cycles(tree: Path) -> None:
    importer, imported = _importing_pair(ROOT)
    # ``imported`` now imports ``importer`` back, through its public face: only the cycle is wrong.
    _append(tree, f"tongban.{imported}.service", f"from tongban.{importer} import service as _cycle  # noqa")
    code, report = _run_contracts(tree, "no-cycles")
    assert code != 0, report
    assert f"{CONTRACTS['no-cycles']} BROKEN" in report, report
    assert "No cycles are allowed in tongban." in report, report


def test_the_real_tree_keeps_every_contract() -> None:
    code, report = _run_contracts(ROOT)
    assert code == 0, report


# Read models: a domain's declared view of another domain's tables (see .importlinter's rules).

READ_MODELS = sorted(f"tongban.{path.parent.name}.read_models" for path in SRC.glob("tongban/*/read_models.py"))


@pytest.mark.parametrize("module_name", READ_MODELS)
def test_a_read_model_stays_true_to_its_owner(module_name: str) -> None:
    from tongban.metadata import metadata as schema

    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"{module_name}: say whose tables these are and why they are read directly"
    tables = [value for value in vars(module).values() if isinstance(value, Table)]
    assert tables, f"{module_name} declares no table"
    wrong = []
    for table in tables:
        if table.metadata is schema or not isinstance(table.metadata, MetaData):
            wrong.append(f"{table.name}: declared on the schema's MetaData (a read model creates and migrates nothing)")
        owner = schema.tables.get(table.name)
        if owner is None:
            wrong.append(f"{table.name}: no such table in tongban.metadata")
            continue
        wrong += [f"{table.name}.{column.name}: no such column in the owner's table"
                  for column in table.columns if column.name not in owner.columns]
        declared_key = {c.name for c in table.primary_key}
        if declared_key and declared_key != {c.name for c in owner.primary_key}:  # a key, if declared, is the owner's
            wrong.append(f"{table.name}: its primary key is not the owner's")
    assert not wrong, f"{module_name}:\n" + "\n".join(wrong)


# The API: every JSON answer has a declared shape (a response model), not ``{}`` or a bare object.

def _typed(schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            members = [m for m in schema[combinator] if m.get("type") != "null"]
            return bool(members) and all(_typed(m) for m in members)
    kind = schema.get("type")
    if kind is None:
        return False
    if kind == "object":
        extra = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(extra, dict) and _typed(extra))
    if kind == "array":
        return _typed(schema.get("items", {}))
    return True


def test_every_json_answer_of_the_api_is_typed(tmp_path: Path) -> None:
    from tongban.app import create_app
    from tongban.core.config import Environment, Settings

    settings = Settings(env=Environment.TEST, database_url=f"sqlite:///{tmp_path / 'never-opened.db'}",
                        data_dir=tmp_path, relay_enabled=False)
    document = create_app(settings).openapi()  # no lifespan: nothing connects
    offenders = []
    for path, operations in sorted(document["paths"].items()):
        for method, operation in operations.items():
            for status, response in sorted(operation.get("responses", {}).items()):
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content is not None and not _typed(content.get("schema", {})):
                    offenders.append(f"{method.upper()} {path} {status}: {content.get('schema', {})}")
    assert not offenders, f"{len(offenders)} JSON answers without a declared shape (give them a response_model):\n" \
        + "\n".join(offenders)
