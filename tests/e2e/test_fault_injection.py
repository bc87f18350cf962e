"""Fault injection with a data-loss ledger: a live `bookly serve` on a scratch PostgreSQL cluster
and a scratch Redis, while PostgreSQL crashes under a load of writes, Redis stops or freezes, and
the database pools run dry.

Every write carries a unique client key and every answer goes into a ledger. Afterwards the
database itself is read: each 201 has its row with the content it returned, no 4xx/5xx left a row,
no key was written twice, no row appeared that nobody asked for, and nothing answered 500. A write
whose connection dropped with no answer is "unknown": either outcome is allowed for it alone, and
the ledger (saved under the test artifacts) counts them.
"""

import asyncio
import dataclasses
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from bookly.core.config import Settings
from tests.conftest import BACKEND
from tests.factories import Account, log_in, sign_up
from tests.support.catalogue import book_body, new_book
from tests.support.live import LiveServers
from tests.support.outages import assert_unavailable, timed
from tests.support.scratch import ScratchPostgres, ScratchRedis, scratch_postgres, scratch_redis
from tests.support.servers import LiveServer

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="runs in the PostgreSQL pass")

DATABASE = "bookly"
POOL_TIMEOUT_SECONDS = 2
# Accounts sign in from 127.0.0.1 many times over (the limits are tested in tests/security).
GENEROUS_LIMITS = {
    f"RATE_LIMIT_{name}": "100000/minute" for name in ("LOGIN_ACCOUNT", "LOGIN_IP", "SIGNUP_IP")
}
# The load: a few clients, each pausing between writes, bounded in count and in time.
CLIENTS = 4
MAX_WRITES_PER_CLIENT = 300
PAUSE_SECONDS = 0.05
STEADY_SECONDS = 2.0
OUTAGE_SECONDS = 2.5
# Each crash catches a few writes in flight (some in their COMMIT): two crashes catch more.
CRASHES = 2
# Longer than any answer may take: a request still unanswered by then is a hang.
REQUEST_TIMEOUT_SECONDS = 15.0
BOOK_COLUMNS = ("title", "author", "publisher", "page_count", "language", "description")


@dataclass
class Stack:
    postgres: ScratchPostgres
    redis: ScratchRedis
    settings: Settings

    @property
    def dsn(self) -> str:
        return self.postgres.dsn(DATABASE)

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.dsn)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    with scratch_postgres() as postgres, scratch_redis() as redis_server:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=await postgres.migrated_database(DATABASE),
            redis_url=redis_server.url,
            jwt_secret="fault-injection-secret-" + "x" * 48,
            db_pool_timeout_seconds=POOL_TIMEOUT_SECONDS,
        )
        yield Stack(postgres, redis_server, settings)


@pytest.fixture
def servers(stack: Stack, tmp_path: Path) -> Iterator[LiveServers]:
    """Live servers on the scratch PostgreSQL and Redis (thrown away with them: no cleanup)."""
    servers = LiveServers(stack.settings, tmp_path)
    try:
        yield servers
    finally:
        servers.kill_all()


def _start(servers: LiveServers, **env: str) -> LiveServer:
    return servers.start(
        env={**GENEROUS_LIMITS, "DB_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT_SECONDS), **env}
    )


async def _verified_accounts(client: httpx.AsyncClient, stack: Stack, count: int) -> list[Account]:
    accounts = [await sign_up(client) for _ in range(count)]
    await stack.sql(
        "UPDATE users SET is_verified = true WHERE uid = ANY($1::uuid[])",
        [account.uid for account in accounts],
    )
    return [await log_in(client, account) for account in accounts]


# --- The ledger -----------------------------------------------------------------------------


@dataclass
class Write:
    kind: Literal["book", "review"]
    key: str
    account: Account
    path: str
    sent: dict[str, Any]
    started: float
    finished: float = 0.0
    status: int | None = None  # None: the connection dropped with no answer ("unknown")
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    failure: str = ""
    hung: bool = False

    def record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "path": self.path,
            "started": round(self.started, 3),
            "finished": round(self.finished, 3),
            "status": self.status,
            "body": self.body,
            "failure": self.failure,
        }


async def _send(client: httpx.AsyncClient, ledger: list[Write], write: Write) -> Write:
    ledger.append(write)
    try:
        response = await client.post(write.path, json=write.sent, headers=write.account.headers)
    except httpx.TimeoutException as error:
        write.hung, write.failure = True, repr(error)
    except httpx.TransportError as error:
        write.failure = repr(error)
    else:
        write.status = response.status_code
        write.headers = dict(response.headers)
        write.body = response.json() if response.content else None
    write.finished = time.monotonic()
    return write


async def _writer(
    client: httpx.AsyncClient,
    account: Account,
    number: int,
    books: list[str],
    ledger: list[Write],
    stop: asyncio.Event,
) -> None:
    """Alternate: write a book, review the newest book this account has not tried to review."""
    tried: set[str] = set()
    for n in range(MAX_WRITES_PER_CLIENT):
        if stop.is_set():
            return
        key = f"c{number}-{n:03d}-{uuid.uuid4().hex[:8]}"
        target = next((uid for uid in reversed(books) if uid not in tried), None)
        if n % 2 and target is not None:
            tried.add(target)
            body = {"rating": 1 + n % 5, "review_text": f"Ledger {key}"}
            path = f"/api/v1/books/{target}/reviews"
            await _send(client, ledger, Write("review", key, account, path, body, time.monotonic()))
        else:
            body = book_body(title=f"Ledger {key}")
            write = Write("book", key, account, "/api/v1/books", body, time.monotonic())
            if (await _send(client, ledger, write)).status == 201:
                books.append(write.body["uid"])
        await asyncio.sleep(PAUSE_SECONDS)


async def _rows_by_key(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Every ledger-keyed book and review in the database, by client key."""
    books = await stack.sql(
        f"SELECT uid, owner_uid, {', '.join(BOOK_COLUMNS)} FROM books"  # noqa: S608
        " WHERE title LIKE 'Ledger %'"
    )
    reviews = await stack.sql(
        "SELECT uid, book_uid, user_uid, rating, review_text FROM reviews"
        " WHERE review_text LIKE 'Ledger %'"
    )
    rows: dict[str, list[dict[str, Any]]] = {}
    for kind, records, text in (("book", books, "title"), ("review", reviews, "review_text")):
        for record in records:
            key = record[text].removeprefix("Ledger ")
            rows.setdefault(key, []).append({"kind": kind, **dict(record)})
    return rows


def _expected_row(write: Write) -> dict[str, Any]:
    """The row a 201 promises: what was sent, under the uid the answer gave."""
    body = write.body
    if write.kind == "book":
        return {
            "kind": "book",
            "uid": uuid.UUID(body["uid"]),
            "owner_uid": write.account.uid,
            **{name: write.sent.get(name) for name in BOOK_COLUMNS},
        }
    return {
        "kind": "review",
        "uid": uuid.UUID(body["uid"]),
        "book_uid": uuid.UUID(write.path.split("/")[-2]),
        "user_uid": write.account.uid,
        "rating": write.sent["rating"],
        "review_text": write.sent["review_text"],
    }


def _answered_content(write: Write) -> dict[str, Any]:
    """What the 201 answered, in the shape of `_expected_row`."""
    body = write.body
    if write.kind == "book":
        return {
            "kind": "book",
            "uid": uuid.UUID(body["uid"]),
            "owner_uid": uuid.UUID(body["owner"]["uid"]),
            **{name: body[name] for name in BOOK_COLUMNS},
        }
    return {
        "kind": "review",
        "uid": uuid.UUID(body["uid"]),
        "book_uid": uuid.UUID(body["book_uid"]),
        "user_uid": uuid.UUID(body["user"]["uid"]),
        "rating": body["rating"],
        "review_text": body["review_text"],
    }


def _check_ledger_against(rows: dict[str, list[dict[str, Any]]], ledger: list[Write]) -> None:
    keys = {write.key for write in ledger}
    assert set(rows) <= keys, f"rows nobody asked for: {sorted(set(rows) - keys)}"
    assert [key for key, found in rows.items() if len(found) > 1] == [], "a key written twice"
    for write in ledger:
        found = rows.get(write.key, [])
        if write.status == 201:
            assert _answered_content(write) == _expected_row(write), write.record()
            assert found == [_expected_row(write)], ("lost or changed", write.record(), found)
        elif write.status is not None:
            assert found == [], ("a refused write left a row", write.record(), found)


async def _check_rating_summaries(stack: Stack) -> None:
    """Each book's rating count and sum agree with its reviews: no half-written review."""
    drifted = await stack.sql(
        "SELECT b.uid FROM books b LEFT JOIN (SELECT book_uid, count(*) AS n, sum(rating) AS s"
        " FROM reviews GROUP BY book_uid) r ON r.book_uid = b.uid"
        " WHERE b.rating_count <> coalesce(r.n, 0) OR b.rating_sum <> coalesce(r.s, 0)"
    )
    assert drifted == []


# --- PostgreSQL crashes mid-load ------------------------------------------------------------


@dataclass
class Outage:
    """Monotonic times: `pg_ctl -m immediate stop` began and returned, `pg_ctl start` began and
    returned (the cluster accepting connections again, after crash recovery)."""

    crashing: float
    down: float
    restarting: float
    up: float


async def _crash_and_restart(postgres: ScratchPostgres) -> Outage:
    await asyncio.sleep(STEADY_SECONDS)
    crashing = time.monotonic()
    await asyncio.to_thread(postgres.crash)
    down = time.monotonic()
    await asyncio.sleep(OUTAGE_SECONDS)
    restarting = time.monotonic()
    await asyncio.to_thread(postgres.start)
    return Outage(crashing, down, restarting, time.monotonic())


def _save_ledger(
    artifacts_dir: Path, name: str, outages: list[Outage], ledger: list[Write]
) -> None:
    document = {
        "statuses": Counter(str(write.status) for write in ledger),
        "outages": [dataclasses.asdict(outage) for outage in outages],
        "writes": [write.record() for write in ledger],
    }
    (artifacts_dir / f"{name}.json").write_text(json.dumps(document, indent=1, default=str))


async def test_postgres_crash_mid_load_loses_nothing(
    stack: Stack, servers: LiveServers, artifacts_dir: Path
) -> None:
    server = _start(servers)
    ledger: list[Write] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        accounts = await _verified_accounts(client, stack, CLIENTS)
        books: list[str] = []
        stop = asyncio.Event()
        writers = [
            asyncio.create_task(_writer(client, account, number, books, ledger, stop))
            for number, account in enumerate(accounts)
        ]
        outages = [await _crash_and_restart(stack.postgres) for _ in range(CRASHES)]
        await asyncio.sleep(STEADY_SECONDS)
        stop.set()
        await asyncio.gather(*writers)
    _save_ledger(artifacts_dir, "fault-ledger-postgres-crash", outages, ledger)
    assert server.process.poll() is None, "the same Bookly process serves throughout"

    statuses = Counter(write.status for write in ledger)
    unknown = [write.record() for write in ledger if write.status is None]
    print(f"ledger: {len(ledger)} writes, statuses {dict(statuses)}, unknown {len(unknown)}")
    assert [write.record() for write in ledger if write.hung] == [], "requests hung"
    assert set(statuses) <= {201, 503, None}, statuses  # no 500, nor any other surprise
    for write in ledger:
        if write.status == 503:
            assert write.headers["content-type"] == "application/problem+json"
            assert write.body["error_code"] == "service_unavailable"
            assert int(write.headers["retry-after"]) > 0

    assert {w.status for w in ledger if w.finished < outages[0].crashing} == {201}
    ends = [outage.crashing for outage in outages[1:]] + [float("inf")]
    for outage, next_crash in zip(outages, ends, strict=True):
        during = [w for w in ledger if w.started > outage.down and w.finished < outage.restarting]
        after = [w for w in ledger if w.started > outage.up and w.finished < next_crash]
        assert {w.status for w in during} == {503}
        # Service resumes without restarting Bookly: every write after the restart succeeds.
        assert {w.status for w in after} == {201}
        assert {w.kind for w in after} == {"book", "review"}

    _check_ledger_against(await _rows_by_key(stack), ledger)
    await _check_rating_summaries(stack)


# --- Redis stopped and frozen ---------------------------------------------------------------

DENYLIST_LOADED = "bookly:denylist:loaded"


async def test_redis_stopped_or_frozen_fails_closed_and_forgets_no_logout(
    stack: Stack, servers: LiveServers
) -> None:
    server = _start(servers)
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        reader, leaver = await _verified_accounts(client, stack, 2)
        book = await new_book(client, reader)
        logout = await client.post("/api/v1/auth/logout", headers=leaver.headers)
        assert logout.status_code == 204
        await _assert_revoked(client, leaver)

        stack.redis.freeze()
        try:
            await _check_redis_outage(client, stack, reader, leaver, book["uid"])
        finally:
            stack.redis.thaw()
        await _assert_signed_in(client, reader)
        await _assert_revoked(client, leaver)

        stack.redis.kill()
        await _check_redis_outage(client, stack, reader, leaver, book["uid"])
        stack.redis.restart()  # empty: the denylist is rebuilt from the sessions table
        redis = Redis.from_url(stack.redis.url)
        try:
            assert await redis.exists(DENYLIST_LOADED) == 0
            await _assert_revoked(client, leaver)
            assert await redis.exists(DENYLIST_LOADED) == 1
        finally:
            await redis.aclose()
        await _assert_signed_in(client, reader)
    assert server.process.poll() is None


async def _check_redis_outage(
    client: httpx.AsyncClient, stack: Stack, reader: Account, leaver: Account, book_uid: str
) -> None:
    key = uuid.uuid4().hex
    for request in (
        client.get("/api/v1/users/me", headers=reader.headers),
        client.get("/api/v1/users/me", headers=leaver.headers),  # fails closed, never 200
        client.post("/api/v1/books", json=book_body(title=f"Ledger {key}"), headers=reader.headers),
    ):
        response, seconds = await timed(request)
        assert_unavailable(response)
        assert seconds < 1.0
    for path in (f"/api/v1/books/{book_uid}", "/api/v1/books", f"/api/v1/users/{reader.uid}"):
        response, seconds = await timed(client.get(path))
        assert response.status_code == 200, response.text
        assert seconds < 1.0
    assert await stack.sql("SELECT uid FROM books WHERE title = $1", f"Ledger {key}") == []


async def _assert_signed_in(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200, response.text


async def _assert_revoked(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.get("/api/v1/users/me", headers=account.headers)
    assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")


# --- The database pool runs dry -------------------------------------------------------------

POOL_SIZE = 2


async def test_pool_exhaustion_answers_fast_503_and_leaks_nothing(
    stack: Stack, servers: LiveServers
) -> None:
    # A statement timeout longer than the test holds the lock: the held requests finish normally.
    server = _start(servers, DB_POOL_SIZE=str(POOL_SIZE), DB_STATEMENT_TIMEOUT_MS="30000")
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        owner, reviewer = await _verified_accounts(client, stack, 2)
        book = await new_book(client, owner)
        path = f"/api/v1/books/{book['uid']}"
        key = uuid.uuid4().hex

        blocker = await asyncpg.connect(stack.dsn)
        try:
            locked = blocker.transaction()
            await locked.start()
            # Whatever touches `books` now waits, holding the connection it has.
            await blocker.execute("LOCK TABLE books IN ACCESS EXCLUSIVE MODE")
            # The sessions' pool runs dry: two writes wait, the owner's change and a review
            # whose client gives up waiting (each signed in first, on the hot reads' pool).
            change = asyncio.create_task(
                client.patch(path, json={"description": "Changed."}, headers=owner.headers)
            )
            abandoned = asyncio.create_task(
                _abandoned_post(server.url, f"{path}/reviews", reviewer)
            )
            await _until_waiting_on_locks(stack, POOL_SIZE)
            # Then the hot reads' own pool (core/reads.py): two reads of the book wait.
            held_reads = [asyncio.create_task(client.get(path)) for _ in range(POOL_SIZE)]
            await _until_waiting_on_locks(stack, 2 * POOL_SIZE)
            probes = await asyncio.gather(
                timed(client.get(path)),  # a hot read
                timed(client.get(f"/api/v1/users/{owner.uid}")),  # a session's read
                timed(  # a write, which signs its caller in first
                    client.post(
                        "/api/v1/books",
                        json=book_body(title=f"Ledger {key}"),
                        headers=owner.headers,
                    )
                ),
            )
            for response, seconds in probes:
                assert_unavailable(response)
                assert seconds < POOL_TIMEOUT_SECONDS + 1
            assert len(await _bookly_backends(stack)) == 2 * POOL_SIZE  # each pool's cap held
            await locked.rollback()
        finally:
            await blocker.close()

        changed = await change
        assert changed.status_code == 200, changed.text
        assert changed.json()["description"] == "Changed."
        for read in held_reads:
            assert (await read).status_code == 200
        assert await abandoned == "gave up"
        await _until_pool_idle(client)
        # A connection counts as returned a moment before its reset (ROLLBACK) has finished.
        for _ in range(50):
            backends = await _bookly_backends(stack)
            if set(backends) <= {"idle"}:
                break
            await asyncio.sleep(0.05)
        assert len(backends) <= 2 * POOL_SIZE
        assert set(backends) <= {"idle"}, "a transaction left open"
        # Every connection serves again, many requests over.
        answers = await asyncio.gather(
            *(client.get(path) for _ in range(3 * POOL_SIZE)),
            *(client.get(f"/api/v1/users/{owner.uid}") for _ in range(3 * POOL_SIZE)),
            client.get("/api/v1/users/me", headers=owner.headers),
        )
        assert {response.status_code for response in answers} == {200}
    assert await stack.sql("SELECT uid FROM books WHERE title = $1", f"Ledger {key}") == []
    assert server.process.poll() is None


async def _bookly_backends(stack: Stack) -> list[str]:
    """The state of each PostgreSQL backend serving Bookly."""
    rows = await stack.sql("SELECT state FROM pg_stat_activity WHERE application_name = 'bookly'")
    return [row["state"] for row in rows]


async def _abandoned_post(base_url: str, path: str, account: Account) -> str:
    """A client that stops waiting (and closes its connection) while the server still works."""
    async with httpx.AsyncClient(base_url=base_url, timeout=1.0) as client:
        try:
            await client.post(
                path, json={"rating": 3, "review_text": "Patience."}, headers=account.headers
            )
        except httpx.ReadTimeout:
            return "gave up"
    return "answered"


async def _until_waiting_on_locks(stack: Stack, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = await stack.sql(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = 'bookly' AND wait_event_type = 'Lock'"
        )
        if len(waiting) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} Bookly connections never waited on the lock together")


async def _until_pool_idle(client: httpx.AsyncClient) -> None:
    """Bookly's own gauges of connections in use, of both pools, drop back to 0: none leaked."""
    gauges = ("bookly_db_pool_connections_in_use ", "bookly_db_read_pool_connections_in_use ")
    deadline = time.monotonic() + 10
    in_use: list[str] = []
    while time.monotonic() < deadline:
        scrape = (await client.get("/metrics")).text
        in_use = [line for line in scrape.splitlines() if line.startswith(gauges)]
        if len(in_use) == len(gauges) and all(line.split()[-1] == "0.0" for line in in_use):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"connections still in use: {in_use}")
