"""A page of reviews is one statement (reviews/objects.py), the same for the API's
`GET /books/{uid}/reviews` and a book's page on the site; on PostgreSQL it runs on the asyncpg
reader, outside SQLAlchemy's engine, and reads exactly what SQLAlchemy reads."""

import uuid

import pytest

from bookly.core.reads import ConnectionReader
from bookly.reviews import service
from tests.conftest import BACKEND, Harness
from tests.factories import user
from tests.support.catalogue import new_book, new_review
from tests.support.statements import statements_sent

# SQLite's reads go through the engine, where they are counted; PostgreSQL's go to asyncpg.
THROUGH_ENGINE = 1 if BACKEND == "sqlite" else 0


async def test_a_page_of_reviews_is_one_statement_and_an_empty_one_checks_the_book(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    reviewed = await new_book(harness.client, owner)
    unreviewed = await new_book(harness.client, owner)
    for _ in range(3):
        await new_review(
            harness.client, await user(harness.client, harness.context), reviewed["uid"]
        )

    with statements_sent(harness.context.engine) as api:
        answer = await harness.client.get(f"/api/v1/books/{reviewed['uid']}/reviews")
    assert answer.status_code == 200
    assert len(answer.json()["items"]) == 3
    assert len(api) == THROUGH_ENGINE, api

    with statements_sent(harness.context.engine) as site:
        book_page = await harness.client.get(f"/books/{reviewed['uid']}")
    assert book_page.status_code == 200
    assert book_page.text.count("<blockquote>") == 3
    assert len(site) == 2 * THROUGH_ENGINE, site  # the book, then its first page of reviews

    # A page without reviews asks whether the book exists: 404 only for a book that does not.
    with statements_sent(harness.context.engine) as empty:
        answer = await harness.client.get(f"/api/v1/books/{unreviewed['uid']}/reviews")
    assert answer.status_code == 200
    assert answer.json()["items"] == []
    assert len(empty) == 2 * THROUGH_ENGINE, empty
    missing = await harness.client.get(f"/api/v1/books/{uuid.uuid4()}/reviews")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "book_not_found"


@pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg reads PostgreSQL only")
async def test_asyncpg_reads_reviews_exactly_as_sqlalchemy_does(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    for _ in range(3):
        harness.clock.advance(seconds=1)
        await new_review(harness.client, await user(harness.client, harness.context), book["uid"])
    review_uid = uuid.UUID(
        (await harness.client.get(f"/api/v1/books/{book['uid']}/reviews")).json()["items"][0]["uid"]
    )

    on_asyncpg = await service.get_review(harness.context.reader, review_uid)
    async with harness.context.engine.connect() as connection:
        on_sqlalchemy = await service.get_review(ConnectionReader(connection), review_uid)
    assert on_asyncpg == on_sqlalchemy
    assert on_asyncpg.created_at.utcoffset() is not None
