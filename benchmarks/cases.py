"""Applications processed end to end through the HTTP API by a simulated workforce.

A fresh database with the demo government, served by `tongban serve` (a real process). The
workforce runs in forked client processes, each on one keep-alive connection of its own:
- applicants: the demo citizen files 企业开办 (enterprise-setup) bundles, each for a different
  enterprise name, the demo enterprise files 道路挖掘 (road-excavation) bundles (--mix is the
  share of enterprise-setup), always with every material that is not exempt (as listed by
  /api/v1/applications/forms), so each one goes straight to `submitted`; each submission carries
  an Idempotency-Key;
- --clerks window clerks (default 2) accept everything in /api/v1/applications/window, each
  the applications whose number falls to it;
- reviewers in each of the eight departments of the two bundles list their queue
  (/api/v1/tasks) and approve every task with its `version`; a 409 (another reviewer of the
  department decided it first) is counted as a conflict and skipped. A department has
  --reviewers-per-department reviewers for each task it reviews in one application: 交通委
  reviews three of the five of a road excavation, so it has three where the others have one
  (with one, its single reviewer would be the whole run's bottleneck: its queue grows while
  the server has cores to spare, and the run measures one person's clicking, not the platform).
Every application has five department tasks: 营业执照 then 公章/税务/社保/公积金 in parallel, or
规划许可 then 掘路计划/管线交底 (交通委) and 文明施工 (城管) in parallel, then 道路挖掘许可.
The run ends when all applications are finished, read from the database once a second.

On SQLite the workforce keeps at most --max-in-flight requests (default 4) in flight at once:
with more, the server stalls for 30 s at a time (each request holds two pooled connections, its
reading session's and its own; when SQLAlchemy's pool of 15 runs out, the authentication on the
event loop waits for a connection that only the event loop can return, while the write lock is
held by a request whose session the event loop has not closed yet).

Prints one JSON line: engine, applications, seconds (first submission to last application
finished, from the applications' own timestamps), decisions_per_s, submissions_per_s,
step_p99_ms (p99 of the engine's step time as reported in the `Server-Timing: engine;dur=`
header of every acceptance and decision), decision_p99_ms (client-side p99 of the decision
calls), server_cpu_ms_per_application (CPU time of all the server's processes over the run, per
application: the cost of the work whatever else the machine runs), conflicts (409s), errors
(any other failed call; must be 0), and the set-up. Fails
unless every application ends `approved` with all its tasks done. Progress goes to stderr.

    .venv/bin/python benchmarks/cases.py [--applications 10000] [--database-url postgresql://...]
        [--workers 2] [--applicants 2] [--reviewers-per-department 1] [--mix 0.5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
import traceback
import zlib
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import engine_name, fresh_database, served, server_cpu_seconds, workdir

from tongban import demo
from tongban.cases.models import Application, CaseTask
from tongban.core.db.engine import READS_ONLY, make_engine

SETUP, ROAD = "enterprise-setup", "road-excavation"
SETUP_FORM = {"applicant_name": "张伟", "applicant_id": demo.CITIZEN.username, "phone": "13812345678",
              "enterprise_name": "", "entity_type": "有限责任公司", "registered_capital": "100",
              "registered_address": "上海市浦东新区张江路100号", "business_scope": "软件开发；信息技术咨询服务",
              "seal_count": "3", "employees": "5", "housing_fund_rate": "7"}
ROAD_FORM = {"entity_name": demo.ENTERPRISE.name, "credit_code": demo.ENTERPRISE.username, "legal_representative": "张伟",
             "phone": "021-58881234", "project_name": "", "location": "张江路（科苑路至碧波路）",
             "length_m": "320", "method": "开挖施工", "period": "2026年12月1日至12月20日"}
# The reviewer of each department the two bundles reach (demo accounts).
REVIEWERS = {"PD-SCJG": "reviewer", "PD-GA": "reviewer.ga", "PD-SW": "reviewer.sw", "PD-RS": "reviewer.rs",
             "PD-GJJ": "reviewer.gjj", "PD-GHZY": "reviewer.ghzy", "PD-JSJT": "reviewer.jsjt", "PD-CGZF": "reviewer.cgzf"}
TASKS_PER_APPLICATION = 5  # both bundles: five department tasks, all approved
# Each bundle's tasks by department: 交通委 reviews three of the five of a road excavation.
TASKS = {SETUP: {"PD-SCJG": 1, "PD-GA": 1, "PD-SW": 1, "PD-RS": 1, "PD-GJJ": 1},
         ROAD: {"PD-GHZY": 1, "PD-JSJT": 3, "PD-CGZF": 1}}


BATCH = 20  # with colleagues: own tasks decided before looking at the queue again
HELP = 10  # tasks of colleagues a reviewer with none of its own takes before looking at the queue again


def staffing(reviewers: int) -> dict[str, int]:
    """Reviewers of each department: ``reviewers`` for each task it reviews in an application
    (three at 交通委, one elsewhere), as a department staffs its desks by its share of the work."""
    return {department: reviewers * max(tasks.get(department, 0) for tasks in TASKS.values()) for department in REVIEWERS}


def _is_setup(n: int, mix: float) -> bool:
    """Application n is an enterprise-setup one: floor(N * mix) of the first N, spread evenly."""
    return math.floor((n + 1) * mix) > math.floor(n * mix)


class _Client:
    """One keep-alive connection (the standard library's, the lightest client: the workforce shares
    the two cores with the server). Logs in with the account's password, again after a 401, and
    reconnects when the server closed an idle connection."""

    def __init__(self, base: str, username: str, slots=None) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.username, self.slots = host, int(port), username, slots
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        self.token: str | None = None
        self.last_ms = 0.0
        self._login()

    def _login(self) -> None:
        form = urlencode({"grant_type": "password", "username": self.username, "password": demo.DEMO_PASSWORD})
        status, body, _ = self._send("POST", "/api/v1/auth/token", form.encode(),
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise SystemExit(f"login of {self.username} failed: {status} {body[:300]!r}")
        self.token = json.loads(body)["access_token"]

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, bytes, http.client.HTTPResponse]:
        if self.slots is None:
            return self._send_now(method, path, payload, headers)
        with self.slots:  # one of the workforce's few requests allowed in flight at once
            return self._send_now(method, path, payload, headers)

    def _send_now(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, bytes, http.client.HTTPResponse]:
        for attempt in (1, 2):
            try:
                began = time.perf_counter()
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                self.last_ms = (time.perf_counter() - began) * 1000  # the call itself, not the wait for a slot
                return response.status, data, response
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection the server closed: resending is safe (every write
                # here is idempotent or refused the second time with a 409, which is counted).
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for _ in range(2):
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {}),
                    **({"Content-Type": "application/json"} if payload is not None else {})}
            status, data, response = self._send(method, path, payload, sent)
            if status != 401:
                break
            self._login()
        return status, data, response

    def close(self) -> None:
        self.connection.close()


def _engine_ms(response: http.client.HTTPResponse) -> float | None:
    timing = response.getheader("Server-Timing") or ""
    for part in timing.split(","):
        name, _, rest = part.strip().partition(";")
        if name == "engine" and rest.startswith("dur="):
            return float(rest[4:])
    return None


def _note(stats: dict, what: str, status: int, body: bytes) -> None:
    stats["errors"] += 1
    stats.setdefault("statuses", {}).setdefault(status, 0)
    stats["statuses"][status] += 1
    if stats["errors"] <= 5:
        print(f"[{stats['role']}] {what}: {status} {body[:300].decode(errors='replace')}", file=sys.stderr, flush=True)


def _count(stats: dict, done: str, what: str, client: _Client, status: int, body: bytes,
           response: http.client.HTTPResponse) -> None:
    """One acceptance or decision: its latency, and a success (with the engine's step time), a
    409 (a colleague was first) or an error."""
    stats["latencies"].append(client.last_ms)
    if status == 200:
        stats[done] += 1
        spent = _engine_ms(response)
        if spent is not None:
            stats["steps"].append(spent)
    elif status == 409:
        stats["conflicts"] += 1
    else:
        _note(stats, what, status, body)


def _run(role: str, target, queue, *args) -> None:
    """A workforce process: runs ``target`` and puts its figures (or its failure) on the queue."""
    try:
        queue.put(target(*args))
    except BaseException:
        queue.put({"role": role, "crash": traceback.format_exc()})


def _applicant(base: str, index: int, count: int, total: int, mix: float, materials: dict, start: float, slots) -> dict:
    """Files applications index, index + count, ... of ``total``; every one must be `submitted`."""
    stats = {"role": f"applicant {index}", "submitted": 0, "errors": 0, "first": None, "last": None, "latencies": []}
    clients = {SETUP: _Client(base, demo.CITIZEN.username, slots), ROAD: _Client(base, demo.ENTERPRISE.username, slots)}
    time.sleep(max(start - time.time(), 0))
    for n in range(index, total, count):
        bundle = SETUP if _is_setup(n, mix) else ROAD
        if bundle == SETUP:
            form = {**SETUP_FORM, "enterprise_name": f"上海压测{n}号科技有限公司"}
        else:
            form = {**ROAD_FORM, "project_name": f"张江路通信管道新建工程（压测第{n}号）"}
        began = time.time()
        status, body, _ = clients[bundle].request("POST", "/api/v1/applications",
                                                  {"bundle": bundle, "form": form, "materials": materials[bundle]},
                                                  {"Idempotency-Key": f"bench-cases-{n}"})
        stats["latencies"].append(clients[bundle].last_ms)
        stats["first"] = stats["first"] or began
        stats["last"] = time.time()
        if status != 201 or b'"status":"submitted"' not in body.replace(b" ", b""):
            _note(stats, f"submission {n}", status, body)
            continue
        stats["submitted"] += 1
    for client in clients.values():
        client.close()
    return stats


def _idle(pause: float) -> float:
    """Sleep after finding an empty queue, a little longer each time (up to 0.5 s): idle staff
    must not take the server's time from the busy ones."""
    time.sleep(pause)
    return min(pause * 2, 0.5)


def _clerk(base: str, index: int, count: int, stop, slots) -> dict:
    """Accepts what is waiting at the window until told to stop; of ``count`` clerks, each takes
    the applications whose number falls to it, as the window's desks share out the queue."""
    stats = {"role": f"clerk #{index}", "accepted": 0, "errors": 0, "conflicts": 0, "steps": [], "latencies": []}
    client = _Client(base, "clerk", slots)
    pause = 0.02
    while not stop.is_set():
        status, body, _ = client.request("GET", "/api/v1/applications/window")
        if status != 200:
            _note(stats, "window", status, body)
            time.sleep(1)
            continue
        waiting = [application for application in json.loads(body)["items"]
                   if zlib.crc32(application["number"].encode()) % count == index]
        if not waiting:
            pause = _idle(pause)
            continue
        pause = 0.02
        for application in waiting:
            _count(stats, "accepted", f"acceptance of {application['number']}", client,
                   *client.request("POST", f"/api/v1/applications/{application['number']}/acceptance",
                                   {"decision": "accept"}))
            if stop.is_set():
                break
    client.close()
    return stats


def _reviewer(base: str, department: str, username: str, index: int, count: int, stop, slots) -> dict:
    """Approves the department's queue until told to stop. Of ``count`` reviewers of a department,
    each takes the tasks whose id falls to it (id modulo ``count``), as colleagues share out files,
    a few at a time (the listing is a snapshot); one with none of its own left helps with a few of
    the others' from the far end of the queue, away from the ones they are on, so two of them
    decide the same task only when the queue runs short: the loser's 409 is counted and skipped.
    Alone in its department, a reviewer works through each listing whole."""
    stats = {"role": f"{username} #{index}", "department": department, "decided": 0, "conflicts": 0, "errors": 0,
             "listings": 0, "steps": [], "latencies": []}
    client = _Client(base, username, slots)
    # Alone: the whole queue (a page of 200) is worked through. With colleagues: the first page
    # holding a batch for each of them and a few to help with.
    listing = "/api/v1/tasks" if count == 1 else f"/api/v1/tasks?limit={BATCH * count + HELP}"
    pause = 0.02
    while not stop.is_set():
        status, body, _ = client.request("GET", listing)
        stats["listings"] += 1
        if status != 200:
            _note(stats, "queue", status, body)
            time.sleep(1)
            continue
        tasks = json.loads(body)["items"]
        if not tasks:
            pause = _idle(pause)
            continue
        pause = 0.02
        if count == 1:
            work = tasks
        else:
            mine = [task for task in tasks if task["id"] % count == index]
            others = [task for task in tasks if task["id"] % count != index]
            work = mine[:BATCH] or others[BATCH * (count - 1):][::-1][:HELP]
        for task in work:
            _count(stats, "decided", f"decision on task {task['id']}", client,
                   *client.request("POST", f"/api/v1/tasks/{task['id']}/decision",
                                   {"decision": "approve", "opinion": "材料齐全，符合条件", "version": task["version"]}))
            if stop.is_set():
                break
    client.close()
    return stats


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(len(ordered) * 0.99) - 1, 0)], 2)


def _materials(base: str) -> dict[str, list[str]]:
    """What each bundle asks to be provided (not timed): the form's materials that are not exempt."""
    materials = {}
    for bundle, username in ((SETUP, demo.CITIZEN.username), (ROAD, demo.ENTERPRISE.username)):
        client = _Client(base, username)
        status, body, _ = client.request("GET", f"/api/v1/applications/forms?bundle={bundle}")
        client.close()
        if status != 200:
            raise SystemExit(f"forms of {bundle}: {status} {body[:300]!r}")
        materials[bundle] = [m["name"] for m in json.loads(body)["materials"] if not m["exempt"]]
    return materials


# The workforce's own applications (the demo government brings finished ones of its own).
OURS = Application.idempotency_key.like("bench-cases-%")


def _progress(db_engine) -> dict[str, int]:
    with db_engine.connect() as connection:
        return dict(connection.execute(select(Application.status, func.count()).where(OURS)
                                       .group_by(Application.status)).all())


def _workforce(base: str, settings, args) -> dict:
    total = args.applications
    materials = _materials(base)
    # Forked, not spawned: the workforce starts at once, without importing the platform again
    # (which would take the cores from the server inside the measured window).
    context = multiprocessing.get_context("fork")
    results, stop = context.Queue(), context.Event()
    slots = context.BoundedSemaphore(args.max_in_flight) if args.max_in_flight else None
    start = time.time() + 1.0  # every applicant logged in before the first submission
    processes = [context.Process(target=_run, args=(f"applicant {i}", _applicant, results, base, i, args.applicants,
                                                      total, args.mix, materials, start, slots), daemon=True)
                 for i in range(args.applicants)]
    processes += [context.Process(target=_run, args=(f"clerk #{i}", _clerk, results, base, i, args.clerks, stop, slots),
                                  daemon=True) for i in range(args.clerks)]
    staff = staffing(args.reviewers_per_department)
    processes += [context.Process(target=_run, args=(f"{username} #{i}", _reviewer, results, base, department, username, i,
                                                     staff[department], stop, slots), daemon=True)
                  for department, username in REVIEWERS.items() for i in range(staff[department])]
    for process in processes:
        process.start()

    # Made after the fork (the workforce never touches the database); reads only, so that on
    # SQLite the once-a-second look does not take the write lock from the server.
    db_engine = make_engine(settings).execution_options(**{READS_ONLY: True})
    figures: list[dict] = []
    failure = None
    last_report = last_change = time.time()
    last_done = -1
    try:
        while True:
            time.sleep(1)
            while not results.empty():
                figures.append(results.get())
                if "crash" in figures[-1]:
                    failure = f"{figures[-1]['role']} crashed:\n{figures[-1]['crash']}"
            if failure:
                break
            counts = _progress(db_engine)
            done = counts.get("approved", 0) + counts.get("refused", 0) + counts.get("not_accepted", 0)
            now = time.time()
            if done != last_done:
                last_done, last_change = done, now
            if now - last_report >= 10 or done >= total:
                print(f"[{now - start:6.0f} s] {done}/{total} finished; " +
                      ", ".join(f"{status} {count}" for status, count in sorted(counts.items())), file=sys.stderr, flush=True)
                last_report = now
            if done >= total:
                break
            if now - last_change > args.stall_seconds:
                failure = f"no application finished for {args.stall_seconds} s: {counts}"
                break
    finally:
        stop.set()
        deadline = time.time() + 60
        while len(figures) < len(processes) and time.time() < deadline:
            try:
                figures.append(results.get(timeout=1))
            except Exception:
                if not any(p.is_alive() for p in processes) and results.empty():
                    break
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    crashed = [f for f in figures if "crash" in f]
    if failure or crashed or len(figures) < len(processes):
        detail = failure or (crashed[0]["crash"] if crashed else f"{len(processes) - len(figures)} processes did not report")
        db_engine.dispose()
        raise SystemExit(f"the run failed: {detail}")
    summary = _verify(db_engine, total)
    db_engine.dispose()
    return {"figures": figures, **summary}


def _verify(db_engine, total: int) -> dict:
    """Every application approved, every task done; the measured span from the database's own times."""
    with db_engine.connect() as connection:
        statuses = dict(connection.execute(select(Application.status, func.count()).where(OURS)
                                           .group_by(Application.status)).all())
        tasks = dict(connection.execute(select(CaseTask.status, func.count())
                                        .join(Application, Application.id == CaseTask.application_id).where(OURS)
                                        .group_by(CaseTask.status)).all())
        first, last = connection.execute(select(func.min(Application.created_at), func.max(Application.finished_at))
                                         .where(OURS)).one()
    if statuses != {"approved": total}:
        raise SystemExit(f"not every application was approved: {statuses}")
    if tasks != {"done": total * TASKS_PER_APPLICATION}:
        raise SystemExit(f"tasks not all done: {tasks}")
    return {"seconds": (last - first).total_seconds()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--workers", type=int, default=0,
                        help="server worker processes (default: one per core)")
    parser.add_argument("--applicants", type=int, default=2, help="applicant processes")
    parser.add_argument("--clerks", type=int, default=2, help="window clerk processes")
    parser.add_argument("--reviewers-per-department", type=int, default=1,
                        help="reviewer processes per task a department reviews in an application (交通委 reviews three)")
    parser.add_argument("--mix", type=float, default=0.5, help="share of enterprise-setup (the rest: road-excavation)")
    parser.add_argument("--max-in-flight", type=int, default=None,
                        help="requests the whole workforce has in flight at most (default: no limit on PostgreSQL, "
                             "4 on SQLite, whose server stalls with more: see above)")
    parser.add_argument("--stall-seconds", type=float, default=120, help="give up when nothing finishes for this long")
    args = parser.parse_args()
    if min(args.applications, args.applicants, args.clerks, args.reviewers_per_department) < 1 or not 0 <= args.mix <= 1:
        parser.error("--applications, --applicants, --clerks and --reviewers-per-department must be positive, --mix in [0, 1]")

    folder = workdir()
    try:
        with fresh_database(args.database_url, folder) as settings:
            workers = args.workers or os.cpu_count() or 1
            if args.max_in_flight is None:
                args.max_in_flight = 4 if settings.is_sqlite else 0
            with served(settings, folder, workers=workers) as base:
                cpu_before = server_cpu_seconds(base)
                outcome = _workforce(base, settings, args)
                server_cpu = server_cpu_seconds(base) - cpu_before
            figures, seconds = outcome["figures"], outcome["seconds"]
            applicants = [f for f in figures if f["role"].startswith("applicant")]
            clerks = [f for f in figures if f["role"].startswith("clerk")]
            reviewers = [f for f in figures if "department" in f]
            decisions = sum(f["decided"] for f in reviewers)
            submit_span = max(f["last"] for f in applicants) - min(f["first"] for f in applicants)
            print(json.dumps({
                "engine": engine_name(settings), "applications": args.applications, "server_workers": workers,
                "applicants": args.applicants, "clerks": args.clerks, "reviewers_per_department": args.reviewers_per_department,
                "reviewers": sum(staffing(args.reviewers_per_department).values()), "mix": args.mix,
                "max_in_flight": args.max_in_flight or None,
                "seconds": round(seconds, 1), "decisions": decisions, "decisions_per_s": round(decisions / seconds, 1),
                "submissions_per_s": round(sum(f["submitted"] for f in applicants) / submit_span, 1),
                "step_p99_ms": _p99([s for f in clerks + reviewers for s in f["steps"]]),
                "decision_p99_ms": _p99([ms for f in reviewers for ms in f["latencies"]]),
                "submission_p99_ms": _p99([ms for f in applicants for ms in f["latencies"]]),
                "acceptance_p99_ms": _p99([ms for f in clerks for ms in f["latencies"]]),
                "server_cpu_ms_per_application": round(server_cpu * 1000 / args.applications, 1),
                "conflicts": sum(f["conflicts"] for f in clerks + reviewers),
                "errors": sum(f["errors"] for f in figures),
                "error_statuses": {str(code): sum(f.get("statuses", {}).get(code, 0) for f in figures)
                                   for code in sorted({c for f in figures for c in f.get("statuses", {})})},
            }, ensure_ascii=False))
            if any(f["errors"] for f in figures):
                log = (folder / "server.log").read_text(errors="replace").splitlines()
                print("server log (last 80 lines):", *log[-80:], sep="\n", file=sys.stderr)
                sys.exit(1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
