"""What users contributed: counts, their lists, and what deleting an account does to them."""

from tests.conftest import Harness
from tests.factories import PASSWORD, user
from tests.support.catalogue import all_pages, new_book, new_review


async def test_counts_and_lists_of_a_users_books_and_reviews(harness: Harness) -> None:
    client = harness.client
    writer = await user(client, harness.context)
    other = await user(client, harness.context)
    books = []
    for _ in range(3):
        harness.clock.advance(seconds=1)
        books.append(await new_book(client, writer))
    await new_book(client, other)
    await new_review(client, writer, books[0]["uid"])

    me = (await client.get("/api/v1/users/me", headers=writer.headers)).json()
    assert (me["book_count"], me["review_count"]) == (3, 1)
    profile = (await client.get(f"/api/v1/users/{other.uid}")).json()
    assert (profile["book_count"], profile["review_count"]) == (1, 0)

    listed = await all_pages(client, f"/api/v1/users/{writer.uid}/books", limit=2)
    assert [b["uid"] for b in listed] == [b["uid"] for b in reversed(books)]
    reviews = await all_pages(client, f"/api/v1/users/{writer.uid}/reviews")
    assert [r["book_uid"] for r in reviews] == [books[0]["uid"]]
    for path in ("books", "reviews"):
        missing = await client.get(f"/api/v1/users/3f0c0b8e-2b4a-4a8e-9d7e-0c1f2a3b4c5d/{path}")
        assert missing.json()["error_code"] == "user_not_found"


async def test_deleting_an_account_keeps_books_and_drops_reviews_from_summaries(
    harness: Harness,
) -> None:
    client = harness.client
    leaving = await user(client, harness.context)
    staying = await user(client, harness.context)
    own_book = await new_book(client, leaving)
    other_book = await new_book(client, staying)
    await new_review(client, leaving, own_book["uid"], rating=1)
    await new_review(client, leaving, other_book["uid"], rating=1)
    await new_review(client, staying, other_book["uid"], rating=5)

    response = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=leaving.headers
    )
    assert response.status_code == 204

    kept = (await client.get(f"/api/v1/books/{own_book['uid']}")).json()
    assert kept["owner"] is None
    assert kept["rating"] == {"average": None, "count": 0}
    other = (await client.get(f"/api/v1/books/{other_book['uid']}")).json()
    assert other["rating"] == {"average": 5.0, "count": 1}
    reviews = await all_pages(client, f"/api/v1/books/{other_book['uid']}/reviews")
    assert [r["user"]["uid"] for r in reviews] == [str(staying.uid)]
