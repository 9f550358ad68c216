"""An import meets the same input edge as the API: a full-width ID number is the same person."""

from __future__ import annotations

import csv

from helpers import resident_id
from sqlalchemy import func, select
from typer.testing import CliRunner

from tongban.cli import app as cli
from tongban.registry.models import TABLES

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_a_full_width_id_in_an_import_is_the_same_person(fresh_database, tmp_path):
    number = resident_id(birth="19970304", seq=321)
    typed = number[:6].translate(FULL_WIDTH) + number[6:]
    path = tmp_path / "people.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id_number", "name", "ethnicity", "household_address", "residence_status"])
        writer.writerow([number, "王测", "汉族", "上海市浦东新区张杨路1号", "户籍"])
        writer.writerow([typed, "王冒", "汉族", "上海市浦东新区张杨路2号", "户籍"])
    result = CliRunner().invoke(cli, ["registry", "import", "persons", str(path), "--department", "PD-GA"],
                                env={"TONGBAN_DATABASE_URL": fresh_database.settings.database_url,
                                     "TONGBAN_ARGON2_PROFILE": "CHEAPEST"})
    assert result.exit_code == 0, result.output
    report = list(csv.reader(open(str(path) + ".rejected.csv", encoding="utf-8-sig")))
    assert [(line, key) for line, key, _reason, _raw in report[1:]] == [("3", number)], report
    assert "与第 2 行重复" in report[1][2], report
    table = TABLES["persons"]
    with fresh_database.sessionmaker()() as db:
        assert db.scalar(select(func.count()).select_from(table).where(table.c.id_number.like("%３%"))) == 0
        assert db.scalar(select(table.c.name).where(table.c.id_number == number)) == "王测"


def test_an_imported_cell_with_a_control_character_is_rejected_with_its_reason(fresh_database, tmp_path):
    good, bad = resident_id(birth="19970305", seq=322), resident_id(birth="19970306", seq=323)
    path = tmp_path / "people.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id_number", "name", "ethnicity", "household_address", "residence_status"])
        writer.writerow([good, "王测", "汉族", "上海市浦东新区张杨路1号", "户籍"])
        writer.writerow([bad, "王\x07测", "汉族", "上海市浦东新区张杨路2号", "户籍"])
    result = CliRunner().invoke(cli, ["registry", "import", "persons", str(path), "--department", "PD-GA"],
                                env={"TONGBAN_DATABASE_URL": fresh_database.settings.database_url,
                                     "TONGBAN_ARGON2_PROFILE": "CHEAPEST"})
    assert result.exit_code == 0, result.output
    report = list(csv.reader(open(str(path) + ".rejected.csv", encoding="utf-8-sig")))
    assert [(line, key) for line, key, _reason, _raw in report[1:]] == [("3", bad)], report
    assert "控制字符" in report[1][2], report
