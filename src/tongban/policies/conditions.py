"""Conditions as data: checked against the facts catalogue, then evaluated two ways that must agree —
one subject at a time with an explanation per condition (pages, the self-check, stored matches),
and every subject at once as a Polars expression (the bulk match). Both use three-valued logic:
a missing or stale fact is unknown; ``all`` is false as soon as one item is false, ``any`` true as
soon as one is true, otherwise unknown wins over the rest (Kleene's logic, which Polars' ``&`` and
``|`` follow on nullable booleans).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any

import polars as pl

from tongban.core.errors import Problem
from tongban.policies.schemas import (
    FACTS_BY_NAME, MAX_CONDITIONS, MAX_DEPTH, OPERATOR_LABELS, OPERATORS, Check, Condition, FactField, FactKind, Group,
    Operator, ProfileRef, Result, Target, Verdict, facts_of,
)

MAX_LIST = 200  # values of an ``in`` or ``prefix``
_CODE = re.compile(r"^[A-Z0-9]{1,12}$")


@dataclass(frozen=True)
class Leaf:
    fact: FactField
    op: Operator
    value: Any  # typed: float, date, str, bool; a tuple for in / prefix / between; None for exists


@dataclass(frozen=True)
class Tree:
    mode: str  # all | any
    items: tuple[Leaf | Tree, ...]
    profile: str | None = None  # the profile this group came from, for the explanation


# ---------------------------------------------------------------------------------------- checking


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, where: str, code: str, message: str) -> None:
        self.items.append({"field": where, "code": code, "message": message})


def compile_conditions(group: Group, target: Target, profiles: Mapping[str, tuple[Target, Group]], *,
                       where: str = "body.conditions") -> Tree:
    """The checked, typed tree of a policy's (or profile's) conditions with its profiles unfolded;
    every fault found at once, as one ``validation-error`` in Chinese, or nothing."""
    errors = _Errors()
    tree = _group(group, target, profiles, where, errors, depth=1, path=())
    if not errors.items and _count(tree) > MAX_CONDITIONS:
        errors.add(where, "too_many", f"条件（含画像展开后）不能超过 {MAX_CONDITIONS} 个")
    if errors.items:
        raise Problem("validation-error", errors.items[0]["message"] + (f"（另有 {len(errors.items) - 1} 处问题）"
                                                                        if len(errors.items) > 1 else ""),
                      errors=errors.items)
    return tree


def _count(node: Leaf | Tree) -> int:
    return 1 if isinstance(node, Leaf) else sum(_count(item) for item in node.items)


def _group(group: Group, target: Target, profiles, where: str, errors: _Errors, *, depth: int,
           path: tuple[str, ...], profile: str | None = None) -> Tree:
    if depth > MAX_DEPTH:
        errors.add(where, "too_deep", f"条件组嵌套不能超过 {MAX_DEPTH} 层")
        return Tree(group.mode, ())
    if not group.items:
        errors.add(f"{where}.items", "empty", "条件组不能为空：政策至少需要一个条件" if depth == 1 else "条件组不能为空")
    items: list[Leaf | Tree] = []
    for index, item in enumerate(group.items):
        at = f"{where}.items[{index}]"
        if isinstance(item, Condition):
            leaf = _leaf(item, target, at, errors)
            if leaf is not None:
                items.append(leaf)
        elif isinstance(item, ProfileRef):
            if item.profile in path:
                errors.add(at, "circular", f"画像循环引用：{' → '.join((*path, item.profile))}")
                continue
            found = profiles.get(item.profile)
            if found is None:
                errors.add(at, "unknown_profile", f"没有编码为 {item.profile} 的画像")
                continue
            profile_target, profile_group = found
            if profile_target != target:
                errors.add(at, "wrong_target", f"画像 {item.profile} 适用于{_target_word(profile_target)}，与本政策的对象不同")
                continue
            items.append(_group(profile_group, target, profiles, at, errors, depth=depth + 1,
                                path=(*path, item.profile), profile=item.profile))
        else:
            items.append(_group(item, target, profiles, at, errors, depth=depth + 1, path=path))
    return Tree(group.mode, tuple(items), profile)


def _target_word(target: Target) -> str:
    return "企业" if target == Target.ENTERPRISE else "居民"


def _leaf(condition: Condition, target: Target, where: str, errors: _Errors) -> Leaf | None:
    fact = FACTS_BY_NAME.get((target, condition.field))
    if fact is None:
        other = FACTS_BY_NAME.get((Target.RESIDENT if target == Target.ENTERPRISE else Target.ENTERPRISE, condition.field))
        hint = f"（它是{_target_word(other.target)}的字段）" if other else "（可用字段见 GET /api/v1/policies/facts）"
        errors.add(f"{where}.field", "unknown_field", f"未知的事实字段 {condition.field}{hint}")
        return None
    op = condition.op
    if op not in OPERATORS[fact.kind]:
        allowed = "、".join(f"{OPERATOR_LABELS[o]}（{o.value}）" for o in OPERATORS[fact.kind])
        errors.add(f"{where}.op", "wrong_operator", f"{fact.label}不能用“{OPERATOR_LABELS[op]}”比较，可用：{allowed}")
        return None
    raw = condition.value
    if op == Operator.EXISTS:
        if raw is not None:
            errors.add(f"{where}.value", "unexpected_value", f"“{OPERATOR_LABELS[op]}”不带阈值")
            return None
        return Leaf(fact, op, None)
    try:
        if op in (Operator.IN, Operator.PREFIX, Operator.BETWEEN):
            values = raw if isinstance(raw, list) else ([raw] if op == Operator.PREFIX and raw is not None else None)
            if not values:
                raise ValueError("应为非空列表" if op != Operator.BETWEEN else "应为 [下限, 上限]")
            if len(values) > MAX_LIST:
                raise ValueError(f"最多 {MAX_LIST} 个值")
            typed = tuple(typed_value(fact, value, prefix=op == Operator.PREFIX) for value in values)
            if op == Operator.BETWEEN:
                if len(typed) != 2:
                    raise ValueError("应为 [下限, 上限] 两个值")
                if typed[0] > typed[1]:
                    raise ValueError("下限大于上限")
            return Leaf(fact, op, typed)
        if isinstance(raw, list):
            raise ValueError("应为单个值，不是列表")
        return Leaf(fact, op, typed_value(fact, raw))
    except ValueError as error:
        errors.add(f"{where}.value", "wrong_value", f"{fact.label}的阈值{error}")
        return None


def typed_value(fact: FactField, value: Any, *, prefix: bool = False) -> Any:
    """A threshold or a stated fact as the fact's type; ValueError (Chinese) if it is not one."""
    if value is None:
        raise ValueError("不能为空")
    if fact.kind == FactKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"应为数字（{fact.unit or '数值'}），不是“{value}”")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("应为有限的数字")
        return float(value)
    if fact.kind == FactKind.DATE:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"应为日期 YYYY-MM-DD，不是“{value}”") from None
    if fact.kind == FactKind.FLAG:
        if not isinstance(value, bool):
            raise ValueError("应为 true（是）或 false（否）")
        return value
    if not isinstance(value, str):
        raise ValueError(f"应为文字，不是“{value}”")
    if fact.kind == FactKind.CHOICE:
        if value not in fact.choices:
            raise ValueError(f"应为以下之一：{'、'.join(fact.choices)}")
        return value
    code = value.strip().upper()
    if not _CODE.match(code):
        raise ValueError(f"应为代码（大写字母和数字{'，可为代码的前几位' if prefix else ''}），不是“{value}”")
    return code


# ---------------------------------------------------------------------------------------- one subject


@dataclass(frozen=True)
class Facts:
    """One subject's facts, typed as the catalogue says (None: not on record), and the as-of date of
    each source the facts were read from."""
    values: Mapping[str, Any]
    as_of: Mapping[str, date | None]

    def stale(self, fact: FactField, on: date) -> bool:
        if fact.max_age_days is None:
            return False
        as_of = self.as_of.get(fact.source)
        return as_of is None or (on - as_of).days > fact.max_age_days


def evaluate(tree: Tree, facts: Facts, on: date) -> tuple[Result, list[Check]]:
    """The tree's result for one subject, and a check per condition (profiles unfolded)."""
    checks: list[Check] = []
    return _node(tree, facts, on, checks), checks


def verdict(tree: Tree, facts: Facts, on: date) -> tuple[Verdict, list[Check]]:
    result, checks = evaluate(tree, facts, on)
    if result == Result.PASS:
        return Verdict.ELIGIBLE, checks
    if result == Result.UNKNOWN:
        return Verdict.UNKNOWN, checks
    if tree.mode == "all":
        top = [_node(item, facts, on, []) for item in tree.items]
        if top.count(Result.FAIL) == 1 and Result.UNKNOWN not in top:
            return Verdict.NEAR, checks
    return Verdict.INELIGIBLE, checks


def _node(node: Leaf | Tree, facts: Facts, on: date, checks: list[Check]) -> Result:
    if isinstance(node, Leaf):
        result, check = _test(node, facts, on)
        checks.append(check)
        return result
    results = [_node(item, facts, on, checks) for item in node.items]
    decisive, other = (Result.FAIL, Result.PASS) if node.mode == "all" else (Result.PASS, Result.FAIL)
    if decisive in results:
        return decisive
    return Result.UNKNOWN if Result.UNKNOWN in results else other


_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: lambda v, t: v == t,
    Operator.NE: lambda v, t: v != t,
    Operator.LT: lambda v, t: v < t,
    Operator.LE: lambda v, t: v <= t,
    Operator.GT: lambda v, t: v > t,
    Operator.GE: lambda v, t: v >= t,
    Operator.IN: lambda v, t: v in t,
    Operator.BETWEEN: lambda v, t: t[0] <= v <= t[1],
    Operator.PREFIX: lambda v, t: any(v.startswith(p) for p in t),
}


def _test(leaf: Leaf, facts: Facts, on: date) -> tuple[Result, Check]:
    fact = leaf.fact
    value = facts.values.get(fact.name)
    stale = value is not None and facts.stale(fact, on)
    if leaf.op == Operator.EXISTS:
        result = Result.PASS if value is not None else Result.FAIL
    elif value is None or stale:
        result = Result.UNKNOWN
    else:
        result = Result.PASS if _COMPARE[leaf.op](value, leaf.value) else Result.FAIL
    return result, Check(field=fact.name, label=fact.label, op=leaf.op, op_label=operator_label(leaf),
                         threshold=threshold_text(leaf), value=shown(fact, value), result=result,
                         source=fact.source_label, as_of=facts.as_of.get(fact.source), stale=stale)


def operator_label(leaf: Leaf) -> str:
    """"为" rather than "等于" for a yes/no fact: 已办理社会保险登记 为 是."""
    return "为" if leaf.fact.kind == FactKind.FLAG and leaf.op == Operator.EQ else OPERATOR_LABELS[leaf.op]


def shown(fact: FactField, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
        return f"{text} {fact.unit}".strip()
    return str(value)


def threshold_text(leaf: Leaf) -> str:
    fact = leaf.fact
    if leaf.value is None:
        return ""
    if leaf.op == Operator.BETWEEN:
        return f"{shown(fact, leaf.value[0])} 至 {shown(fact, leaf.value[1])}"
    if isinstance(leaf.value, tuple):
        return "、".join(str(shown(fact, v)) for v in leaf.value)
    return str(shown(fact, leaf.value))


def sentences(tree: Tree, profile_labels: Mapping[str, str] | None = None) -> list[str]:
    """Each condition in words, top level first: for pages and the policy's document (a profile
    by its name, 小微企业, rather than its code)."""
    out: list[str] = []
    labels = profile_labels or {}

    def walk(node: Leaf | Tree, depth: int) -> None:
        indent = "　" * max(0, depth - 1)
        if isinstance(node, Leaf):
            out.append(f"{indent}{node.fact.label} {operator_label(node)} {threshold_text(node)}".rstrip())
            return
        if depth == 0 and node.mode == "any":
            out.append("以下满足其一")
        if depth:  # a group inside the policy's own: said, or its items would read as all required
            named = f"{labels.get(node.profile, node.profile)}：" if node.profile else ""
            out.append(f"{indent}{named}{'以下全部满足' if node.mode == 'all' else '以下满足其一'}")
        for item in node.items:
            walk(item, depth + 1)

    walk(tree, 0)
    return out


# ---------------------------------------------------------------------------------------- every subject


def expression(tree: Tree, on: date) -> pl.Expr:
    """The tree as one nullable Boolean column over a facts frame (``facts.frame``): true, false,
    or null for unknown — the same answers as ``evaluate``, for every row at once."""
    if not tree.items:
        return pl.lit(tree.mode == "all", dtype=pl.Boolean)
    parts = [_expr(item, on) for item in tree.items]
    return reduce((lambda a, b: a & b) if tree.mode == "all" else (lambda a, b: a | b), parts)


def verdict_columns(trees: Sequence[Tree], on: date) -> tuple[list[pl.Expr], list[tuple[pl.Expr, pl.Expr]]]:
    """Many policies over one facts frame, each top-level item evaluated once: stage one, the
    items as columns (``frame.with_columns(stage_one)``); stage two, per policy, its verdict (a
    nullable Boolean, as ``expression``) and whether it is one condition short (a top-level
    ``all`` with exactly one item false and none unknown), read from those columns. Evaluating
    the near miss from the conditions again cost more than the verdict itself."""
    stage_one: list[pl.Expr] = []
    stage_two: list[tuple[pl.Expr, pl.Expr]] = []
    for index, tree in enumerate(trees):
        names = [f"_p{index}_{n}" for n in range(len(tree.items))]
        stage_one += [_expr(item, on).alias(name) for item, name in zip(tree.items, names, strict=True)]
        parts = [pl.col(name) for name in names]
        if not parts:
            stage_two.append((pl.lit(tree.mode == "all", dtype=pl.Boolean), pl.lit(False)))
            continue
        result = reduce((lambda a, b: a & b) if tree.mode == "all" else (lambda a, b: a | b), parts)
        if tree.mode != "all":
            stage_two.append((result, pl.lit(False)))
            continue
        fails = pl.sum_horizontal([part.not_().fill_null(False) for part in parts])
        unknowns = pl.sum_horizontal([part.is_null() for part in parts])
        stage_two.append((result, (fails == 1) & (unknowns == 0)))
    return stage_one, stage_two


def _expr(node: Leaf | Tree, on: date) -> pl.Expr:
    if isinstance(node, Tree):
        return expression(node, on)
    fact, op, value = node.fact, node.op, node.value
    column = pl.col(fact.name)
    if op == Operator.EXISTS:
        return column.is_not_null()
    if op == Operator.IN:
        test = column.is_in(list(value))
    elif op == Operator.BETWEEN:
        test = (column >= _lit(fact, value[0])) & (column <= _lit(fact, value[1]))
    elif op == Operator.PREFIX:
        test = reduce(lambda a, b: a | b, [column.str.starts_with(p) for p in value])
    else:
        test = {Operator.EQ: column == _lit(fact, value), Operator.NE: column != _lit(fact, value),
                Operator.LT: column < _lit(fact, value), Operator.LE: column <= _lit(fact, value),
                Operator.GT: column > _lit(fact, value), Operator.GE: column >= _lit(fact, value)}[op]
    unknown = column.is_null()
    if fact.max_age_days is not None:
        as_of = pl.col(as_of_column(fact.source))
        unknown = unknown | as_of.is_null() | ((pl.lit(on, dtype=pl.Date) - as_of).dt.total_days() > fact.max_age_days)
    return pl.when(unknown).then(pl.lit(None, dtype=pl.Boolean)).otherwise(test)


def _lit(fact: FactField, value: Any) -> pl.Expr:
    dtype = {FactKind.NUMBER: pl.Float64, FactKind.DATE: pl.Date, FactKind.FLAG: pl.Boolean}.get(fact.kind, pl.String)
    return pl.lit(value, dtype=dtype)


def as_of_column(source: str) -> str:
    return f"as_of__{source}"


def frame_schema(target: Target) -> dict[str, pl.DataType]:
    """The facts frame's columns for a target: one per fact, one as-of date per source."""
    schema: dict[str, pl.DataType] = {}
    for fact in facts_of(target):
        schema[fact.name] = {FactKind.NUMBER: pl.Float64(), FactKind.DATE: pl.Date(), FactKind.FLAG: pl.Boolean()}.get(
            fact.kind, pl.String())
        schema[as_of_column(fact.source)] = pl.Date()
    return schema
