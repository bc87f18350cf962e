"""A streaming replica (`DATABASE_REPLICA_URL`) for public reads, used only while fresh enough.

How fresh it is, each process measures for itself: every sampling interval it notes the time,
reads the primary's WAL flush position, then the position the replica has replayed. Every
transaction committed before that time lies below that position (a commit is flushed before it
is acknowledged; Bookly does not turn `synchronous_commit` off); so once the replica has
replayed up to it, the replica holds everything committed up to that time. (The flush position,
not the insert position: on an idle primary whose last record ends on a page boundary, the
insert position can point past the next page's header, which no replica reaches until the next
record.) Reads may go
to the replica while the newest such time is at most `DB_REPLICA_MAX_LAG_SECONDS` old (an idle
primary writes nothing, so an idle replica is fresh at once). A replica that does not answer, or
no longer replays (promoted, or a primary given as the replica), is out until a sample finds it
fresh again; so is one whose read just failed. Which requests may read there is the business of
core/read_routing.py.

The replica has pools of its own, as the primary has: a sessions' pool for read-only routes and
a hot reads' pool, each up to `DB_POOL_SIZE` connections.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Literal

from sqlalchemy import literal_column, select
from sqlalchemy.engine import Dialect

from bookly.core.config import Settings
from bookly.core.db import PoolTurns, create_engine
from bookly.core.read_routing import REPLICA_FAILURES, current_route
from bookly.core.reads import PostgresReader, Prepared, Row

logger = logging.getLogger("bookly.replica")

# Positions as numbers (bytes since 0/0): asyncpg has no codec of its own for pg_lsn.
_PRIMARY_POSITION = Prepared(select(literal_column("pg_current_wal_flush_lsn() - '0/0'")))
# NULL unless the server is replaying WAL, i.e. is a replica.
_REPLAYED_POSITION = Prepared(select(literal_column("pg_last_wal_replay_lsn() - '0/0'")))


class Freshness:
    """How recent the primary's state is that the replica has replayed (see the module)."""

    def __init__(self, max_lag_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.max_lag_seconds = max_lag_seconds
        self._clock = clock
        # (time, primary position) of the samples the replica had not replayed when taken.
        self._pending: deque[tuple[float, int]] = deque()
        self._replayed_as_of: float | None = None

    def record(self, taken_at: float, primary_position: int, replayed: int | None) -> None:
        if replayed is None:
            self.lost()
            return
        self._pending.append((taken_at, primary_position))
        while self._pending and self._pending[0][1] <= replayed:
            self._replayed_as_of = self._pending.popleft()[0]
        # A sample older than the bound could only ever prove the replica too far behind.
        while len(self._pending) > 1 and self._pending[0][0] < taken_at - self.max_lag_seconds:
            self._pending.popleft()

    def lost(self) -> None:
        """The replica failed a sample or a read: out until a sample finds it fresh."""
        self._pending.clear()
        self._replayed_as_of = None

    def lag_seconds(self) -> float | None:
        """How old the newest state known to be on the replica is; None while it is out."""
        if self._replayed_as_of is None:
            return None
        return self._clock() - self._replayed_as_of

    def is_fresh(self) -> bool:
        return self.state() == "ok"

    def state(self) -> Literal["ok", "behind", "unavailable"]:
        """`ok` while it may serve reads; `behind` while further behind than the bound;
        `unavailable` while it does not answer, or does not replay."""
        lag = self.lag_seconds()
        if lag is None:
            return "unavailable"
        return "ok" if lag <= self.max_lag_seconds else "behind"


class Replica:
    """The replica's engine and turns (read-only sessions), its hot reads, and its freshness,
    sampled against the primary's hot reads' pool."""

    def __init__(self, settings: Settings, dialect: Dialect, url: str, primary: PostgresReader):
        self.primary = primary
        self.engine = create_engine(settings, url)
        self.turns = PoolTurns(settings.db_pool_size, settings.db_pool_timeout_seconds)
        self.reader = PostgresReader(settings, dialect, url)
        self.freshness = Freshness(settings.db_replica_max_lag_seconds)
        # Often enough that a replica catching up is used again soon, and a lagging one is
        # noticed well within the bound.
        self.sampling_seconds = min(1.0, settings.db_replica_max_lag_seconds / 4)

    def failed(self, error: BaseException) -> None:
        logger.warning("replica read failed, reading from the primary: %r", error)
        self.freshness.lost()

    async def sample(self) -> None:
        taken_at = time.monotonic()
        # Any error, not only the replica's usual failures: a sampler that died would leave the
        # replica's known state ageing for good, every read on the primary with no word why.
        try:
            (position,) = (await self.primary.rows(_PRIMARY_POSITION, {}))[0]
        except Exception:
            return  # nothing learnt: the replica's known state just ages
        try:
            (replayed,) = (await self.reader.rows(_REPLAYED_POSITION, {}))[0]
        except Exception as error:
            if self.freshness.lag_seconds() is not None:
                logger.warning("replica unavailable, reading from the primary: %r", error)
            self.freshness.lost()
            return
        self.freshness.record(taken_at, int(position), None if replayed is None else int(replayed))

    async def close(self) -> None:
        await self.reader.close()
        await self.engine.dispose()


@asynccontextmanager
async def sampled(replica: Replica | None) -> AsyncIterator[None]:
    """The replica's freshness sampled in the background while the block runs."""
    if replica is None:
        yield
        return

    async def sample_forever() -> None:
        while True:
            await replica.sample()
            await asyncio.sleep(replica.sampling_seconds)

    task = asyncio.create_task(sample_forever(), name="bookly-replica-freshness")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


class RoutedReader:
    """The hot reads with a replica: each read where its request's route says (the primary
    outside requests, and for reads that must be current); a read the replica fails is read
    again on the primary at once, and the rest of the request reads there too."""

    def __init__(self, replica: Replica):
        self.primary = replica.primary
        self.replica = replica

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]:
        route = current_route()
        if route is None or not route.on_replica or query.on_primary:
            return await self.primary.rows(query, parameters)
        try:
            return await self.replica.reader.rows(query, parameters)
        except REPLICA_FAILURES as error:
            route.on_replica = False
            self.replica.failed(error)
        return await self.primary.rows(query, parameters)

    async def close(self) -> None:
        await self.primary.close()
        await self.replica.close()
