"""A PATCH reads its book twice at most: once under the lock (which the `If-Match` check also
uses) and once for the answer. The statements are counted on the engine as they are sent."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.conftest import Harness
from tests.factories import user
from tests.support.catalogue import book_body

BOOKS = "/api/v1/books/"


@contextmanager
def statements_reading_books(harness: Harness) -> Iterator[list[str]]:
    """The SELECTs sent to the database that read the `books` table, while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        normal = " ".join(statement.split()).lower()
        if normal.startswith("select") and "from books" in normal:
            seen.append(normal)

    engine = harness.context.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_conditional_patch_reads_the_book_once_to_lock_and_once_to_answer(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    created = await harness.client.post(BOOKS, json=book_body(), headers=owner.headers)
    uid, etag = created.json()["uid"], created.headers["etag"]

    with statements_reading_books(harness) as reads:
        response = await harness.client.patch(
            f"{BOOKS}{uid}",
            json={"title": "A New Title"},
            headers={**owner.headers, "If-Match": etag},
        )

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "A New Title"
    assert response.headers["etag"] != etag
    assert len(reads) == 2, reads
    locking, answering = reads
    if harness.context.engine.dialect.name == "postgresql":
        assert "for update of books" in locking
        assert "for update" not in answering
