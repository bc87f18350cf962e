"""The scenarios of issue 6: what wrk sends, and one probe request to check both servers agree."""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bookly.core.pagination import CursorCodec
from harness import JWT_SECRET, Account, Target, mint_accounts

# A word in about one title in twenty of `bookly seed`'s books.
COMMON_WORD = "garden"
PAGE_SIZE = 20
# S6 asks for this page of S2's list, by the cursor that ends the page before it.
DEEP_PAGE = 50
SAMPLED_BOOKS = 1000
REVIEWERS_PER_RUN = 32


@dataclass
class Workload:
    """Data the scenarios draw on, prepared once per run in a scratch directory."""

    target: Target
    files: Path
    reader: Account
    # Empty until the catalogue is seeded: only S4 runs then.
    book_uids: list[str] = field(default_factory=list)
    deep_cursor: str = ""

    def file(self, name: str, lines: Iterable[str]) -> str:
        path = self.files / name
        path.write_text("".join(f"{line}\n" for line in lines))
        return str(path)

    @classmethod
    def prepare(cls, target: Target, files: Path) -> "Workload":
        (reader,) = asyncio.run(mint_accounts(target, 1))
        book_uids, deep_cursor = asyncio.run(_sample_books(target))
        return cls(target, files, reader, book_uids, deep_cursor)


async def _sample_books(target: Target) -> tuple[list[str], str]:
    """Random books for S1 and S5, and the cursor of S2's page DEEP_PAGE (what following
    `next_cursor` that many times gives, signed by Bookly's own codec)."""
    connection = await asyncpg.connect(target.database_url)
    try:
        uids = await connection.fetch(
            "SELECT uid FROM books ORDER BY random() LIMIT $1", SAMPLED_BOOKS
        )
        last_of_previous_page = await connection.fetchrow(
            "SELECT created_at, uid FROM books ORDER BY created_at DESC, uid DESC "
            "OFFSET $1 LIMIT 1",
            (DEEP_PAGE - 1) * PAGE_SIZE - 1,
        )
    finally:
        await connection.close()
    cursor = ""
    if last_of_previous_page is not None:
        key = [last_of_previous_page["created_at"], last_of_previous_page["uid"]]
        cursor = CursorCodec(JWT_SECRET).encode("books:-created_at", key)
    return [str(row["uid"]) for row in uids], cursor


@dataclass(frozen=True)
class Probe:
    path: str
    token: str | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    script: str
    # wrk's script arguments; called before every wrk run (a write scenario needs fresh data).
    wrk_args: Callable[[Workload], list[str]]
    probe: Callable[[Workload], Probe]
    # Bookly's throughput must reach this share of the baseline's; None for a route the
    # baseline does not have, measured on Bookly alone.
    min_ratio: float | None = None
    # Top-level fields allowed to differ between the two servers' answers to the probe.
    volatile: frozenset[str] = frozenset()


def _me_args(work: Workload) -> list[str]:
    return [work.file("s4-paths", ["/api/v1/users/me"]), work.reader.access_token]


def _book_args(work: Workload) -> list[str]:
    return [work.file("s1-paths", (f"/api/v1/books/{uid}" for uid in work.book_uids))]


def _deep_page(work: Workload) -> str:
    return f"/api/v1/books/?limit={PAGE_SIZE}&cursor={work.deep_cursor}"


def _review_args(work: Workload) -> list[str]:
    """Fresh reviewers for every run: none of them has reviewed anything yet."""
    reviewers = asyncio.run(mint_accounts(work.target, REVIEWERS_PER_RUN))
    return [
        work.file("s5-tokens", (account.access_token for account in reviewers)),
        work.file("s5-books", work.book_uids),
    ]


def _review_probe(work: Workload) -> Probe:
    (reviewer,) = asyncio.run(mint_accounts(work.target, 1))
    body = b'{"rating": 4, "review_text": "A probe review."}'
    return Probe(f"/api/v1/books/{work.book_uids[0]}/reviews", reviewer.access_token, body)


# The baseline serves the list at `/books/` only; Bookly at both (no redirect).
FIRST_PAGE = f"/api/v1/books/?limit={PAGE_SIZE}"
SEARCH_PAGE = f"/api/v1/books/?q={COMMON_WORD}&limit={PAGE_SIZE}"
# COMMON_WORD with a letter missing (one edit): found through the vocabulary's misspellings.
TYPO_SEARCH_PAGE = f"/api/v1/books/?q=gardn&limit={PAGE_SIZE}"
# The search box's suggestions for an unfinished COMMON_WORD.
SUGGESTIONS = "/api/v1/books/suggest?q=gard"

SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="S1",
            title="GET /books/{uid}",
            min_ratio=0.5,
            script="get.lua",
            wrk_args=_book_args,
            probe=lambda work: Probe(f"/api/v1/books/{work.book_uids[0]}"),
        ),
        Scenario(
            name="S2",
            title="GET /books?limit=20",
            min_ratio=0.5,
            script="get.lua",
            wrk_args=lambda work: [work.file("s2-paths", [FIRST_PAGE])],
            probe=lambda work: Probe(FIRST_PAGE),
        ),
        Scenario(
            name="S3",
            title=f"GET /books?q={COMMON_WORD}&limit=20",
            min_ratio=0.4,
            script="get.lua",
            wrk_args=lambda work: [work.file("s3-paths", [SEARCH_PAGE])],
            probe=lambda work: Probe(SEARCH_PAGE),
        ),
        Scenario(
            name="S4",
            title="GET /users/me (bearer)",
            min_ratio=0.5,
            script="get.lua",
            wrk_args=_me_args,
            probe=lambda work: Probe("/api/v1/users/me", work.reader.access_token),
        ),
        Scenario(
            name="S5",
            title="POST /books/{uid}/reviews",
            min_ratio=0.4,
            script="review.lua",
            wrk_args=_review_args,
            probe=_review_probe,
            volatile=frozenset({"uid", "user", "created_at", "updated_at"}),
        ),
        Scenario(
            name="S6",
            title=f"GET /books page {DEEP_PAGE} by cursor",
            min_ratio=0.5,
            script="get.lua",
            wrk_args=lambda work: [work.file("s6-paths", [_deep_page(work)])],
            probe=lambda work: Probe(_deep_page(work)),
        ),
    )
}

# Routes the baseline has no twin for (typo-tolerant search, suggestions: issue 19), measured on
# Bookly alone by `--mode scale`: they too must stay flat from 10k to 1M books.
ALONE = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="S3t",
            title="GET /books?q=gardn&limit=20 (a typo)",
            script="get.lua",
            wrk_args=lambda work: [work.file("s3t-paths", [TYPO_SEARCH_PAGE])],
            probe=lambda work: Probe(TYPO_SEARCH_PAGE),
        ),
        Scenario(
            name="S7",
            title="GET /books/suggest?q=gard",
            script="get.lua",
            wrk_args=lambda work: [work.file("s7-paths", [SUGGESTIONS])],
            probe=lambda work: Probe(SUGGESTIONS),
        ),
    )
}


@dataclass(frozen=True)
class PagePair:
    """A page of the readers' site and the API route that reads the same rows (issue 14: the
    HTML page may cost at most `max_cpu_ratio` times the JSON route's server CPU per request).
    Both run on one Bookly server; the baseline is not involved."""

    name: str
    title: str
    # The page as wrk sends it (no `min_ratio`: no baseline serves pages).
    page: Scenario
    api: str  # the JSON route's scenario, in SCENARIOS
    max_cpu_ratio: float = 1.5


def _book_page_args(work: Workload) -> list[str]:
    return [work.file("p1-paths", (f"/books/{uid}" for uid in work.book_uids))]


def _page(name: str, title: str, args: Callable[[Workload], list[str]], probe: str) -> Scenario:
    return Scenario(
        name=name,
        title=title,
        script="get.lua",
        wrk_args=args,
        probe=lambda work: Probe(probe.format(book=work.book_uids[0])),
    )


# The catalogue's first page is the API's first page of `GET /books` (newest first, 20 books).
PAGE_PAIRS = {
    pair.name: pair
    for pair in (
        PagePair(
            name="P1",
            title="the book page GET /books/{uid} (book and its first 10 reviews) vs S1",
            page=_page("P1", "GET /books/{uid} (HTML)", _book_page_args, "/books/{book}"),
            api="S1",
        ),
        PagePair(
            name="P2",
            title="the catalogue's first page GET / vs S2",
            page=_page("P2", "GET / (HTML)", lambda work: [work.file("p2-paths", ["/"])], "/"),
            api="S2",
        ),
    )
}
