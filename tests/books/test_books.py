"""Books: fields and their validation, ownership, ETags, cascades."""

import pytest
from sqlalchemy import func, select

from bookly.models import Book, BookTag, Review
from tests.conftest import Harness
from tests.factories import admin, user
from tests.support.catalogue import book_body, new_book, new_review

BOOKS = "/api/v1/books/"


async def test_create_returns_the_full_book_with_location(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    response = await harness.client.post(
        BOOKS, json=book_body(isbn="978-0-306-40615-7"), headers=owner.headers
    )
    assert response.status_code == 201
    book = response.json()
    assert response.headers["location"] == f"/api/v1/books/{book['uid']}"
    assert set(book) == {
        "uid", "title", "author", "publisher", "published_date", "page_count", "language",
        "isbn", "description", "owner", "tags", "rating", "created_at", "updated_at",
    }  # fmt: skip
    assert book["isbn"] == "9780306406157"
    assert book["published_date"] == "1969-03-01"
    assert book["owner"] == {"uid": str(owner.uid), "username": owner.username}
    assert book["tags"] == []
    assert book["rating"] == {"average": None, "count": 0}
    fetched = await harness.client.get(response.headers["location"])
    assert fetched.json() == book


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isbn", "978-0-306-40615-8"),  # bad check digit
        ("isbn", "0-306-40615-3"),
        ("isbn", "12345"),
        ("language", "xx"),
        ("language", "eng"),
        ("published_date", "1969-3-1"),
        ("published_date", "1969-02-30"),
        ("published_date", 1700000000),
        ("published_date", "1969-03-01T00:00:00"),
        ("page_count", 0),
        ("page_count", 2**70),
        ("title", ""),
        ("title", "x" * 256),
        ("title", "nul\u0000byte"),
        ("owner_uid", "00000000-0000-0000-0000-000000000000"),
    ],
)
async def test_invalid_fields_are_refused(harness: Harness, field: str, value: object) -> None:
    owner = await user(harness.client, harness.context)
    response = await harness.client.post(
        BOOKS, json=book_body(**{field: value}), headers=owner.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][-1] == field


async def test_isbn10_is_kept_and_its_isbn13_twin_is_taken(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner, isbn="0-8044-2957-x", language="EN")
    assert book["isbn"] == "080442957X"
    assert book["language"] == "en"
    for same in ("080442957X", "978-0-8044-2957-3"):
        response = await harness.client.post(
            BOOKS, json=book_body(isbn=same), headers=owner.headers
        )
        assert response.status_code == 409
        assert response.json()["error_code"] == "isbn_taken"


async def test_patch_by_owner_changes_only_sent_fields(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    harness.clock.advance(seconds=5)
    response = await harness.client.patch(
        f"{BOOKS}{book['uid']}",
        json={"title": "New Title", "publisher": None},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["title"] == "New Title"
    assert changed["publisher"] is None
    assert changed["author"] == book["author"]
    assert changed["updated_at"] > book["updated_at"]
    for body in ({"title": None}, {"uid": book["uid"]}, {"owner": None}, {"rating": 5}):
        refused = await harness.client.patch(
            f"{BOOKS}{book['uid']}", json=body, headers=owner.headers
        )
        assert refused.status_code == 422, body


async def test_another_user_cannot_change_or_delete_a_book(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    intruder = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"{BOOKS}{book['uid']}"
    patch = await harness.client.patch(url, json={"title": "Mine now"}, headers=intruder.headers)
    delete = await harness.client.delete(url, headers=intruder.headers)
    assert (patch.status_code, delete.status_code) == (403, 403)
    assert patch.json()["error_code"] == "forbidden"
    assert (await harness.client.get(url)).json() == book


async def test_admin_may_change_and_delete_any_book(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    moderator = await admin(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"{BOOKS}{book['uid']}"
    patch = await harness.client.patch(url, json={"title": "Fixed"}, headers=moderator.headers)
    assert patch.status_code == 200
    assert patch.json()["owner"]["uid"] == str(owner.uid)  # an admin edit keeps the owner
    assert (await harness.client.delete(url, headers=moderator.headers)).status_code == 204
    assert (await harness.client.get(url)).json()["error_code"] == "book_not_found"


async def test_unverified_and_anonymous_users_cannot_write(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    unverified = await user(harness.client, harness.context, verified=False)
    create = await harness.client.post(BOOKS, json=book_body(), headers=unverified.headers)
    assert create.status_code == 403
    assert create.json()["error_code"] == "account_not_verified"
    anonymous = await harness.client.post(BOOKS, json=book_body())
    assert anonymous.status_code == 401
    patch = await harness.client.patch(f"{BOOKS}{book['uid']}", json={"title": "x"})
    assert patch.status_code == 401
    async with harness.context.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Book)) == 1


async def test_etag_if_none_match_and_if_match(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"{BOOKS}{book['uid']}"
    first = await harness.client.get(url)
    etag = first.headers["etag"]
    not_modified = await harness.client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == etag
    assert not_modified.content == b""

    changed = await harness.client.patch(
        url, json={"page_count": 300}, headers={**owner.headers, "If-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    stale = await harness.client.patch(
        url, json={"page_count": 1}, headers={**owner.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["error_code"] == "precondition_failed"
    assert (await harness.client.get(url)).json()["page_count"] == 300
    fresh = await harness.client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == changed.headers["etag"]


async def test_the_book_route_documents_its_conditional_header(harness: Harness) -> None:
    operation = (await harness.client.get("/api/v1/openapi.json")).json()["paths"][
        "/api/v1/books/{uid}"
    ]["get"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert parameters == {("path", "uid"), ("header", "If-None-Match")}


async def test_rating_change_changes_the_etag(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"{BOOKS}{book['uid']}"
    etag = (await harness.client.get(url)).headers["etag"]
    await new_review(harness.client, owner, book["uid"], rating=5)
    assert (await harness.client.get(url, headers={"If-None-Match": etag})).status_code == 200


async def test_unknown_and_malformed_book_ids(harness: Harness) -> None:
    missing = await harness.client.get(f"{BOOKS}3f0c0b8e-2b4a-4a8e-9d7e-0c1f2a3b4c5d")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "book_not_found"
    assert (await harness.client.get(f"{BOOKS}not-a-uuid")).status_code == 422


async def test_delete_takes_reviews_and_tag_links_along(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    await new_review(harness.client, owner, book["uid"])
    tagged = await harness.client.put(
        f"{BOOKS}{book['uid']}/tags", json={"tags": ["fantasy"]}, headers=owner.headers
    )
    assert tagged.status_code == 200
    deleted = await harness.client.delete(f"{BOOKS}{book['uid']}", headers=owner.headers)
    assert deleted.status_code == 204
    async with harness.context.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Review)) == 0
        assert await db.scalar(select(func.count()).select_from(BookTag)) == 0
