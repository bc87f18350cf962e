"""Reads from a real streaming replica (`DATABASE_REPLICA_URL`): a scratch primary and a hot
standby made from it by `pg_basebackup`, streaming.

Pausing the standby's replay makes the two servers disagree, so an answer shows where it was
read: a public read without credentials gets the replica's (older) book; the writer, by its
token or by the read-your-writes cookie its write set, gets its own write from the primary;
once the replica is further behind than the bound, everyone reads the primary. A stopped
replica costs no error: the hot reads read again on the primary, a read-only session's request
is answered again there, and the replica is used again once it is back.

Nothing waits on a guess of how long replication takes: each step polls (the replica's replay
position, its pause state, the app's own readiness), with ample time for a loaded machine.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from bookly.core.config import Settings
from bookly.core.read_routing import READ_PRIMARY_COOKIE
from bookly.core.replica import Freshness, Replica
from tests.conftest import _empty_everything, postgres_only
from tests.factories import user
from tests.support.apps import app_client
from tests.support.catalogue import new_book, new_review
from tests.support.scratch import ScratchPostgres, scratch_postgres, streaming_replica

API = "/api/v1"
# Far longer than any step of a test takes on a loaded machine: the replica stays fresh
# enough while a test writes and reads, unless the test lets it fall behind on purpose.
LONG_BOUND_SECONDS = 60.0
SHORT_BOUND_SECONDS = 1.0
PATIENCE_SECONDS = 60.0


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"not {what} within {PATIENCE_SECONDS} s"
        await asyncio.sleep(0.1)


@dataclass
class Replicated:
    primary: ScratchPostgres
    replica: ScratchPostgres
    database: str

    async def _value(self, server: ScratchPostgres, query: str) -> Any:
        connection = await asyncpg.connect(server.dsn(self.database))
        try:
            return await connection.fetchval(query)
        finally:
            await connection.close()

    async def caught_up(self) -> None:
        """Until the replica has replayed all the primary has flushed (every commit so far)."""
        flushed = await self._value(self.primary, "SELECT pg_current_wal_flush_lsn() - '0/0'")

        async def replayed() -> bool:
            position = await self._value(self.replica, "SELECT pg_last_wal_replay_lsn() - '0/0'")
            return position is not None and position >= flushed

        await _eventually(replayed, "caught up")

    async def pause_replay(self) -> None:
        """The replica keeps receiving WAL but replays none of it from now on (once the
        pause is in force, not merely asked for)."""
        await self._value(self.replica, "SELECT pg_wal_replay_pause()")

        async def paused() -> bool:
            state = await self._value(self.replica, "SELECT pg_get_wal_replay_pause_state()")
            return state == "paused"

        await _eventually(paused, "paused")

    async def resume_replay(self) -> None:
        await self._value(self.replica, "SELECT pg_wal_replay_resume()")


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

    @property
    def replica(self) -> Replica:
        replica = self.app.state.context.replica
        assert isinstance(replica, Replica)
        return replica

    async def public(self, path: str, **headers: str) -> httpx.Response:
        """A stranger's read: a client with no cookie, and no token unless given."""
        transport = httpx.ASGITransport(app=self.app, client=("198.51.100.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bookly.test") as client:
            return await client.get(path, headers=headers)

    async def replica_state(self) -> str:
        ready = await self.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        return str(ready.json()["checks"]["replica"])

    async def metric(self, name: str) -> float:
        scrape = await self.client.get("/metrics")
        assert scrape.status_code == 200, scrape.text
        (value,) = (
            line.split()[1] for line in scrape.text.splitlines() if line.startswith(name + " ")
        )
        return float(value)

    async def replica_becomes(self, state: str) -> None:
        async def reached() -> bool:
            return await self.replica_state() == state

        await _eventually(reached, f"replica {state}")


Serve = Callable[[float], AbstractAsyncContextManager[Site]]


@pytest.fixture
def serve(settings: Settings, replicated: Replicated) -> Serve:
    """An app reading from the replica within a lag bound of the test's choice."""

    @asynccontextmanager
    async def serving(max_lag_seconds: float) -> AsyncIterator[Site]:
        configured = settings.model_copy(
            update={
                "database_url": replicated.primary.url(replicated.database),
                "database_replica_url": replicated.replica.url(replicated.database),
                "db_replica_max_lag_seconds": max_lag_seconds,
                # Not what is tested here: rate limits in memory, revocations in the database.
                "redis_url": None,
            }
        )
        async with app_client(configured) as (app, client):
            try:
                yield Site(app, client)
            finally:
                await replicated.resume_replay()
                await _empty_everything(app.state.context)

    return serving


def _title(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["title"])


@postgres_only
async def test_public_reads_come_from_the_replica_and_writers_read_their_writes(
    serve: Serve, replicated: Replicated
) -> None:
    async with serve(LONG_BOUND_SECONDS) as site:
        context = site.app.state.context
        owner, reviewer = await user(site.client, context), await user(site.client, context)
        book = await new_book(site.client, owner, title="As first written")
        path = f"{API}/books/{book['uid']}"
        await replicated.caught_up()
        await site.replica_becomes("ok")
        assert await site.metric("bookly_db_replica_serving") == 1
        await replicated.pause_replay()

        changed = await site.client.patch(
            path, json={"title": "Quixotic rewrite"}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.cookies.get(READ_PRIMARY_COOKIE) == "1"
        await new_review(site.client, reviewer, book["uid"])

        # A stranger reads the replica, which has not replayed the change: the hot read
        # (asyncpg) and a read-only session's list (SQLAlchemy) both.
        assert _title(await site.public(path)) == "As first written"
        assert (await site.public(f"{path}/reviews")).json()["items"] == []
        assert (await site.public(f"{API}/books?q=quixotic")).json()["items"] == []
        # The writers read the primary at once: by their token, or by the cookie their
        # writes set (the client keeps it, as a browser does).
        assert _title(await site.public(path, **owner.headers)) == "Quixotic rewrite"
        assert _title(await site.client.get(path)) == "Quixotic rewrite"
        assert len((await site.client.get(f"{path}/reviews")).json()["items"]) == 1
        assert len((await site.client.get(f"{API}/books?q=quixotic")).json()["items"]) == 1
        # The cookie alone, in another client, is enough.
        cookie = f"{READ_PRIMARY_COOKIE}=1"
        assert _title(await site.public(path, cookie=cookie)) == "Quixotic rewrite"

        await replicated.resume_replay()
        await replicated.caught_up()
        assert _title(await site.public(path)) == "Quixotic rewrite"
        assert await site.replica_state() == "ok"


@postgres_only
async def test_a_replica_further_behind_than_the_bound_serves_no_one(
    serve: Serve, replicated: Replicated
) -> None:
    async with serve(SHORT_BOUND_SECONDS) as site:
        owner = await user(site.client, site.app.state.context)
        book = await new_book(site.client, owner, title="As first written")
        path = f"{API}/books/{book['uid']}"
        await replicated.caught_up()
        await site.replica_becomes("ok")
        await replicated.pause_replay()
        changed = await site.client.patch(
            path, json={"title": "As rewritten"}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text

        async def from_the_primary() -> bool:
            return _title(await site.public(path)) == "As rewritten"

        await _eventually(from_the_primary, "read from the primary")
        assert await site.replica_state() == "behind"  # readiness does not depend on it
        assert await site.metric("bookly_db_replica_serving") == 0
        assert await site.metric("bookly_db_replica_lag_seconds") > SHORT_BOUND_SECONDS
        assert len((await site.public(f"{path}/reviews")).json()["items"]) == 0

        await replicated.resume_replay()
        await site.replica_becomes("ok")


@postgres_only
@pytest.mark.parametrize(
    "first_read",
    ["{book}", "{book}/reviews"],
    ids=["hot read, read again on the primary", "session read, answered again on the primary"],
)
async def test_a_stopped_replica_costs_no_error_and_is_used_again_when_back(
    serve: Serve, replicated: Replicated, monkeypatch: pytest.MonkeyPatch, first_read: str
) -> None:
    """The first read after the stop meets a pooled connection to the dead replica; it and
    every read after it answer from the primary. The freshness sampling is held meanwhile, so
    that it is that read, not a sample, that finds the replica gone."""
    async with serve(LONG_BOUND_SECONDS) as site:
        context = site.app.state.context
        owner = await user(site.client, context)
        book = await new_book(site.client, owner, title="Kept on both")
        await new_review(site.client, await user(site.client, context), book["uid"])
        book_path = f"{API}/books/{book['uid']}"
        # The first read first; each path once.
        reads = list(
            dict.fromkeys(
                [
                    first_read.format(book=book_path),
                    book_path,
                    f"{book_path}/reviews",
                    f"{API}/books?q=kept",
                    f"{API}/users/{owner.uid}",
                ]
            )
        )
        await replicated.caught_up()
        await site.replica_becomes("ok")
        # Read from the replica first, so both of its pools hold connections about to die.
        for read_path in reads:
            assert (await site.public(read_path)).status_code == 200

        async def no_sample() -> None:
            pass

        with monkeypatch.context() as held:
            held.setattr(site.replica, "sample", no_sample)
            replicated.replica.crash()
            try:
                answers = {read_path: await site.public(read_path) for read_path in reads}
                assert [answer.status_code for answer in answers.values()] == [200] * len(reads)
                assert answers[book_path].json()["title"] == "Kept on both"
                assert len(answers[f"{book_path}/reviews"].json()["items"]) == 1
                assert len(answers[f"{API}/books?q=kept"].json()["items"]) == 1
                # The failed read took the replica out, which readiness tells without failing.
                assert await site.replica_state() == "unavailable"
            finally:
                replicated.replica.start()
        await site.replica_becomes("ok")
        assert _title(await site.public(book_path)) == "Kept on both"


def test_freshness_is_the_age_of_the_newest_state_the_replica_has_replayed() -> None:
    now = [100.0]
    freshness = Freshness(max_lag_seconds=2, clock=lambda: now[0])
    assert freshness.state() == "unavailable"  # nothing known yet

    freshness.record(100.0, primary_position=50, replayed=50)
    assert freshness.lag_seconds() == 0
    assert freshness.is_fresh()

    # The primary moves on; the replica stays at 50: its known state ages from t=100.
    for at, position in ((101.0, 60), (101.5, 70), (102.0, 80), (102.5, 85)):
        now[0] = at
        freshness.record(at, primary_position=position, replayed=50)
    assert freshness.lag_seconds() == 2.5
    assert freshness.state() == "behind"

    # It replays up to the position sampled at 101.5, not yet 102's: fresh as of 101.5.
    now[0] = 103.0
    freshness.record(103.0, primary_position=90, replayed=70)
    assert freshness.lag_seconds() == 1.5
    assert freshness.is_fresh()

    # A failed sample or read, or a server that does not replay (None): out at once.
    freshness.lost()
    assert freshness.lag_seconds() is None
    assert freshness.state() == "unavailable"
    freshness.record(103.5, primary_position=90, replayed=90)
    assert freshness.is_fresh()
    freshness.record(104.0, primary_position=95, replayed=None)
    assert not freshness.is_fresh()


@pytest.mark.parametrize(
    ("primary", "replica"),
    [
        ("postgresql://bookly@db/bookly", "sqlite:///./var/replica.db"),
        ("sqlite:///./var/bookly.db", "postgresql://bookly@replica/bookly"),
    ],
    ids=["a replica that is not PostgreSQL", "a replica of SQLite"],
)
def test_a_replica_is_a_postgresql_one_of_a_postgresql_primary(primary: str, replica: str) -> None:
    with pytest.raises(ValidationError, match="DATABASE_REPLICA_URL"):
        Settings(database_url=primary, database_replica_url=replica)
