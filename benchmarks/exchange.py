"""The exchange through the real HTTP stack: single-key reads, batch queries, change delivery lag.

Loads N people (not timed), grants 民政局's system items of the population registry through the
real request flow, serves with `tongban serve` (a real process), then measures:
- single_reads_per_s: GET /api/v1/exchange/persons/records/{id} from several connections, each
  call checked against the grants and written to the usage log;
- batch_records_per_s: POST /api/v1/exchange/persons/query with 1,000 keys per call;
- change_lag_p99_ms: with 10 subscribers (HTTP receivers in this process), registry changes
  are committed at --change-rate per second (import batches every 200 ms: versioned and
  published like every write); lag is from commit to arrival at each subscriber.
Prints one JSON line.

    .venv/bin/python benchmarks/exchange.py [--people 100000] [--seconds 8] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, import_people, served, server_cpu_seconds, workdir

from tongban import demo
from tongban.catalog import service as catalog
from tongban.core import audit
from tongban.org import service as org
from tongban.demo import synthetic
from tongban.registry import importer
from tongban.registry.schemas import PERSONS
from tongban.sharing import service as sharing
from tongban.core import clock

SEED = 11
ITEMS = ["name", "gender", "birth_date", "residence_status", "marital_status", "household_address"]


def _grant(sessions) -> None:
    """民政局 asks for items of the population registry; 公安 approves the conditional ones."""
    actor = audit.SystemActor(actor_name="benchmark")
    with sessions() as db:
        request = sharing.submit(db, resource=catalog.get(db, "persons"), requester=org.get_by_code(db, "PD-MZ"),
                                 item_codes=ITEMS, duty="低保审核", basis="《社会救助暂行办法》", purpose="基准测试",
                                 valid_from=clock.today(), valid_to=clock.today() + timedelta(days=30), actor=actor,
                                 response_days=10)
        db.flush()
        pending = [i.item_code for i in request.items if i.outcome == "pending"]
        sharing.provider_decide(db, request, approve=pending, refuse=[], reason=None, actor=actor)
        db.commit()


def _hammer(base: str, headers: dict, seconds: float, connections: int, kind: str, keys: list[str]) -> tuple[int, int]:
    """Run ``kind`` calls ("single" or "batch") on ``connections`` keep-alive connections, each
    in a process of its own, for ``seconds``; returns (calls, records answered).

    Processes, and the standard library's http.client rather than httpx: the load generator
    shares the two cores with the server, and client threads contending for one interpreter
    lock would measure the client, not the server."""
    # Forked, not spawned: a spawned client would import the platform first, and eight of them
    # doing so would take the cores from the server inside the measured window. All clients
    # start on the same clock tick and stop on the same one.
    context = multiprocessing.get_context("fork")
    start = time.time() + 0.5
    with context.Pool(connections) as pool:
        results = pool.starmap(_client_process, [(base, headers, start, seconds, kind, keys, index)
                                                 for index in range(connections)])
    return sum(c for c, _ in results), sum(r for _, r in results)


_READ_PURPOSE = quote("低保审核核对户籍")


def _client_process(base: str, headers: dict, start: float, seconds: float, kind: str, keys: list[str],
                    seed: int) -> tuple[int, int]:
    host, port = base.removeprefix("http://").split(":")
    rng = random.Random(seed)
    client = _Client(http.client.HTTPConnection(host, int(port), timeout=60), headers)
    calls = records = 0
    time.sleep(max(start - time.time(), 0))
    stop = start + seconds
    while time.time() < stop:
        if kind == "single":
            status, body = client.request("GET", f"/api/v1/exchange/persons/records/{rng.choice(keys)}?purpose={_READ_PURPOSE}")
            records += 1
        else:
            status, body = client.request("POST", "/api/v1/exchange/persons/query",
                                          {"keys": rng.sample(keys, 1000), "purpose": "低保年度复核"})
            records += body.count(b'"key":')  # one per record; parsing 1,000 records would load the client
        if status != 200:
            raise SystemExit(f"{kind} read failed: {status} {body[:300]}")
        calls += 1
    client.connection.close()
    return calls, records


class _Client:
    """Just enough of a client for the benchmark: GET and POST JSON on one keep-alive connection."""

    def __init__(self, connection: http.client.HTTPConnection, headers: dict) -> None:
        self.connection, self.headers = connection, headers

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if payload else {})}
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measurement")
    parser.add_argument("--connections", type=int, default=8, help="client processes, one keep-alive connection each")
    parser.add_argument("--change-rate", type=int, default=1000, help="registry changes committed per second")
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--change-seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=0,
                        help="server worker processes (default: one per core)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            sessions = import_people(settings, folder, args.people, SEED)
            _grant(sessions)
            # The server runs as it is deployed: one worker process per core.
            workers = args.workers or os.cpu_count() or 1
            with served(settings, folder, workers=workers) as base:
                figures = _measure(base, sessions, args)
            print(json.dumps({"engine": engine_name(settings), "people": args.people, "server_workers": workers, **figures}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(base: str, sessions, args) -> dict:
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": demo.MZ_CLIENT_ID,
                                                        "client_secret": demo.DEMO_CLIENT_SECRET}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    people = args.people

    # Keys made before the clock starts: computing check digits is the client's work, not the server's.
    keys = [synthetic.resident_id(SEED, index) for index in random.Random(3).sample(range(people), min(people, 20_000))]
    _hammer(base, headers, 1.0, args.connections, "single", keys)  # warm-up
    cpu = server_cpu_seconds(base)
    calls, _ = _hammer(base, headers, args.seconds, args.connections, "single", keys)
    single_rate, single_cpu = calls / args.seconds, server_cpu_seconds(base) - cpu
    cpu = server_cpu_seconds(base)
    _, records = _hammer(base, headers, args.seconds, args.connections, "batch", keys)
    batch_cpu = server_cpu_seconds(base) - cpu
    lag = _change_lag(base, headers, sessions, args)
    return {"single_reads_per_s": round(single_rate), "batch_records_per_s": round(records / args.seconds),
            # the server's CPU time per call, all workers together: the cost whatever else the machine runs
            "server_cpu_ms_per_single_read": round(single_cpu * 1000 / max(calls, 1), 2),
            "server_cpu_us_per_batch_record": round(batch_cpu * 1e6 / max(records, 1), 1), **lag}


class _Receiver(ThreadingHTTPServer):
    """One subscriber: notes when each change (key, new household address) arrived."""

    daemon_threads = True

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time()
                for change in body["changes"]:
                    receiver.arrived.setdefault((change["key"], change["items"]["household_address"]), now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def _change_lag(base: str, headers: dict, sessions, args) -> dict:
    """Commit registry changes at a steady rate; measure commit-to-arrival at every subscriber.

    The changes come the way a department's system sends many at once: small import batches
    (every 200 ms) of new household addresses, each batch one transaction through the importer —
    versioned, published through the outbox, like any other write."""
    receivers = [_Receiver() for _ in range(args.subscribers)]
    for receiver in receivers:
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for receiver in receivers:
            response = client.post("/api/v1/exchange/subscriptions", json={
                "resource": "persons", "callback_url": f"http://127.0.0.1:{receiver.server_port}/changes",
                "items": ["id_number", "household_address", "marital_status"], "purpose": "同步户籍地址变更"})
            if response.status_code != 201:
                sys.exit(f"subscription failed: {response.status_code} {response.text[:300]}")
    actor = audit.SystemActor(actor_name="benchmark 户籍系统", department_code="PD-GA")
    committed: dict[tuple[str, str], float] = {}
    rng = random.Random(5)
    ticks_per_s = 5
    per_tick = max(args.change_rate // ticks_per_s, 1)
    total = int(args.change_rate * args.change_seconds)
    folder = Path(tempfile.mkdtemp(prefix="tongban-bench-changes-"))
    started = time.perf_counter()
    done = tick = 0
    while done < total:
        changes = {}
        while len(changes) < min(per_tick, total - done):  # one change per person per batch
            changes[synthetic.resident_id(SEED, rng.randrange(args.people))] = f"上海市浦东新区张杨路{rng.randrange(10**9)}号"
        path = folder / f"changes-{tick}.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write("id_number,household_address\n")
            out.writelines(f"{key},{address}\n" for key, address in changes.items())
        job = importer.run(sessions, registry=PERSONS, path=path, department_code="PD-GA", actor=actor)
        now = time.time()
        if job.status != "completed" or job.rows_rejected:
            sys.exit(f"change batch failed: {job.status} {job.message}")
        for change in changes.items():
            committed.setdefault(change, now)
        done += len(changes)
        tick += 1
        pause = started + tick / ticks_per_s - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    write_seconds = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    deadline = time.time() + 60
    while time.time() < deadline and any(len(r.arrived) < len(committed) for r in receivers):
        time.sleep(0.1)
    lags = sorted((r.arrived[key] - at) * 1000 for r in receivers for key, at in committed.items() if key in r.arrived)
    missing = sum(1 for r in receivers for key in committed if key not in r.arrived)
    for receiver in receivers:
        receiver.shutdown()
    return {"changes": len(committed), "changes_per_s": round(len(committed) / write_seconds), "subscribers": len(receivers),
            "change_lag_p50_ms": round(lags[len(lags) // 2]) if lags else None,
            "change_lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1]) if lags else None, "undelivered": missing}


if __name__ == "__main__":
    main()
