"""Revocation through the Redis denylist: it survives a flush or restart of Redis, and an
unreachable or frozen Redis fails authenticated requests closed (503, fast), not open."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from redis.asyncio import Redis

from bookly.core.config import Settings
from bookly.main import create_app
from tests.conftest import Harness, uses_redis
from tests.factories import user
from tests.support.scratch import scratch_redis
from tests.support.servers import free_port

pytestmark = uses_redis
ME = "/api/v1/users/me"
ClientFor = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(settings: Settings) -> AsyncIterator[ClientFor]:
    """Clients of apps that share the test database but use the Redis at the given URL."""
    lifespans = []

    async def build(redis_url: str) -> httpx.AsyncClient:
        app = create_app(settings.model_copy(update={"redis_url": redis_url}))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        lifespans.append(lifespan)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b.test")

    yield build
    for lifespan in lifespans:
        await lifespan.__aexit__(None, None, None)


async def _timed_status(client: httpx.AsyncClient, url: str, **kwargs: object) -> tuple[float, int]:
    started = time.monotonic()
    response = await client.get(url, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - started, response.status_code


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
    """A sid on the denylist is refused even though its database row is live."""
    account = await user(harness.client, harness.context)
    listed = await harness.client.get("/api/v1/auth/sessions", headers=account.headers)
    sessions = listed.json()["items"]
    await redis.set(f"bookly:denylist:sid:{sessions[0]['sid']}", "1", ex=60)
    response = await harness.client.get(ME, headers=account.headers)
    assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")


async def test_redis_restart_keeps_logged_out_tokens_out(
    harness: Harness, client_for: ClientFor
) -> None:
    with scratch_redis() as server:
        client = await client_for(server.url)
        account = await user(client, harness.context)
        assert (
            await client.post("/api/v1/auth/logout", headers=account.headers)
        ).status_code == 204

        server.restart()  # back empty: it keeps nothing on disk

        response = await client.get(ME, headers=account.headers)
        assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")


async def test_unreachable_redis_fails_closed_fast(harness: Harness, client_for: ClientFor) -> None:
    account = await user(harness.client, harness.context)
    client = await client_for(f"redis://127.0.0.1:{free_port()}/0")

    elapsed, status = await _timed_status(client, ME, headers=account.headers)
    assert (status, elapsed < 1.0) == (503, True)
    response = await client.get(ME, headers=account.headers)
    assert response.json()["error_code"] == "service_unavailable"
    assert "retry-after" in response.headers
    # Public routes keep working.
    _, public_status = await _timed_status(client, f"/api/v1/users/{account.uid}")
    assert public_status == 200


async def test_frozen_redis_fails_closed_fast(harness: Harness, client_for: ClientFor) -> None:
    account = await user(harness.client, harness.context)
    with scratch_redis() as server:
        client = await client_for(server.url)
        assert (await client.get(ME, headers=account.headers)).status_code == 200

        server.freeze()
        elapsed, status = await _timed_status(client, ME, headers=account.headers)
        assert (status, elapsed < 1.0) == (503, True)
        _, public_status = await _timed_status(client, f"/api/v1/users/{account.uid}")
        assert public_status == 200

        server.thaw()
        _, recovered = await _timed_status(client, ME, headers=account.headers)
        assert recovered == 200
