"""The items document as an Excel workbook: an exact round trip, and every problem of a bad file named."""

from __future__ import annotations

import copy
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from tongban.demo.district import implementation_prefixes
from tongban.items import content
from tongban.items.workbook import MAX_ROWS, NOT_XLSX, WorkbookError, export_workbook, import_workbook

SHEET_NAMES = ["事项", "情形", "材料", "法律依据", "收费", "结果", "关联"]
PREFIXES = implementation_prefixes()  # what the demo district's departments give the database


@pytest.fixture(scope="module")
def document():
    return content.load()


@pytest.fixture(scope="module")
def exported(document):
    return export_workbook(document, departments=list(PREFIXES))


def _edit(data: bytes, change) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column(worksheet, key: str) -> int:
    """The 1-based column whose header names the field key (headers read "中文名称\\nkey")."""
    for cell in worksheet[1]:
        if cell.value and str(cell.value).split()[-1] == key:
            return cell.column
    raise AssertionError(f"no column {key} in {worksheet.title}")


def _set(worksheet, row: int, key: str, value) -> None:
    worksheet.cell(row=row, column=_column(worksheet, key)).value = value  # cell(value=None) would not clear it


def _problems(data: bytes) -> list[str]:
    with pytest.raises(WorkbookError) as caught:
        import_workbook(data)
    assert caught.value.problems and all(isinstance(p, str) for p in caught.value.problems)
    return caught.value.problems


def test_the_demo_document_survives_the_round_trip_exactly(document, exported):
    back = import_workbook(exported)
    assert back == document
    assert [item["basic_code"] for item in back["items"]] == [item["basic_code"] for item in document["items"]]
    assert content.validate(back, PREFIXES) == []


def test_awkward_values_survive_the_round_trip(document):
    changed = copy.deepcopy(document)
    item = changed["items"][0]
    item["materials"][0]["notes"] = "=SUM(A1:A3) 不是公式"  # text that looks like a formula
    item["materials"][1]["notes"] = "#N/A"  # text that looks like an Excel error value
    item["materials"][2]["notes"] = None
    item["phone"] = "0123"
    item["statutory_days"] = None
    item["committed_days"] = 0
    item["situations"].append({"id": "q9", "question": "还没有答案的问题", "answers": []})
    changed["items"][1]["situations"] = []
    changed["items"][1]["fees"] = []
    assert import_workbook(export_workbook(changed)) == changed


def test_the_workbook_is_laid_out_for_staff(exported):
    workbook = load_workbook(io.BytesIO(exported))
    assert workbook.sheetnames[:7] == SHEET_NAMES
    items = workbook["事项"]
    assert items["A1"].value == "基本编码\nbasic_code"
    assert items.freeze_panes is not None and items.freeze_panes.endswith("2")
    assert items.column_dimensions["C"].width >= 20
    materials = workbook["材料"]
    row = [cell.value for cell in materials[2]]
    assert row[_column(materials, "item") - 1] == "000102004000"
    assert row[_column(materials, "required") - 1] == "必交"  # enumerations are shown in Chinese
    assert row[_column(materials, "blank_form") - 1] == "是"
    conditions = items.cell(row=2, column=_column(items, "conditions")).value
    assert conditions.count("\n") == 2  # one condition per line
    # 实施部门 offers the district's departments, as the organisation lists them when exporting.
    letter = get_column_letter(_column(items, "department"))
    offered = [v.formula1 for v in items.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")]
    assert offered == ['"' + ",".join(PREFIXES) + '"']


def test_without_departments_the_department_column_offers_none(document):
    workbook = load_workbook(io.BytesIO(export_workbook(document)))
    items = workbook["事项"]
    letter = get_column_letter(_column(items, "department"))
    assert not [v for v in items.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")]
    assert [v for v in items.data_validations.dataValidation if str(v.sqref).startswith(f"{get_column_letter(_column(items, 'type'))}2:")]


def test_an_edit_made_in_excel_shows_up_in_the_document(exported):
    def rename(workbook):
        sheet = workbook["材料"]
        _set(sheet, 2, "name", "企业投资项目备案信息表（新版）")
        _set(sheet, 3, "source", "applicant")  # the code is accepted as well
        _set(sheet, 3, "shared_resource", None)
        _set(sheet, 2, "copies", "2")  # a number typed as text
        items = workbook["事项"]
        _set(items, 2, "statutory_days", None)
        _set(items, 2, "keywords", "投资项目\n备案\n\n新关键词 ")

    back = import_workbook(_edit(exported, rename))
    item = back["items"][0]
    assert item["materials"][0]["name"] == "企业投资项目备案信息表（新版）"
    assert item["materials"][0]["copies"] == 2
    assert item["materials"][1]["source"] == "applicant" and item["materials"][1]["shared_resource"] is None
    assert item["statutory_days"] is None
    assert item["keywords"] == ["投资项目", "备案", "新关键词"]
    assert [m["id"] for m in item["materials"]] == ["m1", "m2", "m3", "m4"]


def test_columns_are_found_by_key_or_chinese_name_and_typing_slips_are_forgiven(document, exported):
    def rearrange(workbook):
        results = workbook["结果"]
        results.cell(row=1, column=_column(results, "kind")).value = "结果类型"  # the Chinese name alone
        results.cell(row=1, column=_column(results, "licence")).value = "licence"  # the key alone
        results["Z1"] = "我的备注"  # a column of the editor's own is ignored
        results["Z2"] = "记得核对"
        fees = workbook["收费"]
        fees.move_range("C1:E20", cols=3)  # columns moved about
        materials = workbook["材料"]
        materials["A2"] = 102004000  # a basic code typed as a number loses its leading zeros
        _set(materials, 2, "blank_form", True)  # a TRUE/FALSE cell
        workbook["情形"].append([])  # trailing empty rows are ignored
        workbook["情形"].append([None, None, "  "])

    back = import_workbook(_edit(exported, rearrange))
    assert back == document


def test_a_deleted_column_is_named_with_its_sheet(exported):
    def drop(workbook):
        sheet = workbook["材料"]
        sheet.delete_cols(_column(sheet, "copies"))

    problems = _problems(_edit(exported, drop))
    assert any("材料" in p and "缺少列" in p and "份数" in p and "copies" in p for p in problems), problems


def test_a_missing_sheet_is_named(exported):
    problems = _problems(_edit(exported, lambda workbook: workbook.remove(workbook["收费"])))
    assert "缺少工作表「收费」" in problems


def test_a_row_of_an_unknown_item_is_named_by_its_row_number(exported):
    def stray(workbook):
        workbook["材料"]["A5"] = "999999999999"

    problems = _problems(_edit(exported, stray))
    assert any("材料" in p and "第 5 行" in p and "999999999999" in p for p in problems), problems


@pytest.mark.parametrize("data", [b"", b"this is not a spreadsheet", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "text"],
                         ids=["empty", "text", "old-xls", "not-bytes"])
def test_bytes_that_are_not_xlsx_are_refused(data):
    problems = _problems(data)
    assert len(problems) == 1 and problems[0].startswith(NOT_XLSX)


def test_a_zip_that_is_not_a_workbook_and_a_damaged_one_are_refused(exported):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _problems(buffer.getvalue()) == [NOT_XLSX]
    assert _problems(exported[: len(exported) // 2])[0].startswith(NOT_XLSX)
    damaged = bytearray(exported)
    damaged[len(damaged) // 2: len(damaged) // 2 + 300] = b"\0" * 300
    assert _problems(bytes(damaged))[0].startswith(NOT_XLSX)


def test_a_non_integer_copies_value_is_named(exported):
    def bad(workbook):
        sheet = workbook["材料"]
        _set(sheet, 4, "copies", "两份")

    problems = _problems(_edit(exported, bad))
    assert any("材料" in p and "第 4 行" in p and "份数" in p and "两份" in p for p in problems), problems


def test_every_problem_is_reported_at_once(exported):
    def many(workbook):
        items = workbook["事项"]
        _set(items, 2, "committed_days", "1.5天")
        _set(items, 3, "online_depth", None)
        results = workbook["结果"]
        _set(results, 2, "licence", "可能")
        materials = workbook["材料"]
        _set(materials, 6, "sample", "")
        workbook["关联"]["A2"] = "123"
        workbook.remove(workbook["法律依据"])

    problems = _problems(_edit(exported, many))
    expected = ["缺少工作表「法律依据」", "「事项」第 2 行 承诺时限", "「事项」第 3 行 网办深度", "「结果」第 2 行 是否证照",
                "「材料」第 6 行 示例样表", "「关联」第 2 行"]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)


def test_business_rules_are_left_to_the_validator(exported):
    def break_rules(workbook):
        items = workbook["事项"]
        _set(items, 2, "name", None)
        _set(items, 2, "type", "随便什么")
        relations = workbook["关联"]
        _set(relations, 2, "target", "000000000000")
        materials = workbook["材料"]
        _set(materials, 2, "when", "q1a，不存在")

    back = import_workbook(_edit(exported, break_rules))
    problems = content.validate(back, PREFIXES)
    assert any("事项名称不能为空" in p for p in problems)
    assert any("随便什么" in p for p in problems)
    assert any("关联事项「000000000000」不存在" in p for p in problems)  # named in Chinese (finding 5)
    assert any("不存在的情形答案「不存在」" in p for p in problems)


def test_a_sheet_of_more_than_50000_rows_is_refused(exported):
    headers = {}
    source = load_workbook(io.BytesIO(exported), read_only=True)
    for name in SHEET_NAMES:
        headers[name] = next(source[name].iter_rows(max_row=1, values_only=True))
    source.close()
    workbook = Workbook(write_only=True)
    for name in SHEET_NAMES:
        sheet = workbook.create_sheet(name)
        sheet.append(headers[name])
        if name == "关联":
            for _ in range(MAX_ROWS + 1):
                sheet.append((1,))  # one number per row: quick to write and to read
    buffer = io.BytesIO()
    workbook.save(buffer)
    problems = _problems(buffer.getvalue())
    assert len(problems) == 1 and "关联" in problems[0] and "50,000" in problems[0]


def test_a_file_over_20_mb_is_refused_before_it_is_read():
    problems = _problems(b"PK" + b"\0" * (20 * 1024 * 1024))
    assert len(problems) == 1 and "20 MB" in problems[0]


def test_a_formula_cell_is_refused_naming_the_cell(exported):
    """A formula's result is not content anyone typed (and without a cached result it read as an
    empty cell): the import is refused, naming each formula cell."""
    def formulas(workbook):
        materials = workbook["材料"]
        materials.cell(row=3, column=_column(materials, "copies")).value = "=1+1"
        items = workbook["事项"]
        items.cell(row=2, column=_column(items, "phone")).value = '=HYPERLINK("https://evil.example/","021")'

    problems = _problems(_edit(exported, formulas))
    copies = get_column_letter(_column(load_workbook(io.BytesIO(exported))["材料"], "copies"))
    phone = get_column_letter(_column(load_workbook(io.BytesIO(exported))["事项"], "phone"))
    assert any(f"工作表「材料」单元格 {copies}3" in p and "公式" in p for p in problems), problems
    assert any(f"工作表「事项」单元格 {phone}2" in p and "公式" in p for p in problems), problems
