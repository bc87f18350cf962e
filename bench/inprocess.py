"""CPU per request in-process: Bookly's ASGI app (or the baseline's) called directly, without
HTTP, by 32 concurrent callers, against the `make bench` database. The steadiest yardstick for a
change to one step of a request (bench/README.md, "What was changed"); `make bench` is the one
the targets are judged by.

    .venv/bin/python bench/inprocess.py S1 [--requests 6000] [--baseline] [--profile]

Read-only scenarios only (S1, S2, S3, S4, S6), and the site's pages P1 (a book's page, over
S1's books) and P2 (the catalogue's first page). `--profile` prints cProfile's busiest functions,
timed by CPU (the profiler itself slows every call it sees: compare profiles, not their totals).
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop

from harness import JWT_SECRET, Target, add_target_options
from scenarios import PAGE_PAIRS, SCENARIOS, Workload

CALLERS = 32
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: ASGIApp, path_and_query: str, token: str | None) -> int:
    """One GET through the app; its status."""
    url = urlsplit(path_and_query)
    headers = [(b"host", b"127.0.0.1:8000")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


def the_app(target: Target, baseline: bool) -> Any:
    if not baseline:
        from bookly.main import create_app

        return create_app(target.settings())
    os.environ.update(
        DATABASE_URL=target.database_url, REDIS_URL=target.redis_url, JWT_SECRET=JWT_SECRET
    )
    import baseline as baseline_app

    return baseline_app.app


async def measure(
    app: Any, paths: list[str], token: str | None, options: argparse.Namespace
) -> None:
    async def callers(count: int) -> None:
        async def caller(first: int) -> None:
            for n in range(first, count, CALLERS):
                status = await call(app, paths[n % len(paths)], token)
                if status != 200:
                    raise SystemExit(f"{paths[n % len(paths)]} answered {status}")

        await asyncio.gather(*(caller(first) for first in range(CALLERS)))

    async with app.router.lifespan_context(app):
        await callers(500)  # warm-up: pools filled, statements prepared
        profiler = cProfile.Profile(time.process_time) if options.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        await callers(options.requests)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - started
    who = "baseline" if options.baseline else "Bookly"
    print(f"{options.scenario} {who}: {cpu / options.requests * 1e6:,.0f} µs CPU per request")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["S1", "S2", "S3", "S4", "S6", *PAGE_PAIRS])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--baseline", action="store_true", help="the raw baseline app instead")
    parser.add_argument("--profile", action="store_true")
    add_target_options(parser)
    options = parser.parse_args()
    target = Target(options.admin_url, options.database, options.redis_url)
    with tempfile.TemporaryDirectory() as files:
        work = Workload.prepare(target, Path(files))
    if not work.book_uids:
        sys.exit(f"{target.database} holds no books: run `make bench` once to seed it")
    pair = PAGE_PAIRS.get(options.scenario)
    probe = (pair.page if pair else SCENARIOS[options.scenario]).probe(work)
    # S1 and P1 read a different book each time, as their wrk scripts do; the others repeat
    # their path.
    book_path = {"S1": "/api/v1/books/{}", "P1": "/books/{}"}.get(options.scenario)
    paths = [book_path.format(uid) for uid in work.book_uids] if book_path else [probe.path]
    app = the_app(target, options.baseline)
    uvloop.run(measure(app, paths, probe.token, options))


if __name__ == "__main__":
    main()
