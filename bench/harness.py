"""The moving parts of the benchmark: the database, accounts, pinned servers, and wrk runs."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from alembic import command

from bookly.auth.service import ClientInfo, start_session
from bookly.cli import alembic_config
from bookly.core.config import Settings
from bookly.main import create_context
from bookly.models import User

ROOT = Path(__file__).resolve().parents[1]
# bench/ runs as scripts (`python bench/run.py`); the repository root on the path lets it share
# the tests' server processes and PgBouncer (tests/support/servers.py and pgbouncer.py: standard
# library and httpx only).
sys.path.insert(0, str(ROOT))
from tests.support.pgbouncer import pgbouncer as pgbouncer  # noqa: E402  (for run.py)
from tests.support.servers import LiveServer, free_port, wait_until_listening  # noqa: E402

BENCH_DIR = ROOT / "bench"
WRK_DIR = BENCH_DIR / "wrk"
VAR_DIR = ROOT / "var" / "bench"
BIN = Path(sys.executable).parent

# Both servers verify the same tokens, so they share the secret. Tokens outlive any run.
JWT_SECRET = "bookly-bench-secret-" + "0123456789abcdef" * 3
PASSWORD = "bench-password-0123"
SERVER_CORE = "0"
LOAD_CORE = "1"


@dataclass(frozen=True)
class Target:
    """Where a run happens: the PostgreSQL database (created if missing) and Redis."""

    admin_url: str  # any database on the server, to CREATE DATABASE from
    database: str
    redis_url: str

    @property
    def database_url(self) -> str:
        return f"{self.admin_url.rsplit('/', 1)[0]}/{self.database}"

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="production",
            database_url=self.database_url,
            redis_url=self.redis_url,
            jwt_secret=JWT_SECRET,
            access_token_ttl_seconds=24 * 3600,
        )

    def server_env(self) -> dict[str, str]:
        """The same settings for Bookly and the baseline; LOG_LEVEL from the environment, where
        `run.py --log-level` puts it (INFO by default: an access line per request)."""
        return {
            **os.environ,
            "ENVIRONMENT": "production",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "JWT_SECRET": JWT_SECRET,
            "ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "DB_POOL_SIZE": "10",
        }


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """`--admin-url`, `--database` and `--redis-url`: where a `Target` is (env: BENCH_*)."""
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bookly_bench"))
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )


async def ensure_database(target: Target) -> None:
    connection = await asyncpg.connect(target.admin_url)
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", target.database
        )
        if not exists:
            await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


async def drop_database(target: Target) -> None:
    connection = await asyncpg.connect(target.admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await connection.close()


def migrate(target: Target) -> None:
    command.upgrade(alembic_config(target.settings().database_url), "head")


async def book_count(target: Target) -> int:
    connection = await asyncpg.connect(target.database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM books")
        return count
    finally:
        await connection.close()


def seed(target: Target, *, users: int, books: int, reviews: int) -> None:
    """`bookly seed` (bulk COPY), unless the database already holds that many books."""
    present = asyncio.run(book_count(target))
    if books == 0 or present >= books:
        print(f"{target.database}: {present} books present, not seeding", flush=True)
        return
    print(f"{target.database}: seeding {books} books, {reviews} reviews, {users} users", flush=True)
    command = [str(BIN / "bookly"), "seed", "--users", str(users), "--books", str(books)]
    command += ["--reviews", str(reviews), "--random-seed", "7"]
    subprocess.run(command, env=target.server_env(), check=True)


@dataclass(frozen=True)
class Account:
    email: str
    access_token: str


async def mint_accounts(target: Target, count: int) -> list[Account]:
    """Verified accounts, each signed in once through Bookly's own `start_session` (what login
    does after the password check, which the benchmark needn't pay for)."""
    context = create_context(target.settings())
    tag = uuid.uuid4().hex[:8]
    try:
        password_hash = await context.passwords.hash(PASSWORD)
        async with context.sessionmaker.begin() as db:
            users = [
                User(
                    username=f"bench_{tag}_{n}",
                    email=f"bench.{tag}.{n}@example.com",
                    first_name="Bench",
                    last_name=f"Reader {n}",
                    password_hash=password_hash,
                    is_verified=True,
                )
                for n in range(count)
            ]
            db.add_all(users)
            await db.flush()
            client = ClientInfo(user_agent="bookly-bench", ip="127.0.0.1")
            return [
                Account(user.email, (await start_session(context, db, user, client)).access_token)
                for user in users
            ]
    finally:
        if context.redis is not None:
            await context.redis.aclose()
        await context.engine.dispose()


class Server(LiveServer):
    """A server under load, and what /proc says it spends."""

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server's processes (its process group: with
        `--workers N`, the workers; all their threads)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue  # gone since the listing
            if int(fields[2]) == self.process.pid:  # its process group
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"{self.name} has no VmRSS")


def bookly_command(port: int) -> list[str]:
    return [str(BIN / "bookly"), "serve", "--port", str(port)]


def baseline_command(port: int) -> list[str]:
    """uvicorn as `bookly serve` runs it: uvloop, httptools, no access log, no server header."""
    return [
        str(BIN / "uvicorn"),
        "baseline:app",
        "--app-dir",
        str(BENCH_DIR),
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-server-header",
    ]


@contextmanager
def serving(
    name: str,
    command: Callable[[int], list[str]],
    target: Target,
    env: dict[str, str] | None = None,
    *,
    pinned: bool = True,
) -> Iterator[Server]:
    """One server process on a free port, pinned to SERVER_CORE (unless not `pinned`), its output
    in VAR_DIR, stopped (its whole group) on the way out; `env` adds to (or replaces) the target's
    settings."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = ["taskset", "-c", SERVER_CORE, *command(port)] if pinned else command(port)
    environment = {**target.server_env(), **(env or {})}
    server = Server.start(name, argv, port=port, env=environment, cwd=ROOT, log_dir=VAR_DIR)
    try:
        # The baseline has no health route; both run one process, listening once the app is up.
        wait_until_listening(server)
        yield server
    finally:
        server.stop()


def fetch(url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.geturl() != url:  # a redirect is not an answer worth measuring
                return 399, f"redirected to {response.geturl()}".encode()
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non2xx: int
    extra: dict[str, int] = field(default_factory=dict)
    # CPU the server spent during the run; per request, the figure machine noise moves least.
    server_cpu_seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.server_cpu_seconds / max(1, self.requests)

    @property
    def clean(self) -> bool:
        return self.socket_errors == 0 and self.non2xx == 0 and self.requests > 0


def wrk_command(
    url: str, script: str, args: list[str], seconds: float, connections: int, pinned: bool = True
) -> list[str]:
    """wrk on LOAD_CORE (unless not `pinned`)."""
    return [
        *(["taskset", "-c", LOAD_CORE] if pinned else []),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / script),
        url,
        "--",
        *args,
    ]


def parse_wrk(output: str) -> Load:
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            raw = json.loads(line.removeprefix("WRK_RESULT "))
            return Load(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1e3,
                p90_ms=raw["p90_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
                max_ms=raw["max_us"] / 1e3,
                socket_errors=raw["socket_errors"],
                non2xx=raw["non2xx"],
                extra=raw["extra"],
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run_wrk(
    url: str, script: str, args: list[str], seconds: float, connections: int, pinned: bool = True
) -> Load:
    command = wrk_command(url, script, args, seconds, connections, pinned)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


class RssSampler:
    """Samples a process's resident set size from /proc once a second, in a thread."""

    def __init__(self, server: Server, every: float = 1.0):
        self.samples: list[tuple[float, int]] = []
        self._server, self._every = server, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self._every):
            self.samples.append((time.monotonic() - start, self._server.rss_kib()))
