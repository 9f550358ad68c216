"""Serving the platform with several worker processes, each with a listening socket of its own.

uvicorn's own workers share one socket, and the kernel hands a new connection to whichever worker
woke last: under load, long-lived keep-alive connections pile up on one busy worker while the
others idle (measured: 85 % against 20 % of a core). Here every worker gets its own socket bound
with SO_REUSEPORT, and the kernel spreads connections across them by address. The sockets are
made by the supervising process before any worker starts, so no connection lands on a subset,
and a worker that dies is started again on the same socket.

The background work (the outbox relay, the subscription dispatcher, the deadline scans) runs in the
first worker only: each of them is safe to run in several processes at once (an advisory lock or
SQLite's write lock keeps one relay at a time, a lease keeps one sender per subscription), but
more of them only poll more and, on SQLite, queue more often for the one write lock, which shows as
change lag. The first worker, restarted, takes it up again.

The server is given the app as an import string (the CLI passes ``tongban.app:served_app``, a
factory): core knows no domain, nor the app that composes them.

A server process also settles its heap once the app is built (``settle_heap``): what start-up made
(modules, routes, mappers, parsed processes) lives as long as the process, and Python's cycle
collector would otherwise walk all of it again on every full collection. Measured on the exchange's
1,000-key batches: the collector took 14.8 % of the worker's CPU time; 1.6 % with the start-up
objects frozen and young objects collected every 10,000 allocations instead of 700.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import time
from typing import Any

from tongban.core.config import Settings

log = logging.getLogger("tongban.serving")

# Young objects are collected after this many more allocations than deallocations (Python's
# default: 700). A request makes thousands of short-lived containers; most are gone before a
# collection at this size, so it finds less to walk.
YOUNG_COLLECTION_THRESHOLD = 10_000
OPTIONS = {"factory": True, "log_config": None, "access_log": False, "proxy_headers": True}


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for these settings: the proxies whose forwarded headers are believed
    (TONGBAN_FORWARDED_ALLOW_IPS) decide what address the throttles and the network checks see."""
    return {**OPTIONS, "forwarded_allow_ips": settings.forwarded_allow_ips}


def run(app: str, host: str, port: int, workers: int, settings: Settings | None = None) -> None:
    """Serve ``app``, the import string of an app factory ("module:function"), on ``workers``
    processes."""
    import uvicorn

    settings = settings or Settings()
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        os.environ["TONGBAN_WARM_SEARCH_BEFORE_SERVING"] = "true"  # a fresh start: ready means warmed
        uvicorn.run(app, host=host, port=port, workers=workers, **uvicorn_options(settings))
        return
    sockets = [_listening(host, port) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    processes = [_start(context, app, sock, background=index == 0, fresh=True) for index, sock in enumerate(sockets)]
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for index, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                log.error("worker %s exited with %s; starting it again", process.pid, process.exitcode)
                # Requests already wait on its socket: it serves at once and warms up beside.
                processes[index] = _start(context, app, sockets[index], background=index == 0, fresh=False)
        time.sleep(0.5)
    for process in processes:
        process.terminate()  # uvicorn finishes the requests in flight, then runs the lifespan's end
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    for sock in sockets:
        sock.close()


def settle_heap() -> None:
    """Collect once, freeze what is left (it lives as long as the process), and collect young
    objects less often. For server processes only: a test run that froze every app it built would
    never free them."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def _listening(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _start(context: Any, app: str, sock: socket.socket, *, background: bool, fresh: bool) -> Any:
    process = context.Process(target=_serve, args=(app, sock, background, fresh), name="tongban-worker")
    process.start()
    return process


def _serve(app: str, sock: socket.socket, background: bool, fresh: bool = True) -> None:
    """One worker: the app on its own socket (runs in a spawned process); ``background``: it also
    runs the relay, the dispatcher and the scans, unless the settings turn them off everywhere;
    ``fresh``: started with the server (not again after a crash), it warms up before serving."""
    import uvicorn

    from tongban.core.observability import configure_logging

    if not background:  # this process's environment only: the app built below reads it
        os.environ["TONGBAN_RELAY_ENABLED"] = "false"
    os.environ["TONGBAN_WARM_SEARCH_BEFORE_SERVING"] = "true" if fresh else "false"
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings))).run(sockets=[sock])
