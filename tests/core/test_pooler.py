"""Bookly behind a real PgBouncer in transaction pooling mode (`DB_POOLER=transaction`).

A database of this module's own is migrated through the pooler by `bookly migrate`, which stores
the statement timeout as the role's default there; then live `bookly serve` processes (and the
in-process app) talk to it only through PgBouncer (`default_pool_size = 10`). Four processes
with pools of 10 and 10 hold dozens of client connections while PostgreSQL sees at most the
pooler's 10; every answer is right (a named statement reused across transactions would fail
with "prepared statement … does not exist / already exists"); a statement over the limit is
cancelled and answered 503. The multi-process tests of tests/e2e/test_scale_out.py run here
again, through the pooler.
"""

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from bookly.core.config import Settings
from bookly.core.pooler import plain_dsn
from tests.conftest import POSTGRES_ADMIN_URL, Harness, _admin_sql, postgres_only
from tests.e2e.test_scale_out import (
    test_each_process_drains_the_outbox_and_no_email_goes_twice,
    test_two_processes_share_revocations_and_login_failures,
)
from tests.factories import user
from tests.support.catalogue import book_body, new_book, new_review
from tests.support.live import LiveServers
from tests.support.mail import smtp
from tests.support.outages import assert_unavailable, timed
from tests.support.pgbouncer import PgBouncer, pgbouncer
from tests.support.servers import BOOKLY, LiveServer, wait_until_healthy

pytestmark = postgres_only

API = "/api/v1"
POOL_SIZE = 10
STATEMENT_TIMEOUT_MS = 1500


@dataclass
class Pooled:
    bouncer: PgBouncer
    database: str

    @property
    def url(self) -> str:
        return self.bouncer.url(self.database)

    @property
    def direct_dsn(self) -> str:
        """The same database straight from PostgreSQL, behind the pooler's back."""
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}"


@pytest.fixture(scope="module")
def pooled() -> Iterator[Pooled]:
    database = f"bookly_pooled_{uuid.uuid4().hex[:12]}"
    server = urlsplit(POSTGRES_ADMIN_URL)
    asyncio.run(_admin_sql(f'CREATE DATABASE "{database}"'))
    try:
        with pgbouncer(
            server.hostname or "127.0.0.1", server.port or 5432, pool_size=POOL_SIZE
        ) as bouncer:
            pooled = Pooled(bouncer, database)
            _migrate_through_the_pooler(pooled.url)
            yield pooled
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _migrate_through_the_pooler(url: str) -> None:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=url,
        DB_POOLER="transaction",
        DB_STATEMENT_TIMEOUT_MS=str(STATEMENT_TIMEOUT_MS),
    )
    migrated = subprocess.run(
        [str(BOOKLY), "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


@pytest.fixture
def settings(settings: Settings, pooled: Pooled) -> Settings:
    """Everything the tests and their servers do goes through the pooler."""
    return settings.model_copy(update={"database_url": pooled.url, "db_pooler": "transaction"})


def _start(live_servers: LiveServers, count: int) -> list[LiveServer]:
    # What these tests check is that every answer through the pooler is right, not how fast it
    # comes: a read may wait its turn behind 64 concurrent requests sharing the pooler's 10
    # server connections for longer than the default 3 s on a loaded CI machine (which answered
    # 503 there), so the pool's wait gets ample headroom.
    env = {"DB_POOL_SIZE": str(POOL_SIZE), "DB_POOL_TIMEOUT_SECONDS": "30"}
    servers = [live_servers.start(env=env, wait=False) for _ in range(count)]
    for server in servers:
        wait_until_healthy(server)
    return servers


async def test_four_processes_share_the_poolers_ten_server_connections(
    live_servers: LiveServers, harness: Harness, pooled: Pooled
) -> None:
    servers = _start(live_servers, 4)
    owner = await user(harness.client, harness.context)
    books = [await new_book(harness.client, owner, title=f"Garden {n}") for n in range(8)]
    await new_review(harness.client, await user(harness.client, harness.context), books[0]["uid"])
    requests = _mixed_requests(books, owner.uid, owner.headers)

    peaks = _Peaks()
    sampling = asyncio.create_task(peaks.sample(pooled))
    try:
        answers = await asyncio.to_thread(_run_concurrently, servers, requests, 64)
    finally:
        sampling.cancel()

    unexpected = [answer for answer in answers if not answer[3]]
    assert unexpected == [], (unexpected[:10], _warnings(servers)[:10])
    assert 0 < peaks.server_connections <= POOL_SIZE, peaks
    # Bookly held more connections than PostgreSQL saw: the pooler shared them out.
    assert peaks.client_connections > POOL_SIZE, peaks


def _warnings(servers: list[LiveServer]) -> list[str]:
    """What the servers logged at WARNING and above: why an answer was not the expected one."""
    return [
        line
        for server in servers
        for line in server.log().splitlines()
        if '"level":"WARNING"' in line or '"level":"ERROR"' in line
    ]


Request = tuple[str, str, dict[str, Any] | None, dict[str, str] | None, int]


def _mixed_requests(
    books: list[dict[str, Any]], owner: uuid.UUID, headers: dict[str, str]
) -> list[Request]:
    """What a busy site serves: the hot reads (a book, lists, search: asyncpg), reads through
    sessions (reviews, a profile), the caller behind a token, and writes."""
    requests: list[Request] = []
    for n in range(24):
        uid = books[n % len(books)]["uid"]
        requests += [
            ("GET", f"{API}/books/{uid}", None, None, 200),
            ("GET", f"{API}/books?limit=20", None, None, 200),
            ("GET", f"{API}/books?q=garden&limit=5", None, None, 200),
            ("GET", f"{API}/books?q=gardn+{n}", None, None, 200),
            ("GET", f"{API}/books/{uid}/reviews", None, None, 200),
            ("GET", f"{API}/users/{owner}", None, None, 200),
            ("GET", f"{API}/users/me", None, headers, 200),
            ("POST", f"{API}/books", book_body(title=f"Written {n}"), headers, 201),
            ("PATCH", f"{API}/books/{uid}", {"page_count": 100 + n}, headers, 200),
        ]
    return requests


def _run_concurrently(
    servers: list[LiveServer], requests: list[Request], concurrency: int
) -> list[tuple[str, str, int, bool, str]]:
    """Each request's method, path, status, whether it was the expected one, and the body of
    an unexpected answer (its problem document says why)."""

    def send(numbered: tuple[int, Request]) -> tuple[str, str, int, bool, str]:
        n, (method, path, body, headers, expected) = numbered
        server = servers[n % len(servers)]
        response = httpx.request(method, server.url + path, json=body, headers=headers, timeout=60)
        ok = response.status_code == expected
        return method, path, response.status_code, ok, "" if ok else response.text[:300]

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(send, enumerate(requests)))


@dataclass
class _Peaks:
    server_connections: int = 0
    client_connections: int = 0

    async def sample(self, pooled: Pooled) -> None:
        """The most backends PostgreSQL ran for the database at once (pg_stat_activity), and
        the most client connections PgBouncer held for it, until cancelled."""
        observer = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            while True:
                backends = await observer.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", pooled.database
                )
                pool = await asyncio.to_thread(pooled.bouncer.pool, pooled.database)
                clients = pool.get("cl_active", 0) + pool.get("cl_waiting", 0)
                self.server_connections = max(self.server_connections, backends)
                self.client_connections = max(self.client_connections, clients)
                await asyncio.sleep(0.02)
        finally:
            await observer.close()


async def test_a_statement_over_the_timeout_is_cancelled_through_the_pooler(
    live_servers: LiveServers, harness: Harness, pooled: Pooled, settings: Settings
) -> None:
    """The timeout is no startup parameter (PgBouncer would refuse the connection): it is the
    role's default in the database, which `bookly migrate` stored, so every server connection
    the pooler opens has it."""
    (server,) = _start(live_servers, 1)
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)

    through_pooler = await asyncpg.connect(plain_dsn(settings.database_url), statement_cache_size=0)
    try:
        assert (
            await through_pooler.fetchval("SHOW statement_timeout") == f"{STATEMENT_TIMEOUT_MS}ms"
        )
    finally:
        await through_pooler.close()

    blocker = await asyncpg.connect(pooled.direct_dsn)
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE books IN ACCESS EXCLUSIVE MODE")
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                # The hot read (asyncpg's pool) and a read through a session (SQLAlchemy's).
                for path in (f"{API}/books/{book['uid']}", f"{API}/books/{book['uid']}/reviews"):
                    response, seconds = await timed(client.get(path))
                    assert_unavailable(response)
                    # Cut by the statement timeout (1.5 s), not by any wait of the pool.
                    assert STATEMENT_TIMEOUT_MS / 1000 <= seconds < 3, seconds
    finally:
        await blocker.close()
    assert "canceling statement due to statement timeout" in server.log()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.get(f"{API}/books/{book['uid']}")).status_code == 200


__all__ = [
    "smtp",
    "test_each_process_drains_the_outbox_and_no_email_goes_twice",
    "test_two_processes_share_revocations_and_login_failures",
]
