"""Revocation through the Redis denylist: it survives a flush or restart of Redis, and an
unreachable or frozen Redis fails authenticated requests closed (503, fast), not open."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from bookly.core.config import Settings
from bookly.main import create_app
from tests.conftest import Harness, uses_redis
from tests.factories import user

pytestmark = uses_redis
ME = "/api/v1/users/me"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_redis_server(port: int) -> subprocess.Popen[bytes]:
    """Start an empty Redis on `port` (keeping nothing on disk) and wait until it listens."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


@pytest.fixture
def scratch_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis server of the test's own, which it may stop or freeze."""
    port = _free_port()
    server = _start_redis_server(port)
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGCONT)
            server.kill()
        server.wait()


@pytest.fixture
async def harness_on(settings: Settings) -> AsyncIterator[object]:
    """Builds a harness-like client for an app whose Redis is the given URL."""
    apps: list[object] = []

    async def build(redis_url: str) -> httpx.AsyncClient:
        app = create_app(settings.model_copy(update={"redis_url": redis_url}))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        apps.append(lifespan)
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://bookly.test")

    yield build
    for lifespan in apps:
        await lifespan.__aexit__(None, None, None)  # type: ignore[attr-defined]


async def test_a_flush_does_not_bring_a_logged_out_token_back(
    harness: Harness, redis: Redis
) -> None:
    account = await user(harness.client, harness.context)
    await harness.client.post("/api/v1/auth/logout", headers=account.headers)
    assert (await harness.client.get(ME, headers=account.headers)).status_code == 401

    await redis.flushdb()

    response = await harness.client.get(ME, headers=account.headers)
    assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")
    # The denylist was rebuilt from the database on that request.
    assert await redis.exists("bookly:denylist:loaded") == 1


async def test_revocation_is_read_from_redis(harness: Harness, redis: Redis) -> None:
    """A sid on the denylist is refused even before the database is asked."""
    account = await user(harness.client, harness.context)
    sessions = (await harness.client.get("/api/v1/auth/sessions", headers=account.headers)).json()
    await redis.set(f"bookly:denylist:sid:{sessions[0]['sid']}", "1", ex=60)
    response = await harness.client.get(ME, headers=account.headers)
    assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")


async def _timed_get(client: httpx.AsyncClient, url: str, **kwargs: object) -> tuple[float, int]:
    started = time.monotonic()
    response = await client.get(url, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - started, response.status_code


async def test_redis_restart_keeps_logged_out_tokens_out(
    harness: Harness, harness_on: object, scratch_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    server, url = scratch_redis
    client: httpx.AsyncClient = await harness_on(url)  # type: ignore[operator]
    account = await user(client, harness.context)
    assert (await client.post("/api/v1/auth/logout", headers=account.headers)).status_code == 204

    # Restart Redis empty (it keeps nothing on disk), on the same port.
    server.kill()
    server.wait()
    restarted = _start_redis_server(int(url.rsplit(":", 1)[1].split("/")[0]))
    try:
        response = await client.get(ME, headers=account.headers)
        assert response.status_code == 401
        assert response.json()["error_code"] == "token_revoked"
    finally:
        restarted.kill()
        restarted.wait()
    await client.aclose()


async def test_unreachable_redis_fails_closed_fast(harness: Harness, harness_on: object) -> None:
    account = await user(harness.client, harness.context)
    client: httpx.AsyncClient = await harness_on(f"redis://127.0.0.1:{_free_port()}/0")  # type: ignore[operator]

    elapsed, status = await _timed_get(client, ME, headers=account.headers)
    assert status == 503
    assert elapsed < 1.0
    response = await client.get(ME, headers=account.headers)
    assert response.json()["error_code"] == "service_unavailable"
    assert "retry-after" in response.headers
    # Public routes keep working.
    _, public_status = await _timed_get(client, f"/api/v1/users/{account.uid}")
    assert public_status == 200
    await client.aclose()


async def test_frozen_redis_fails_closed_fast(
    harness: Harness, harness_on: object, scratch_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    server, url = scratch_redis
    account = await user(harness.client, harness.context)
    client: httpx.AsyncClient = await harness_on(url)  # type: ignore[operator]
    assert (await client.get(ME, headers=account.headers)).status_code == 200

    os.kill(server.pid, signal.SIGSTOP)
    elapsed, status = await _timed_get(client, ME, headers=account.headers)
    assert status == 503
    assert elapsed < 1.0
    _, public_status = await _timed_get(client, f"/api/v1/users/{account.uid}")
    assert public_status == 200

    os.kill(server.pid, signal.SIGCONT)
    _, recovered = await _timed_get(client, ME, headers=account.headers)
    assert recovered == 200
    await client.aclose()
