"""Conditions as data: refused with clear Chinese reasons when they cannot mean anything, and
evaluated the same way one subject at a time (with explanations) and for every subject at once
(Polars), unknown and stale facts included — a property test over random facts and conditions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tongban.core.errors import Problem
from tongban.policies import conditions
from tongban.policies.conditions import Facts, as_of_column, frame_schema
from tongban.policies.facts import derive, facts_of_record
from tongban.policies.schemas import FACTS_BY_NAME, OPERATORS, Condition, FactKind, Group, Operator, ProfileRef, Result, Target, Verdict

ON = date(2026, 12, 8)
ENTERPRISE = Target.ENTERPRISE


def _group(*items, mode="all"):
    return Group(mode=mode, items=list(items))


def _refused(group, target=ENTERPRISE, profiles=None) -> list[dict]:
    with pytest.raises(Problem) as raised:
        conditions.compile_conditions(group, target, profiles or {})
    problem = raised.value
    assert problem.slug == "validation-error" and problem.status == 422
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in problem.extensions["errors"])
    return problem.extensions["errors"]


def test_conditions_that_cannot_mean_anything_are_refused_with_their_place():
    errors = _refused(_group(
        Condition(field="turnover", op="gt", value=1),  # no such fact
        Condition(field="age", op="ge", value=60),  # a resident's fact in an enterprise policy
        Condition(field="registered_capital", op="gt", value="很多"),  # not a number
        Condition(field="registered_capital", op="prefix", value=["1"]),  # a number has no prefix
        Condition(field="status", op="eq", value="营业中"),  # not one of the choices
        Condition(field="employees", op="between", value=[100, 10]),  # the ends reversed
        Condition(field="industry_code", op="in", value=[]),  # an empty list
        Condition(field="taxpayer_type", op="exists", value="一般纳税人"),  # exists takes no value
        Condition(field="registered_capital", op="gt", value=True),  # a flag is not a number
    ))
    codes = [(e["field"], e["code"]) for e in errors]
    assert codes == [
        ("body.conditions.items[0].field", "unknown_field"), ("body.conditions.items[1].field", "unknown_field"),
        ("body.conditions.items[2].value", "wrong_value"), ("body.conditions.items[3].op", "wrong_operator"),
        ("body.conditions.items[4].value", "wrong_value"), ("body.conditions.items[5].value", "wrong_value"),
        ("body.conditions.items[6].value", "wrong_value"), ("body.conditions.items[7].value", "unexpected_value"),
        ("body.conditions.items[8].value", "wrong_value")]
    assert "居民" in errors[1]["message"]  # it says whose field it is
    assert "empty" in [e["code"] for e in _refused(_group())]  # a policy with no conditions
    assert "empty" in [e["code"] for e in _refused(_group(_group(mode="any")))]


def test_profiles_are_unfolded_and_a_circle_of_them_is_refused():
    small = _group(Condition(field="employees", op="lt", value=100), Condition(field="registered_capital", op="le", value=1000))
    tree = conditions.compile_conditions(_group(ProfileRef(profile="small"), Condition(field="status", op="eq", value="存续")),
                                         ENTERPRISE, {"small": (ENTERPRISE, small)})
    assert tree.items[0].profile == "small" and len(tree.items[0].items) == 2
    circle = {"a": (ENTERPRISE, _group(ProfileRef(profile="b"))), "b": (ENTERPRISE, _group(ProfileRef(profile="a")))}
    errors = _refused(_group(ProfileRef(profile="a")), profiles=circle)
    assert errors[0]["code"] == "circular" and "a → b → a" in errors[0]["message"]
    assert _refused(_group(ProfileRef(profile="nobody")))[0]["code"] == "unknown_profile"
    residents = {"old": (Target.RESIDENT, _group(Condition(field="age", op="ge", value=60)))}
    assert _refused(_group(ProfileRef(profile="old")), profiles=residents)[0]["code"] == "wrong_target"


def test_unknown_is_neither_pass_nor_fail_and_stale_is_unknown():
    tree = conditions.compile_conditions(_group(
        Condition(field="registered_capital", op="le", value=1000),
        Condition(field="employees", op="lt", value=100)), ENTERPRISE, {})
    fresh = {"legal_entities": ON - timedelta(days=10)}
    assert conditions.verdict(tree, Facts({"registered_capital": 500.0, "employees": 20.0}, fresh), ON)[0] == Verdict.ELIGIBLE
    # 从业人数 older than 400 days is stale: unknown, not a pass on an old figure.
    old = {"legal_entities": ON - timedelta(days=500)}
    verdict, checks = conditions.verdict(tree, Facts({"registered_capital": 500.0, "employees": 20.0}, old), ON)
    assert verdict == Verdict.UNKNOWN and checks[1].stale and checks[1].result == Result.UNKNOWN
    # A missing fact: unknown; but an all with a failing item fails whatever is unknown.
    assert conditions.verdict(tree, Facts({"registered_capital": 500.0}, fresh), ON)[0] == Verdict.UNKNOWN
    assert conditions.verdict(tree, Facts({"registered_capital": 5000.0}, fresh), ON)[0] == Verdict.INELIGIBLE
    # One condition short, the other met: a near miss, listed apart.
    verdict, checks = conditions.verdict(tree, Facts({"registered_capital": 5000.0, "employees": 20.0}, fresh), ON)
    assert verdict == Verdict.NEAR and [c.result for c in checks] == [Result.FAIL, Result.PASS]
    assert checks[0].value == "5,000 万元" and checks[0].threshold == "1,000 万元" and checks[0].source.startswith("法人库")


def test_conditions_in_words_say_where_a_group_begins():
    nested = conditions.compile_conditions(_group(
        Condition(field="established_years", op="lt", value=6),
        _group(Condition(field="industry_code", op="prefix", value=["I65", "M73"]),
               Condition(field="employees", op="ge", value=10), mode="any"),
        ProfileRef(profile="small")), ENTERPRISE,
        {"small": (ENTERPRISE, _group(Condition(field="registered_capital", op="le", value=1000)))})
    assert conditions.sentences(nested, {"small": "小微企业"}) == [
        "成立年限 小于 6 年", "以下满足其一", "　行业代码（GB/T 4754） 开头为 I65、M73", "　从业人数 不小于 10 人",
        "小微企业：以下全部满足", "　注册资本 不大于 1,000 万元"]
    either = conditions.compile_conditions(_group(Condition(field="status", op="eq", value="存续"),
                                                  Condition(field="social_insurance_registered", op="eq", value=True), mode="any"),
                                           ENTERPRISE, {})
    assert conditions.sentences(either) == ["以下满足其一", "登记状态 等于 存续", "已办理社会保险登记 为 是"]


# ---------------------------------------------------------------------------- the property test

_FIELDS = [f for (target, _name), f in FACTS_BY_NAME.items() if target == ENTERPRISE]
_CODES = ["C13", "C1391", "C14", "I65", "I6510", "M73", "F51"]


def _value(fact):
    if fact.kind == FactKind.NUMBER:
        return st.sampled_from([0.0, 1.0, 9.5, 10.0, 50.0, 99.0, 100.0, 1000.0, 5000.0])
    if fact.kind == FactKind.FLAG:
        return st.booleans()
    if fact.kind == FactKind.CODE:
        return st.sampled_from(_CODES)
    return st.sampled_from(fact.choices)


@st.composite
def _condition(draw):
    fact = draw(st.sampled_from(_FIELDS))
    op = draw(st.sampled_from(OPERATORS[fact.kind]))
    if op == Operator.EXISTS:
        value = None
    elif op == Operator.PREFIX:
        value = draw(st.lists(st.sampled_from(["C", "C1", "C13", "I6", "M"]), min_size=1, max_size=3))
    elif op == Operator.IN:
        value = draw(st.lists(_value(fact), min_size=1, max_size=4))
    elif op == Operator.BETWEEN:
        value = sorted(draw(st.lists(_value(fact), min_size=2, max_size=2)))
    else:
        value = draw(_value(fact))
    return Condition(field=fact.name, op=op, value=value)


_trees = st.recursive(_condition(), lambda children: st.builds(
    lambda mode, items: Group(mode=mode, items=items), st.sampled_from(["all", "any"]), st.lists(children, min_size=1, max_size=4)),
    max_leaves=8)


@st.composite
def _subjects(draw):
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row = {}
        for fact in _FIELDS:
            row[fact.name] = draw(st.one_of(st.none(), _value(fact)))
        # The record's as-of date: fresh, stale for 从业人数 (400 days), or not known.
        row[as_of_column("legal_entities")] = draw(st.sampled_from([ON, ON - timedelta(days=400), ON - timedelta(days=401), None]))
        rows.append(row)
    return rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees, rows=_subjects())
def test_every_subject_at_once_answers_as_one_subject_at_a_time(tree, rows):
    group = tree if isinstance(tree, Group) else Group(mode="all", items=[tree])
    compiled = conditions.compile_conditions(group, ENTERPRISE, {})
    frame = pl.DataFrame(rows, schema=frame_schema(ENTERPRISE))
    stage_one, [(result_column, near_column)] = conditions.verdict_columns([compiled], ON)
    bulk = frame.with_columns(stage_one).select(result=result_column, near=near_column,
                                                alone=conditions.expression(compiled, ON))  # the same, in one stage
    assert bulk["result"].to_list() == bulk["alone"].to_list()
    for row, result, near in zip(rows, bulk["result"].to_list(), bulk["near"].to_list(), strict=True):
        facts = Facts(row, {"legal_entities": row[as_of_column("legal_entities")]})
        one, _checks = conditions.evaluate(compiled, facts, ON)
        assert {Result.PASS: True, Result.FAIL: False, Result.UNKNOWN: None}[one] == result, (row, group)
        verdict, _ = conditions.verdict(compiled, facts, ON)
        assert (verdict == Verdict.NEAR) == near, (row, group)


# ---------------------------------------------------------------------------- the facts, both ways

_DAYS = st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def _raw_records(draw):
    rows = []
    for index in range(draw(st.integers(1, 8))):
        rows.append({
            "record_key": f"K{index:017d}", "name": draw(st.one_of(st.none(), st.just("某某"))),
            "entity_type": draw(st.one_of(st.none(), st.just("有限责任公司"))),
            "registered_capital": draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=4,
                                                                         allow_nan=False, allow_infinity=False))),
            "established_on": draw(st.one_of(st.none(), _DAYS)),
            "industry_code": draw(st.one_of(st.none(), st.sampled_from(_CODES))),
            "status": draw(st.one_of(st.none(), st.just("存续"))), "tax_registration_status": None,
            "taxpayer_type": None, "social_insurance_registered": draw(st.sampled_from([None, "已登记", "未登记"])),
            "employees": draw(st.one_of(st.none(), st.integers(0, 2_000_000))),
            "updated_at": draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 31),
                                            timezones=st.just(UTC))),
        })
    return rows


@settings(max_examples=200, deadline=None)
@given(rows=_raw_records(), on=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_the_facts_frame_derives_what_one_record_derives(rows, on):
    """成立年限 on every day of the year (birthdays in December included), 注册资本 as a number,
    the as-of date in Beijing: the frame's facts are the record's facts."""
    raw = pl.DataFrame(rows, orient="row", infer_schema_length=None)
    frame = derive(ENTERPRISE, raw, on)
    for row, derived in zip(rows, frame.to_dicts(), strict=True):
        one = facts_of_record(ENTERPRISE, row, on)
        for name, value in one.values.items():
            assert derived[name] == (float(value) if isinstance(value, Decimal) else value), (name, row, derived)
        assert derived[as_of_column("legal_entities")] == one.as_of["legal_entities"]
