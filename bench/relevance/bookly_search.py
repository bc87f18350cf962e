"""Bookly as the benchmark searches it: a fresh database (a scratch PostgreSQL database, or a
temporary SQLite file) migrated by `bookly migrate`, the goodbooks books stored in it, and a live
`bookly serve` answering `GET /api/v1/books?q=`."""

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from catalogue import GoodBook, store_books
from scoring import TOP

from bookly.core.config import Settings
from bookly.main import create_context

ROOT = Path(__file__).resolve().parents[2]
# The tests' server processes (tests/support/servers.py: standard library and httpx only).
sys.path.insert(0, str(ROOT))
from tests.support.servers import BOOKLY, LiveServer, free_port, wait_until_healthy  # noqa: E402

# The server on core 0, as bench/run.py pins it; the client measures from wherever it runs.
SERVER_CORE = "0"


@contextmanager
def fresh_database(backend: str, admin_url: str, scratch: Path) -> Iterator[str]:
    """The URL of an empty database, dropped (PostgreSQL) or left in `scratch` (SQLite)."""
    if backend == "sqlite":
        yield f"sqlite:///{scratch / 'relevance.db'}"
        return
    name = f"bookly_relevance_{uuid.uuid4().hex[:8]}"
    asyncio.run(_administer(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_administer(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _administer(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def bookly_env(database_url: str) -> dict[str, str]:
    """This environment, less whatever would point Bookly elsewhere: no Redis, in-process
    rate limits, quiet logs."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOOKLY_", "RATE_LIMIT_", "DB_", "REDIS_", "DATABASE_", "MAIL_"))
    }
    env.update(ENVIRONMENT="development", DATABASE_URL=database_url, LOG_LEVEL="WARNING")
    return env


def migrate(database_url: str, scratch: Path) -> None:
    done = subprocess.run(
        [str(BOOKLY), "migrate"],
        env=bookly_env(database_url),
        cwd=scratch,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"bookly migrate failed:\n{done.stdout}{done.stderr}")


async def load(database_url: str, books: Sequence[GoodBook]) -> dict[uuid.UUID, int]:
    """Store the books; returns uid -> goodbooks id."""
    settings = Settings(_env_file=None, database_url=database_url, redis_url=None)
    context = create_context(settings)
    try:
        stored = await store_books(context, list(books))
    finally:
        await context.reader.close()
        await context.engine.dispose()
    if not settings.is_sqlite:
        # Word statistics for the planner, as autovacuum keeps them in a catalogue that grew.
        await _administer(database_url, "ANALYZE books")
    return stored


@contextmanager
def serving(database_url: str, scratch: Path) -> Iterator[str]:
    """A live `bookly serve` on the database, its output in `scratch`; its base URL. Stopped
    (its whole process group) on the way out."""
    port = free_port()
    command = [str(BOOKLY), "serve", "--port", str(port)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", SERVER_CORE, *command]
    server = LiveServer.start(
        "bookly", command, port=port, env=bookly_env(database_url), cwd=scratch
    )
    try:
        wait_until_healthy(server)
        yield server.url
    finally:
        server.stop()


def search(
    url: str, queries: Sequence[str], books_by_uid: dict[uuid.UUID, int], rounds: int
) -> tuple[list[list[int]], list[float], list[float]]:
    """Every query through `GET /api/v1/books?q=` (relevance, the default sort with `q`), one
    after another on one connection, `rounds` times: the first round's top books (goodbooks
    ids), and the seconds each search of the later rounds took, as the client saw them; then
    the same for `GET /api/v1/books/suggest?q=` (only timed)."""
    answers: list[list[int]] = []
    seconds: list[float] = []
    suggest_seconds: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for path, timed in (("/api/v1/books", seconds), ("/api/v1/books/suggest", suggest_seconds)):
            for round_number in range(rounds):
                for q in queries:
                    started = time.perf_counter()
                    response = client.get(path, params={"q": q})
                    took = time.perf_counter() - started
                    response.raise_for_status()
                    if round_number > 0:  # the first round warms the server up
                        timed.append(took)
                    elif timed is seconds:
                        items = response.json()["items"][:TOP]
                        answers.append([books_by_uid[uuid.UUID(item["uid"])] for item in items])
    return answers, seconds, suggest_seconds
