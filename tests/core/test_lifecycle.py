"""A real `bookly serve` on SIGTERM: in-flight requests finish, new connections are refused,
the pool is closed, the exit status is 0. And `--workers N` serves."""

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from bookly.core.config import Settings
from tests.factories import PASSWORD, signup_body
from tests.support.live import LiveServers
from tests.support.servers import LiveServer

API = "/api/v1"


@asynccontextmanager
async def user_row_locked(settings: Settings, uid: uuid.UUID) -> AsyncIterator[None]:
    """Another transaction holds the user's row (PostgreSQL) or the write lock (SQLite), so a
    request that writes it waits — an in-flight request we control."""
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    blocker = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        async with blocker.transaction():
            await blocker.execute("SELECT 1 FROM users WHERE uid = $1 FOR UPDATE", uid)
            yield
    finally:
        await blocker.close()


async def _account(client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    body = signup_body()
    created = await client.post(f"{API}/auth/signup", json=body)
    assert created.status_code == 201, created.text
    login = await client.post(
        f"{API}/auth/login", json={"email": body["email"], "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return uuid.UUID(created.json()["uid"]), {
        "Authorization": f"Bearer {login.json()['access_token']}"
    }


async def _exit_status(server: LiveServer, within_seconds: float) -> int:
    return await asyncio.to_thread(server.process.wait, within_seconds)


async def test_sigterm_finishes_in_flight_requests_then_exits_cleanly(
    live_servers: LiveServers, settings: Settings
) -> None:
    server = live_servers.start(env={"GRACEFUL_SHUTDOWN_SECONDS": "20"})
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        uid, headers = await _account(client)
        async with user_row_locked(settings, uid):
            in_flight = asyncio.create_task(
                client.patch(f"{API}/users/me", headers=headers, json={"first_name": "Grace"})
            )
            await asyncio.sleep(1.0)
            assert not in_flight.done()
            server.terminate()
            await asyncio.sleep(0.5)
            assert server.process.poll() is None  # still finishing the request
            with pytest.raises(httpx.ConnectError):
                async with httpx.AsyncClient(base_url=server.url, timeout=2) as newcomer:
                    await newcomer.get("/healthz")
        response = await asyncio.wait_for(in_flight, 15)
    assert response.status_code == 200, response.text
    assert response.json()["first_name"] == "Grace"
    assert await _exit_status(server, 15) == 0
    messages = [json.loads(line)["message"] for line in server.log().splitlines() if line]
    assert "shutdown: database pool and Redis connections closed" in messages


async def test_workers_serve_together(live_servers: LiveServers) -> None:
    server = live_servers.start(workers=2)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        _, headers = await _account(client)
        # Fresh connections, so the kernel spreads them over the workers' shared socket.
        responses = []
        for _ in range(8):
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as fresh:
                responses.append(await fresh.get(f"{API}/users/me", headers=headers))
    assert {response.status_code for response in responses} == {200}
    server.terminate()
    assert await _exit_status(server, 20) == 0
    started = [
        json.loads(line)
        for line in server.log().splitlines()
        if line and "Started server process" in line
    ]
    assert len({line["message"] for line in started}) == 2  # two worker processes
