"""The hot reads: SQLAlchemy Core statements built once and run outside any transaction.

On PostgreSQL they run straight on an asyncpg pool: the statement is compiled once, and each
request pays only for asyncpg itself. Through SQLAlchemy's async engine the same read cost about
three times as much CPU per request (a connection checkout, an execution context and result
processing each time; measured in bench/README.md), which no statement tuning wins back. Writes,
and everything that needs a session, stay on SQLAlchemy; so do all reads on SQLite.

Rows are tuple-like (by position): asyncpg records here, SQLAlchemy rows elsewhere. Values come
as asyncpg decodes them, which is what SQLAlchemy's PostgreSQL types give too (aware datetimes,
UUIDs, lists for arrays): a statement read here must not rely on a type's result processing.
"""

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, overload

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bookly.core.config import Settings
from bookly.core.db import PoolTurns, autocommit
from bookly.core.pooler import PoolerConnections, asyncpg_arguments, behind_pooler, plain_dsn


class Row(Protocol):
    """A row by position: an asyncpg record, or a SQLAlchemy row."""

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


BindProcessor = Callable[[Any], Any]


class _Compiled:
    """A statement as one dialect runs it: SQL with positional parameters, in their order."""

    def __init__(self, statement: Select[*tuple[Any, ...]], dialect: Dialect):
        self._compiled = statement.compile(dialect=dialect)
        if self._compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        self.sql = self._compiled.string
        self._names: list[str] = list(self._compiled.positiontup)
        binds = self._compiled.binds
        self._processors: list[BindProcessor | None] = [
            binds[name].type.bind_processor(dialect) for name in self._names
        ]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = self._compiled.construct_params(dict(parameters))
        return [
            value if process is None else process(value)
            for value, process in zip(
                (values[name] for name in self._names), self._processors, strict=True
            )
        ]


class Prepared:
    """A Core statement for `Reader.rows`, built once (module level, or once per shape of a
    list): building and compiling cost more than running it.

    `planned_per_values`: PostgreSQL plans the statement for each request's own values. A
    prepared statement otherwise goes to a generic plan after five runs, one that cannot see
    its values; for a search, the values say which plan is right (a common word is found by
    walking an index newest first, a rare one through the search index), and the generic plan
    takes the rare word's path for every word. It costs a round trip (parse) per read.

    `on_primary`: a read that must see the latest commit, wherever it comes from (a session's
    caller, the revocations): never read from a replica (core/replica.py)."""

    def __init__(
        self,
        statement: Select[*tuple[Any, ...]],
        *,
        planned_per_values: bool = False,
        on_primary: bool = False,
    ):
        self.statement = statement
        self.planned_per_values = planned_per_values
        self.on_primary = on_primary
        self._compiled: _Compiled | None = None

    def compiled(self, dialect: Dialect) -> _Compiled:
        # One dialect per process (PostgreSQL's), so one compiled form is kept.
        if self._compiled is None:
            self._compiled = _Compiled(self.statement, dialect)
        return self._compiled


class Reader(Protocol):
    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]: ...

    async def close(self) -> None: ...


class ConnectionReader:
    """Reads on a connection already held: a write's, which must see what it has flushed."""

    def __init__(self, connection: AsyncConnection):
        self._connection = connection

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]:
        result = await self._connection.execute(query.statement, dict(parameters))
        rows: Sequence[Row] = result.all()
        return rows

    async def close(self) -> None:
        pass


async def session_reader(db: AsyncSession) -> ConnectionReader:
    """Reads on the request session's connection: in its transaction, seeing what it flushed."""
    return ConnectionReader(await db.connection())


class EngineReader:
    """Each read on its own autocommit connection from the engine's pool (SQLite)."""

    def __init__(self, engine: AsyncEngine, turn: Callable[[], AbstractAsyncContextManager[None]]):
        self._engine = autocommit(engine)
        self._turn = turn

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]:
        async with self._turn(), self._engine.connect() as connection:
            return await ConnectionReader(connection).rows(query, parameters)

    async def close(self) -> None:
        pass


class PostgresReader:
    """Each read on a connection of its own asyncpg pool (up to `DB_POOL_SIZE` connections,
    opened as needed; requests wait for one first come, first served, as long as
    `DB_POOL_TIMEOUT_SECONDS`)."""

    def __init__(self, settings: Settings, dialect: Dialect, url: str | None = None):
        self._dialect = dialect
        self._dsn = plain_dsn(url or settings.database_url)
        self.max_size = settings.db_pool_size
        self._timeout = settings.db_pool_timeout_seconds
        self._turns = PoolTurns(self.max_size, self._timeout)
        self._connect_arguments = asyncpg_arguments(settings)
        # Behind a pooler, connections of the reader's own, where every read is an unnamed
        # statement: parsed, and planned for its values, each time (core/pooler.py).
        self._pooler_connections = (
            PoolerConnections(self._dsn, self._timeout, self._connect_arguments)
            if behind_pooler(settings)
            else None
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]:
        compiled = query.compiled(self._dialect)
        arguments = compiled.arguments(parameters)
        # In turn, as for the sessions' pool: asyncpg's, like SQLAlchemy's, hands a returned
        # connection to whoever asks next, and its oldest waiters lost again and again under
        # load (S4's p99 went to 18 x its p50). With one permit per connection, `acquire` waits
        # only for a connection being made (timed out by the pool's connect timeout: a
        # TimeoutError, an OSError, answers 503 as asyncpg's own errors do, problems.py).
        async with self._turns.turn():
            if self._pooler_connections is not None:
                return await self._pooler_connections.fetch(compiled.sql, arguments)
            pool = self._pool or await self._open()
            connection = await pool.acquire()
            try:
                if query.planned_per_values:
                    return await _fetch_planned_per_values(connection, compiled, arguments)
                return await connection.fetch(compiled.sql, *arguments)
            finally:
                await pool.release(connection)

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=self.max_size,
                    timeout=self._timeout,
                    reset=_nothing_to_reset,
                    **self._connect_arguments,
                )
            return self._pool

    def connections_in_use(self) -> int:
        if self._pooler_connections is not None:
            return self._pooler_connections.in_use
        if self._pool is None:
            return 0
        return self._pool.get_size() - self._pool.get_idle_size()

    async def close(self) -> None:
        if self._pooler_connections is not None:
            await self._pooler_connections.close()
        if self._pool is not None:
            await self._pool.close()


async def _fetch_planned_per_values(
    connection: "PoolConnectionProxy[asyncpg.Record]", compiled: _Compiled, arguments: list[Any]
) -> list[asyncpg.Record]:
    """A statement of its own, outside asyncpg's cache (where a plain `fetch` goes), so its one
    run is planned for these values (asyncpg deallocates it once it is dropped)."""
    statement = await connection.prepare(compiled.sql)
    return await statement.fetch(*arguments)


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Released connections skip asyncpg's reset query (a round trip per read): a read is one
    statement outside any transaction, and changes no session state (no SET, LISTEN, cursor or
    advisory lock). asyncpg still rolls back a transaction left open, before calling this."""
