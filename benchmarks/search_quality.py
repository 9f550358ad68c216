"""Search quality and speed of the item base, the way citizens and companies ask.

Loads the demo district (its catalogue of published items) plus generated items up to ``--items``
(published, not timed), then runs every query of ``benchmarks/search_queries.json`` (written from
the applicant's side, independently of the engine) through the service the public API calls:
the database checked for changes, the index, the ranking. A query counts for top-k when one of
its acceptable items is among the first k. Latency: every query timed over ``--rounds`` rounds.

The first search after start: ``tongban serve`` is started ``--starts`` times on the same
database, and as soon as ``/readyz`` answers, one search is asked over HTTP and timed (what the
first citizen after a deployment waits). Prints one JSON line: engine, queries, items, top1, top3,
p50_ms, p95_ms, first_search_ms (each start).

    .venv/bin/python benchmarks/search_quality.py [--items 2000] [--database-url ...] [--misses] [--top1-misses]
        [--starts 2] [--queries FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _support import engine_name, fresh_database, served, workdir

from tongban.app import register_bundles_for_search
from tongban.core import audit
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope
from tongban.items import content, service
from tongban.demo.filler_items import generated_items

QUERIES = Path(__file__).with_name("search_queries.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--misses", action="store_true", help="list the queries missing the top 3 (stderr)")
    parser.add_argument("--top1-misses", action="store_true",
                        help="list the queries whose first answer is not one they accept, with that answer (stderr)")
    parser.add_argument("--starts", type=int, default=2, help="server starts to time the first search after")
    parser.add_argument("--queries", type=Path, default=QUERIES,
                        help="the query file (default: search_queries.json); an older file compares code on the same questions")
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text(encoding="utf-8"))["queries"]

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            sessions = make_sessionmaker(make_engine(settings))
            register_bundles_for_search()  # as the application does: the index holds the bundles too
            with session_scope(sessions) as db:
                demo_count = len(service.published_items(db))
            extra = generated_items(max(args.items - demo_count, 0))
            with session_scope(sessions) as db:
                service.import_document(db, {"format": content.FORMAT, "version": content.VERSION, "items": extra},
                                        actor=audit.SystemActor(actor_name="benchmark"), publish=True)
            top1 = top3 = 0
            timings: list[float] = []
            with session_scope(sessions) as db:
                service.search(db, "营业执照")  # builds the index once, as the first request of a process does
                for _round in range(args.rounds):
                    for entry in queries:
                        started = time.perf_counter()
                        _query, hits = service.search(db, entry["q"], service_object=entry.get("service_object"))
                        timings.append((time.perf_counter() - started) * 1000)
                        if _round:
                            continue
                        codes = [hit.code for hit in hits]
                        first_right = bool(codes[:1] and codes[0] in entry["expected"])
                        top1 += first_right
                        if args.top1_misses and not first_right:
                            answer = f"{hits[0].code} {hits[0].name}" if hits else "nothing"
                            print(f"top1 miss: {entry['q']} → {answer} (want {entry['expected']})", file=sys.stderr)
                        found = bool(set(codes[:3]) & set(entry["expected"]))
                        top3 += found
                        if args.misses and not found:
                            print(f"miss: {entry['q']} → {[h.name for h in hits[:3]]} (want {entry['expected']})",
                                  file=sys.stderr)
                items = len(service.published_items(db))
            timings.sort()
            first = [first_search(settings, folder) for _start in range(args.starts)]
            print(json.dumps({
                "engine": engine_name(settings), "queries": len(queries), "items": items,
                "top1": round(top1 / len(queries), 3), "top3": round(top3 / len(queries), 3),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "first_search_ms": first,
            }))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def first_search(settings, folder: Path) -> float:
    """Milliseconds the first search over HTTP takes once a freshly started server is ready."""
    with served(settings, folder) as base:
        started = time.perf_counter()
        answer = httpx.get(f"{base}/api/v1/items/search", params={"q": "孩子刚出生怎么上户口"}, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
    return round(elapsed, 1)


if __name__ == "__main__":
    main()
