"""Import N people from CSV through `tongban registry import` (a real process).

Prints one JSON line: engine, rows, seconds, rows_per_s, peak_rss_mb.

    .venv/bin/python benchmarks/registry_import.py [--rows 1000000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, workdir

from tongban.demo import per_source_files
from tongban.demo import synthetic
from tongban.registry.schemas import PERSONS, Duty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--batch-size", type=int, default=20_000)
    args = parser.parse_args()

    folder = workdir()
    try:
        # The public-security columns of the population register: what 公安 imports.
        rows = synthetic.rows("persons", 1, args.rows, people=args.rows, addresses=max(args.rows // 3, 1))
        csv_path = per_source_files(PERSONS, rows, folder)[Duty.PUBLIC_SECURITY]
        with fresh_database(args.database_url, folder) as settings:
            env = {**os.environ, "TONGBAN_DATABASE_URL": settings.database_url, "TONGBAN_DATA_DIR": str(folder),
                   "TONGBAN_LOG_LEVEL": "WARNING", "COLUMNS": "120"}
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "tongban.cli", "registry", "import", "persons", str(csv_path),
                                     "--department", "PD-GA", "--batch-size", str(args.batch_size)],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                sys.exit(f"import failed: {result.stdout}")
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(json.dumps({"engine": engine_name(settings), "rows": args.rows, "seconds": round(seconds, 2),
                              "rows_per_s": round(args.rows / seconds), "peak_rss_mb": round(peak_kb / 1024, 1)}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
