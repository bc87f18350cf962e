"""Reviews: one per user per book (races included), authorship, summaries, admin list."""

import asyncio

import httpx
from sqlalchemy import func, select

from bookly.models import Review
from tests.conftest import Harness
from tests.factories import admin, user
from tests.support.catalogue import all_pages, new_book, new_review


async def test_review_lifecycle_keeps_the_rating_summary(harness: Harness) -> None:
    client = harness.client
    owner = await user(client, harness.context)
    reader = await user(client, harness.context)
    book = await new_book(client, owner)
    url = f"/api/v1/books/{book['uid']}"

    response = await client.post(
        f"{url}/reviews", json={"rating": 5, "review_text": "Superb."}, headers=reader.headers
    )
    assert response.status_code == 201
    review = response.json()
    assert response.headers["location"] == f"/api/v1/reviews/{review['uid']}"
    assert review["user"] == {"uid": str(reader.uid), "username": reader.username}
    assert review["book_uid"] == book["uid"]
    assert (await client.get(response.headers["location"])).json() == review
    await new_review(client, owner, book["uid"], rating=2)
    assert (await client.get(url)).json()["rating"] == {"average": 3.5, "count": 2}

    patched = await client.patch(
        f"/api/v1/reviews/{review['uid']}", json={"rating": 3}, headers=reader.headers
    )
    assert patched.status_code == 200
    assert patched.json()["review_text"] == "Superb."
    assert (await client.get(url)).json()["rating"] == {"average": 2.5, "count": 2}

    deleted = await client.delete(f"/api/v1/reviews/{review['uid']}", headers=reader.headers)
    assert deleted.status_code == 204
    assert (await client.get(url)).json()["rating"] == {"average": 2.0, "count": 1}
    gone = await client.get(f"/api/v1/reviews/{review['uid']}")
    assert gone.json()["error_code"] == "review_not_found"


async def test_second_review_of_a_book_is_a_conflict(harness: Harness) -> None:
    reader = await user(harness.client, harness.context)
    book = await new_book(harness.client, reader)
    await new_review(harness.client, reader, book["uid"], rating=4)
    again = await harness.client.post(
        f"/api/v1/books/{book['uid']}/reviews",
        json={"rating": 1, "review_text": "Changed my mind."},
        headers=reader.headers,
    )
    assert again.status_code == 409
    assert again.json()["error_code"] == "review_exists"
    rating = (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["rating"]
    assert rating == {"average": 4.0, "count": 1}


async def test_ten_concurrent_reviews_by_one_user_give_one_201(harness: Harness) -> None:
    reader = await user(harness.client, harness.context)
    book = await new_book(harness.client, reader)

    async def attempt(n: int) -> httpx.Response:
        return await harness.client.post(
            f"/api/v1/books/{book['uid']}/reviews",
            json={"rating": 1 + n % 5, "review_text": f"Attempt {n}"},
            headers=reader.headers,
        )

    # Every attempt finishes before any is judged: none is left running into the teardown.
    responses = await asyncio.gather(*(attempt(n) for n in range(10)))
    for response in responses:
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["error_code"] == "review_exists"
    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    async with harness.context.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Review)) == 1
    rating = (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["rating"]
    assert rating["count"] == 1


async def test_concurrent_reviews_by_many_users_all_count(harness: Harness) -> None:
    readers = [await user(harness.client, harness.context) for _ in range(6)]
    book = await new_book(harness.client, readers[0])
    created = await asyncio.gather(
        *(
            new_review(harness.client, reader, book["uid"], rating=1 + n % 5)
            for n, reader in enumerate(readers)
        )
    )
    total = sum(review["rating"] for review in created)
    rating = (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["rating"]
    assert rating == {"average": total / 6, "count": 6}


async def test_rating_must_be_an_integer_from_1_to_5(harness: Harness) -> None:
    reader = await user(harness.client, harness.context)
    book = await new_book(harness.client, reader)
    for rating in (0, 6, 4.5, "4", True, None, 2**70):
        response = await harness.client.post(
            f"/api/v1/books/{book['uid']}/reviews",
            json={"rating": rating, "review_text": "Hmm."},
            headers=reader.headers,
        )
        assert response.status_code == 422, rating
    too_long = await harness.client.post(
        f"/api/v1/books/{book['uid']}/reviews",
        json={"rating": 3, "review_text": "x" * 5001},
        headers=reader.headers,
    )
    assert too_long.status_code == 422
    missing = await harness.client.post(
        "/api/v1/books/3f0c0b8e-2b4a-4a8e-9d7e-0c1f2a3b4c5d/reviews",
        json={"rating": 3, "review_text": "Hmm."},
        headers=reader.headers,
    )
    assert missing.json()["error_code"] == "book_not_found"


async def test_only_the_author_edits_and_author_or_admin_deletes(harness: Harness) -> None:
    client = harness.client
    author = await user(client, harness.context)
    intruder = await user(client, harness.context)
    moderator = await admin(client, harness.context)
    book = await new_book(client, author)
    review = await new_review(client, author, book["uid"], rating=4)
    url = f"/api/v1/reviews/{review['uid']}"

    for who in (intruder, moderator):
        edit = await client.patch(url, json={"rating": 1}, headers=who.headers)
        assert edit.status_code == 403
        assert edit.json()["error_code"] == "forbidden"
    refused = await client.delete(url, headers=intruder.headers)
    assert refused.status_code == 403
    assert (await client.get(url)).json() == review

    assert (await client.delete(url, headers=moderator.headers)).status_code == 204
    rating = (await client.get(f"/api/v1/books/{book['uid']}")).json()["rating"]
    assert rating == {"average": None, "count": 0}


async def test_unverified_users_cannot_review(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    unverified = await user(harness.client, harness.context, verified=False)
    response = await harness.client.post(
        f"/api/v1/books/{book['uid']}/reviews",
        json={"rating": 3, "review_text": "Hmm."},
        headers=unverified.headers,
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "account_not_verified"


async def test_review_lists_page_newest_first(harness: Harness) -> None:
    client = harness.client
    moderator = await admin(client, harness.context)
    readers = [await user(client, harness.context) for _ in range(3)]
    books = [await new_book(client, readers[0]) for _ in range(2)]
    made = []
    for book in books:
        for reader in readers:
            harness.clock.advance(seconds=1)
            made.append(await new_review(client, reader, book["uid"]))
    newest_first = [r["uid"] for r in reversed(made)]

    of_book = await all_pages(client, f"/api/v1/books/{books[0]['uid']}/reviews", limit=2)
    assert [r["uid"] for r in of_book] == newest_first[3:]
    of_user = await all_pages(client, f"/api/v1/users/{readers[1].uid}/reviews", limit=1)
    assert [r["uid"] for r in of_user] == [made[4]["uid"], made[1]["uid"]]

    everything = await client.get(
        "/api/v1/reviews/", params={"limit": 4, "include_total": "true"}, headers=moderator.headers
    )
    assert everything.status_code == 200
    assert [r["uid"] for r in everything.json()["items"]] == newest_first[:4]
    assert everything.json()["total"] == 6
    assert (await client.get("/api/v1/reviews/", headers=readers[0].headers)).status_code == 403
    unknown = await client.get("/api/v1/books/3f0c0b8e-2b4a-4a8e-9d7e-0c1f2a3b4c5d/reviews")
    assert unknown.json()["error_code"] == "book_not_found"


async def test_a_rating_is_a_json_integer_in_either_spelling(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"/api/v1/books/{book['uid']}/reviews"
    for refused in ("4", True, 4.5):
        response = await harness.client.post(
            url, json={"rating": refused, "review_text": "Fine."}, headers=owner.headers
        )
        assert response.status_code == 422, refused
    accepted = await harness.client.post(
        url, json={"rating": 4.0, "review_text": "Fine."}, headers=owner.headers
    )
    assert accepted.status_code == 201
    assert accepted.json()["rating"] == 4


async def test_date_filters_take_only_calendar_dates(harness: Harness) -> None:
    for value in ("0", "1700000000", "2020-13-01"):
        response = await harness.client.get("/api/v1/books", params={"published_to": value})
        assert response.status_code == 422, value
    ok = await harness.client.get("/api/v1/books", params={"published_to": "2020-01-31"})
    assert ok.status_code == 200
