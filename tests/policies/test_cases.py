"""Each demo policy against its cases, OpenFisca style (``cases/*.yaml``): registry facts in, the
verdict and every condition's result out. Each case's record is written into the registries (on
both engines) with the clock at the day it was recorded, then read back as the matcher reads it,
one record and (the same record among all) every record at once."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml
from helpers import credit_code, resident_id

from tongban import demo
from tongban.core import audit, clock
from tongban.demo.policies import POLICIES, PROFILES
from tongban.org import service as org
from tongban.policies import conditions, facts
from tongban.policies.schemas import Result, Target, Verdict
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))
_serial = itertools.count(1)


def _cases():
    for path in CASES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            yield pytest.param(document["policy"], case, id=f"{path.stem}:{case['name']}")


def test_every_demo_policy_has_cases():
    covered = {yaml.safe_load(p.read_text(encoding="utf-8"))["policy"] for p in CASES}
    assert covered == {p.title for p in POLICIES}


def _write(db, target: Target, raw: dict) -> str:
    """A new registry record of these raw values, each field written by the department that is its source."""
    n = next(_serial)
    schema = LEGAL_ENTITIES if target == Target.ENTERPRISE else PERSONS
    raw = dict(raw)
    if target == Target.ENTERPRISE:
        key, values = credit_code(org=f"MA1T{n:05d}"), {"name": f"测试企业{n}有限公司", **raw}
    else:
        key, values = resident_id(birth=str(raw.pop("birth")), seq=500 + n, region="310104"), {"name": f"测试{n}", **raw}
    by_duty: dict = {}
    for name, value in values.items():
        by_duty.setdefault(schema.by_name[name].duty, {})[name] = value
    actor = audit.SystemActor(actor_name="policies test")
    owner = by_duty.pop(schema.owner, {})
    for duty, part in [(schema.owner, owner), *by_duty.items()]:
        department = org.get_by_duty(db, duty.value)
        registry.write(db, registry=schema, key=key, values=registry.parse_values(schema, {schema.key: key, **part}),
                       department=department, actor=actor, reason="政策匹配测试", create=duty == schema.owner)
    return key


@pytest.mark.parametrize(("title", "case"), list(_cases()))
def test_demo_policy_case(writer, title, case):
    db = writer
    body = next(p for p in POLICIES if p.title == title)
    profiles = {p.code: (p.target, p.conditions) for p in PROFILES}
    tree = conditions.compile_conditions(body.conditions, body.target, profiles)
    on = date.fromisoformat(str(case["evaluated_on"]))
    with clock.frozen(date.fromisoformat(str(case["recorded"]))):
        key = _write(db, body.target, case["record"])
    name, subject = facts.record_facts(db, body.target, key, on)
    verdict, checks = conditions.verdict(tree, subject, on)
    assert verdict == Verdict(case["verdict"]), [(c.label, c.value, c.result.value) for c in checks]
    for field, expected in case["checks"].items():
        found = [c.result for c in checks if c.field == field]
        wanted = [Result(e) for e in (expected if isinstance(expected, list) else [expected] * len(found))]
        assert found == wanted, (field, [(c.label, c.value, c.threshold, c.result.value) for c in checks])
    # The same record among all, at once: the bulk match says the same.
    frame = facts.frame(db, body.target, on, keys=[key])
    result = frame.select(conditions.expression(tree, on)).to_series().to_list()[0]
    assert {Verdict.ELIGIBLE: True, Verdict.UNKNOWN: None}.get(verdict, False) == result
    assert frame["subject_name"].to_list() == [name]
    assert isinstance(frame, pl.DataFrame) and demo.DEMO_PASSWORD  # the demo district is loaded underneath


def test_every_record_at_once_reads_as_the_named_records_read(writer):
    """On PostgreSQL every record comes through COPY as CSV, a few named ones as result rows: the
    frames must be the same, missing values, decimals, dates and the as-of date included."""
    for raw in ({"registered_capital": "1234.5678", "established_on": "2019-12-31", "status": "存续", "employees": "7"},
                {"industry_code": "I6513"}, {"registered_capital": "0", "social_insurance_registered": "未登记"}):
        _write(writer, Target.ENTERPRISE, raw)
    for raw in ({"birth": "19601231", "employment_status": "灵活就业"}, {"birth": "20000229", "date_of_death": "2024-01-01"}):
        _write(writer, Target.RESIDENT, raw)
    for target in Target:
        every = facts.frame(writer, target, ON_DAY).sort("subject_key")
        named = facts.frame(writer, target, ON_DAY, keys=every["subject_key"].to_list()).sort("subject_key")
        assert every.height >= 2 and every.equals(named), (target, every.head(3), named.head(3))


ON_DAY = date(2026, 12, 8)
