"""Outages (§1, §2): PostgreSQL down → 503 within the pool timeout and back by itself; Redis
refused or frozen → authenticated routes and login 503 within a second, public reads 200;
a statement cut by the statement timeout → 503 with nothing written."""

import dataclasses
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from bookly.core.config import Settings
from bookly.main import create_context
from tests.conftest import _empty_everything, postgres_only
from tests.factories import PASSWORD, Account, log_in, sign_up, signup_body
from tests.support.apps import app_client
from tests.support.outages import assert_unavailable, timed
from tests.support.scratch import scratch_postgres, scratch_redis
from tests.support.servers import free_port


@pytest.fixture
async def tables_emptied(settings: Settings) -> AsyncIterator[None]:
    """For tests whose app talks to a scratch Redis: empty the tables with a context of our own."""
    yield
    context = create_context(settings.model_copy(update={"redis_url": None}))
    try:
        await _empty_everything(context)
    finally:
        await context.engine.dispose()


@pytest.mark.usefixtures("tables_emptied")
async def test_redis_refused_or_frozen(settings: Settings) -> None:
    with scratch_redis() as redis_server:
        configured = settings.model_copy(update={"redis_url": redis_server.url})
        async with app_client(configured) as (_, client):
            account = await log_in(client, await sign_up(client))
            profile = f"/api/v1/users/{account.uid}"
            assert (
                await client.get("/api/v1/users/me", headers=account.headers)
            ).status_code == 200

            redis_server.freeze()
            try:
                await _check_redis_outage(client, account, profile)
            finally:
                redis_server.thaw()
            assert (
                await client.get("/api/v1/users/me", headers=account.headers)
            ).status_code == 200

            redis_server.kill()  # now the port refuses connections
            await _check_redis_outage(client, account, profile)


async def _check_redis_outage(client: httpx.AsyncClient, account: Account, profile: str) -> None:
    me, seconds = await timed(client.get("/api/v1/users/me", headers=account.headers))
    assert_unavailable(me)
    assert seconds < 1.0
    login, seconds = await timed(
        client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    )
    assert_unavailable(login)  # rate limiting fails closed
    assert seconds < 1.0
    signup, seconds = await timed(client.post("/api/v1/auth/signup", json=signup_body()))
    assert_unavailable(signup)
    assert seconds < 1.0
    public, seconds = await timed(client.get(profile))
    assert public.status_code == 200
    assert seconds < 1.0
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "unavailable"


async def test_redis_on_an_unused_port(settings: Settings) -> None:
    configured = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with app_client(configured) as (_, client):
        login, seconds = await timed(
            client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 9})
        )
        me, _ = await timed(
            client.get("/api/v1/users/me", headers={"Authorization": "Bearer not.a.token"})
        )
        healthz = await client.get("/healthz")
    assert_unavailable(login)
    assert seconds < 1.0
    assert me.status_code == 401  # a token that fails to verify never needs Redis
    assert healthz.status_code == 200


@postgres_only
async def test_postgres_down_answers_503_and_recovers_by_itself(settings: Settings) -> None:
    with scratch_postgres() as cluster:
        url = await cluster.migrated_database("bookly")
        configured = settings.model_copy(
            update={"database_url": url, "redis_url": None, "db_pool_timeout_seconds": 2.0}
        )
        async with app_client(configured) as (_, client):
            account = await log_in(client, await sign_up(client))
            profile = f"/api/v1/users/{account.uid}"
            assert (await client.get(profile)).status_code == 200

            # Sessions (the profile) and the hot reads' own pool (books, the caller) both break.
            reads = (profile, "/api/v1/books", f"/api/v1/books/{uuid.uuid4()}")
            for path in reads:
                assert (await client.get(path)).status_code in (200, 404)

            cluster.crash()
            for path, headers in (
                *((path, {}) for path in reads),
                ("/api/v1/users/me", account.headers),
            ):
                response, seconds = await timed(client.get(path, headers=headers))
                assert_unavailable(response)
                assert seconds < configured.db_pool_timeout_seconds + 1
            assert (await client.get("/readyz")).json()["checks"]["database"] == "unavailable"
            assert (await client.get("/healthz")).status_code == 200

            cluster.start()
            for path in reads:
                assert (await client.get(path)).status_code in (200, 404)
            assert (
                await client.get("/api/v1/users/me", headers=account.headers)
            ).status_code == 200


@postgres_only
async def test_statement_timeout_answers_503_and_writes_nothing(settings: Settings) -> None:
    configured = settings.model_copy(update={"db_statement_timeout_ms": 300})
    async with app_client(configured) as (app, client):
        try:
            account = await log_in(client, await sign_up(client))
            other_device = await log_in(client, dataclasses.replace(account))
            assert other_device.access_token != account.access_token
            await _change_password_while_sessions_are_locked(settings, client, account)
            # Nothing was kept: the old password still works, no session was revoked.
            old = await client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
            )
            assert old.status_code == 200
            assert (
                await client.get("/api/v1/users/me", headers=account.headers)
            ).status_code == 200
        finally:
            await _empty_everything(app.state.context)


async def _change_password_while_sessions_are_locked(
    settings: Settings, client: httpx.AsyncClient, account: Account
) -> None:
    """Another transaction holds the sessions' rows: the password UPDATE runs, then revoking the
    other sessions waits on the lock until the statement timeout cuts it."""
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    blocker = await asyncpg.connect(dsn)
    try:
        async with blocker.transaction():
            await blocker.execute(
                "SELECT 1 FROM sessions WHERE user_uid = $1 FOR UPDATE", account.uid
            )
            response, seconds = await timed(
                client.post(
                    "/api/v1/auth/password/change",
                    headers=account.headers,
                    json={"current_password": PASSWORD, "new_password": "a-new-password-123"},
                )
            )
    finally:
        await blocker.close()
    assert_unavailable(response)
    assert seconds < 3
