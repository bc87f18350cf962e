"""Catalogue building blocks: books, reviews and tags made through the API."""

import itertools
from typing import Any

import httpx

from tests.factories import Account

_numbers = itertools.count(1)


def book_body(**overrides: Any) -> dict[str, Any]:
    n = next(_numbers)
    body: dict[str, Any] = {
        "title": f"The Book Number {n}",
        "author": "Ursula K. Le Guin",
        "publisher": "Ace",
        "published_date": "1969-03-01",
        "page_count": 286,
        "language": "en",
        "description": "A study of gender on the planet Gethen.",
    }
    body.update(overrides)
    return body


async def new_book(client: httpx.AsyncClient, owner: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/books/", json=book_body(**overrides), headers=owner.headers
    )
    assert response.status_code == 201, response.text
    book: dict[str, Any] = response.json()
    return book


async def new_review(
    client: httpx.AsyncClient, author: Account, book_uid: str, rating: int = 4
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/books/{book_uid}/reviews",
        json={"rating": rating, "review_text": "Worth reading."},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    review: dict[str, Any] = response.json()
    return review


async def all_pages(client: httpx.AsyncClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow `next_cursor` to the end; every item of every page, in order."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
