"""The hotline's categories and the department that answers each (``data/categories.json``).

The file is the hotline centre's data, not code: the grid's classes that callers phone about
(referenced by the grid's kind and code), the hotline's own classes, each with its responsible
department (a department code) and, where a specialised line answers such calls, its transfer line
(12319, 12333, 12315). It is checked as a whole when it is read; a bad file is refused with every
fault named, never half-used. Touches no database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
CATEGORIES_FILE = DATA / "categories.json"
CODE_PATTERN = re.compile(r"^(G-[CE]\d{4}|H-[A-Z]{2}\d{2})$")
DEPARTMENT_PATTERN = re.compile(r"^[A-Z][A-Z0-9-]{1,23}$")
GRID_KINDS = {"component": "C", "event": "E"}


class CategoryFileError(ValueError):
    """The categories file is not usable: every fault, one a line."""

    def __init__(self, faults: list[str]) -> None:
        self.faults = faults
        super().__init__("热线分类文件有误：\n" + "\n".join(faults))


@dataclass(frozen=True)
class GridRef:
    kind: str  # component 部件 | event 事件
    code: str  # the grid's code (major 2 + subclass 2)


LIMIT_UNITS = {"working_days": "工作日", "working_hours": "工作小时"}


@dataclass(frozen=True)
class Limit:
    value: int
    unit: str  # working_days | working_hours

    @property
    def text(self) -> str:
        return f"{self.value} 个{LIMIT_UNITS[self.unit]}"


@dataclass(frozen=True)
class HotlineCategory:
    code: str  # G-E0102 (a grid class) or H-RS01 (the hotline's own)
    major: str
    name: str
    department: str  # the responsible department's code
    transfer_line: str | None = None  # 12319 | 12333 | 12315: a specialised line answers such calls
    grid: GridRef | None = None  # the grid class it is, when it is one
    limit: Limit | None = None  # the hotline's own classes: how long a department has (a grid class: the grid's 处置时限)


@dataclass(frozen=True)
class Catalogue:
    categories: tuple[HotlineCategory, ...]
    transfer_lines: dict[str, str]  # number -> its name

    def by_code(self) -> dict[str, HotlineCategory]:
        return {c.code: c for c in self.categories}


def parse(document: Any) -> Catalogue:
    """The catalogue of a parsed file, or ``CategoryFileError`` with every fault."""
    faults: list[str] = []
    if not isinstance(document, dict):
        raise CategoryFileError(["文件内容应为 JSON 对象"])
    lines = document.get("transfer_lines")
    if not isinstance(lines, dict) or not all(isinstance(k, str) and isinstance(v, str) and k.isdigit() for k, v in lines.items()):
        faults.append("transfer_lines 应为「号码: 名称」的对象")
        lines = {}
    entries = document.get("categories")
    if not isinstance(entries, list) or not entries:
        raise CategoryFileError([*faults, "categories 应为非空数组"])
    found: list[HotlineCategory] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"第 {number} 类"
        if not isinstance(entry, dict):
            faults.append(f"{where}：应为对象")
            continue
        code, name, major, department = (entry.get(k) for k in ("code", "name", "major", "department"))
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            faults.append(f"{where}：编码「{code}」不符合规则（G-E0102、G-C0116 或 H-RS01）")
            continue
        where = f"{where}（{code}）"
        if code in seen:
            faults.append(f"{where}：编码重复")
        seen.add(code)
        if not isinstance(name, str) or not name.strip() or not isinstance(major, str) or not major.strip():
            faults.append(f"{where}：缺少名称或大类")
        if not isinstance(department, str) or not DEPARTMENT_PATTERN.match(department):
            faults.append(f"{where}：承办部门编码「{department}」无效")
        transfer = entry.get("transfer_line")
        if transfer is not None and transfer not in lines:
            faults.append(f"{where}：转接专线「{transfer}」不在 transfer_lines 中")
        grid = entry.get("grid")
        ref = None
        if code.startswith("G-"):
            if not isinstance(grid, dict) or grid.get("kind") not in GRID_KINDS or not re.fullmatch(r"\d{4}", str(grid.get("code"))):
                faults.append(f"{where}：网格分类引用应为 {{kind: component|event, code: 四位数字}}")
            else:
                ref = GridRef(kind=grid["kind"], code=grid["code"])
                if code != f"G-{GRID_KINDS[ref.kind]}{ref.code}":
                    faults.append(f"{where}：编码与网格分类 {ref.kind}/{ref.code} 不一致")
        elif grid is not None:
            faults.append(f"{where}：热线特有分类不应引用网格分类")
        limit = None
        raw_limit = entry.get("limit")
        if code.startswith("H-"):
            if not isinstance(raw_limit, dict) or raw_limit.get("unit") not in LIMIT_UNITS \
                    or not isinstance(raw_limit.get("value"), int) or not 1 <= raw_limit["value"] <= 60:
                faults.append(f"{where}：热线特有分类应写明办理时限 {{value: 1–60, unit: working_days|working_hours}}")
            else:
                limit = Limit(value=raw_limit["value"], unit=raw_limit["unit"])
        elif raw_limit is not None:
            faults.append(f"{where}：网格分类的办理时限以网格分类的处置时限为准，不应另写")
        unknown = set(entry) - {"code", "name", "major", "department", "transfer_line", "grid", "limit"}
        if unknown:
            faults.append(f"{where}：不认识的字段 {', '.join(sorted(unknown))}")
        found.append(HotlineCategory(code=code, major=str(major), name=str(name), department=str(department),
                                     transfer_line=transfer, grid=ref, limit=limit))
    if faults:
        raise CategoryFileError(faults)
    return Catalogue(categories=tuple(found), transfer_lines=dict(lines))


@cache
def catalogue() -> Catalogue:
    """The file's catalogue, read and checked once per process (the file changes with a release)."""
    return parse(json.loads(CATEGORIES_FILE.read_text(encoding="utf-8")))
