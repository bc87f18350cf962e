"""Live `bookly serve` processes for tests: free ports, readiness by /healthz, always killed.

Use the `live_servers` fixture (a `LiveServers` factory): `servers.start(env=..., workers=...)`
returns a `LiveServer` with `.url`, `.process` and `.log()` (its stderr: JSON lines). Every process
it started is killed (its whole process group) at teardown, whatever the test did, and the tables
and Redis database the servers used are emptied.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bookly.core.config import Settings
from bookly.main import create_context
from tests.conftest import _empty_everything

BOOKLY = Path(sys.executable).parent / "bookly"
# Generous: on a busy two-core machine importing the app alone can take several seconds.
START_TIMEOUT_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> None:
        """SIGTERM, as a process manager sends it."""
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a `bookly serve` that shares the tests' database and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOOKLY_", "RATE_LIMIT_", "DB_", "REDIS_", "DATABASE_"))
    }
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=settings.database_url,
        JWT_SECRET=settings.jwt_secret.get_secret_value(),
        LOG_LEVEL="INFO",
        RATE_LIMIT_SIGNUP_IP=settings.rate_limit_signup_ip,
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(overrides)
    return env


@dataclass
class LiveServers:
    settings: Settings
    workdir: Path
    started: list[LiveServer] = field(default_factory=list)

    def start(
        self, *, env: dict[str, str] | None = None, workers: int = 1, wait: bool = True
    ) -> LiveServer:
        port = free_port()
        log_path = self.workdir / f"serve-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(BOOKLY), "serve", "--port", str(port), "--workers", str(workers)],
                env=server_env(self.settings, **(env or {})),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # its own process group: teardown kills workers too
            )
        server = LiveServer(f"http://127.0.0.1:{port}", port, process, log_path)
        self.started.append(server)
        if wait:
            wait_until_healthy(server)
        return server

    def kill_all(self) -> None:
        for server in self.started:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                server.kill()


def wait_until_healthy(server: LiveServer, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"bookly serve exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"bookly serve did not become healthy:\n{server.log()}")


@pytest.fixture
async def live_servers(settings: Settings, tmp_path: Path) -> AsyncIterator[LiveServers]:
    servers = LiveServers(settings, tmp_path)
    try:
        yield servers
    finally:
        servers.kill_all()
        context = create_context(settings)
        try:
            await _empty_everything(context)
        finally:
            if context.redis is not None:
                await context.redis.aclose()
            await context.engine.dispose()
