"""Property: whatever reviews are created, edited and deleted, a book's rating summary equals the
aggregate of its reviews table."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bookly.models import Book, Review
from tests.conftest import Harness
from tests.factories import Account, admin, user
from tests.support.catalogue import new_book

ACTORS = 3
_steps = st.lists(
    st.tuples(
        st.integers(0, ACTORS - 1),
        st.sampled_from(["create", "update", "delete", "admin_delete"]),
        st.integers(1, 5),
    ),
    max_size=12,
)
# Accounts cost a password hash each: made once per test run, not per example.
_accounts: dict[int, tuple[Harness, list[Account], Account]] = {}


async def _cast(harness: Harness) -> tuple[list[Account], Account]:
    cached = _accounts.get(id(harness))
    if cached is None or cached[0] is not harness:
        readers = [await user(harness.client, harness.context) for _ in range(ACTORS)]
        cached = (harness, readers, await admin(harness.client, harness.context))
        _accounts[id(harness)] = cached
    return cached[1], cached[2]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps)
async def test_rating_summary_always_equals_the_reviews_aggregate(
    harness: Harness, steps: list[tuple[int, str, int]]
) -> None:
    client = harness.client
    readers, moderator = await _cast(harness)
    book = await new_book(client, readers[0])
    review_of: dict[int, str] = {}
    for actor, action, rating in steps:
        reader = readers[actor]
        if action == "create":
            response = await client.post(
                f"/api/v1/books/{book['uid']}/reviews",
                json={"rating": rating, "review_text": "Property."},
                headers=reader.headers,
            )
            assert response.status_code == (409 if actor in review_of else 201)
            review_of.setdefault(actor, response.json().get("uid", ""))
        elif actor in review_of:
            url = f"/api/v1/reviews/{review_of[actor]}"
            if action == "update":
                response = await client.patch(url, json={"rating": rating}, headers=reader.headers)
                assert response.status_code == 200
            else:
                who = moderator if action == "admin_delete" else reader
                assert (await client.delete(url, headers=who.headers)).status_code == 204
                del review_of[actor]

    async with harness.context.sessionmaker() as db:
        count, total = (
            await db.execute(
                select(func.count(), func.coalesce(func.sum(Review.rating), 0)).where(
                    Review.book_uid == uuid.UUID(book["uid"])
                )
            )
        ).one()
        stored = await db.get(Book, uuid.UUID(book["uid"]))
    assert count == len(review_of)
    assert stored is not None
    assert (stored.rating_count, stored.rating_sum) == (count, total)
    assert stored.rating_avg == (total / count if count else 0.0)
    shown = (await client.get(f"/api/v1/books/{book['uid']}")).json()["rating"]
    assert shown == {"average": total / count if count else None, "count": count}
