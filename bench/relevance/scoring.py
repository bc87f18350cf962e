"""The queries (queries.toml), and how answers score: a query counts when one of the books it
means is among an engine's first 3 results."""

import statistics
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

QUERIES_TOML = Path(__file__).resolve().parent / "queries.toml"
TOP = 3


@dataclass(frozen=True)
class Query:
    kind: str
    q: str
    ids: frozenset[int]

    def found_in(self, answer: Sequence[int]) -> bool:
        return not self.ids.isdisjoint(answer[:TOP])


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    queries: tuple[Query, ...]


def read_kinds(path: Path = QUERIES_TOML) -> list[Kind]:
    with path.open("rb") as file:
        kinds = tomllib.load(file)["kinds"]
    return [
        Kind(
            name,
            kind["label"],
            tuple(Query(name, query["q"], frozenset(query["ids"])) for query in kind["queries"]),
        )
        for name, kind in kinds.items()
    ]


# An engine's answers on one catalogue: the goodbooks ids it returned first, one list per query
# in file order. Engines are run on several loads of the catalogue: books whose scores tie come
# out in a different order in each.
Answers = Sequence[Sequence[int]]


def table(kinds: Sequence[Kind], runs: Mapping[str, Sequence[Answers]]) -> str:
    """A Markdown table: per kind, how many queries each engine found in its top 3 (the lowest
    and the highest count over the loads, when they differ); then the share of all queries."""
    queries = [query for kind in kinds for query in kind.queries]
    # Per engine, per load: which queries were found.
    found = {
        engine: [
            [query.found_in(answer) for query, answer in zip(queries, answers, strict=True)]
            for answers in engine_runs
        ]
        for engine, engine_runs in runs.items()
    }
    lines = [
        "| kind of query (count) | " + " | ".join(runs) + " |",
        "|---" * (len(runs) + 1) + "|",
    ]
    start = 0
    for kind in kinds:
        end = start + len(kind.queries)
        cells = [_spread([sum(hits[start:end]) for hits in found[engine]]) for engine in runs]
        lines.append(f"| {kind.label} ({len(kind.queries)}) | " + " | ".join(cells) + " |")
        start = end
    shares = [
        _spread([sum(hits) / len(queries) for hits in found[engine]], "{:.2f}") for engine in runs
    ]
    lines.append("| **all: share in the top 3** | " + " | ".join(f"**{s}**" for s in shares) + " |")
    return "\n".join(lines)


def _spread(values: Sequence[float], form: str = "{}") -> str:
    low, high = form.format(min(values)), form.format(max(values))
    return low if low == high else f"{low}-{high}"


def percentiles_ms(seconds: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 of `seconds`, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return 1000 * statistics.median(seconds), 1000 * cuts[98]
