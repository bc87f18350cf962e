"""Bookly against the raw baseline under wrk: `make bench`, `bench-storm`, `bench-soak`.

    .venv/bin/python bench/run.py [--scenarios S1,S4] [--warmup 10] [--duration 30] [--quick]
    .venv/bin/python bench/run.py --mode storm   # S1 p99 while 16 clients log in
    .venv/bin/python bench/run.py --mode soak    # RSS of one server over 10 minutes of S1-S5
    .venv/bin/python bench/run.py --mode pages   # the site's pages' CPU against their API routes
    .venv/bin/python bench/run.py --mode pooler  # S1, S2 through PgBouncer against direct
    .venv/bin/python bench/run.py --mode burst   # 32 sign-ins at once; then a storm past capacity
    .venv/bin/python bench/run.py --mode workers # S1, S4 with 1 and 2 worker processes

Servers run pinned to core 0, wrk to core 1. See bench/README.md.
"""

import argparse
import asyncio
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bookly.core.pooler import store_statement_timeout
from harness import (
    BIN,
    LOAD_CORE,
    PASSWORD,
    VAR_DIR,
    Load,
    RssSampler,
    Server,
    Target,
    add_target_options,
    baseline_command,
    bookly_command,
    drop_database,
    ensure_database,
    fetch,
    migrate,
    mint_accounts,
    parse_wrk,
    pgbouncer,
    run_wrk,
    seed,
    serving,
    wrk_command,
)
from scenarios import ALONE, PAGE_PAIRS, SCENARIOS, PagePair, Scenario, Workload

P99_OVER_P50_LIMIT = 4.0
STORM_P99_LIMIT = 3.0
STORM_CLIENTS = 16
RSS_LIMIT_MIB = 200
POOLER_SCENARIOS = "S1,S2"
POOLER_MIN_RATIO = 0.8
# Server connections PgBouncer may open: as many as the direct server's two pools may, so that
# the pooler's own cost is what differs.
POOLER_POOL_SIZE = 20


def main() -> int:
    options = parse_options()
    os.environ["LOG_LEVEL"] = options.log_level  # for both servers (harness.Target.server_env)
    if options.mode == "scale":
        return scale(options)
    target = Target(options.admin_url, options.database, options.redis_url)
    with prepared(target, options, books=options.books, reviews=options.reviews) as work:
        modes = {"compare": compare, "storm": storm, "soak": soak, "pages": pages, "pooler": pooler}
        modes |= {"burst": burst, "workers": workers}
        return modes[options.mode](options, work)


@contextmanager
def prepared(
    target: Target, options: argparse.Namespace, *, books: int, reviews: int
) -> Iterator[Workload]:
    """The database created, migrated and seeded (unless it already is), and the workload."""
    asyncio.run(ensure_database(target))
    try:
        migrate(target)
        seed(target, users=options.users, books=books, reviews=reviews)
        with tempfile.TemporaryDirectory(prefix="bookly-bench-") as scratch:
            yield Workload.prepare(target, Path(scratch))
    finally:
        if options.drop_database:
            asyncio.run(drop_database(target))


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modes = ["compare", "storm", "soak", "scale", "pages", "pooler", "burst", "workers"]
    parser.add_argument("--mode", choices=modes, default="compare")
    parser.add_argument("--scenarios", help="comma-separated; default: all (pooler: S1,S2)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds, before each run")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=3, help="A/B pairs per scenario; the median ratio counts"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="both servers' LOG_LEVEL: INFO (production's default) writes an access line per "
        "request, WARNING none",
    )
    parser.add_argument("--quick", action="store_true", help="1 s warm-up, 2 s measured, 1 round")
    parser.add_argument("--soak-seconds", type=float, default=600)
    parser.add_argument("--books", type=int, default=100_000, help="seed this many (0: don't)")
    parser.add_argument("--reviews", type=int, default=500_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument(
        "--scale-books",
        default="10000,1000000",
        help="scale mode: the small and the large catalogue (databases DATABASE_<books>)",
    )
    parser.add_argument(
        "--pages", default=",".join(PAGE_PAIRS), help="pages mode: which page/route pairs"
    )
    add_target_options(parser)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the measured runs into var/bench/"
    )
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    parser.add_argument("--drop-database", action="store_true", help="drop it when done")
    options = parser.parse_args()
    if options.quick:
        options.warmup, options.duration, options.rounds = 1, 2, 1
    if not options.scenarios:
        options.scenarios = POOLER_SCENARIOS if options.mode == "pooler" else ",".join(SCENARIOS)
    unknown = set(options.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    options.selected = [SCENARIOS[name] for name in options.scenarios.split(",")]
    unknown_pages = set(options.pages.split(",")) - set(PAGE_PAIRS)
    if unknown_pages:
        parser.error(f"unknown pages {sorted(unknown_pages)}; known: {', '.join(PAGE_PAIRS)}")
    options.selected_pages = [PAGE_PAIRS[name] for name in options.pages.split(",")]
    return options


@contextmanager
def bookly_server(target: Target) -> Iterator[Server]:
    with serving("bookly", bookly_command, target) as server:
        yield server


def measure(
    server: Server,
    scenario: Scenario,
    work: Workload,
    options: argparse.Namespace,
    pinned: bool = True,
) -> Load:
    """A warm-up run, thrown away, then the measured run (sampled by py-spy with --profile);
    wrk pinned to LOAD_CORE unless not `pinned`."""
    run_wrk(
        server.url,
        scenario.script,
        scenario.wrk_args(work),
        options.warmup,
        options.connections,
        pinned,
    )
    with ExitStack() as stack:
        if options.profile:
            stack.enter_context(profiling(server, f"{scenario.name}-{server.name}", options))
        cpu_before = server.cpu_seconds()
        load = run_wrk(
            server.url,
            scenario.script,
            scenario.wrk_args(work),
            options.duration,
            options.connections,
            pinned,
        )
        load.server_cpu_seconds = server.cpu_seconds() - cpu_before
        return load


@contextmanager
def profiling(server: Server, name: str, options: argparse.Namespace) -> Iterator[None]:
    """py-spy samples the server (from the load core) into collapsed stacks under var/bench/."""
    command = [
        "taskset", "-c", LOAD_CORE, str(BIN / "py-spy"), "record", "--nonblocking", "--rate", "250",
        "--pid", str(server.process.pid), "--duration", str(round(options.duration)),
        "--format", "raw", "--output", str(VAR_DIR / f"profile-{name}.txt"),
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as spy:
        yield
        spy.wait(timeout=30)


def check_agreement(scenario: Scenario, work: Workload, servers: list[Server]) -> None:
    """Both servers must answer the probe alike, or the comparison means nothing."""
    answers = []
    for server in servers:
        probe = scenario.probe(work)
        status, body = fetch(server.url + probe.path, probe.token, probe.body)
        if status >= 300:
            raise SystemExit(f"{scenario.name}: {server.name} answered {status}: {body[:500]!r}")
        answer = json.loads(body)
        answers.append({k: v for k, v in answer.items() if k not in scenario.volatile})
    if answers[0] != answers[1]:
        raise SystemExit(f"{scenario.name}: the servers disagree:\n{answers[0]}\n{answers[1]}")


def describe(load: Load) -> str:
    figures = f"{load.rps:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms"
    if load.server_cpu_seconds:
        figures += f"  server CPU {load.cpu_us_per_request:5.0f} µs/request"
    return figures


def compare(options: argparse.Namespace, work: Workload) -> int:
    ok = True
    results = []
    with ExitStack() as stack:
        bookly = stack.enter_context(bookly_server(work.target))
        baseline = stack.enter_context(serving("baseline", baseline_command, work.target))
        for scenario in options.selected:
            if scenario.min_ratio is None:
                raise SystemExit(f"{scenario.name} has no baseline route to compare with")
            check_agreement(scenario, work, [bookly, baseline])
            pairs = ab_rounds(bookly, baseline, scenario, work, options)
            ours, theirs = pairs[len(pairs) // 2]
            result = {
                "scenario": scenario.name,
                "title": scenario.title,
                "log_level": options.log_level,
                "bookly": summary(ours),
                "baseline": summary(theirs),
                "ratio": round(ours.rps / theirs.rps, 3),
                "round_ratios": [round(a.rps / b.rps, 3) for a, b in pairs],
                "min_ratio": scenario.min_ratio,
                "ratio_ok": ours.rps / theirs.rps >= scenario.min_ratio,
                "p99_ok": ours.p99_ms <= P99_OVER_P50_LIMIT * ours.p50_ms,
                "clean": all(a.clean and b.clean for a, b in pairs),
            }
            results.append(result)
            ok &= result["ratio_ok"] and result["p99_ok"]
            print(f"RESULT {json.dumps(result)}", flush=True)
            print(
                f"{scenario.name} {scenario.title}\n"
                f"    bookly   {describe(ours)}\n    baseline {describe(theirs)}\n"
                f"    ratio {result['ratio']:.2f} (median of {result['round_ratios']}; "
                f"target >= {scenario.min_ratio}) "
                f"{'met' if result['ratio_ok'] else 'MISSED'}; "
                f"bookly p99/p50 {ours.p99_ms / ours.p50_ms:.1f} (target <= 4) "
                f"{'met' if result['p99_ok'] else 'MISSED'}"
                + ("" if result["clean"] else "; ERRORS during the run (see non2xx)"),
                flush=True,
            )
    record("compare", options, results)
    return exit_code(options, valid=all(r["clean"] for r in results), met=ok)


def ab_rounds(
    first: Server, second: Server, scenario: Scenario, work: Workload, options: argparse.Namespace
) -> list[tuple[Load, Load]]:
    """`options.rounds` pairs of runs (first's load, second's), the lowest ratio first: the
    median pair is the one reported. Who goes first alternates, so a drift in the machine's
    load favours neither."""
    pairs = []
    for round_number in range(options.rounds):
        order = [first, second] if round_number % 2 == 0 else [second, first]
        loads = {server.name: measure(server, scenario, work, options) for server in order}
        pairs.append((loads[first.name], loads[second.name]))
    return sorted(pairs, key=lambda pair: pair[0].rps / pair[1].rps)


def pooler(options: argparse.Namespace, work: Workload) -> int:
    """Bookly through PgBouncer (`DB_POOLER=transaction`) against Bookly straight to PostgreSQL,
    one process each, same settings otherwise: what the pooler costs a request."""
    ok = True
    results = []
    with ExitStack() as stack:
        direct = stack.enter_context(serving("direct", bookly_command, work.target))
        pooled = stack.enter_context(pooled_bookly(work.target))
        for scenario in options.selected:
            check_agreement(scenario, work, [pooled, direct])
            pairs = ab_rounds(pooled, direct, scenario, work, options)
            ours, theirs = pairs[len(pairs) // 2]
            result = {
                "scenario": scenario.name,
                "title": scenario.title,
                "pooled": summary(ours),
                "direct": summary(theirs),
                "ratio": round(ours.rps / theirs.rps, 3),
                "round_ratios": [round(a.rps / b.rps, 3) for a, b in pairs],
                "min_ratio": POOLER_MIN_RATIO,
                "ratio_ok": ours.rps / theirs.rps >= POOLER_MIN_RATIO,
                "clean": all(a.clean and b.clean for a, b in pairs),
            }
            results.append(result)
            ok &= result["ratio_ok"]
            print(f"RESULT {json.dumps(result)}", flush=True)
            print(
                f"{scenario.name} {scenario.title}\n"
                f"    pooled   {describe(ours)}\n    direct   {describe(theirs)}\n"
                f"    ratio {result['ratio']:.2f} (median of {result['round_ratios']}; "
                f"target >= {POOLER_MIN_RATIO}) {'met' if result['ratio_ok'] else 'MISSED'}"
                + ("" if result["clean"] else "; ERRORS during the run (see non2xx)"),
                flush=True,
            )
    record("pooler", options, results)
    return exit_code(options, valid=all(r["clean"] for r in results), met=ok)


@contextmanager
def pooled_bookly(target: Target) -> Iterator[Server]:
    """`bookly serve` behind a PgBouncer of its own in transaction pooling mode (not pinned: it
    is of the database tier, as PostgreSQL is), its statement timeout stored on the role as
    `bookly migrate` would (the same value direct connections send)."""
    server = urlsplit(target.admin_url)
    with pgbouncer(
        server.hostname or "127.0.0.1", server.port or 5432, pool_size=POOLER_POOL_SIZE
    ) as bouncer:
        url = bouncer.url(target.database)
        pooled = {"database_url": url, "db_pooler": "transaction"}
        asyncio.run(store_statement_timeout(target.settings().model_copy(update=pooled)))
        env = {"DATABASE_URL": url, "DB_POOLER": "transaction"}
        with serving("pooled", bookly_command, target, env) as server_behind:
            yield server_behind


def summary(load: Load) -> dict[str, float | int]:
    return {
        "rps": round(load.rps, 1),
        "p50_ms": round(load.p50_ms, 2),
        "p90_ms": round(load.p90_ms, 2),
        "p99_ms": round(load.p99_ms, 2),
        "max_ms": round(load.max_ms, 2),
        "cpu_us_per_request": round(load.cpu_us_per_request),
        "requests": load.requests,
        "non2xx": load.non2xx,
        "socket_errors": load.socket_errors,
    }


def storm(options: argparse.Namespace, work: Workload) -> int:
    """A scenario's p99 alone, then while STORM_CLIENTS clients log in without pause."""
    (scenario,) = options.selected[:1]
    accounts = asyncio.run(mint_accounts(work.target, STORM_CLIENTS))
    emails = work.file("storm-emails", (account.email for account in accounts))
    with bookly_server(work.target) as bookly:
        check_agreement_alone(scenario, work, bookly)
        quiet = measure(bookly, scenario, work, options)
        storm_seconds = options.warmup + options.duration + 2
        command = wrk_command(bookly.url, "login.lua", [emails, PASSWORD], storm_seconds, 16)
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as logins:
            loud = measure(bookly, scenario, work, options)
            storm_output, _ = logins.communicate()
    login_load = parse_wrk(storm_output)
    result = {
        "scenario": scenario.name,
        "quiet": summary(quiet),
        "storm": summary(loud),
        "logins": {**summary(login_load), **login_load.extra},
        "p99_growth": round(loud.p99_ms / quiet.p99_ms, 2),
        "p99_ok": loud.p99_ms <= STORM_P99_LIMIT * quiet.p99_ms,
    }
    print(f"RESULT {json.dumps(result)}")
    print(
        f"{scenario.name} alone      {describe(quiet)}\n"
        f"{scenario.name} with storm {describe(loud)}\n"
        f"logins       {describe(login_load)}  statuses {login_load.extra}\n"
        f"p99 grew {result['p99_growth']:.2f}x (target <= {STORM_P99_LIMIT}) "
        f"{'met' if result['p99_ok'] else 'MISSED'}"
    )
    record("storm", options, [result])
    return exit_code(options, valid=quiet.clean and loud.clean, met=bool(result["p99_ok"]))


def check_agreement_alone(scenario: Scenario, work: Workload, server: Server) -> None:
    probe = scenario.probe(work)
    status, body = fetch(server.url + probe.path, probe.token, probe.body)
    if status >= 300:
        raise SystemExit(f"{scenario.name}: {server.name} answered {status}: {body[:500]!r}")


def soak(options: argparse.Namespace, work: Workload) -> int:
    """One Bookly process under the scenarios in turn; RSS sampled every second."""
    chunk = min(30.0, options.soak_seconds / max(1, len(options.selected)))
    rounds = []
    with bookly_server(work.target) as bookly, RssSampler(bookly) as sampler:
        started = time.monotonic()
        while time.monotonic() - started < options.soak_seconds:
            for scenario in options.selected:
                load = run_wrk(
                    bookly.url,
                    scenario.script,
                    scenario.wrk_args(work),
                    chunk,
                    options.connections,
                )
                rounds.append((scenario.name, round(load.rps), load.non2xx))
                if time.monotonic() - started >= options.soak_seconds:
                    break
    samples = sampler.samples
    window = max(1, len(samples) // 10)
    early = statistics.mean(kib for _, kib in samples[window : 2 * window] or samples[:1])
    late = statistics.mean(kib for _, kib in samples[-window:])
    peak = max(kib for _, kib in samples)
    result = {
        "seconds": round(samples[-1][0]),
        "max_rss_mib": round(peak / 1024, 1),
        "early_rss_mib": round(early / 1024, 1),
        "late_rss_mib": round(late / 1024, 1),
        "growth_mib": round((late - early) / 1024, 1),
        "rss_ok": peak / 1024 < RSS_LIMIT_MIB,
        "rounds": rounds,
    }
    print(f"RESULT {json.dumps(result)}")
    print(
        f"RSS over {result['seconds']} s: max {result['max_rss_mib']} MiB "
        f"(target < {RSS_LIMIT_MIB}); 2nd tenth {result['early_rss_mib']} MiB, "
        f"last tenth {result['late_rss_mib']} MiB, growth {result['growth_mib']} MiB"
    )
    record("soak", options, [result])
    valid = all(non2xx == 0 for _, _, non2xx in rounds)
    return exit_code(options, valid=valid, met=bool(result["rss_ok"]))


def pages(options: argparse.Namespace, work: Workload) -> int:
    """Each page of the site against the API route that reads the same rows, on one Bookly
    server, in alternating rounds: server CPU per request, HTML over JSON."""
    results = []
    with bookly_server(work.target) as bookly:
        for pair in options.selected_pages:
            api = SCENARIOS[pair.api]
            check_page(pair, work, bookly)
            check_agreement_alone(api, work, bookly)
            rounds = []
            for round_number in range(options.rounds):
                order = [pair.page, api] if round_number % 2 == 0 else [api, pair.page]
                loads = {run.name: measure(bookly, run, work, options) for run in order}
                rounds.append((loads[pair.page.name], loads[api.name]))
            rounds.sort(key=lambda loads: loads[0].cpu_us_per_request / loads[1].cpu_us_per_request)
            html, json_route = rounds[len(rounds) // 2]
            ratio = html.cpu_us_per_request / json_route.cpu_us_per_request
            result = {
                "pair": pair.name,
                "title": pair.title,
                "html": summary(html),
                "json": summary(json_route),
                "cpu_ratio": round(ratio, 3),
                "round_cpu_ratios": [
                    round(a.cpu_us_per_request / b.cpu_us_per_request, 3) for a, b in rounds
                ],
                "max_cpu_ratio": pair.max_cpu_ratio,
                "ratio_ok": ratio <= pair.max_cpu_ratio,
                "clean": all(a.clean and b.clean for a, b in rounds),
            }
            results.append(result)
            print(f"RESULT {json.dumps(result)}", flush=True)
            print(
                f"{pair.name} {pair.title}\n"
                f"    html {describe(html)}\n    json {describe(json_route)}\n"
                f"    CPU per request html/json {ratio:.2f} (median of "
                f"{result['round_cpu_ratios']}; target <= {pair.max_cpu_ratio}) "
                f"{'met' if result['ratio_ok'] else 'MISSED'}"
                + ("" if result["clean"] else "; ERRORS during the run (see non2xx)"),
                flush=True,
            )
    record("pages", options, results)
    met = all(result["ratio_ok"] for result in results)
    return exit_code(options, valid=all(r["clean"] for r in results), met=met)


def check_page(pair: PagePair, work: Workload, server: Server) -> None:
    """The page answers 200 with HTML (a redirect or an error page is not worth measuring)."""
    probe = pair.page.probe(work)
    status, body = fetch(server.url + probe.path)
    if status != 200 or not body.lstrip().lower().startswith(b"<!doctype html"):
        raise SystemExit(f"{pair.name}: {server.name} answered {status}: {body[:500]!r}")


def exit_code(options: argparse.Namespace, *, valid: bool, met: bool) -> int:
    """2: a run saw errors, so its figures mean nothing; 3: a target was missed (--strict)."""
    if not valid:
        return 2
    return 3 if options.strict and not met else 0


# The searches last: at 1M books their queued requests outlast the load, and would hold up the
# next probe.
SCALE_SCENARIOS = [SCENARIOS["S2"], SCENARIOS["S6"], ALONE["S7"], ALONE["S3t"], SCENARIOS["S3"]]
SCALE_GROWTH_LIMIT = 1.5


def scale(options: argparse.Namespace) -> int:
    """Bookly's latency for S2, S6, the searches and the suggestions on a small and a large
    catalogue (one review a book). Both catalogues are served at once and measured in turn,
    small then large, for `--rounds` rounds: a drift in the machine's load then weighs on both
    alike (run one after the other, a busier second half read as growth), and the median
    round's growth counts."""
    small, large = (int(books) for books in options.scale_books.split(","))
    valid = True
    results = []
    with ExitStack() as stack:
        served: dict[int, tuple[Workload, Server]] = {}
        for books in (small, large):
            target = Target(options.admin_url, f"{options.database}_{books}", options.redis_url)
            work = stack.enter_context(prepared(target, options, books=books, reviews=books))
            served[books] = work, stack.enter_context(bookly_server(target))
        for scenario in SCALE_SCENARIOS:
            rounds: list[tuple[Load, Load]] = []
            for _ in range(options.rounds):
                loads: dict[int, Load] = {}
                for books, (work, bookly) in served.items():
                    check_agreement_alone(scenario, work, bookly)
                    loads[books] = load = measure(bookly, scenario, work, options)
                    valid &= load.clean
                    print(f"{scenario.name} at {books:>9} books: {describe(load)}", flush=True)
                rounds.append((loads[small], loads[large]))
            rounds.sort(key=lambda pair: pair[1].p50_ms / pair[0].p50_ms)
            before, after = rounds[len(rounds) // 2]
            result: dict[str, Any] = {
                "scenario": scenario.name,
                "title": scenario.title,
                "small": {"books": small, **summary(before)},
                "large": {"books": large, **summary(after)},
                "p50_growth": round(after.p50_ms / before.p50_ms, 2),
                "p99_growth": round(after.p99_ms / before.p99_ms, 2),
                "round_growths": [round(b.p50_ms / a.p50_ms, 2) for a, b in rounds],
            }
            result["growth_ok"] = result["p50_growth"] <= SCALE_GROWTH_LIMIT
            results.append(result)
            print(f"RESULT {json.dumps(result)}")
            print(
                f"{scenario.name}: p50 x{result['p50_growth']} (median of "
                f"{result['round_growths']}), p99 x{result['p99_growth']} from {small} to "
                f"{large} books (target p50 <= x{SCALE_GROWTH_LIMIT}) "
                f"{'met' if result['growth_ok'] else 'MISSED'}",
                flush=True,
            )
    record("scale", options, results)
    return exit_code(options, valid=valid, met=all(r["growth_ok"] for r in results))


def record(mode: str, options: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    unrecorded = {"selected", "selected_pages", "admin_url"}
    settings = {k: v for k, v in vars(options).items() if k not in unrecorded}
    entry: dict[str, Any] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "mode": mode}
    entry |= {"options": settings, "load_average": os.getloadavg(), "results": results}
    with (VAR_DIR / "results.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


BURST_SIZE = 32
BURST_ROUNDS = 5
# More clients signing in without pause than the hashing threads serve within the wait budget.
OVERLOAD_CLIENTS = 96


def burst(options: argparse.Namespace, work: Workload) -> int:
    """BURST_SIZE simultaneous sign-ins to one process (not pinned: it may use both cores), in
    BURST_ROUNDS rounds: every one should be served. Then OVERLOAD_CLIENTS clients sign in
    without pause, beyond what the hashing serves within the wait budget: the excess is shed."""
    accounts = asyncio.run(mint_accounts(work.target, OVERLOAD_CLIENTS))
    emails = [account.email for account in accounts]
    with serving("bookly", bookly_command, work.target, pinned=False) as bookly:
        rounds = []
        for _ in range(BURST_ROUNDS):
            rounds.append(asyncio.run(sign_in_burst(bookly.url, emails[:BURST_SIZE])))
            time.sleep(1)  # the queue drains between bursts
        overload = run_wrk(
            bookly.url,
            "login.lua",
            [work.file("overload-emails", emails), PASSWORD],
            options.duration,
            OVERLOAD_CLIENTS,
            pinned=False,
        )
    served = overload.extra.get("status_200", 0)
    shed = overload.extra.get("status_503", 0)
    result = {
        "burst_size": BURST_SIZE,
        "bursts": rounds,
        "burst_ok": all(r["statuses"] == {"200": BURST_SIZE} for r in rounds),
        "overload_clients": OVERLOAD_CLIENTS,
        "overload": {**summary(overload), **overload.extra},
        "overload_shed": shed > 0 and served > 0,
    }
    print(f"RESULT {json.dumps(result)}")
    for number, r in enumerate(rounds, 1):
        print(f"burst {number}: {r['statuses']}, slowest {r['slowest_ms']:.0f} ms")
    print(
        f"{OVERLOAD_CLIENTS} clients signing in without pause: {describe(overload)}\n"
        f"    {served} served, {shed} shed (503) "
        f"{'met' if result['overload_shed'] else 'MISSED'}"
    )
    record("burst", options, [result])
    met = bool(result["burst_ok"] and result["overload_shed"])
    return exit_code(options, valid=overload.socket_errors == 0, met=met)


async def sign_in_burst(url: str, emails: list[str]) -> dict[str, Any]:
    """One sign-in per email, all at once over connections opened beforehand: the statuses
    and the slowest answer."""
    limits = httpx.Limits(max_connections=len(emails), max_keepalive_connections=len(emails))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in emails))

        async def sign_in(email: str) -> tuple[int, float]:
            started = time.perf_counter()
            body = {"email": email, "password": PASSWORD}
            response = await client.post("/api/v1/auth/login", json=body)
            return response.status_code, time.perf_counter() - started

        answers = await asyncio.gather(*(sign_in(email) for email in emails))
    statuses = collections.Counter(str(status) for status, _ in answers)
    return {"statuses": dict(statuses), "slowest_ms": 1000 * max(s for _, s in answers)}


WORKER_SCENARIOS = ("S1", "S4")
WORKER_COUNTS = (1, 2)


def workers(options: argparse.Namespace, work: Workload) -> int:
    """S1 and S4 served by `bookly serve --workers 1` and `--workers 2`, nothing pinned (the
    workers, wrk, PostgreSQL and Redis share the two cores): the throughput ratio, in rounds
    that alternate which goes first, the median round's ratio reported."""
    results = []
    with ExitStack() as stack:
        servers = {
            count: stack.enter_context(
                serving(
                    f"bookly-{count}w", partial(workers_command, count), work.target, pinned=False
                )
            )
            for count in WORKER_COUNTS
        }
        for name in WORKER_SCENARIOS:
            scenario = SCENARIOS[name]
            for server in servers.values():
                check_agreement_alone(scenario, work, server)
            pairs = []
            for round_number in range(options.rounds):
                order = WORKER_COUNTS if round_number % 2 == 0 else WORKER_COUNTS[::-1]
                loads = {
                    count: measure(servers[count], scenario, work, options, pinned=False)
                    for count in order
                }
                pairs.append((loads[1], loads[2]))
            pairs.sort(key=lambda pair: pair[1].rps / pair[0].rps)
            one, two = pairs[len(pairs) // 2]
            result = {
                "scenario": name,
                "workers_1": summary(one),
                "workers_2": summary(two),
                "ratio": round(two.rps / one.rps, 3),
                "round_ratios": [round(b.rps / a.rps, 3) for a, b in pairs],
                "clean": all(a.clean and b.clean for a, b in pairs),
            }
            results.append(result)
            print(f"RESULT {json.dumps(result)}", flush=True)
            print(
                f"{name} {scenario.title}\n    1 worker  {describe(one)}\n"
                f"    2 workers {describe(two)}\n"
                f"    2 workers / 1 worker: {result['ratio']:.2f} "
                f"(median of {result['round_ratios']})",
                flush=True,
            )
    record("workers", options, results)
    return exit_code(options, valid=all(r["clean"] for r in results), met=True)


def workers_command(count: int, port: int) -> list[str]:
    return [*bookly_command(port), "--workers", str(count)]


if __name__ == "__main__":
    sys.exit(main())
