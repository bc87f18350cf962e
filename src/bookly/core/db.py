"""The database engine, the request session, and the one-commit-per-request rule."""

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from bookly.core.config import Settings
from bookly.core.errors import AppError
from bookly.core.pooler import sqlalchemy_connect_args
from bookly.core.read_routing import (
    current_route,
    is_replica_failure,
    note_replica_failure,
    note_write,
)

# Deterministic constraint names, so migrations can name what they alter (SQLite batch mode).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """The engine of `url` (by default `DATABASE_URL`; a replica's, for its reads)."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url, connect_args={"timeout": 15}, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    return create_async_engine(
        url or settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No pre-ping: it costs three round trips (BEGIN, ping, ROLLBACK) per checkout, more than
        # the query it guards. A connection that died (database restart) fails its one request
        # with 503 and SQLAlchemy then replaces every pooled connection.
        # Errors (which get logged) must not carry bound values: hashes, emails, token ids.
        hide_parameters=True,
        connect_args=sqlalchemy_connect_args(settings),
    )


def _configure_sqlite(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_READ_ONLY = "_bookly_read_only"
# Per engine, the same engine (and pool) with connections in autocommit mode.
_autocommit_engines: "weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine]" = (
    weakref.WeakKeyDictionary()
)


def read_only(endpoint: EndpointT) -> EndpointT:
    """Mark an endpoint that never writes: its session runs without a transaction, each SELECT
    on its own (as it would see under READ COMMITTED anyway), which saves the BEGIN and COMMIT
    round trips that otherwise cost more than the query."""
    setattr(endpoint, _READ_ONLY, True)
    return endpoint


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool), its connections in autocommit mode: no BEGIN, no COMMIT."""
    autocommitting = _autocommit_engines.get(engine)
    if autocommitting is None:
        autocommitting = _autocommit_engines[engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
    return autocommitting


def _is_read_only(request: Request) -> bool:
    return getattr(request.scope.get("endpoint"), _READ_ONLY, False)


def _session_for(request: Request, read_only: bool) -> tuple[AsyncSession, "PoolTurns", bool]:
    """The request's session, the turns of its pool, and whether it reads from the replica
    (core/read_routing.py): read-only ones may; a request with a write session reads all it
    reads on the primary, where it writes."""
    context = request.app.state.context
    sessionmaker: async_sessionmaker[AsyncSession] = context.sessionmaker
    route = current_route()
    if not read_only:
        if route is not None:
            route.on_replica = False
        return sessionmaker(), context.pool_turns, False
    if route is not None and route.on_replica:
        replica = context.replica
        return sessionmaker(bind=autocommit(replica.engine)), replica.turns, True
    return sessionmaker(bind=autocommit(context.engine)), context.pool_turns, False


class PoolTurns:
    """Requests take their turn at the connection pool first come, first served.

    SQLAlchemy's async pool hands a returned connection to whoever asks next, and a request that
    has just arrived asks before the woken waiter runs; under sustained load the oldest waiters
    kept losing until their pool timeout (seconds of latency, then 503s, measured in bench/).
    A fair semaphore with one permit per pooled connection puts requests in line instead.
    """

    def __init__(self, size: int, timeout_seconds: float):
        self._permits = asyncio.Semaphore(size)
        self._timeout = timeout_seconds

    def turn(self) -> "PoolTurns":
        """`async with turns.turn():` holds one permit for the block."""
        return self

    async def __aenter__(self) -> None:
        if not self._permits.locked():
            # A free permit (and nobody in line) is taken at once, with no timer: arming and
            # cancelling one cost more than the rest of the turn, on every read.
            await self._permits.acquire()
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._permits.acquire()
        except TimeoutError as error:
            raise PoolTimeoutError(
                f"no database connection became free within {self._timeout} s"
            ) from error

    async def __aexit__(self, *_: object) -> None:
        self._permits.release()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one commit per request, before the response is sent.

    Errors roll everything back, except those that must keep what they wrote. A read-only
    session has nothing to commit, and skips the call (~0.2 ms of CPU). A replica's failure is
    told to the read routing, which answers the request again from the primary.
    """
    read_only = _is_read_only(request)
    session, turns, on_replica = _session_for(request, read_only)
    async with turns.turn(), session:
        try:
            yield session
        except AppError as error:
            if error.keeps_changes:
                await session.commit()
                note_write()
            else:
                await session.rollback()
            raise
        except BaseException as error:
            # Told first: a rollback on a replica's dead connection may fail in turn.
            if on_replica and is_replica_failure(error):
                note_replica_failure()
                request.app.state.context.replica.failed(error)
            await session.rollback()
            raise
        else:
            if not read_only:
                await session.commit()
                note_write()


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
