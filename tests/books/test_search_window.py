"""A relevance search ranks the newest `SEARCH_RANK_WINDOW` matches, so a common word's search
costs the same at any catalogue size; every other sort lists every match."""

import json
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import text

from bookly.books import search
from bookly.core.config import Settings
from bookly.core.reads import Prepared
from bookly.seed import seed_database
from tests.conftest import BACKEND, Harness
from tests.factories import user
from tests.support.catalogue import all_pages, new_book
from tests.support.reads import RecordingReader, plan_nodes

BOOKS = "/api/v1/books/"
WINDOW = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"search_rank_window": WINDOW})


async def test_relevance_ranks_the_newest_matches_and_other_sorts_list_them_all(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    titles = ["Dragon Oldest", "Plain One", "Plain Two", "Plain Three", "Plain Four"]
    for title in titles:  # the oldest has the word in its title, the others in the text
        harness.clock.advance(seconds=1)
        description = "A tale." if "Dragon" in title else "A dragon sleeps here."
        await new_book(harness.client, owner, title=title, description=description)

    ranked = await all_pages(harness.client, BOOKS, q="dragon", limit=1, include_total=True)
    assert {book["title"] for book in ranked} == {"Plain Two", "Plain Three", "Plain Four"}
    first = await harness.client.get(BOOKS, params={"q": "dragon", "include_total": "true"})
    assert first.json()["total"] == WINDOW
    assert [b["uid"] for b in first.json()["items"]] == [b["uid"] for b in ranked]

    newest_first = await all_pages(harness.client, BOOKS, q="dragon", sort="-created_at")
    assert [book["title"] for book in newest_first] == [
        "Plain Four", "Plain Three", "Plain Two", "Plain One", "Dragon Oldest"
    ]  # fmt: skip
    by_title = await all_pages(harness.client, BOOKS, q="dragon", sort="title", limit=2)
    assert len(by_title) == len(titles)

    harness.clock.advance(seconds=1)
    await new_book(harness.client, owner, title="Dragon Newest", description="A tale.")
    ranked = await all_pages(harness.client, BOOKS, q="dragon")
    # A title match outranks the text matches, and the window now ends a book later.
    assert ranked[0]["title"] == "Dragon Newest"
    assert {book["title"] for book in ranked[1:]} == {"Plain Three", "Plain Four"}


@pytest.mark.skipif(BACKEND != "postgres", reason="query plans are checked on PostgreSQL")
async def test_a_common_words_search_walks_the_newest_books_until_its_window_is_full(
    harness: Harness,
) -> None:
    # No ANALYZE here: the seed leaves the planner fresh statistics itself.
    await seed_database(harness.context, users=20, books=6000, reviews=0, rng_seed=9)
    async with harness.context.engine.begin() as connection:
        common = (
            (
                await connection.execute(
                    text(
                        "SELECT word FROM ts_stat('SELECT search_vector FROM books') ORDER BY ndoc"
                    )
                )
            )
            .scalars()
            .all()[-1]
        )

    plan = await _plan_of_search(harness, common)
    # Ranking every match would read them all through the search index, and sort them.
    assert "ix_books_search_vector" not in plan, plan
    assert "Index Scan Backward on ix_books_created_at_uid" in plan, plan


@pytest.mark.skipif(BACKEND != "postgres", reason="query plans are checked on PostgreSQL")
async def test_a_search_parses_its_words_once_when_it_is_planned(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await new_book(harness.client, owner, title="Dragon", description="A dragon sleeps here.")

    reads = await _reads_of_search(harness, {"q": "dragon", "include_total": "true"})
    assert len(reads) == 2  # the page, and its count
    for query, parameters in reads:
        nodes = await _plan_nodes(harness, query, parameters)
        # The words as one tsquery constant (the last word also as a prefix): had they stayed
        # text cast for each row, each row tested would parse them again.
        conditions = json.dumps(nodes)
        assert "::text)::tsquery" not in conditions, conditions
        assert "'''dragon'':*'::tsquery" in conditions, conditions


async def _plan_of_search(harness: Harness, q: str) -> str:
    """The plan PostgreSQL makes for the page query of `q`, with its values (as the reader has
    it planned), as "<node> on <index>" lines."""
    (query, parameters), *_ = await _reads_of_search(harness, {"q": q})
    nodes = await _plan_nodes(harness, query, parameters)
    return "\n".join(_described(node) for node in nodes)


async def _reads_of_search(
    harness: Harness, params: dict[str, str]
) -> list[tuple[Prepared, Mapping[str, Any]]]:
    """What the reader was asked to read for one search that found books, once its words were
    looked up in the vocabulary (a read with one plan, whatever the words)."""
    recorder = RecordingReader(harness.context.reader)
    harness.context.reader = recorder
    try:
        page = await harness.client.get(BOOKS, params=params)
    finally:
        harness.context.reader = recorder.inner
    assert page.status_code == 200, page.text
    assert page.json()["items"]
    (vocabulary, _), *reads = recorder.reads
    assert vocabulary is search.vocabulary_read(on_postgresql=True)
    assert all(query.planned_per_values for query, _ in reads)
    return reads


async def _plan_nodes(
    harness: Harness, query: Prepared, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    settings, dialect = harness.context.settings, harness.context.engine.dialect
    return await plan_nodes(settings.database_url, dialect, query, parameters)


def _described(node: dict[str, Any]) -> str:
    backward = " Backward" if node.get("Scan Direction") == "Backward" else ""
    index = f" on {node['Index Name']}" if "Index Name" in node else ""
    return f"{node['Node Type']}{backward}{index}"
