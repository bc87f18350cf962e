"""Scratch PostgreSQL clusters and Redis servers that a test may stop, freeze and restart.

PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` system user when the
tests run as root (`runuser`, tests/support/servers.py). Debian's `postgresql` package keeps the
server's programs (initdb, pg_ctl, pg_basebackup of the same version) in
/usr/lib/postgresql/<version>/bin, off the PATH: they are found there.
"""

import asyncio
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from bookly.cli import alembic_config
from tests.support.servers import as_postgres_user, free_port


@functools.cache
def _server_bin() -> Path:
    """The directory of PostgreSQL's server programs: the one on the PATH, else Debian's
    newest installed version."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        return Path(on_path).resolve().parent
    versions = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if d.parent.name.isdigit()]
    if not versions:
        pytest.fail("PostgreSQL's server programs are not installed (Debian: postgresql)")
    return max(versions, key=lambda directory: int(directory.parent.name))


def pg_program(name: str) -> str:
    """`initdb`, `pg_ctl`, `pg_basebackup`: all of one PostgreSQL version."""
    return str(_server_bin() / name)


@dataclass
class ScratchPostgres:
    directory: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        """For asyncpg itself (a test reading or locking rows behind the app's back)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def migrated_database(self, database: str) -> str:
        """Create `database`, migrate it to head, and return its URL for Bookly."""
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'CREATE DATABASE "{database}"')
        finally:
            await connection.close()
        url = self.url(database)
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        return url

    def _pg_ctl(self, *args: str) -> None:
        # pg_ctl's own wait (-w) is bounded by -t: ample for a standby's recovery on a loaded
        # machine; the process's timeout only catches a pg_ctl that hangs past it.
        subprocess.run(
            as_postgres_user([pg_program("pg_ctl"), "-D", str(self.directory / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=180,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.directory / "log"), "-w", "-t", "120", "start")

    def crash(self) -> None:
        """Stop at once, as a crash or a network cut looks to clients."""
        self._pg_ctl("-m", "immediate", "-w", "-t", "120", "stop")


@contextmanager
def scratch_postgres() -> Iterator[ScratchPostgres]:
    directory = Path(tempfile.mkdtemp(prefix="bookly-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = ScratchPostgres(directory, free_port())
    subprocess.run(
        as_postgres_user(
            [
                pg_program("initdb"),
                "-D",
                str(directory / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        _discard(cluster)


@contextmanager
def streaming_replica(primary: ScratchPostgres) -> Iterator[ScratchPostgres]:
    """A hot standby of `primary` on a port of its own: a base backup (`pg_basebackup -R`, which
    also writes the standby's connection to the primary), streaming the primary's WAL as it
    comes. Tests may pause its replay (`pg_wal_replay_pause()`) to make it lag."""
    directory = Path(tempfile.mkdtemp(prefix="bookly-pg-replica-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    backup = [
        pg_program("pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "postgres",
    ]
    subprocess.run(
        as_postgres_user([*backup, "-D", str(directory / "data"), "-R", "--checkpoint", "fast"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    replica = ScratchPostgres(directory, free_port())
    replica.start()
    try:
        yield replica
    finally:
        _discard(replica)


def _discard(cluster: ScratchPostgres) -> None:
    data = str(cluster.directory / "data")
    subprocess.run(
        as_postgres_user([pg_program("pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
        capture_output=True,
        timeout=60,
        check=False,
    )
    shutil.rmtree(cluster.directory, ignore_errors=True)


@dataclass
class ScratchRedis:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start again on the same port, empty, as Debian's Redis comes back."""
        self.kill()
        self.process = _launch_redis(self.port)


def _launch_redis(port: int) -> subprocess.Popen[bytes]:
    """An empty Redis on `port` that keeps nothing on disk, once it answers PING."""
    server = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    process = subprocess.Popen(
        [*server, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while (
        subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
        ).stdout.strip()
        != b"PONG"
    ):
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("scratch redis-server did not start")
        time.sleep(0.05)
    return process


@contextmanager
def scratch_redis() -> Iterator[ScratchRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = ScratchRedis(port, _launch_redis(port))
    try:
        yield server
    finally:
        server.kill()
