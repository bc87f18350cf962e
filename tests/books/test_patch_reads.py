"""A PATCH reads its book twice at most: once under the lock (which the `If-Match` check also
uses) and once for the answer. The statements are counted on the engine as they are sent."""

from tests.conftest import Harness
from tests.factories import user
from tests.support.catalogue import book_body
from tests.support.statements import statements_sent

BOOKS = "/api/v1/books/"


def reading_books(statements: list[str]) -> list[str]:
    """The SELECTs among `statements` that read the `books` table."""
    return [sql for sql in statements if sql.startswith("select") and "from books" in sql]


async def test_a_conditional_patch_reads_the_book_once_to_lock_and_once_to_answer(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    created = await harness.client.post(BOOKS, json=book_body(), headers=owner.headers)
    uid, etag = created.json()["uid"], created.headers["etag"]

    with statements_sent(harness.context.engine) as sent:
        response = await harness.client.patch(
            f"{BOOKS}{uid}",
            json={"title": "A New Title"},
            headers={**owner.headers, "If-Match": etag},
        )

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "A New Title"
    assert response.headers["etag"] != etag
    reads = reading_books(sent)
    assert len(reads) == 2, reads
    locking, answering = reads
    if harness.context.engine.dialect.name == "postgresql":
        assert "for update of books" in locking
        assert "for update" not in answering
