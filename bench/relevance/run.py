"""Search relevance on a real catalogue (issue 19): the goodbooks-10k books in Bookly, the
queries of queries.toml through the live API, each scored by whether a book it means is in the
top 3; beside Bookly, a naive pg_trgm similarity sort and tantivy on the same books.

    make bench-relevance                      # both databases (PostgreSQL at 127.0.0.1:5432)
    .venv/bin/python bench/relevance/run.py [--backend postgres|sqlite|both] [--loads 3] [--misses]

Each engine runs on --loads fresh loads of the catalogue: books whose scores tie come out in a
different order in each (Bookly and pg_trgm break ties by random uids), so a count that moves is
shown as its lowest-highest. Prints a Markdown table (per kind, queries found in the top 3) and
Bookly's search latency; writes every engine's top 3 for every query and load to
var/bench/relevance.json.
"""

import argparse
import asyncio
import json
import os
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import bookly_search
from anchors import TantivySearch, TrigramSearch
from catalogue import LOAD_ORDER_SEED, GoodBook, read_books, shuffled
from scoring import TOP, Answers, Query, percentiles_ms, read_kinds, table

ROOT = Path(__file__).resolve().parents[2]
DETAILS = ROOT / "var" / "bench" / "relevance.json"
BOOKLY = {"postgres": "Bookly on PostgreSQL", "sqlite": "Bookly on SQLite"}
TRIGRAMS = "pg_trgm, naive"
TANTIVY = "tantivy"


def main() -> int:
    options = parse_options()
    kinds = read_kinds()
    queries = [query for kind in kinds for query in kind.queries]
    books = read_books()
    backends = ["postgres", "sqlite"] if options.backend == "both" else [options.backend]
    runs: dict[str, list[Answers]] = defaultdict(list)
    latencies: dict[str, list[float]] = defaultdict(list)
    suggest_latencies: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bookly-relevance-") as scratch:
        for backend in backends:
            engine = BOOKLY[backend]
            for load in range(options.loads):
                print(f"{engine}, load {load + 1}: migrate, store the books, search", flush=True)
                found, seconds, suggest_seconds, trigrams = run_bookly(
                    backend, options, books, queries, Path(scratch) / f"{backend}-{load}"
                )
                runs[engine].append(found)
                latencies[engine] += seconds
                suggest_latencies[engine] += suggest_seconds
                if trigrams is not None:
                    runs[TRIGRAMS].append(trigrams)
    for load in range(options.loads):
        print(f"{TANTIVY}, load {load + 1}: index the books, search", flush=True)
        tantivy = TantivySearch(shuffled(books, LOAD_ORDER_SEED + load))
        runs[TANTIVY].append([tantivy.search(query.q) for query in queries])

    ordered = {name: runs[name] for name in (*BOOKLY.values(), TRIGRAMS, TANTIVY) if name in runs}
    print()
    print(table(kinds, ordered))
    print()
    for engine, seconds in latencies.items():
        p50, p99 = percentiles_ms(seconds)
        print(f"{engine}: search p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(seconds)} searches)")
        p50, p99 = percentiles_ms(suggest_latencies[engine])
        print(f"{engine}: suggest p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    write_details(queries, ordered, books)
    if options.misses:
        print_misses(queries, ordered, books)
    return 0


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL database to create the scratch database from",
    )
    parser.add_argument(
        "--loads",
        type=int,
        default=3,
        help="catalogues loaded afresh per engine (ties between books fall differently in each)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="passes over the queries per load; the first warms up"
    )
    parser.add_argument("--misses", action="store_true", help="print each query an engine missed")
    options = parser.parse_args()
    if options.rounds < 2:
        parser.error("--rounds must be 2 or more (the first pass is not timed)")
    if options.loads < 1:
        parser.error("--loads must be 1 or more")
    return options


def run_bookly(
    backend: str,
    options: argparse.Namespace,
    books: Sequence[GoodBook],
    queries: Sequence[Query],
    scratch: Path,
) -> tuple[Answers, list[float], list[float], Answers | None]:
    """Bookly's answers and latencies (searches, then suggestions) on one backend; on
    PostgreSQL, pg_trgm's answers too, from the same database."""
    scratch.mkdir()
    with bookly_search.fresh_database(backend, options.admin_url, scratch) as database_url:
        bookly_search.migrate(database_url, scratch)
        by_uid = asyncio.run(bookly_search.load(database_url, books))
        with bookly_search.serving(database_url, scratch) as url:
            found, seconds, suggest_seconds = bookly_search.search(
                url, [query.q for query in queries], by_uid, options.rounds
            )
        trigrams = asyncio.run(_trigram_answers(database_url, by_uid, queries))
    return found, seconds, suggest_seconds, trigrams


async def _trigram_answers(
    database_url: str, by_uid: dict[uuid.UUID, int], queries: Sequence[Query]
) -> Answers | None:
    if database_url.startswith("sqlite"):
        return None
    trigrams = await TrigramSearch.open(database_url, by_uid)
    try:
        return [await trigrams.search(query.q) for query in queries]
    finally:
        await trigrams.close()


def write_details(
    queries: Sequence[Query], runs: Mapping[str, Sequence[Answers]], books: Sequence[GoodBook]
) -> None:
    titles = {good.book_id: f"{good.title} / {good.author}" for good in books}
    details = [
        {
            "kind": query.kind,
            "q": query.q,
            "means": sorted(query.ids),
            "top_per_load": {
                engine: [
                    [[book_id, titles[book_id]] for book_id in answers[n]]
                    for answers in engine_runs
                ]
                for engine, engine_runs in runs.items()
            },
        }
        for n, query in enumerate(queries)
    ]
    DETAILS.parent.mkdir(parents=True, exist_ok=True)
    DETAILS.write_text(json.dumps(details, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nevery engine's top {TOP} for each query and load: {DETAILS.relative_to(ROOT)}")


def print_misses(
    queries: Sequence[Query], runs: Mapping[str, Sequence[Answers]], books: Sequence[GoodBook]
) -> None:
    """Each query an engine missed on some load, with what it answered on the first such load."""
    titles = {good.book_id: good.title for good in books}
    for engine, engine_runs in runs.items():
        print(f"\n## {engine}: missed")
        for n, query in enumerate(queries):
            missed = [answers[n] for answers in engine_runs if not query.found_in(answers[n])]
            if missed:
                shown = "; ".join(titles[book_id] for book_id in missed[0]) or "(nothing)"
                print(f"- [{query.kind}] {query.q!r} ({len(missed)}/{len(engine_runs)}): {shown}")


if __name__ == "__main__":
    raise SystemExit(main())
