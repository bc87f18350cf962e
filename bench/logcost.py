"""CPU per request of the access line, Bookly's and the baseline's, without HTTP or a database.

    .venv/bin/python bench/logcost.py [--requests 50000] [--pairs 3]

Each server's access-log middleware wraps a bare ASGI app that answers 200, and is called with
32 requests in flight; every variant runs in a process of its own, writing its stderr to a scratch
file as the benchmark does. Bookly: its telemetry middleware under `bookly serve`'s logging
(`logging_config`, LOG_LEVEL INFO, then WARNING: metrics alone); the baseline: with its AccessLog
middleware, then without. The CPU of the whole process is counted (every thread: Bookly's log
writer too); log on minus log off is what the line costs each request. Pairs alternate.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.routing import Route

BENCH_DIR = Path(__file__).resolve().parent
CALLERS = 32
ROUTE = Route("/api/v1/books/{uid}", lambda request: None)


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def wrapped(server: str, log_on: bool) -> Any:
    if server == "bookly":
        import logging.config

        from bookly.core.logging import logging_config, skip_unwritten_record_fields
        from bookly.core.metrics import Metrics
        from bookly.core.telemetry import TelemetryMiddleware

        logging.config.dictConfig(logging_config("INFO" if log_on else "WARNING"))
        skip_unwritten_record_fields()
        return TelemetryMiddleware(bare_app, Metrics())
    sys.path.insert(0, str(BENCH_DIR))
    os.environ.setdefault("JWT_SECRET", "logcost")
    from baseline import AccessLog

    return AccessLog(bare_app) if log_on else bare_app


async def run(app: Any, requests: int) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def caller(first: int) -> None:
        for _ in range(first, requests, CALLERS):
            path = f"/api/v1/books/{uuid.uuid4()}"
            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "client": ("127.0.0.1", 50000),
                "route": ROUTE,
                # Bookly's request id exists for its response header, logged or not.
                "state": {"request_id": uuid.uuid4().hex},
            }
            await app(scope, receive, send)
            await asyncio.sleep(0)

    await asyncio.gather(*(caller(first) for first in range(CALLERS)))


def child(server: str, log_on: bool, requests: int) -> None:
    app = wrapped(server, log_on)
    started = time.process_time()
    asyncio.run(run(app, requests))
    if server == "bookly":
        import logging

        logging.shutdown()  # the writer's last lines are part of the cost
    cpu = time.process_time() - started
    print(f"{1e6 * cpu / requests:.2f}")


def measure(server: str, log_on: bool, requests: int) -> float:
    with tempfile.TemporaryFile() as stderr:
        command = [sys.executable, __file__, "--child", server, "on" if log_on else "off"]
        command += ["--requests", str(requests)]
        done = subprocess.run(command, stderr=stderr, stdout=subprocess.PIPE)
        done.check_returncode()
        return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("SERVER", "LOG"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        server, log = options.child
        child(server, log == "on", options.requests)
        return
    for server in ("bookly", "baseline"):
        costs = []
        for _ in range(options.pairs):
            on = measure(server, True, options.requests)
            off = measure(server, False, options.requests)
            costs.append(on - off)
            print(f"{server:8} log on {on:6.1f} µs, off {off:6.1f} µs: {on - off:5.1f} µs/request")
        print(f"{server:8} access line: {sorted(costs)[len(costs) // 2]:.1f} µs/request (median)")


if __name__ == "__main__":
    main()
