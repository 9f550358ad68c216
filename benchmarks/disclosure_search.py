"""The disclosure one-stop search on 300,000 documents: building the index, answering citizens,
and how soon a published document is found.

On a fresh database (the demo district loaded): the generated documents of
``demo/disclosure_corpus.py`` (``--seed``, ``--documents``) are

* **generated** once without storing them (what producing them costs, in every figure below);
* **bulk-inserted raw** — the same rows, no words, into a table without any index, with the
  engine's own bulk path (COPY / executemany): the baseline;
* **indexed** by ``search.rebuild`` (segmentation, the rows, the full-text index);

then every question of ``benchmarks/disclosure_queries.csv`` (citizens' wording, with the filters
it names, the documents that answer it decided from the documents' content) is searched through
the service the public API calls — words, synonyms and typos, filters, facet counts, the first
page with its snippets — one round to warm up, ``--rounds`` timed. A question counts for top-3
when one of its documents is among the first three. Then ``--publish`` new documents are each
indexed in their own transaction while another session searches for them: the seconds from the
start of ``index()`` to the first search that finds the document. Peak memory is this process's
(``resource.getrusage``); the database server's is its own.

Prints one JSON line.

    .venv/bin/python benchmarks/disclosure_search.py [--documents 300000] [--database-url ...] [--misses]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, workdir
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, text

from tongban.core.db.bulk import bulk_insert_values
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope
from tongban.demo import disclosure_corpus
from tongban.disclosure import search
from tongban.disclosure.search import SearchQuery

QUERIES = Path(__file__).with_name("disclosure_queries.csv")
_BASELINE = Table("bench_disclosure_baseline", MetaData(), Column("id", Integer, primary_key=True),
                  Column("index_number", String(64)), Column("title", String(500)), Column("document_number", String(100)),
                  Column("department_code", String(32)), Column("department_name", String(200)), Column("issued_on", Date),
                  Column("published_on", Date), Column("year", Integer), Column("theme", String(50)),
                  Column("genre", String(50)), Column("validity", String(10)), Column("body", Text), Column("url", String(300)))


def _queries() -> list[dict]:
    with QUERIES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["expected"] = set(row["expected"].split("|"))
        row["filters"] = dict(pair.split("=", 1) for pair in row["filters"].split(";") if pair)
        if "year" in row["filters"]:
            row["filters"]["year"] = int(row["filters"]["year"])
    return rows


def _baseline(sessions, seed: int, count: int) -> float:
    """Seconds to bulk-insert the same rows without words or any index (generation included)."""
    started = time.perf_counter()
    with session_scope(sessions) as db:
        _BASELINE.create(db.connection())
        postgresql = db.get_bind().dialect.name == "postgresql"
        batch: list[tuple] = []
        for n, d in enumerate(disclosure_corpus.documents(seed, count), start=1):
            on = (d.issued_on, d.published_on) if postgresql else (d.issued_on.isoformat(), d.published_on.isoformat())
            batch.append((n, d.index_number, d.title, d.document_number, d.department_code, d.department_name, *on,
                          d.issued_on.year, d.theme, d.genre, d.validity, d.body_text, d.url))
            if len(batch) == 2000:
                bulk_insert_values(db, _BASELINE, [c.name for c in _BASELINE.columns], batch)
                batch = []
        bulk_insert_values(db, _BASELINE, [c.name for c in _BASELINE.columns], batch)
    elapsed = time.perf_counter() - started
    with session_scope(sessions) as db:
        _BASELINE.drop(db.connection())
    return elapsed


def _findable(sessions, rounds: int) -> list[float]:
    """Seconds from index() of a new document (its own transaction, a 文号 no document has yet) to
    another session finding it by that 文号 — None for one not found within 30 s."""
    template = next(iter(disclosure_corpus.documents(99, 1)))
    seconds: list[float] = []
    for n in range(rounds):
        number = f"浦府〔2026〕{90000 + n}号"
        document = replace(template, index_number=f"BENCH-{uuid.uuid4().hex[:12]}", document_number=number,
                           title=f"关于第{n + 1}批老旧小区综合改造项目的公告", published_on=date(2026, 12, 7))
        started = time.perf_counter()
        with session_scope(sessions) as db:
            search.index(db, document)
        with session_scope(sessions) as reader:
            while not any(h.index_number == document.index_number
                          for h in search.search(reader, SearchQuery(q=number.replace("〔", "[").replace("〕", "]"))).items):
                reader.rollback()
                if time.perf_counter() - started > 30:
                    break
            else:
                seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--publish", type=int, default=20, help="documents published one by one to time findability")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--misses", action="store_true", help="list the questions missing the top 3 (stderr)")
    args = parser.parse_args()
    queries = _queries()

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            engine = make_engine(settings)
            sessions = make_sessionmaker(engine)
            started = time.perf_counter()
            for _document in disclosure_corpus.documents(args.seed, args.documents):
                pass
            generate = time.perf_counter() - started
            baseline = _baseline(sessions, args.seed, args.documents)
            started = time.perf_counter()
            with session_scope(sessions) as db:
                count = search.rebuild(db, disclosure_corpus.documents(args.seed, args.documents))
            build = time.perf_counter() - started
            with session_scope(sessions) as db:
                if settings.is_sqlite:
                    size = db.execute(text("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")).scalar()
                else:
                    size = db.execute(text("SELECT pg_total_relation_size('disclosure_search_entries')")).scalar()
                search.warm()
                timings: list[float] = []
                top3 = 0
                for round_ in range(args.rounds + 1):
                    for entry in queries:
                        query = SearchQuery(q=entry["q"], **entry["filters"])
                        began = time.perf_counter()
                        result = search.search(db, query)
                        elapsed = (time.perf_counter() - began) * 1000
                        db.rollback()
                        if round_ == 0:  # warming up: counts, not times
                            found = bool({h.index_number for h in result.items[:3]} & entry["expected"])
                            top3 += found
                            if args.misses and not found:
                                print(f"miss [{entry['kind']}] {entry['q']} {entry['filters'] or ''} → "
                                      f"{[h.title for h in result.items[:3]]} notes={result.notes} "
                                      f"(want {sorted(entry['expected'])[:3]})", file=sys.stderr)
                        else:
                            timings.append(elapsed)
            findable = _findable(sessions, args.publish)
            engine.dispose()
            timings.sort()
            print(json.dumps({
                "engine": engine_name(settings), "documents": count, "queries": len(queries),
                "generate_s": round(generate, 1), "baseline_insert_s": round(baseline, 1), "index_build_s": round(build, 1),
                "build_to_baseline": round(build / baseline, 2),
                "indexing_to_raw_insert": round((build - generate) / max(baseline - generate, 0.001), 2),
                "database_mb": round(size / 1e6),
                "top3": round(top3 / len(queries), 3),
                "p50_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "max_ms": round(timings[-1], 2),
                "findable_s_median": round(statistics.median(findable), 3) if findable else None,
                "findable_s_max": round(max(findable), 3) if findable else None,
                "findable_missed": args.publish - len(findable),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
