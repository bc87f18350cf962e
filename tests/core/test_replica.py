"""Reads from a real streaming replica (`DATABASE_REPLICA_URL`): a scratch primary and a hot
standby made from it by `pg_basebackup`, streaming.

Pausing the standby's replay makes the two servers disagree, so an answer shows where it was
read: a public read without credentials gets the replica's (older) book; the writer, by its
token or by the read-your-writes cookie its write set, gets its own write from the primary;
once the replica is further behind than the bound, everyone reads the primary. A stopped
replica costs no error: the hot reads read again on the primary, a read-only session's request
is answered again there, and the replica is used again once it is back.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from bookly.core.config import Settings
from bookly.core.read_routing import READ_PRIMARY_COOKIE
from bookly.core.replica import Freshness
from tests.conftest import _empty_everything, postgres_only
from tests.factories import Account, user
from tests.support.apps import app_client
from tests.support.catalogue import new_book, new_review
from tests.support.scratch import ScratchPostgres, scratch_postgres, streaming_replica

API = "/api/v1"
MAX_LAG_SECONDS = 4.0


@dataclass
class Replicated:
    primary: ScratchPostgres
    replica: ScratchPostgres
    database: str

    async def replica_sql(self, statement: str) -> None:
        connection = await asyncpg.connect(self.replica.dsn(self.database))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with scratch_postgres() as primary:
        asyncio.run(primary.migrated_database("bookly"))
        with streaming_replica(primary) as replica:
            yield Replicated(primary, replica, "bookly")


@dataclass
class Site:
    app: FastAPI
    # Keeps cookies, as a browser does: it gets the read-your-writes cookie with its writes.
    client: httpx.AsyncClient

    def newcomer(self) -> httpx.AsyncClient:
        """A client with no cookie and no token: a stranger's public read."""
        transport = httpx.ASGITransport(app=self.app, client=("198.51.100.9", 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://bookly.test")

    async def public(self, path: str, **headers: str) -> httpx.Response:
        async with self.newcomer() as stranger:
            return await stranger.get(path, headers=headers)

    async def replica_state(self) -> str:
        ready = await self.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        return str(ready.json()["checks"]["replica"])


@pytest.fixture
async def site(settings: Settings, replicated: Replicated) -> AsyncIterator[Site]:
    configured = settings.model_copy(
        update={
            "database_url": replicated.primary.url(replicated.database),
            "database_replica_url": replicated.replica.url(replicated.database),
            "db_replica_max_lag_seconds": MAX_LAG_SECONDS,
        }
    )
    async with app_client(configured) as (app, client):
        try:
            yield Site(app, client)
        finally:
            await _empty_everything(app.state.context)


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not {what} within {seconds} s"
        await asyncio.sleep(0.1)


async def _replica_serving(site: Site) -> None:
    async def serving() -> bool:
        return await site.replica_state() == "ok"

    await _eventually(serving, "serving from the replica")


def _title(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["title"])


@postgres_only
async def test_public_reads_come_from_the_replica_and_writers_read_their_writes(
    site: Site, replicated: Replicated
) -> None:
    owner = await user(site.client, site.app.state.context)
    reviewer = await user(site.client, site.app.state.context)
    book = await new_book(site.client, owner, title="As first written")
    path = f"{API}/books/{book['uid']}"
    await _replica_serving(site)
    await _eventually(lambda: _replayed(site, path), "on the replica")

    await replicated.replica_sql("SELECT pg_wal_replay_pause()")
    try:
        await _while_the_replica_lags(site, owner, reviewer, path)
    finally:
        await replicated.replica_sql("SELECT pg_wal_replay_resume()")
    await _replica_serving(site)
    assert _title(await site.public(path)) == "As rewritten"


async def _while_the_replica_lags(site: Site, owner: Account, reviewer: Account, path: str) -> None:
    changed = await site.client.patch(path, json={"title": "As rewritten"}, headers=owner.headers)
    assert changed.status_code == 200, changed.text
    assert changed.cookies.get(READ_PRIMARY_COOKIE) == "1"
    await new_review(site.client, reviewer, path.rsplit("/", 1)[1])

    # A stranger reads the replica, which has not replayed the change: the hot read (asyncpg)
    # and a read-only session's list (SQLAlchemy) both.
    assert _title(await site.public(path)) == "As first written"
    assert (await site.public(f"{path}/reviews")).json()["items"] == []
    # The writers read the primary: by their token, or by the cookie their writes set.
    assert _title(await site.public(path, **owner.headers)) == "As rewritten"
    assert _title(await site.client.get(path)) == "As rewritten"
    assert len((await site.client.get(f"{path}/reviews")).json()["items"]) == 1

    # Further behind than the bound, the replica serves no one; readiness does not depend on it.
    async def from_the_primary() -> bool:
        return _title(await site.public(path)) == "As rewritten"

    await _eventually(from_the_primary, "read from the primary", seconds=MAX_LAG_SECONDS * 5)
    assert await site.replica_state() == "behind"
    assert len((await site.public(f"{path}/reviews")).json()["items"]) == 1


@postgres_only
@pytest.mark.parametrize(
    "first_read",
    ["{book}", "{book}/reviews"],
    ids=["hot read, read again on the primary", "session read, answered again on the primary"],
)
async def test_a_stopped_replica_costs_no_error_and_is_used_again_when_back(
    site: Site, replicated: Replicated, first_read: str
) -> None:
    """The first read after the stop meets a pooled connection to the dead replica; it and
    every read after it answer from the primary."""
    owner = await user(site.client, site.app.state.context)
    book = await new_book(site.client, owner, title="Kept on both")
    await new_review(site.client, await user(site.client, site.app.state.context), book["uid"])
    book_path = f"{API}/books/{book['uid']}"
    reads = {
        first_read.format(book=book_path): 200,
        book_path: 200,
        f"{book_path}/reviews": 200,
        f"{API}/books?q=kept": 200,
        f"{API}/users/{owner.uid}": 200,
    }
    await _replica_serving(site)
    # Read from the replica first, so both of its pools hold connections about to die.
    for read_path in reads:
        await _eventually(lambda read_path=read_path: _replayed(site, read_path), "replayed")

    replicated.replica.crash()
    try:
        answers = {read_path: await site.public(read_path) for read_path in reads}
        assert {read_path: answer.status_code for read_path, answer in answers.items()} == reads
        assert answers[book_path].json()["title"] == "Kept on both"
        assert len(answers[f"{book_path}/reviews"].json()["items"]) == 1
        assert len(answers[f"{API}/books?q=kept"].json()["items"]) == 1
        assert await site.replica_state() == "unavailable"
    finally:
        replicated.replica.start()
    await _replica_serving(site)


async def _replayed(site: Site, path: str) -> bool:
    """The replica serves `path` with what the primary has (a list: not empty)."""
    response = await site.public(path)
    if response.status_code != 200:
        return False
    items = response.json().get("items")
    return items is None or len(items) > 0


def test_freshness_is_the_age_of_the_newest_state_the_replica_has_replayed() -> None:
    now = [100.0]
    freshness = Freshness(max_lag_seconds=2, clock=lambda: now[0])
    assert not freshness.is_fresh()  # nothing known yet

    freshness.record(100.0, primary_position=50, replayed=50)
    assert freshness.lag_seconds() == 0
    assert freshness.is_fresh()

    # The primary moves on; the replica stays at 50: its known state ages from t=100.
    for at, position in ((101.0, 60), (101.5, 70), (102.0, 80), (102.5, 85)):
        now[0] = at
        freshness.record(at, primary_position=position, replayed=50)
    assert freshness.lag_seconds() == 2.5
    assert not freshness.is_fresh()

    # It replays up to the position sampled at 101.5, not yet 102's: fresh as of 101.5.
    now[0] = 103.0
    freshness.record(103.0, primary_position=90, replayed=70)
    assert freshness.lag_seconds() == 1.5
    assert freshness.is_fresh()

    # A failed sample or read, or a server that does not replay (None): out at once.
    freshness.lost()
    assert freshness.lag_seconds() is None
    freshness.record(103.5, primary_position=90, replayed=90)
    assert freshness.is_fresh()
    freshness.record(104.0, primary_position=95, replayed=None)
    assert not freshness.is_fresh()
