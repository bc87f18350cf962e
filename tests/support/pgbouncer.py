"""A real PgBouncer (Debian's `pgbouncer` package) in transaction pooling mode, in front of a
PostgreSQL server, for the tests that run Bookly behind a pooler.

It is configured as a production one would be, with nothing loosened for Bookly: no
`ignore_startup_parameters` (a client sending `statement_timeout` at startup is refused) and
no `max_prepared_statements` (1.18 has none). PgBouncer refuses to run as root, so under root it
runs as the `postgres` system user, as the scratch clusters do. Standard library only, like
tests/support/servers.py: the benchmark's pooler mode (bench/run.py) starts one too; a missing
pgbouncer fails the tests that need it rather than skipping them.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import as_postgres_user, free_port

# Debian installs it outside a normal user's PATH.
_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")


def _binary() -> str:
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")


@dataclass
class PgBouncer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def pool(self, database: str) -> dict[str, int]:
        """Its `SHOW POOLS` row for `database`: client connections (`cl_active`, `cl_waiting`)
        and server connections (`sv_active`, `sv_idle`, `sv_used`, …). The admin console speaks
        only the simple query protocol, so psql asks (asyncpg would prepare)."""
        console = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-X"]
        output = subprocess.run(
            [*console, "-A", "-F", "\t", "-c", "SHOW POOLS", "pgbouncer"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.splitlines()
        header = output[0].split("\t")
        for line in output[1:]:
            row = dict(zip(header, line.split("\t"), strict=False))
            if row.get("database") == database:
                return {name: int(value) for name, value in row.items() if value.isdigit()}
        return {}

    def log(self) -> str:
        return (self.directory / "pgbouncer.log").read_text(errors="replace")


@contextmanager
def pgbouncer(server_host: str, server_port: int, *, pool_size: int = 10) -> Iterator[PgBouncer]:
    """PgBouncer on a free port, `pool_mode = transaction`, `default_pool_size = pool_size`
    server connections per database and user, for any database of the server (trust)."""
    binary = _binary()
    directory = Path(tempfile.mkdtemp(prefix="bookly-pgbouncer-"))
    port = free_port()
    (directory / "users.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
reserve_pool_size = 0
max_client_conn = 1000
logfile = {directory / "pgbouncer.log"}
log_connections = 0
log_disconnections = 0
"""
    )
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(
        as_postgres_user([binary, str(directory / "pgbouncer.ini")]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bouncer = PgBouncer(port, directory, process)
    try:
        _wait_until_listening(bouncer)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_until_listening(bouncer: PgBouncer) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if bouncer.process.poll() is not None:
            raise AssertionError(f"pgbouncer exited at start:\n{bouncer.log()}")
        try:
            with socket.create_connection(("127.0.0.1", bouncer.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"pgbouncer did not listen within 15 s:\n{bouncer.log()}")
