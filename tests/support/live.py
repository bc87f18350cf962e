"""Live `bookly serve` processes on the tests' database and Redis, always killed.

Use the `live_servers` fixture (a `LiveServers` factory): `servers.start(env=..., workers=...)`
returns a `LiveServer` (tests/support/servers.py) with `.url`, `.process` and `.log()` (its output:
JSON lines), healthy unless `wait=False`. Every process it started is killed (its whole process
group) at teardown, whatever the test did, and the tables and Redis database the servers used
are emptied.
"""

import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bookly.core.config import Settings
from bookly.main import create_context
from tests.conftest import _empty_everything
from tests.support.servers import BOOKLY, LiveServer, free_port, wait_until_healthy


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
    # How the database is reached, when the tests' settings go through a pooler.
    env["DB_POOLER"] = settings.db_pooler
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
        server = LiveServer.start(
            f"serve-{port}",
            [str(BOOKLY), "serve", "--port", str(port), "--workers", str(workers)],
            port=port,
            env=server_env(self.settings, **(env or {})),
            cwd=self.workdir,
        )
        self.started.append(server)
        if wait:
            wait_until_healthy(server)
        return server

    def kill_all(self) -> None:
        for server in self.started:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                server.kill()


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
