"""How a relevance search orders what it finds, on both databases: words as typed above near
misspellings, all words in the title above some, the title a query fills above a longer one;
readers' ratings only break ties; and pages of a ranking follow on from each other."""

from tests.conftest import Harness
from tests.factories import Account, user
from tests.support.catalogue import all_pages, new_book, new_review

BOOKS = "/api/v1/books/"


async def _titles(harness: Harness, q: str, **params: str) -> list[str]:
    return [book["title"] for book in await all_pages(harness.client, BOOKS, q=q, **params)]


async def _book(harness: Harness, owner: Account, title: str, author: str = "Anon") -> str:
    harness.clock.advance(seconds=1)
    book = await new_book(harness.client, owner, title=title, author=author, description=None)
    uid: str = book["uid"]
    return uid


async def test_an_exact_title_ranks_above_longer_titles_and_series(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    for title in (
        "Crossroads of Twilight (The Wheel of Time, #10)",
        "New Moon (Twilight, #2)",
        "Twilight (Twilight, #1)",
        "Twilight Eyes",
    ):
        await _book(harness, owner, title)
    assert await _titles(harness, "twilight") == [
        "Twilight (Twilight, #1)",  # the title is the word
        "Twilight Eyes",  # the word and one more
        "Crossroads of Twilight (The Wheel of Time, #10)",
        "New Moon (Twilight, #2)",  # the word only in the series
    ]


async def test_all_words_in_the_title_rank_above_some(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await _book(harness, owner, "The Shining Stephen", author="Stephen King")
    await _book(harness, owner, "Stephen King's Shining Guide", author="Anon")
    await _book(harness, owner, "The Shining", author="Stephen King")
    assert await _titles(harness, "stephen king shining") == [
        "Stephen King's Shining Guide",  # three words in the title
        "The Shining Stephen",  # two
        "The Shining",  # one, though the shortest
    ]


async def test_a_misspelt_match_ranks_just_below_matches_as_typed(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await _book(harness, owner, "Potter's Field")  # "poter" is one edit from "potter"
    await _book(harness, owner, "A Poter Story")  # as typed, though in a longer title
    assert await _titles(harness, "poter") == ["A Poter Story", "Potter's Field"]


async def test_ratings_break_ties_and_never_override_relevance(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    readers = [await user(harness.client, harness.context) for _ in range(3)]
    plain = await _book(harness, owner, "Odyssey")
    loved_tie = await _book(harness, owner, "Odyssey")
    loved_longer = await _book(harness, owner, "The Space Odyssey")
    for reader in readers:
        for uid in (loved_tie, loved_longer):
            await new_review(harness.client, reader, uid, rating=5)
    found = await all_pages(harness.client, BOOKS, q="odyssey")
    assert [book["uid"] for book in found] == [loved_tie, plain, loved_longer]


async def test_a_rankings_pages_follow_on_without_repeats_or_gaps(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    for n in range(7):
        await _book(harness, owner, "Meridian " + "word " * n)
    whole = await _titles(harness, "meridian")
    assert len(whole) == 7
    assert await _titles(harness, "meridian", limit="2") == whole
    assert whole[0] == "Meridian"
