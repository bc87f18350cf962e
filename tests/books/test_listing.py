"""`GET /books`: filters, search, every sort, and keyset pages that never repeat or skip."""

from typing import Any

import pytest

from tests.conftest import Harness
from tests.factories import Account, user
from tests.support.catalogue import all_pages, new_book, new_review

BOOKS = "/api/v1/books/"


async def _shelf(harness: Harness) -> tuple[Account, list[dict[str, Any]]]:
    """Five books with distinct titles, dates (one unknown) and ratings (one unrated)."""
    owner = await user(harness.client, harness.context)
    reviewers = [await user(harness.client, harness.context) for _ in range(2)]
    specs = [
        ("delta", "1990-05-01", [5, 4]),
        ("alpha", None, [2]),
        ("echo", "2001-01-01", []),
        ("charlie", "1850-12-31", [3, 3]),
        ("bravo", "1990-05-01", [1, 2]),
    ]
    books = []
    for title, published, ratings in specs:
        harness.clock.advance(seconds=1)
        book = await new_book(harness.client, owner, title=title, published_date=published)
        for reviewer, rating in zip(reviewers, ratings, strict=False):
            await new_review(harness.client, reviewer, book["uid"], rating)
        books.append((await harness.client.get(f"{BOOKS}{book['uid']}")).json())
    return owner, books


def _titles(books: list[dict[str, Any]]) -> list[str]:
    return [book["title"] for book in books]


async def test_every_sort_pages_in_order(harness: Harness) -> None:
    _, books = await _shelf(harness)
    expected = {
        "-created_at": ["bravo", "charlie", "echo", "alpha", "delta"],
        "created_at": ["delta", "alpha", "echo", "charlie", "bravo"],
        "title": ["alpha", "bravo", "charlie", "delta", "echo"],
        "-title": ["echo", "delta", "charlie", "bravo", "alpha"],
        # Unknown dates come last either way; equal dates fall back to the uid.
        "published_date": ["charlie", *_by_uid(books, "bravo", "delta"), "echo", "alpha"],
        "-published_date": [
            "echo", *_by_uid(books, "bravo", "delta", reverse=True), "charlie", "alpha"
        ],
        "-rating": ["delta", "charlie", "alpha", "bravo", "echo"],
        "rating": ["echo", "bravo", "alpha", "charlie", "delta"],
    }  # fmt: skip
    for sort, titles in expected.items():
        for limit in (1, 2, 5):
            assert _titles(await all_pages(harness.client, BOOKS, sort=sort, limit=limit)) == titles
    default = await harness.client.get(BOOKS)
    assert _titles(default.json()["items"]) == expected["-created_at"]


def _by_uid(books: list[dict[str, Any]], *titles: str, reverse: bool = False) -> list[str]:
    chosen = sorted((b for b in books if b["title"] in titles), key=lambda b: b["uid"])
    return [b["title"] for b in (reversed(chosen) if reverse else chosen)]


async def test_filters(harness: Harness) -> None:
    _, books = await _shelf(harness)
    other = await user(harness.client, harness.context)
    await new_book(
        harness.client,
        other,
        title="zulu",
        author="Someone Else",
        language="fr",
        published_date=None,
    )

    async def titles(**params: Any) -> list[str]:
        return sorted(_titles(await all_pages(harness.client, BOOKS, **params)))

    assert await titles(author="LE GUIN") == sorted(_titles(books))
    assert await titles(author="else") == ["zulu"]
    assert await titles(author="%") == []
    assert await titles(language="fr") == ["zulu"]
    assert await titles(owner=str(other.uid)) == ["zulu"]
    assert await titles(published_from="1990-05-01") == ["bravo", "delta", "echo"]
    assert await titles(published_to="1990-05-01") == ["bravo", "charlie", "delta"]
    assert await titles(published_from="1900-01-01", published_to="1999-12-31") == [
        "bravo",
        "delta",
    ]
    assert await titles(min_rating=3) == ["charlie", "delta"]
    assert await titles(min_rating=0) == ["alpha", "bravo", "charlie", "delta"]
    counted = await harness.client.get(BOOKS, params={"language": "en", "include_total": "true"})
    assert counted.json()["total"] == 5
    assert "total" not in (await harness.client.get(BOOKS)).json()


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "price"},
        {"sort": "title; DROP TABLE books"},
        {"sort": "relevance"},
        {"language": "klingon"},
        {"owner": "not-a-uuid"},
        {"published_from": "yesterday"},
        {"min_rating": "6"},
        {"min_rating": "nan"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": str(2**70)},
        {"q": "a\u0000b"},
        {"cursor": "forged"},
    ],
)
async def test_bad_filters_and_sorts_are_422(harness: Harness, params: dict[str, str]) -> None:
    response = await harness.client.get(BOOKS, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "validation_error"


async def test_the_book_list_names_each_bad_parameter_and_ignores_unknown_ones(
    harness: Harness,
) -> None:
    # GET /books validates its query string in one call (core/query_model.py), as FastAPI would.
    bad = await harness.client.get(
        BOOKS, params={"language": "klingon", "tag": ["x"] * 21, "colour": "blue"}
    )
    assert bad.status_code == 422, bad.text
    assert {tuple(error["loc"]) for error in bad.json()["errors"]} == {
        ("query", "language"),
        ("query", "tag"),
    }
    assert (await harness.client.get(BOOKS, params={"colour": "blue"})).status_code == 200


async def test_a_cursor_works_only_for_its_own_ordering(harness: Harness) -> None:
    await _shelf(harness)
    page = (await harness.client.get(BOOKS, params={"limit": 2, "sort": "title"})).json()
    foreign = await harness.client.get(
        BOOKS, params={"sort": "-title", "cursor": page["next_cursor"]}
    )
    assert foreign.status_code == 422
    tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    forged = await harness.client.get(BOOKS, params={"sort": "title", "cursor": tampered})
    assert forged.status_code == 422
    tags_cursor = await harness.client.get("/api/v1/tags/", params={"cursor": page["next_cursor"]})
    assert tags_cursor.status_code == 422


async def test_an_empty_cursor_means_the_first_page_of_every_list(harness: Harness) -> None:
    owner, books = await _shelf(harness)
    book_uid = books[0]["uid"]
    lists = [
        (BOOKS, {}),
        (BOOKS, {"q": "delta", "tag": "none", "min_rating": "1", "published_from": "1800-01-01"}),
        (f"{BOOKS}{book_uid}/reviews", {}),
        (f"/api/v1/users/{owner.uid}/books", {}),
        (f"/api/v1/users/{owner.uid}/reviews", {}),
        ("/api/v1/tags", {}),
    ]
    for path, params in lists:
        first = await harness.client.get(path, params={**params, "limit": 2})
        empty = await harness.client.get(path, params={**params, "limit": 2, "cursor": ""})
        assert (empty.status_code, empty.json()) == (200, first.json()), path


async def test_books_added_while_paging_cause_no_repeat_or_skip(harness: Harness) -> None:
    owner, books = await _shelf(harness)
    for sort in ("-created_at", "title", "-rating"):
        seen: list[str] = []
        page = (await harness.client.get(BOOKS, params={"sort": sort, "limit": 2})).json()
        seen += [b["uid"] for b in page["items"]]
        harness.clock.advance(seconds=1)
        await new_book(harness.client, owner, title=f"aaa inserted before {sort}")
        await new_book(harness.client, owner, title=f"zzz inserted after {sort}")
        rest = await all_pages(
            harness.client, BOOKS, sort=sort, limit=2, cursor=page["next_cursor"]
        )
        seen += [b["uid"] for b in rest]
        assert len(seen) == len(set(seen)), sort
        assert {b["uid"] for b in books} <= set(seen), sort


async def test_search_matches_title_author_and_description(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    in_title = await new_book(harness.client, owner, title="The Dragon Reborn", description="x")
    in_text = await new_book(
        harness.client, owner, title="Quiet Hills", description="A dragon sleeps under them."
    )
    by_author = await new_book(harness.client, owner, title="Other", author="Mary Dragonfly")
    await new_book(harness.client, owner, title="Unrelated", description="Nothing here.")

    found = await all_pages(harness.client, BOOKS, q="dragon")
    # Relevance is the default with `q`: a title match outranks the rest.
    assert found[0]["uid"] == in_title["uid"]
    assert in_text["uid"] in [b["uid"] for b in found]
    one_by_one = await all_pages(harness.client, BOOKS, q="dragon", limit=1)
    assert [b["uid"] for b in one_by_one] == [b["uid"] for b in found]
    # The last word may be unfinished: "dragon" also finds Dragonfly.
    assert {b["uid"] for b in found} == {in_title["uid"], in_text["uid"], by_author["uid"]}
    assert _titles(await all_pages(harness.client, BOOKS, q="le guin hills")) == ["Quiet Hills"]
    by_title = await all_pages(harness.client, BOOKS, q="dragon", sort="title", limit=1)
    assert _titles(by_title) == sorted(b["title"] for b in found)


async def test_search_matches_word_stems(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner, title="Run", description="A short novel.")
    await new_book(harness.client, owner, title="Walk", description="Another one.")
    assert _titles(await all_pages(harness.client, BOOKS, q="running")) == ["Run"]
    assert _titles(await all_pages(harness.client, BOOKS, q="novels")) == [book["title"]]


@pytest.mark.parametrize(
    "q",
    [
        "%",
        "_",
        "\\",
        "'",
        "' OR 1=1 --",
        "'; DROP TABLE books; --",
        '"unclosed',
        "a & | ! ( )",
        "-",
    ],
)
async def test_search_text_is_literal_and_never_an_error(harness: Harness, q: str) -> None:
    owner = await user(harness.client, harness.context)
    await new_book(harness.client, owner, title="Plain", description="Nothing special")
    response = await harness.client.get(BOOKS, params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_blank_search_text_lists_everything(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await new_book(harness.client, owner, title="Plain")
    response = await harness.client.get(BOOKS, params={"q": "   "})
    assert _titles(response.json()["items"]) == ["Plain"]
    refused = await harness.client.get(BOOKS, params={"q": "  ", "sort": "relevance"})
    assert refused.status_code == 422


async def test_search_finds_quotes_and_percent_signs_literally(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    await new_book(harness.client, owner, title="Plain")
    await new_book(harness.client, owner, title="O'Brien's 100% Guide")
    assert _titles(await all_pages(harness.client, BOOKS, q="O'Brien's")) == [
        "O'Brien's 100% Guide"
    ]
    assert _titles(await all_pages(harness.client, BOOKS, q="100% guide")) == [
        "O'Brien's 100% Guide"
    ]
