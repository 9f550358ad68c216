"""Point lookups of people over HTTP, each one checked for permission and written to the audit log.

Loads N people (not timed), serves them with `tongban serve` (a real process), then reads
random people by ID number with a stated purpose (clear values, audited) one request at a time.
Prints one JSON line: engine, people, requests, p50_ms, p99_ms.

    .venv/bin/python benchmarks/registry_lookup.py [--people 1000000] [--requests 5000] [--database-url ...]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, import_people, served, workdir

from tongban import demo
from tongban.demo import synthetic

SEED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            import_people(settings, folder, args.people, SEED)
            with served(settings, folder) as base, httpx.Client(base_url=base, timeout=10) as client:
                token = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "clerk",
                                                                "password": demo.DEMO_PASSWORD}).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                rng = random.Random(1)
                ids = [synthetic.resident_id(SEED, rng.randrange(args.people)) for _ in range(args.requests + 200)]
                for number in ids[:200]:  # warm-up: connections, caches
                    client.get(f"/api/v1/registries/persons/{number}", headers=headers, params={"purpose": "基准测试"})
                latencies = []
                for number in ids[200:]:
                    started = time.perf_counter()
                    response = client.get(f"/api/v1/registries/persons/{number}", headers=headers,
                                          params={"purpose": "窗口核验身份"})
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200 or response.json()["masked_fields"]:
                        sys.exit(f"lookup failed: {response.status_code} {response.text[:200]}")
            latencies.sort()
            print(json.dumps({"engine": engine_name(settings), "people": args.people, "requests": len(latencies),
                              "p50_ms": round(latencies[len(latencies) // 2], 2),
                              "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2)}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
