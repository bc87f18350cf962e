"""Test fixtures: a real database built by migrations (SQLite or PostgreSQL), real Redis,
the app driven in-process through httpx.

`BOOKLY_TEST_BACKEND=sqlite` (default) or `postgres` picks the backend; `make test` runs both.
PostgreSQL tests run in a database of their own, created and dropped here, so parallel runs
don't meet. `TEST_POSTGRES_URL` / `TEST_REDIS_URL` point at the servers. With
`BOOKLY_TEST_POOLER=pgbouncer` (PostgreSQL only) the tests, the app and the servers they start
reach that database only through a PgBouncer in transaction pooling mode started here
(tests/support/pgbouncer.py), under `DB_POOLER=transaction`, as a deployment behind a pooler
does; `make test` runs its black-box part (tests/e2e, tests/security) so.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from redis.asyncio import Redis
from sqlalchemy import text
from sqlmodel import SQLModel

from bookly.cli import alembic_config
from bookly.core.config import Settings
from bookly.core.context import AppContext
from bookly.core.pooler import store_statement_timeout
from bookly.main import create_app
from tests.support.pgbouncer import PgBouncer, pgbouncer

BACKEND = os.environ.get("BOOKLY_TEST_BACKEND", "sqlite")
THROUGH_POOLER = os.environ.get("BOOKLY_TEST_POOLER") == "pgbouncer"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")

uses_redis = pytest.mark.skipif(BACKEND != "postgres", reason="Redis runs with the PostgreSQL pass")
postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="runs in the PostgreSQL pass")


def pytest_report_header() -> str:
    extra = f" + Redis ({REDIS_URL})" if BACKEND == "postgres" else ""
    return f"bookly backend: {BACKEND}{extra}"


@dataclass
class Database:
    """The tests' database: its URL, and the PgBouncer in front of it in the pooled pass."""

    url: str
    pooler: PgBouncer | None = None


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if BACKEND == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'bookly.db'}"
        command.upgrade(alembic_config(url), "head")
        yield Database(url)
        return
    name = f"bookly_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        command.upgrade(alembic_config(url), "head")
        if THROUGH_POOLER:
            yield from _through_pgbouncer(url, name)
        else:
            yield Database(url)
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _through_pgbouncer(url: str, database: str) -> Iterator[Database]:
    """The database's URL through a PgBouncer of its own. The statement timeout is stored as
    the role's default there first (what `bookly migrate` does behind a pooler), so that every
    server connection the pooler opens starts with it."""
    direct = Settings(_env_file=None, database_url=url, db_pooler="transaction")  # type: ignore[call-arg]
    asyncio.run(store_statement_timeout(direct))
    server = urlsplit(POSTGRES_ADMIN_URL)
    with pgbouncer(server.hostname or "127.0.0.1", server.port or 5432) as bouncer:
        yield Database(bouncer.url(database), bouncer)


@pytest.fixture(scope="session")
def database_url(database: Database) -> str:
    return database.url


async def _admin_sql(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        db_pooler="transaction" if THROUGH_POOLER else "none",
        redis_url=REDIS_URL if BACKEND == "postgres" else None,
        jwt_secret="test-secret-" + "x" * 64,
        # Tests dispatch the outbox themselves (tests/mail); nothing sends behind their back.
        outbox_drain_in_process=False,
        # Tests sign many accounts up from one address; tests/security checks the real limits.
        rate_limit_signup_ip="1000/minute",
        # Bursts in tests are about races, not load shedding (tests/core/test_passwords.py);
        # a loaded CI machine's slow hashes must not shed them.
        password_hash_wait_budget_seconds=60,
        # CI shares two cores with PostgreSQL, Redis and live servers: a stall of a few hundred
        # ms must not read as an outage. 0.5 s is the most the contract's 1 s answer allows, and
        # the outage tests (tests/core, tests/e2e) still prove that answer within it.
        redis_timeout_seconds=0.5,
    )


class Clock:
    """A clock tests can move forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    client: httpx.AsyncClient
    context: AppContext
    clock: Clock


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    app = create_app(settings)
    clock = Clock()
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        context.clock = clock
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bookly.test") as client:
            try:
                yield Harness(client=client, context=context, clock=clock)
            finally:
                await _empty_everything(context)


async def _empty_everything(context: AppContext) -> None:
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    async with context.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    if context.settings.redis_url is not None:
        # Cleanup is not what is under test: a plain client, without the app's short timeouts.
        async with Redis.from_url(context.settings.redis_url) as cleaner:
            await cleaner.flushdb()


@pytest.fixture
def client(harness: Harness) -> httpx.AsyncClient:
    return harness.client


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    connection = Redis.from_url(REDIS_URL, decode_responses=True)
    yield connection
    await connection.aclose()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("BOOKLY_TEST_ARTIFACTS", "var/test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
