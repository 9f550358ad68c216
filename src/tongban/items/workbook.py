"""The items document as one Excel workbook, for staff who edit the knowledge base in Excel or WPS.

``export_workbook`` writes the whole document to an .xlsx; ``import_workbook`` reads one back. The
round trip is exact: importing an unedited export gives the document that was exported.

Layout: a sheet 事项 with one row per item (its scalar fields; lists of strings such as 受理条件 as
one cell with one entry per line), and one sheet per nested list — 情形 (one row per answer),
材料, 法律依据, 收费, 结果, 关联 — whose rows name their item by its basic code (事项编码) and
keep their order. Each header cell reads "中文名称" over the field key; columns are found by the
key (or failing that the Chinese name), so they may be moved about but not deleted. Grey columns
(事项名称) only help reading and are ignored on import. Codes of enumerations that staff would not
recognise (required, source, shared_resource, relation type) are shown in Chinese with a drop-down;
the codes themselves are accepted too, and anything else is passed through for ``content.validate``.

The import checks only the shape of the workbook — sheets, columns, integers, 是/否, that every child
row names an item of the 事项 sheet — and reports every such problem at once as a ``WorkbookError``.
Business rules are ``content.validate``'s job afterwards; the document it returns always has every
field, so the validator reports problems rather than crashing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.datavalidation import DataValidation

from tongban.items.content import (
    FORMAT, ITEM_FIELDS, OPTIONAL_ITEM_FIELDS, ITEM_TYPES, MATERIAL_FIELDS, MATERIAL_FORMS, RESULT_KINDS, VERSION,
)

MAX_BYTES = 20 * 1024 * 1024  # the .xlsx as uploaded
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # all parts of the zip once inflated: refuses zip bombs
MAX_ROWS = 50_000  # data rows (below the header) in one sheet
MAX_SCANNED_ROWS = 4 * MAX_ROWS  # rows read in one sheet, empty ones included
MAX_PROBLEMS = 1000  # beyond this a list of problems stops helping anyone

NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件"

REQUIRED_LABELS = {"required": "必交", "conditional": "按情形提交"}
SOURCE_LABELS = {"applicant": "申请人提交", "issuing_department": "其他部门出具", "shared_data": "共享获取免提交"}
SHARED_LABELS = {"persons": "人口库", "legal-entities": "法人库", "addresses": "地址库"}
RELATION_LABELS = {"prerequisite": "前置事项", "parallel": "并联事项", "follow_up": "后续事项"}

YES, NO = "是", "否"
_TRUE = {"是", "true", "yes", "y", "1", "√"}
_FALSE = {"否", "false", "no", "n", "0", "×"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ID_SEPARATORS = re.compile(r"[\s,，、;；]+")
_KEY_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class WorkbookError(ValueError):
    """The workbook cannot be turned into a document (or the document into a workbook).

    ``problems`` holds one Chinese message per problem, naming sheet, row and column.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str  # code, text, lines, int, bool, ids or info (shown, ignored on import)
    width: float
    nullable: bool = False  # an empty cell is null rather than "" (text) or an error (int)
    labels: dict[str, str] | None = None  # stored value → Chinese shown in the cell
    choices: tuple[str, ...] | None = None  # drop-down offered while editing

    @property
    def header(self) -> str:
        return f"{self.label}\n{self.key}"

    @property
    def title(self) -> str:
        return f"{self.label}（{self.key}）"


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    freeze: str = "A2"
    data: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(c for c in self.columns if c.kind != "info"))


def _choices(labels: dict[str, str]) -> tuple[str, ...]:
    return tuple(labels.values())


_ITEM = Column("item", "事项编码", "code", 15)
_ITEM_NAME = Column("item_name", "事项名称（参考）", "info", 20)

ITEMS = Sheet("事项", (
    Column("basic_code", "基本编码", "code", 15),
    Column("name", "事项名称", "text", 28),
    Column("implementation_code", "实施编码", "text", 31),
    Column("type", "事项类型", "text", 13, choices=tuple(sorted(ITEM_TYPES))),
    Column("department", "实施部门", "text", 11),  # its drop-down: the district's, given to export_workbook
    Column("level", "行使层级", "text", 9, choices=("区级",)),
    Column("service_objects", "服务对象", "lines", 10),
    Column("conditions", "受理条件", "lines", 48),
    Column("steps", "办理流程", "lines", 22),
    Column("statutory_days", "法定时限（工作日）", "int", 11, nullable=True),
    Column("committed_days", "承诺时限（工作日）", "int", 11, nullable=True),
    Column("channels", "办理渠道", "lines", 11),
    Column("online_url", "网上办理地址", "text", 36, nullable=True),
    Column("address", "办理地点", "text", 36),
    Column("hours", "办理时间", "text", 26),
    Column("phone", "咨询电话", "text", 15),
    Column("online_depth", "网办深度（1-4）", "int", 10),
    Column("keywords", "关键词", "lines", 16),
    Column("colloquial", "口语化表述", "lines", 24),
    Column("themes", "主题", "lines", 12),
), freeze="C2")  # code and name stay in view

SITUATIONS = Sheet("情形", (
    _ITEM, _ITEM_NAME,
    Column("question_id", "问题编号", "code", 10),
    Column("question", "问题", "text", 36),
    Column("answer_id", "答案编号", "text", 10),
    Column("label", "答案", "text", 36),
    Column("next", "下一问题编号", "text", 12, nullable=True),
), freeze="C2")

MATERIALS = Sheet("材料", (
    _ITEM, _ITEM_NAME,
    Column("id", "材料编号", "code", 9),
    Column("name", "材料名称", "text", 32),
    Column("form", "材料形式", "text", 11, choices=tuple(sorted(MATERIAL_FORMS))),
    Column("copies", "份数", "int", 7),
    Column("required", "提交要求", "text", 12, labels=REQUIRED_LABELS, choices=_choices(REQUIRED_LABELS)),
    Column("when", "适用情形（答案编号，逗号分隔）", "ids", 16),
    Column("source", "材料来源", "text", 14, labels=SOURCE_LABELS, choices=_choices(SOURCE_LABELS)),
    Column("issuer", "出具单位", "text", 24, nullable=True),
    Column("shared_resource", "共享数据库", "text", 11, nullable=True, labels=SHARED_LABELS,
           choices=_choices(SHARED_LABELS)),
    Column("blank_form", "空白表格", "bool", 9),
    Column("sample", "示例样表", "bool", 9),
    Column("notes", "备注", "text", 36, nullable=True),
), freeze="E2")  # the material's name stays in view

LEGAL_BASIS = Sheet("法律依据", (
    _ITEM, _ITEM_NAME,
    Column("law", "法律法规名称", "text", 36),
    Column("article", "条款", "text", 12),
    Column("text", "条款内容", "text", 70),
), freeze="C2")

FEES = Sheet("收费", (
    _ITEM, _ITEM_NAME,
    Column("name", "收费项目", "text", 24),
    Column("amount", "收费标准", "text", 24),
    Column("basis", "收费依据", "text", 48),
), freeze="C2")

RESULTS = Sheet("结果", (
    _ITEM, _ITEM_NAME,
    Column("name", "结果名称", "text", 36),
    Column("kind", "结果类型", "text", 10, choices=tuple(sorted(RESULT_KINDS))),
    Column("licence", "是否证照", "bool", 9),
), freeze="C2")

RELATIONS = Sheet("关联", (
    _ITEM, _ITEM_NAME,
    Column("type", "关联类型", "text", 11, labels=RELATION_LABELS, choices=_choices(RELATION_LABELS)),
    Column("target", "关联事项编码", "code", 15),
    Column("target_name", "关联事项名称（参考）", "info", 24),
), freeze="C2")

SHEETS = (ITEMS, SITUATIONS, MATERIALS, LEGAL_BASIS, FEES, RESULTS, RELATIONS)
CHILD_SHEETS = SHEETS[1:]
GUIDE = "说明"

# Item fields that live in a sheet of their own rather than in a column of 事项.
_NESTED = ("legal_basis", "situations", "materials", "fees", "results", "relations")
assert {c.key for c in ITEMS.data} | set(_NESTED) == set(ITEM_FIELDS) | set(OPTIONAL_ITEM_FIELDS)
assert tuple(c.key for c in MATERIALS.data[1:]) == MATERIAL_FIELDS


# --------------------------------------------------------------------------------------------- export

_HEADER_FONT = Font(bold=True, color="1F3864")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_INFO_HEADER_FILL = PatternFill("solid", fgColor="EDEDED")
_INFO_FONT = Font(color="7F7F7F")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_CELL_ALIGN = Alignment(vertical="top", wrap_text=True)
_NUMBER_ALIGN = Alignment(horizontal="center", vertical="top")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="8EA9DB"))
_LAST_ROW = 1_048_576

GUIDE_LINES = (
    "通办事项库 · Excel 批量编辑说明",
    "",
    "1. 每个工作表的第一行是表头：上面是中文列名，下面是字段代码。导入时按字段代码识别列，列的顺序可以调整，但不要删除或改名。",
    "2. 「事项」表每行一个事项；「情形」「材料」「法律依据」「收费」「结果」「关联」表的每一行通过「事项编码」（12 位基本编码）挂到事项上，行的先后顺序就是导入后的顺序。",
    "3. 一个单元格里有多项的（服务对象、受理条件、办理流程、办理渠道、关键词、口语化表述），每行写一项；单元格内换行：Excel 按 Alt+Enter，WPS 同样。",
    "4. 「情形」表每行一个答案：同一问题的多个答案各占一行，问题编号和问题文字相同；「下一问题编号」留空表示回答后不再追问。",
    "5. 「材料」表的「适用情形」填写触发该材料的答案编号，多个用逗号分隔；必交材料留空。",
    "6. 是否类的列填「是」或「否」；份数、时限、网办深度填整数，时限留空表示无。",
    "7. 灰色的「事项名称（参考）」列只供查看，导入时忽略。",
    "8. 导入时先检查表格格式，再完整校验事项内容，所有问题会一次列出。",
    "",
)


def export_workbook(document: dict, departments: Sequence[str] = ()) -> bytes:
    """The document as an .xlsx file. Raises ``WorkbookError`` for content a workbook cannot carry.
    ``departments``: the codes the 实施部门 column offers in its drop-down, the district's departments
    that implement items (``org.service.implementation_prefixes``); none, no drop-down."""
    items = [item for item in document.get("items") or [] if isinstance(item, dict)]
    problems = _exportable(items)
    if problems:
        raise WorkbookError(problems)
    names = {item.get("basic_code"): item.get("name") for item in items}

    workbook = Workbook()
    workbook.remove(workbook.active)
    rows: dict[str, list[dict]] = {sheet.name: [] for sheet in SHEETS}
    for item in items:
        code = item.get("basic_code")
        owner = {"item": code, "item_name": item.get("name")}
        rows[ITEMS.name].append(item)
        for question in item.get("situations") or []:
            answers = question.get("answers") or [{}]  # a question without answers still gets its row
            for answer in answers:
                rows[SITUATIONS.name].append({
                    **owner, "question_id": question.get("id"), "question": question.get("question"),
                    "answer_id": answer.get("id"), "label": answer.get("label"), "next": answer.get("next")})
        for material in item.get("materials") or []:
            rows[MATERIALS.name].append({**owner, **material})
        for basis in item.get("legal_basis") or []:
            rows[LEGAL_BASIS.name].append({**owner, **basis})
        for fee in item.get("fees") or []:
            rows[FEES.name].append({**owner, **fee})
        for result in item.get("results") or []:
            rows[RESULTS.name].append({**owner, **result})
        for relation in item.get("relations") or []:
            target = relation.get("item")
            rows[RELATIONS.name].append({**owner, "type": relation.get("type"), "target": target,
                                         "target_name": names.get(target)})

    for sheet in SHEETS:
        choices = {"department": tuple(departments)} if sheet is ITEMS else {}
        _write_sheet(workbook.create_sheet(sheet.name), sheet, rows[sheet.name], problems, choices)
    if problems:
        raise WorkbookError(problems)
    _write_guide(workbook.create_sheet(GUIDE), document)
    workbook.active = 0
    workbook.properties.title = "通办事项库"
    workbook.properties.creator = "tongban"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _exportable(items: list[dict]) -> list[str]:
    """What the workbook could not carry back unchanged: such content is refused, not silently altered."""
    problems: list[str] = []
    seen: set[Any] = set()
    for item in items:
        label = f"事项「{item.get('name') or item.get('basic_code') or '?'}」"
        code = item.get("basic_code")
        if not isinstance(code, str) or not code.strip():
            problems.append(f"{label}：缺少基本编码，工作表之间无法关联")
        elif code in seen:
            problems.append(f"{label}：基本编码「{code}」重复，工作表之间无法关联")
        seen.add(code)
        for column in ITEMS.data:
            if column.kind == "lines":
                for entry in item.get(column.key) or []:
                    if not isinstance(entry, str) or _LINE_BREAK.search(entry) or entry != entry.strip() or not entry:
                        problems.append(f"{label}：{column.title}的条目「{entry}」为空、含换行或首尾空白，无法按一行一项导出")
        for material in item.get("materials") or []:
            for answer in material.get("when") or []:
                if not isinstance(answer, str) or not answer or _ID_SEPARATORS.search(answer):
                    problems.append(f"{label} 材料「{material.get('name')}」：适用情形的答案编号「{answer}」为空或含分隔符")
    return problems


def _display(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "lines":
        return "\n".join(str(entry) for entry in value) if isinstance(value, list) else value
    if column.kind == "ids":
        return ", ".join(str(entry) for entry in value) if isinstance(value, list) else value
    if column.kind == "bool":
        return (YES if value else NO) if isinstance(value, bool) else value
    if column.labels and isinstance(value, str):
        return column.labels.get(value, value)
    if isinstance(value, (list, dict)):
        return str(value)
    return value


def _write_sheet(worksheet, sheet: Sheet, rows: list[dict], problems: list[str],
                 choices: dict[str, tuple[str, ...]]) -> None:
    """``choices``: drop-downs of columns (by key) known only when the workbook is written."""
    worksheet.append([column.header for column in sheet.columns])
    for index, column in enumerate(sheet.columns, start=1):
        cell = worksheet.cell(row=1, column=index)
        cell.font = _HEADER_FONT
        cell.fill = _INFO_HEADER_FILL if column.kind == "info" else _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
        cell.border = _HEADER_BORDER
        worksheet.column_dimensions[get_column_letter(index)].width = column.width
    worksheet.row_dimensions[1].height = 34

    for row_number, row in enumerate(rows, start=2):
        for index, column in enumerate(sheet.columns, start=1):
            value = _display(column, row.get(column.key))
            try:
                cell = worksheet.cell(row=row_number, column=index, value=value)
            except IllegalCharacterError:
                problems.append(f"工作表「{sheet.name}」第 {row_number} 行 {column.title}：含有 Excel 不能保存的控制字符")
                continue
            if isinstance(value, str) and cell.data_type != "s":
                cell.data_type = "s"  # "=…" or "#N/A" is text here, never a formula or an error value
            if column.kind == "int":
                cell.alignment = _NUMBER_ALIGN
            else:
                cell.alignment = _CELL_ALIGN
                cell.number_format = "@"  # keeps codes such as 000102004000 as text when retyped
            if column.kind == "info":
                cell.font = _INFO_FONT

    worksheet.freeze_panes = sheet.freeze
    last = get_column_letter(len(sheet.columns))
    worksheet.auto_filter.ref = f"A1:{last}{max(len(rows) + 1, 2)}"
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        options: tuple[str, ...] | None = choices.get(column.key, column.choices)
        if column.kind == "bool":
            options = (YES, NO)
        if options:
            validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True,
                                        errorStyle="warning", showErrorMessage=True,
                                        errorTitle="请从下拉列表中选择", error="该值不在可选列表中，导入时会再做校验。")
        elif column.key == "online_depth":
            validation = DataValidation(type="whole", operator="between", formula1="1", formula2="4", allow_blank=True,
                                        errorStyle="warning", showErrorMessage=True,
                                        errorTitle="请填写 1 至 4 的整数", error="网办深度为 1 至 4 的整数。")
        elif column.kind == "int":
            validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                        errorStyle="warning", showErrorMessage=True,
                                        errorTitle="请填写整数", error="这一列应填写非负整数。")
        else:
            continue
        validation.add(f"{letter}2:{letter}{_LAST_ROW}")
        worksheet.add_data_validation(validation)


def _write_guide(worksheet, document: dict) -> None:
    for line in GUIDE_LINES:
        worksheet.append([line])
    worksheet["A1"].font = Font(bold=True, size=14, color="1F3864")
    worksheet.column_dimensions["A"].width = 20
    worksheet.column_dimensions["B"].width = 30
    for row in worksheet.iter_rows(min_row=2, max_row=len(GUIDE_LINES)):
        row[0].alignment = Alignment(wrap_text=False)
    start = len(GUIDE_LINES) + 1
    for offset, (label, key) in enumerate((("文档格式", "format"), ("版本", "version"))):
        value = document.get(key)
        worksheet.cell(row=start + offset, column=1, value=f"{label} {key}").font = Font(bold=True)
        cell = worksheet.cell(row=start + offset, column=2, value=value if isinstance(value, (str, int)) else None)
        if isinstance(value, str):
            cell.data_type = "s"
        cell.alignment = Alignment(horizontal="left")


# --------------------------------------------------------------------------------------------- import


class _Refused(Exception):
    """The file is refused as a whole; carries the one message."""


@dataclass(slots=True)
class _Row:
    number: int  # the row number Excel shows
    values: dict[str, Any]


@dataclass(slots=True)
class _Reader:
    problems: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)  # basic code → its row in 事项

    def add(self, message: str) -> None:
        self.problems.append(message)

    def where(self, sheet: Sheet, row: int, column: Column | None = None) -> str:
        place = f"工作表「{sheet.name}」第 {row} 行"
        return f"{place} {column.title}" if column else place


def import_workbook(data: bytes) -> dict:
    """The document in an .xlsx made by ``export_workbook`` (and edited since).

    Raises ``WorkbookError`` listing every problem of shape found; never another exception.
    """
    try:
        return _import(data)
    except WorkbookError:
        raise
    except _Refused as refusal:
        raise WorkbookError([str(refusal)]) from None
    except Exception as error:  # a damaged part of the zip or XML that only shows while streaming
        raise WorkbookError([f"{NOT_XLSX}：文件已损坏，无法读取（{type(error).__name__}）"]) from None


def import_workbook_with_rows(data: bytes) -> tuple[dict, dict[str, int]]:
    """The document, and the row of the 事项 sheet each item came from (by basic code), so that a
    preview can name the row a person has to correct."""
    rows: dict[str, int] = {}
    try:
        return _import(data, rows), rows
    except WorkbookError:
        raise
    except _Refused as refusal:
        raise WorkbookError([str(refusal)]) from None
    except Exception as error:  # as import_workbook
        raise WorkbookError([f"{NOT_XLSX}：文件已损坏，无法读取（{type(error).__name__}）"]) from None


def _import(data: bytes, row_numbers: dict[str, int] | None = None) -> dict:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes) or not data:
        raise _Refused(f"{NOT_XLSX}：文件为空")
    if len(data) > MAX_BYTES:
        raise _Refused(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），超过 {MAX_BYTES // 1024 // 1024} MB 上限，请拆分后再导入")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Refused(f"{NOT_XLSX}：这是旧版 .xls 或加密的文件，请在 Excel/WPS 中另存为 .xlsx 后再导入")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _Refused(NOT_XLSX) from None
    if "xl/workbook.xml" not in names:
        raise _Refused(NOT_XLSX)
    if unpacked > MAX_UNPACKED_BYTES:
        raise _Refused(f"文件解压后过大（超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB），请拆分后再导入")
    try:
        # Formulas as written (data_only=False), so that a formula cell is refused by name rather
        # than read as its cached result, or as an empty cell when the file has none.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise _Refused(NOT_XLSX) from None

    reader = _Reader()
    try:
        sheetnames = [name.strip() for name in workbook.sheetnames]
        missing = [sheet.name for sheet in SHEETS if sheet.name not in sheetnames]
        for name in missing:
            reader.add(f"缺少工作表「{name}」")
        read: dict[str, list[_Row] | None] = {}
        for sheet in SHEETS:
            if sheet.name in missing:
                read[sheet.name] = None
                continue
            read[sheet.name] = _read_sheet(workbook.worksheets[sheetnames.index(sheet.name)], sheet, reader)
        header = _read_guide(workbook.worksheets[sheetnames.index(GUIDE)]) if GUIDE in sheetnames else {}
    finally:
        workbook.close()

    items: dict[str, dict] = {}
    item_rows = read[ITEMS.name]
    # Without the items (or their codes), every child row would be "unknown": say it once instead.
    if item_rows is not None and (not item_rows or "basic_code" in item_rows[0].values):
        for row in item_rows:
            item = _item(row, reader)
            if item is not None:
                items[item["basic_code"]] = item
        for sheet in CHILD_SHEETS:
            rows = read[sheet.name]
            if rows is not None:
                _attach(sheet, rows, items, reader)

    if reader.problems:
        problems = reader.problems
        if len(problems) > MAX_PROBLEMS:
            problems = problems[:MAX_PROBLEMS] + [f"……另有 {len(problems) - MAX_PROBLEMS} 个问题未列出"]
        raise WorkbookError(problems)
    if row_numbers is not None:
        row_numbers.update(reader.codes)
    return {"format": header.get("format", FORMAT), "version": header.get("version", VERSION),
            "items": list(items.values())}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_key(text: Any, sheet: Sheet) -> str | None:
    if _empty(text):
        return None
    text = str(text)
    keys = {column.key for column in sheet.columns}
    for token in reversed(_KEY_TOKEN.findall(text)):
        if token.lower() in keys:
            return token.lower()
    bare = re.sub(r"\s+", "", text)
    for column in sheet.columns:
        if bare in (column.label, re.sub(r"（.*?）|\(.*?\)", "", column.label)):
            return column.key
    return None


def _read_sheet(worksheet, sheet: Sheet, reader: _Reader) -> list[_Row] | None:
    """The sheet's non-empty data rows, raw values by key (columns found in the header only);
    None for a sheet without even a header. Missing or doubled columns are reported here."""
    if hasattr(worksheet, "reset_dimensions"):
        worksheet.reset_dimensions()  # some writers record a wrong size; read what is really there
    rows: Iterator[tuple] = worksheet.iter_rows(min_row=1)
    positions: dict[str, int] | None = None
    out: list[_Row] = []
    titles = {column.key: column.title for column in sheet.columns}
    for number, cells in enumerate(rows, start=1):
        values = tuple(cell.value for cell in cells)
        if number > MAX_SCANNED_ROWS:
            raise _Refused(f"工作表「{sheet.name}」超过 {MAX_SCANNED_ROWS:,} 行（含空行），请删除多余的行或拆分后再导入")
        if all(_empty(value) for value in values):
            continue
        if positions is None:
            positions = _header(values, sheet, reader)
            continue
        if len(out) >= MAX_ROWS:
            raise _Refused(f"工作表「{sheet.name}」超过 {MAX_ROWS:,} 行数据上限，请拆分后再导入")
        for key, index in positions.items():
            if index < len(cells) and cells[index].data_type == "f":
                reader.add(f"工作表「{sheet.name}」单元格 {get_column_letter(index + 1)}{number}（{titles[key]}）是公式"
                           "：导入不接受公式，请粘贴为数值后再导入")
        out.append(_Row(number, {key: values[index] if index < len(values) else None
                                 for key, index in positions.items()}))
    if positions is None:
        reader.add(f"工作表「{sheet.name}」没有表头，缺少列：" + "、".join(c.title for c in sheet.data))
        return None
    return out


def _header(values: tuple, sheet: Sheet, reader: _Reader) -> dict[str, int]:
    positions: dict[str, int] = {}
    doubled: list[str] = []
    for index, text in enumerate(values):
        key = _header_key(text, sheet)
        if key is None:
            continue  # a column staff added for their own notes
        if key in positions:
            doubled.append(key)
        positions[key] = index
    titles = {column.key: column.title for column in sheet.columns}
    missing = [column for column in sheet.data if column.key not in positions and column.key not in OPTIONAL_ITEM_FIELDS]
    if missing:
        reader.add(f"工作表「{sheet.name}」缺少列：" + "、".join(column.title for column in missing))
    if doubled:
        reader.add(f"工作表「{sheet.name}」有重复的列：" + "、".join(titles[key] for key in dict.fromkeys(doubled)))
    return positions


def _read_guide(worksheet) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if hasattr(worksheet, "reset_dimensions"):
        worksheet.reset_dimensions()
    for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1):
        if number > 200:
            break
        cells = [value for value in values if not _empty(value)]
        if len(cells) < 2 or not isinstance(cells[0], str):
            continue
        tokens = [token.lower() for token in _KEY_TOKEN.findall(cells[0])]
        for key in ("format", "version"):
            if key in tokens and key not in found:
                value = cells[1]
                if key == "version":
                    number_value = _integer(value)
                    found[key] = number_value if number_value is not None else value
                else:
                    found[key] = _text(value)
    return found


# ------------------------------------------------------------------------------------- cell conversion


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _integer(value: Any) -> int | None:
    """The integer in a cell, or None when there is none (empty cells are the caller's business)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


_BASIC_CODES = ("item", "basic_code", "target")


class _Bad(Exception):
    """One cell cannot be read as its column's kind; the message says what was expected."""


def _convert(column: Column, value: Any) -> Any:
    kind = column.kind
    if kind == "code":
        if isinstance(value, (int, float)) and column.key in _BASIC_CODES:
            number = _integer(value)
            if number is not None and number >= 0:
                return str(number).zfill(12)  # a basic code retyped into a number cell lost its zeros
        return _text(value)
    if kind == "text":
        if _empty(value):
            return None if column.nullable else ""
        text = _text(value)
        if column.labels:
            for stored, shown in column.labels.items():
                if text == shown:
                    return stored
        return text
    if kind == "lines":
        if _empty(value):
            return []
        return [line.strip() for line in _LINE_BREAK.split(_text(value)) if line.strip()]
    if kind == "ids":
        if _empty(value):
            return []
        return [part for part in _ID_SEPARATORS.split(_text(value)) if part]
    if kind == "int":
        if _empty(value):
            if column.nullable:
                return None
            raise _Bad("不能为空，应填写整数")
        number = _integer(value)
        if number is None:
            raise _Bad(f"应为整数，实际为「{_text(value)}」")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if not text:
            raise _Bad("不能为空，应填写「是」或「否」")
        raise _Bad(f"应填写「是」或「否」，实际为「{_text(value)}」")
    return value


def _values(sheet: Sheet, row: _Row, reader: _Reader) -> tuple[dict[str, Any], bool]:
    """The row's cells converted by their columns' kinds (columns missing from the sheet left out),
    and whether every cell could be."""
    out: dict[str, Any] = {}
    ok = True
    for column in sheet.data:
        if column.key not in row.values:
            continue  # reported once as a missing column
        try:
            out[column.key] = _convert(column, row.values[column.key])
        except _Bad as bad:
            reader.add(f"{reader.where(sheet, row.number, column)}：{bad}")
            ok = False
    return out, ok


def _item(row: _Row, reader: _Reader) -> dict | None:
    values, _ = _values(ITEMS, row, reader)
    code = values.get("basic_code")
    if not code:
        reader.add(f"{reader.where(ITEMS, row.number, ITEMS.columns[0])}：不能为空，其他工作表靠它关联事项")
        return None
    codes = reader.codes
    if code in codes:
        reader.add(f"{reader.where(ITEMS, row.number, ITEMS.columns[0])}：「{code}」与第 {codes[code]} 行重复")
        return None
    codes[code] = row.number
    item = {}
    for key in ITEM_FIELDS:
        item[key] = [] if key in _NESTED else values.get(key)
    for key in OPTIONAL_ITEM_FIELDS:
        if values.get(key):  # an empty cell: the item has none, as before the column existed
            item[key] = values[key]
    return item


def _attach(sheet: Sheet, rows: list[_Row], items: dict[str, dict], reader: _Reader) -> None:
    if rows and "item" not in rows[0].values:
        return  # the column is missing, which is reported already
    questions: dict[tuple[str, str], tuple[dict, int]] = {}
    for row in rows:
        values, ok = _values(sheet, row, reader)
        code = values.get("item")
        if not code:
            reader.add(f"{reader.where(sheet, row.number, _ITEM)}：不能为空")
            continue
        item = items.get(code)
        if item is None:
            reader.add(f"{reader.where(sheet, row.number, _ITEM)}：事项编码「{code}」在「事项」工作表中不存在")
            continue
        if not ok:
            continue
        if sheet is SITUATIONS:
            _situation(row, values, item, questions, reader)
        elif sheet is MATERIALS:
            if "id" in values and not values["id"]:
                reader.add(f"{reader.where(sheet, row.number, MATERIALS.columns[2])}：不能为空")
                continue
            item["materials"].append({key: values.get(key) for key in MATERIAL_FIELDS})
        elif sheet is LEGAL_BASIS:
            item["legal_basis"].append({key: values.get(key) for key in ("law", "article", "text")})
        elif sheet is FEES:
            item["fees"].append({key: values.get(key) for key in ("name", "amount", "basis")})
        elif sheet is RESULTS:
            item["results"].append({key: values.get(key) for key in ("name", "kind", "licence")})
        elif sheet is RELATIONS:
            item["relations"].append({"type": values.get("type"), "item": values.get("target")})


def _situation(row: _Row, values: dict, item: dict, questions: dict, reader: _Reader) -> None:
    where = reader.where(SITUATIONS, row.number)
    qid = values.get("question_id")
    if not qid:
        reader.add(f"{where} {SITUATIONS.columns[2].title}：不能为空")
        return
    key = (item["basic_code"], qid)
    if key in questions:
        question, first = questions[key]
        if not question["question"]:
            question["question"] = values.get("question")
        elif values.get("question") and values["question"] != question["question"]:
            reader.add(f"{where} {SITUATIONS.columns[3].title}：问题「{qid}」的文字与第 {first} 行不同，"
                       "同一问题的各行应一致")
            return
    else:
        question = {"id": qid, "question": values.get("question"), "answers": []}
        questions[key] = (question, row.number)
        item["situations"].append(question)
    if not values.get("answer_id"):
        if values.get("label") or values.get("next"):
            reader.add(f"{where} {SITUATIONS.columns[4].title}：填写了答案却没有答案编号")
        return  # a question listed without answers
    question["answers"].append({"id": values["answer_id"], "label": values.get("label"), "next": values.get("next")})
