"""Migration 0012 on a populated database of each engine: a period's evaluation rows become its
version 1 (published when every row was); a period the old re-run left half published keeps what
the portal showed as published version 1 and every row as version 2 to publish; and back. Run from
0011 to 0012 and back only, whatever later revisions exist."""

from __future__ import annotations

from conftest import downgrade
from sqlalchemy import text

from tongban.core import migrate

ALL_PUBLIC, HALF, INTERNAL = ("2025-09-01", "2025-09-30"), ("2025-10-01", "2025-10-31"), ("2025-11-01", "2025-11-30")


def _versions(connection) -> list[tuple]:
    return [tuple(r) for r in connection.execute(text(
        "SELECT v.period_start, v.number, v.published_at IS NOT NULL, e.department_id, e.figures "
        "FROM supervision_evaluation_versions v JOIN supervision_evaluations e ON e.version_id = v.id "
        "ORDER BY v.period_start, v.number, e.department_id"))]


def test_0012_keeps_what_the_portal_showed_and_versions_the_rest(empty_engine):
    engine = empty_engine
    migrate.upgrade(engine, "0011")
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(text(
                "INSERT INTO departments (id, code, name, short_name, level, division_code) "
                "VALUES (:id, :code, :name, :name, 'district', '310115')"), {"id": n, "code": f"M{n}", "name": f"迁移{n}局"})
        rows = [(ALL_PUBLIC, 1, "public"), (ALL_PUBLIC, 2, "public"), (HALF, 1, "public"), (HALF, 2, "internal"),
                (INTERNAL, 1, "internal")]
        for (start, end), department, grade in rows:
            connection.execute(text(
                "INSERT INTO supervision_evaluations (department_id, period_start, period_end, figures, grade, "
                "computed_at, computed_by, published_at) VALUES (:d, :s, :e, :f, :g, :at, '监察', :published)"),
                {"d": department, "s": start, "e": end, "f": f'{{"started":{department}}}', "g": grade,
                 "at": "2025-12-01 02:00:00+00:00",
                 "published": "2025-12-02 02:00:00+00:00" if grade == "public" else None})

    migrate.upgrade(engine, "0012")
    with engine.connect() as connection:
        found = [(str(start), number, published, department, figures)
                 for start, number, published, department, figures in _versions(connection)]
    assert found == [
        ("2025-09-01", 1, True, 1, '{"started":1}'), ("2025-09-01", 1, True, 2, '{"started":2}'),
        ("2025-10-01", 1, True, 1, '{"started":1}'),  # what the portal showed
        ("2025-10-01", 2, False, 1, '{"started":1}'), ("2025-10-01", 2, False, 2, '{"started":2}'),  # to publish
        ("2025-11-01", 1, False, 1, '{"started":1}'),
    ]

    downgrade(engine, "0011")
    with engine.connect() as connection:
        back = [(str(s), d, g) for s, d, g in connection.execute(text(
            "SELECT period_start, department_id, grade FROM supervision_evaluations ORDER BY period_start, department_id"))]
    assert back == [("2025-09-01", 1, "public"), ("2025-09-01", 2, "public"), ("2025-10-01", 1, "public"),
                    ("2025-11-01", 1, "internal")]
    migrate.upgrade(engine, "0012")
    with engine.connect() as connection:
        assert len(_versions(connection)) == 4
