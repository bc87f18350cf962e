"""What a transaction-pooling proxy (PgBouncer's `pool_mode = transaction`) asks of every
connection Bookly opens, under `DB_POOLER=transaction`; without it, nothing here changes.

Behind such a pooler a client connection borrows a server connection for one transaction (for
one statement outside a transaction), and the next transaction may run on another one. So
nothing may outlive a transaction on the server:

- Named prepared statements: asyncpg's statement cache names each statement and runs it again
  later by name, on whatever server connection the pooler lends then ("prepared statement
  "__asyncpg_stmt_1__" already exists", or "does not exist"). With the cache off, asyncpg runs
  the unnamed statement, and sends its Parse again with every Bind (Parse, Bind, Execute, Sync:
  one exchange, which the pooler keeps on one server connection). SQLAlchemy's dialect prepares
  every statement itself, under a name it asks for; the name "" makes it the unnamed statement
  too. (PgBouncer 1.21 can track named statements itself; Debian 12 ships 1.18.)
- Session state: Bookly sets none (no `SET`, advisory lock, `LISTEN` or temporary table); the
  one setting it needs, the statement timeout, was a startup parameter, which PgBouncer refuses
  ("unsupported startup parameter: statement_timeout") or, told to ignore it, drops. Behind a
  pooler it is the role's default in the database instead, stored by `bookly migrate`: every
  server connection the pooler opens starts with it.
- Type look-ups: for a type it has no codec for (`varchar[]`, say), asyncpg asks the catalogue
  on each new connection, between `set_config('jit', 'off')` and setting it back: three
  statements, which a pooler may spread over three server connections, leaving the setting on
  another client's and reading the catalogue with JIT on (seconds under load, past the
  statement timeout). Bookly's statements use built-in types only (arrays as `text[]`);
  tests/core/test_type_lookups.py keeps it so.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy.engine import make_url

from bookly.core.config import Settings


def behind_pooler(settings: Settings) -> bool:
    return settings.db_pooler == "transaction"


def plain_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://…`) as asyncpg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def server_settings(settings: Settings) -> dict[str, str]:
    """Startup parameters: the statement timeout goes with them only on direct connections."""
    parameters = {"application_name": "bookly"}
    if settings.db_statement_timeout_ms and not behind_pooler(settings):
        parameters["statement_timeout"] = str(settings.db_statement_timeout_ms)
    return parameters


def asyncpg_arguments(settings: Settings) -> dict[str, Any]:
    """Connection arguments of asyncpg, for the hot reads' pool and SQLAlchemy's connections."""
    arguments: dict[str, Any] = {"server_settings": server_settings(settings)}
    if behind_pooler(settings):
        arguments["statement_cache_size"] = 0
    return arguments


def sqlalchemy_connect_args(settings: Settings) -> dict[str, Any]:
    arguments = {**asyncpg_arguments(settings), "timeout": settings.db_pool_timeout_seconds}
    if behind_pooler(settings):
        # SQLAlchemy keeps its prepared statements per connection and runs them again: unnamed
        # and marked unprepared by asyncpg (its cache is off), each run parses again in the same
        # exchange, so reusing one costs no round trip and names nothing on the server.
        arguments["prepared_statement_name_func"] = _unnamed
    return arguments


def _unnamed() -> str:
    return ""


async def store_statement_timeout(settings: Settings) -> None:
    """Behind a pooler, make `DB_STATEMENT_TIMEOUT_MS` (0: none) the default of the role Bookly
    connects as, in its database (`ALTER ROLE … IN DATABASE … SET`): server connections opened
    from then on start with it, on the primary and, as role settings replicate, on replicas.
    Connections the pooler holds already keep the old value until it replaces them (PgBouncer:
    `RECONNECT`, or `server_lifetime`)."""
    if not behind_pooler(settings):
        return
    connection = await asyncpg.connect(
        plain_dsn(settings.database_url),
        timeout=settings.db_pool_timeout_seconds,
        **asyncpg_arguments(settings),
    )
    try:
        database = await connection.fetchval("SELECT current_database()")
        target = f"ROLE CURRENT_USER IN DATABASE {_identifier(database)}"
        milliseconds = settings.db_statement_timeout_ms
        if milliseconds:
            await connection.execute(f"ALTER {target} SET statement_timeout = {milliseconds:d}")
        else:
            await connection.execute(f"ALTER {target} RESET statement_timeout")
    finally:
        await connection.close()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Kept:
    connection: asyncpg.Connection
    # Each statement's description (its parameters' and columns' types), by SQL.
    statements: dict[str, PreparedStatement] = field(default_factory=dict)


class PoolerConnections:
    """The hot reads' connections behind a pooler, kept by the reader itself so that each
    statement is described once per connection, not once per read.

    asyncpg's pool would keep them too, but each time it takes a connection back it invalidates
    the statements prepared on it; and with its cache off, a plain `fetch` describes its
    statement first (Parse, Describe, Sync), then runs it: two round trips a read through the
    pooler, where a direct read with the cache on takes one. A statement described here stays
    unnamed and marked unprepared, so each run sends its Parse again with its Bind (one
    exchange, on one server connection). Callers hold one of the reader's turns (`PoolTurns`),
    which bound how many connections there are; a connection that failed other than by an
    error the server answered is closed, and the next read makes a new one.
    """

    def __init__(self, dsn: str, timeout: float, arguments: dict[str, Any]):
        self._dsn = dsn
        self._timeout = timeout
        self._arguments = arguments
        self._idle: list[_Kept] = []
        self.in_use = 0

    async def fetch(self, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
        kept = self._idle.pop() if self._idle else await self._connect()
        self.in_use += 1
        try:
            statement = kept.statements.get(sql)
            if statement is None:
                statement = kept.statements[sql] = await kept.connection.prepare(sql, name="")
            records: list[asyncpg.Record] = await statement.fetch(*arguments)
        except asyncpg.PostgresError:
            self._idle.append(kept)  # the server answered: the connection is in step
            raise
        except BaseException:
            kept.connection.terminate()  # a broken or cancelled exchange: never reused
            raise
        else:
            self._idle.append(kept)
        finally:
            self.in_use -= 1
        return records

    async def _connect(self) -> _Kept:
        connection = await asyncpg.connect(self._dsn, timeout=self._timeout, **self._arguments)
        return _Kept(connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(kept.connection.close() for kept in idle))
