"""What a search finds, on both databases: misspelt words (one edit from 5 letters, two from 9),
an unfinished last word, words whatever their accents and case, other forms of a word; and a
vocabulary kept in step with the books' text."""

import pytest

from tests.conftest import Harness
from tests.factories import Account, user
from tests.support.catalogue import all_pages, new_book

BOOKS = "/api/v1/books/"


async def _titles(harness: Harness, q: str) -> list[str]:
    return [book["title"] for book in await all_pages(harness.client, BOOKS, q=q)]


async def _shelf(harness: Harness, *titles: str) -> Account:
    owner = await user(harness.client, harness.context)
    for title in titles:
        await new_book(harness.client, owner, title=title, author="Anon", description=None)
    return owner


@pytest.mark.parametrize(
    ("q", "means"),
    [
        ("wuthering hieghts", "Wuthering Heights"),  # two letters swapped: one edit
        ("jurasic park", "Jurassic Park"),  # a letter left out
        ("the hobbbit", "The Hobbit"),  # a letter too many
        ("pride and prejudise", "Pride and Prejudice"),  # a letter replaced
        ("frankinstien", "Frankenstein"),  # 9+ letters: two edits
        ("slaugterhose five", "Slaughterhouse-Five"),
    ],
)
async def test_a_misspelt_word_finds_what_the_word_finds(
    harness: Harness, q: str, means: str
) -> None:
    await _shelf(
        harness, "Wuthering Heights", "Jurassic Park", "The Hobbit", "Pride and Prejudice",
        "Frankenstein", "Slaughterhouse-Five",
    )  # fmt: skip
    assert await _titles(harness, q) == [means]


async def test_misspellings_are_forgiven_only_as_far_as_the_words_length_allows(
    harness: Harness,
) -> None:
    await _shelf(harness, "Dune", "Jurassic Park", "Frankenstein")
    assert await _titles(harness, "dume") == []  # 4 letters: as typed only
    assert await _titles(harness, "jurrasik") == []  # 8 letters: one edit, not two
    assert await _titles(harness, "frnkinstien") == []  # 11 letters: two edits, not three


async def test_the_last_word_may_be_unfinished_and_only_the_last(harness: Harness) -> None:
    await _shelf(harness, "Brave New World", "The Secret Garden", "Running with Scissors")
    assert await _titles(harness, "brave new wor") == ["Brave New World"]
    assert await _titles(harness, "the secret gard") == ["The Secret Garden"]
    assert await _titles(harness, "runni") == ["Running with Scissors"]
    assert await _titles(harness, "bra new world") == []  # not a prefix: a word of its own


async def test_accents_and_case_do_not_matter_either_way(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await new_book(harness.client, owner, title="Les Misérables", author="Victor Hugo")
    await new_book(harness.client, owner, title="Cien años", author="Gabriel García Márquez")
    await new_book(harness.client, owner, title="The Snowman", author="Jo Nesbø")
    await new_book(harness.client, owner, title="Whistle Stop Cafe", author="Fannie Flagg")
    assert await _titles(harness, "les miserables") == ["Les Misérables"]
    assert await _titles(harness, "GARCIA MARQUEZ") == ["Cien años"]
    assert await _titles(harness, "nesbo") == ["The Snowman"]
    assert await _titles(harness, "whistle stop café") == ["Whistle Stop Cafe"]


async def test_other_forms_of_a_word_and_missing_small_words_still_match(
    harness: Harness,
) -> None:
    await _shelf(harness, "Angels & Demons", "The Girl Who Played with Fire", "Little Women")
    assert await _titles(harness, "angel and demon") == ["Angels & Demons"]
    assert await _titles(harness, "the girl who plays with fire") == [
        "The Girl Who Played with Fire"
    ]
    assert await _titles(harness, "little woman") == ["Little Women"]  # one edit: a typo


async def test_a_changed_book_is_found_by_its_new_words_misspelt(harness: Harness) -> None:
    owner = await _shelf(harness)
    book = await new_book(harness.client, owner, title="Untitled", author="Anon")
    changed = await harness.client.patch(
        f"{BOOKS}{book['uid']}", json={"title": "Zanzibar Chronicles"}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert await _titles(harness, "zanzibra chronicles") == ["Zanzibar Chronicles"]
    assert await _titles(harness, "untitled") == []


async def test_a_deleted_book_is_not_found(harness: Harness) -> None:
    owner = await _shelf(harness)
    book = await new_book(harness.client, owner, title="Ephemeral Words", author="Anon")
    deleted = await harness.client.delete(f"{BOOKS}{book['uid']}", headers=owner.headers)
    assert deleted.status_code == 204
    assert await _titles(harness, "ephemeral") == []
