"""Server processes for the tests and the benchmark: a free port, a process group of their own
(so stopping one takes its workers along), their output in a log file, readiness polled.

Standard library and httpx only, neither pytest nor Bookly: `bench/harness.py` imports it too,
with the repository root on its path.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx

BOOKLY = Path(sys.executable).parent / "bookly"
# Generous: on a busy two-core machine importing the app alone can take several seconds.
START_TIMEOUT_SECONDS = 90.0


def as_postgres_user(command: list[str]) -> list[str]:
    """`command` as the `postgres` system user when run as root: PostgreSQL and PgBouncer
    refuse to run as root (`runuser`)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(
        cls,
        name: str,
        command: list[str],
        *,
        port: int,
        env: dict[str, str],
        cwd: Path,
        log_dir: Path | None = None,
    ) -> Self:
        """`command` (listening on `port`) in a new session, run in `cwd`, its output in
        `name.log` in `log_dir` (by default `cwd`)."""
        log_path = (log_dir or cwd) / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it stops workers too
            )
        return cls(name, port, process, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> None:
        """SIGTERM to the main process, as a process manager sends it."""
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, grace_seconds: float = 15) -> None:
        """SIGTERM to the whole group; SIGKILL if it has not exited within `grace_seconds`."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_until_healthy(server: LiveServer, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Until `GET /healthz` answers 200 (with `--workers N`, the socket listens before any
    worker has started the app)."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    _wait_until(server, healthy, "become healthy", timeout)


def wait_until_listening(server: LiveServer, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Until the port accepts connections: for a server without a health route (bench's
    baseline), started with one process that opens its socket once the app is up."""

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return True
        except OSError:
            return False

    _wait_until(server, listening, f"listen on {server.port}", timeout)


def _wait_until(server: LiveServer, ready: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{server.log()}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not {what} within {timeout:.0f} s:\n{server.log()}")
