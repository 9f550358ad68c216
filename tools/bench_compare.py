"""Run every benchmark on two checkouts of tongban, alternating (A, B, A, B …), and write the
figures as a Markdown table: how a change is shown to keep the speed of what was there.

    .venv/bin/python tools/bench_compare.py BEFORE_DIR AFTER_DIR --out runs.jsonl [--rounds 2]
    .venv/bin/python tools/bench_compare.py --table runs.jsonl > table.md

Each run records the load average at its start, so a reader can tell a slow run on a busy machine
from a slow program. Benchmarks print one JSON line; a benchmark that fails is recorded with its
return code and no figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/test"
# (benchmark, options, engine); the figures each prints and which way is better.
RUNS = [
    ("search_quality.py", ["--misses"], "sqlite"),
    ("search_quality.py", ["--misses", "--database-url", PG], "postgresql"),
    ("registry_lookup.py", ["--people", "200000"], "sqlite"),
    ("registry_lookup.py", ["--people", "200000", "--database-url", PG], "postgresql"),
    ("supervision.py", [], "sqlite"),
    ("supervision.py", ["--database-url", PG], "postgresql"),
    ("exchange.py", [], "sqlite"),
    ("exchange.py", ["--database-url", PG], "postgresql"),
    ("registry_import.py", [], "sqlite"),
    ("registry_import.py", ["--rows", "300000", "--database-url", PG], "postgresql"),
    ("cases.py", ["--applications", "1000"], "sqlite"),
    ("cases.py", ["--applications", "1000", "--database-url", PG], "postgresql"),
]
LOWER_IS_BETTER = ("seconds", "_ms", "ms_per", "us_per", "rss", "errors", "undelivered", "conflicts")
SKIP = {"engine", "applications", "server_workers", "applicants", "clerks", "reviewers_per_department",
        "reviewers", "mix", "max_in_flight", "decisions", "error_statuses", "queries", "items", "people",
        "rows", "requests", "clocks", "first_search_ms", "connections", "subscribers", "workers", "batch_size"}


def run(before: Path, after: Path, out: Path, rounds: int, only: set[str], extra: dict[str, list[str]],
        engine_only: str | None = None) -> None:
    python = sys.executable
    for name, options, engine in RUNS:
        if (only and name not in only) or (engine_only and engine != engine_only):
            continue
        for round_ in range(1, rounds + 1):
            for side, folder in (("before", before), ("after", after)):
                argv = [python, str(folder / "benchmarks" / name), *options,
                        *(extra.get(side, []) if name == "search_quality.py" else [])]
                load = os.getloadavg()
                started = time.time()
                done = subprocess.run(argv, cwd=folder, capture_output=True, text=True,
                                      env={**os.environ, "PYTHONPATH": str(folder / "src")})
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                record = {"benchmark": name, "options": " ".join(options), "engine": engine, "side": side,
                          "round": round_, "started": started, "wall_s": round(time.time() - started, 1),
                          "rc": done.returncode, "load": [round(x, 2) for x in load],
                          "figures": json.loads(lines[-1]) if lines else {}}
                if done.returncode:
                    record["stderr_tail"] = done.stderr[-2000:]
                with out.open("a", encoding="utf-8") as sink:
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                print(name, engine, side, round_, record["wall_s"], "rc", done.returncode, file=sys.stderr, flush=True)


def _lower_better(figure: str) -> bool:
    return any(mark in figure for mark in LOWER_IS_BETTER)


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def table(path: Path) -> str:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines: list[str] = []
    for engine in ("sqlite", "postgresql"):
        lines += [f"### {engine}", "",
                  "| benchmark | figure | better | before runs | after runs | before median | after median | change % | within 10 % or better? |",
                  "|---|---|---|---|---|---|---|---|---|"]
        names = dict.fromkeys(r["benchmark"] for r in records if r["engine"] == engine)
        for name in names:
            runs = [r for r in records if r["engine"] == engine and r["benchmark"] == name and r["figures"]]
            figures = dict.fromkeys(k for r in runs for k, v in r["figures"].items()
                                    if k not in SKIP and isinstance(v, (int, float)) and not isinstance(v, bool))
            for figure in figures:
                values = {side: [r["figures"][figure] for r in runs if r["side"] == side and figure in r["figures"]]
                          for side in ("before", "after")}
                if not values["before"] or not values["after"]:
                    continue
                a, b = statistics.median(values["before"]), statistics.median(values["after"])
                lower = _lower_better(figure)
                change = (b - a) / a * 100 if a else 0.0
                worse = change if lower else -change
                verdict = "yes (better)" if worse < -10 else "yes" if worse <= 10 else "**no**"
                if a == b == 0:
                    verdict, shown = "yes", "—"
                else:
                    shown = f"{change:+.1f}"
                lines.append(f"| {name} | {figure} | {'lower' if lower else 'higher'} | "
                             f"{', '.join(_fmt(v) for v in values['before'])} | {', '.join(_fmt(v) for v in values['after'])} | "
                             f"{_fmt(a)} | {_fmt(b)} | {shown} | {verdict} |")
        lines.append("")
    lines += ["### Runs", "", "| benchmark | engine | side | round | started (UTC) | wall s | rc | load at start (1/5/15 min) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['benchmark']} | {r['engine']} | {r['side']} | {r['round']} | "
                     f"{time.strftime('%H:%M:%S', time.gmtime(r['started']))} | {r['wall_s']} | {r['rc']} | "
                     f"{', '.join(str(x) for x in r['load'])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", nargs="?", type=Path)
    parser.add_argument("after", nargs="?", type=Path)
    parser.add_argument("--out", type=Path, help="JSON lines, appended")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], help="a benchmark file name (repeatable)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], help="only the runs on this engine")
    parser.add_argument("--after-search-queries", type=Path,
                        help="the search benchmark's query file for AFTER (the BEFORE checkout's file: same questions)")
    parser.add_argument("--table", type=Path, help="write the Markdown table of these runs and stop")
    args = parser.parse_args()
    if args.table:
        sys.stdout.write(table(args.table))
        return
    if not (args.before and args.after and args.out):
        parser.error("BEFORE_DIR AFTER_DIR and --out are needed to run")
    extra = {"after": ["--queries", str(args.after_search_queries)]} if args.after_search_queries else {}
    run(args.before.resolve(), args.after.resolve(), args.out, args.rounds, set(args.only), extra, args.engine)


if __name__ == "__main__":
    main()
