"""Synthetic registries: reproducible, valid for the schema, unique keys, plausible shares."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from datetime import date

import pytest

from tongban.core.idnumbers import birth_date_of, check_credit_code, check_resident_id, gender_of
from tongban.demo import synthetic
from tongban.registry.schemas import ADDRESSES, INDUSTRY_SECTIONS, LEGAL_ENTITIES, PERSONS, REGISTRIES

SEED = 20251231
PEOPLE, ENTITIES, PLACES = 5_000, 1_000, 500


@pytest.fixture(scope="module")
def persons() -> list[dict[str, str]]:
    return list(synthetic.rows("persons", SEED, PEOPLE, people=PEOPLE, addresses=PLACES))


@pytest.fixture(scope="module")
def entities() -> list[dict[str, str]]:
    return list(synthetic.rows("legal_entities", SEED, ENTITIES, people=PEOPLE, addresses=PLACES))


@pytest.fixture(scope="module")
def addresses() -> list[dict[str, str]]:
    return list(synthetic.rows("addresses", SEED, PLACES, people=PEOPLE, addresses=PLACES))


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_every_row_parses_and_passes_the_registry_checks(persons, entities, addresses):
    for registry, records in ((PERSONS, persons), (LEGAL_ENTITIES, entities), (ADDRESSES, addresses)):
        names = [f.name for f in registry.fields]
        for row in records:
            assert list(row) == names
            assert all(isinstance(value, str) for value in row.values())
            registry.check_record({f.name: f.parse(row[f.name]) for f in registry.fields})


def test_id_numbers_and_credit_codes_pass_stdnum(persons, entities):
    for row in persons:
        assert check_resident_id(row["id_number"]) == row["id_number"]
        assert gender_of(row["id_number"]) == row["gender"]
        assert birth_date_of(row["id_number"]).isoformat() == row["birth_date"]
    for row in entities:
        assert check_credit_code(row["credit_code"]) == row["credit_code"]
        assert row["credit_code"][2:8] == "310115"
        check_resident_id(row["legal_representative_id"])
    # Region codes are valid for the birth year all over the capacity, not only for small indexes.
    step = synthetic.max_people() // 5_000
    for index in [*range(0, synthetic.max_people(), step), synthetic.max_people() - 1]:
        check_resident_id(synthetic.resident_id(SEED, index))


def test_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    for name in REGISTRIES:
        first = list(synthetic.rows(name, 7, 40, people=200, addresses=50))
        assert first == list(synthetic.rows(name, 7, 40, people=200, addresses=50))
        other = list(synthetic.rows(name, 8, 40, people=200, addresses=50))
        key = REGISTRIES[name].key
        assert all(a[key] != b[key] for a, b in zip(first, other))


def test_keys_are_unique(persons, entities):
    started = time.perf_counter()
    ids = {synthetic.resident_id(SEED, index) for index in range(200_000)}
    elapsed = time.perf_counter() - started
    assert len(ids) == 200_000
    assert elapsed < 5, f"200 000 ID numbers took {elapsed:.1f} s"
    assert [row["id_number"] for row in persons] == [synthetic.resident_id(SEED, i) for i in range(PEOPLE)]

    assert len({row["credit_code"] for row in entities}) == ENTITIES
    assert {row["credit_code"][8:10] == "MA" for row in entities} == {True, False}  # both kinds of organisation code
    codes = [synthetic.address(SEED, index) for index in range(20_000)]
    assert len({row["address_code"] for row in codes}) == 20_000
    assert len({row["full_address"] for row in codes}) == 20_000


def test_legal_representatives_are_living_adults_of_the_population(persons, entities):
    by_id = {row["id_number"]: row for row in persons}
    for row in entities:
        representative = by_id[row["legal_representative_id"]]
        assert representative["name"] == row["legal_representative_name"]
        assert representative["date_of_death"] == ""
        established = date.fromisoformat(row["established_on"])
        assert _age(date.fromisoformat(representative["birth_date"]), established) >= 18
        assert date(1995, 1, 1) <= established <= synthetic.REFERENCE_DATE
        assert established <= date.fromisoformat(row["approved_on"]) <= synthetic.REFERENCE_DATE
        if row["business_term_end"]:
            assert date.fromisoformat(row["business_term_end"]) > established


def test_people_share_addresses_and_shares_are_plausible(persons, addresses):
    full_addresses = {row["full_address"] for row in addresses}
    assert all(row["residence_address"] in full_addresses for row in persons)
    assert max(Counter(row["residence_address"] for row in persons).values()) >= 2

    def share(predicate, rows=persons):
        return sum(1 for row in rows if predicate(row)) / len(rows)

    status = Counter(row["residence_status"] for row in persons)
    assert abs(status["户籍"] / PEOPLE - 0.65) < 0.03
    assert abs(status["居住证"] / PEOPLE - 0.25) < 0.03
    assert abs(status["来沪人员"] / PEOPLE - 0.10) < 0.02
    registered = [row for row in persons if row["residence_status"] == "户籍"]
    others = [row for row in persons if row["residence_status"] != "户籍"]
    assert share(lambda row: row["id_number"].startswith("31"), registered) == 1
    assert share(lambda row: not row["id_number"].startswith("31"), others) > 0.9
    assert share(lambda row: row["household_address"].startswith("上海市浦东新区"), registered) == 1

    assert abs(share(lambda row: row["gender"] == "男") - 0.5) < 0.03
    assert 0.9 < share(lambda row: row["ethnicity"] == "汉族") < 1
    ages = [_age(date.fromisoformat(row["birth_date"]), synthetic.REFERENCE_DATE) for row in persons]
    assert 0.08 < sum(age < 18 for age in ages) / PEOPLE < 0.25
    assert sum(age >= 90 for age in ages) / PEOPLE < 0.02
    assert 0.001 < share(lambda row: row["date_of_death"] != "") < 0.012
    for row, age in zip(persons, ages):
        if row["date_of_death"]:
            assert row["birth_date"] <= row["date_of_death"] <= synthetic.REFERENCE_DATE.isoformat()
            assert row["phone"] == "" and row["social_insurance_status"] == "终止"
        if age < 18:
            assert row["marital_status"] == "未婚"
            assert row["employment_status"] in ("", "在校学生")
            assert row["social_insurance_status"] in ("未参保", "终止")
        if row["phone"]:
            assert re.fullmatch(r"1[3589]\d{9}", row["phone"])
    adults = [row for row, age in zip(persons, ages) if 18 <= age < 80 and not row["date_of_death"]]
    assert share(lambda row: row["phone"] != "", adults) > 0.85
    elderly = [row for row, age in zip(persons, ages) if age >= 65 and row["residence_status"] == "户籍"]
    assert share(lambda row: row["employment_status"] == "退休", elderly) > 0.8


def test_addresses_lie_in_pudong(addresses):
    for row in addresses:
        assert row["division_code"] == "310115"
        assert row["town_code"].startswith("310115")
        assert row["community_code"].startswith(row["town_code"])
        assert row["address_code"].startswith(row["community_code"])
        assert row["community_name"].endswith("委员会")
        assert row["full_address"] == f"上海市浦东新区{row['town_name']}{row['road']}{row['house_number']}{row['building']}"
        assert 121.45 <= float(row["longitude"]) <= 121.95 and 30.85 <= float(row["latitude"]) <= 31.40
        assert re.fullmatch(r"\d+\.\d{6}", row["longitude"]) and re.fullmatch(r"\d+\.\d{6}", row["latitude"])
    assert len({row["town_code"] for row in addresses}) > 5


def test_legal_entities_are_consistent_with_their_type(entities):
    kinds = Counter(row["entity_type"] for row in entities)
    assert kinds.most_common(1)[0][0] == "有限责任公司" and kinds["个体工商户"] > 100
    for row in entities:
        code, kind = row["credit_code"], row["entity_type"]
        expected = {"个体工商户": "92", "农民专业合作社": "93", "事业单位": "12", "社会团体": "51",
                    "民办非企业单位": "52"}.get(kind, "91")
        assert code[:2] == expected
        if code[0] == "9":
            assert row["registration_authority"] == "浦东新区市场监督管理局"
        if kind == "个体工商户":
            assert row["name"].endswith("（个体工商户）")
        section, division = row["industry_code"][0], int(row["industry_code"][1:3])
        low, high = INDUSTRY_SECTIONS[section]
        assert low <= division <= high
        if row["registered_capital"]:
            assert 0 < float(row["registered_capital"]) <= 50_000
        assert 0 <= int(row["employees"]) <= 2000
    statuses = Counter(row["status"] for row in entities)
    assert (statuses["存续"] + statuses["在业"]) / ENTITIES > 0.75
    assert Counter(row["currency"] for row in entities)["人民币"] / ENTITIES > 0.85
    assert Counter(row["tax_registration_status"] for row in entities)["正常"] / ENTITIES > 0.7


def test_write_csv_writes_header_and_rows(tmp_path):
    calls = []
    path = tmp_path / "persons.csv"
    written = synthetic.write_csv(path, "persons", SEED, 25_000, people=25_000, addresses=2_000, progress=calls.append)
    assert written == 25_000
    assert calls == [10_000, 20_000, 25_000]
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [f.name for f in PERSONS.fields]
        assert sum(1 for _row in reader) == 25_000

    for name, count in (("legal_entities", 30), ("addresses", 40)):
        path = tmp_path / f"{name}.csv"
        assert synthetic.write_csv(path, name, SEED, count, people=500, addresses=100) == count
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == [f.name for f in REGISTRIES[name].fields]
            assert list(reader) == list(synthetic.rows(name, SEED, count, people=500, addresses=100))


def test_out_of_range_and_unknown_registry_are_refused():
    with pytest.raises(ValueError):
        synthetic.rows("vehicles", SEED, 1, people=1, addresses=1)
    with pytest.raises(ValueError):
        synthetic.person(SEED, synthetic.max_people(), addresses=1)
    with pytest.raises(ValueError):
        synthetic.person(SEED, -1, addresses=1)
    with pytest.raises(ValueError):
        synthetic.address(SEED, synthetic.MAX_ADDRESSES)
