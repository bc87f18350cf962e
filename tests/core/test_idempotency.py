"""`Idempotency-Key` on the creates (IETF httpapi idempotency-key draft): a retry with the same
key and request answers what the first answered and creates nothing more."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bookly.models import Book, IdempotencyRecord, OutboxMessage, Review, Tag, User
from tests.conftest import Harness, postgres_only
from tests.factories import admin, log_in, signup_body, user
from tests.support.catalogue import book_body, new_book

BOOKS = "/api/v1/books"


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _count(harness: Harness, model: type[Any]) -> int:
    async with harness.context.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_retried_book_create_answers_the_first_answer_and_creates_once(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    headers, body = {**owner.headers, **_key()}, book_body()
    first = await harness.client.post(BOOKS, json=body, headers=headers)
    again = await harness.client.post(BOOKS, json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _count(harness, Book) == 1


async def test_each_create_replays(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    moderator = await admin(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    creates = [
        ("/api/v1/auth/signup", signup_body(), {}, User, 201),
        (f"{BOOKS}/{book['uid']}/reviews", {"rating": 4, "review_text": "Fine."},
         owner.headers, Review, 201),
        ("/api/v1/tags", {"name": "idempotent"}, moderator.headers, Tag, 201),
        ("/api/v1/auth/password-reset/request", {"email": owner.email}, {}, OutboxMessage, 202),
    ]  # fmt: skip
    for path, body, credentials, model, status in creates:
        headers = {**credentials, **_key()}
        before = await _count(harness, model)
        first = await harness.client.post(path, json=body, headers=headers)
        again = await harness.client.post(path, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (status, status), (path, again.text)
        assert again.json() == first.json(), path
        assert again.headers.get("location") == first.headers.get("location"), path
        assert await _count(harness, model) == before + 1, path


async def test_the_same_key_with_another_request_is_refused(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    headers, body = {**owner.headers, **_key()}, book_body()
    assert (await harness.client.post(BOOKS, json=body, headers=headers)).status_code == 201
    other = await harness.client.post(BOOKS, json={**body, "title": "Another"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error_code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # The same body sent with its keys in another order is the same request.
    reordered = dict(reversed(list(body.items())))
    assert (await harness.client.post(BOOKS, json=reordered, headers=headers)).status_code == 201
    assert await _count(harness, Book) == 1


async def test_keys_belong_to_their_caller(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await user(harness.client, harness.context)
    key, body = _key(), book_body()
    for caller in (first, second):
        response = await harness.client.post(BOOKS, json=body, headers={**caller.headers, **key})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await _count(harness, Book) == 2


async def test_a_failed_create_keeps_no_key(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    headers = {**owner.headers, **_key()}
    body = book_body(isbn="978-0-306-40615-7")
    assert (await harness.client.post(BOOKS, json=body, headers=owner.headers)).status_code == 201
    refused = await harness.client.post(BOOKS, json=body, headers=headers)
    assert refused.status_code == 409
    assert await _count(harness, IdempotencyRecord) == 0
    # Nothing was kept, so the key is free for whatever the client sends with it next.
    freed = await harness.client.post(BOOKS, json=book_body(), headers=headers)
    assert freed.status_code == 201
    assert "idempotent-replayed" not in freed.headers


async def test_keys_are_forgotten_after_their_lifetime(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    key, body = _key(), book_body()

    async def create() -> httpx.Response:
        # Signed in anew each time: an access token lives minutes, a key a day.
        signed_in = await log_in(harness.client, owner)
        return await harness.client.post(BOOKS, json=body, headers={**signed_in.headers, **key})

    assert (await create()).status_code == 201
    harness.clock.advance(seconds=harness.context.settings.idempotency_key_ttl_seconds - 60)
    replay = await create()
    assert replay.headers["idempotent-replayed"] == "true"
    harness.clock.advance(seconds=120)
    anew = await create()
    assert anew.status_code == 201
    assert "idempotent-replayed" not in anew.headers
    assert await _count(harness, Book) == 2
    assert await _count(harness, IdempotencyRecord) == 1  # the expired one was purged


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
async def test_a_malformed_key_is_refused(harness: Harness, key: str) -> None:
    owner = await user(harness.client, harness.context)
    response = await harness.client.post(
        BOOKS, json=book_body(), headers={**owner.headers, "Idempotency-Key": key.encode("latin-1")}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["header", "Idempotency-Key"]
    assert await _count(harness, Book) == 0


async def test_a_quoted_key_is_the_same_key(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    key, body = str(uuid.uuid4()), book_body()
    for sent in (key, f'"{key}"'):
        response = await harness.client.post(
            BOOKS, json=body, headers={**owner.headers, "Idempotency-Key": sent}
        )
        assert response.status_code == 201
    assert response.headers["idempotent-replayed"] == "true"


async def _until_a_request_waits_on_a_lock(harness: Harness) -> None:
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    for _ in range(400):
        # A fresh transaction each time: pg_stat_activity is a snapshot per transaction.
        async with harness.context.engine.connect() as probe:
            if (await probe.exec_driver_sql(waiting)).scalar():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the retry never waited for the first request's key")


@postgres_only
async def test_a_retry_while_the_first_is_still_running_gets_409(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    key, body = str(uuid.uuid4()), book_body()
    # The first request, still running: its key is reserved in a transaction not yet committed.
    async with harness.context.sessionmaker() as first:
        first.add(
            IdempotencyRecord(
                principal=owner.uid.hex, key=key, request_digest="0" * 64, status_code=0,
                body="", created_at=harness.clock(),
            )
        )  # fmt: skip
        await first.flush()
        retry = asyncio.create_task(
            harness.client.post(BOOKS, json=body, headers={**owner.headers, "Idempotency-Key": key})
        )
        await _until_a_request_waits_on_a_lock(harness)
        await first.commit()
    response = await retry
    assert response.status_code == 409, response.text
    assert response.json()["error_code"] == "idempotency_key_in_use"
    assert await _count(harness, Book) == 0


@contextmanager
def _answer_lost_after_commit() -> Iterator[None]:
    """The create commits, then its answer never reaches the client (as when a proxy times out)."""

    def lose_the_answer(_session: Session) -> None:
        raise ConnectionResetError("the answer was lost on its way to the client")

    event.listen(Session, "after_commit", lose_the_answer)
    try:
        yield
    finally:
        event.remove(Session, "after_commit", lose_the_answer)


@contextmanager
def _connection_killed_at_commit(harness: Harness) -> Iterator[None]:
    """The database connection dies as the create's COMMIT is sent (PostgreSQL kills it)."""

    def kill(connection: Any) -> None:
        connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    engine = harness.context.engine.sync_engine
    event.listen(engine, "commit", kill)
    try:
        yield
    finally:
        event.remove(engine, "commit", kill)


async def test_a_create_whose_answer_was_lost_is_retried_safely(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    headers, body = {**owner.headers, **_key()}, book_body()
    with _answer_lost_after_commit():
        lost = await harness.client.post(BOOKS, json=body, headers=headers)
    assert lost.status_code >= 500  # the client saw no 201, though the book was stored
    retried = await harness.client.post(BOOKS, json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert await _count(harness, Book) == 1


@postgres_only
async def test_a_create_whose_connection_died_at_commit_is_retried_safely(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    headers, body = {**owner.headers, **_key()}, book_body()
    with _connection_killed_at_commit(harness):
        killed = await harness.client.post(BOOKS, json=body, headers=headers)
    assert killed.status_code == 503, killed.text
    assert await _count(harness, Book) == 0
    retried = await harness.client.post(BOOKS, json=body, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers  # nothing had been kept: done now
    again = await harness.client.post(BOOKS, json=body, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(harness, Book) == 1
