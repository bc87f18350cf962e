"""OWASP API1:2023 Broken Object Level Authorization; ASVS v5 V8.2.2.

Every verb on every object someone owns, tried by another verified user: refused (403, or 404
where the object is private to its owner) and the object unchanged afterwards."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Harness
from tests.factories import Account, user
from tests.support.catalogue import new_book, new_review


@dataclass
class Owned:
    """What the owner made, and how to read its current state."""

    book: dict[str, Any]
    review: dict[str, Any]
    sid: str


async def _state(client: httpx.AsyncClient, owner: Account, owned: Owned) -> list[Any]:
    book = (await client.get(f"/api/v1/books/{owned.book['uid']}")).json()
    review = (await client.get(f"/api/v1/reviews/{owned.review['uid']}")).json()
    sessions = (await client.get("/api/v1/auth/sessions", headers=owner.headers)).json()["items"]
    return [book, review, sorted(s["sid"] for s in sessions)]


Attack = Callable[[httpx.AsyncClient, Owned, dict[str, str]], Awaitable[httpx.Response]]

ATTACKS: dict[str, tuple[Attack, set[int]]] = {
    "PATCH book": (
        lambda c, o, h: c.patch(
            f"/api/v1/books/{o.book['uid']}", json={"title": "Mine"}, headers=h
        ),
        {403},
    ),
    "DELETE book": (lambda c, o, h: c.delete(f"/api/v1/books/{o.book['uid']}", headers=h), {403}),
    "PUT book tags": (
        lambda c, o, h: c.put(
            f"/api/v1/books/{o.book['uid']}/tags", json={"tags": ["spam"]}, headers=h
        ),
        {403},
    ),
    "POST book tags": (
        lambda c, o, h: c.post(
            f"/api/v1/books/{o.book['uid']}/tags", json={"tags": ["spam"]}, headers=h
        ),
        {403},
    ),
    "DELETE book tag": (
        lambda c, o, h: c.delete(f"/api/v1/books/{o.book['uid']}/tags/classic", headers=h),
        {403},
    ),
    "PATCH review": (
        lambda c, o, h: c.patch(
            f"/api/v1/reviews/{o.review['uid']}", json={"rating": 1}, headers=h
        ),
        {403},
    ),
    "DELETE review": (
        lambda c, o, h: c.delete(f"/api/v1/reviews/{o.review['uid']}", headers=h),
        {403},
    ),
    "DELETE session": (
        lambda c, o, h: c.delete(f"/api/v1/auth/sessions/{o.sid}", headers=h),
        {404},  # another user's sessions are not even acknowledged
    ),
}


@pytest.mark.parametrize("attack_name", sorted(ATTACKS))
async def test_another_user_cannot_touch_what_is_not_theirs(
    harness: Harness, attack_name: str
) -> None:
    client = harness.client
    owner = await user(client, harness.context)
    intruder = await user(client, harness.context)
    book = await new_book(client, owner)
    await client.put(
        f"/api/v1/books/{book['uid']}/tags", json={"tags": ["classic"]}, headers=owner.headers
    )
    review = await new_review(client, owner, book["uid"])
    sessions = (await client.get("/api/v1/auth/sessions", headers=owner.headers)).json()["items"]
    owned = Owned(book=book, review=review, sid=sessions[0]["sid"])
    before = await _state(client, owner, owned)

    attack, refused_with = ATTACKS[attack_name]
    response = await attack(client, owned, intruder.headers)

    assert response.status_code in refused_with, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await _state(client, owner, owned) == before
