"""Password hashing under a burst: bounded, shed with 503, and polite to the event loop."""

import asyncio
import sys
import threading
from pathlib import Path

import pytest

from bookly.core.db import PoolTurns
from bookly.core.errors import ServiceUnavailable
from bookly.core.passwords import HASHING_THREAD_NICENESS, PasswordHasher
from bookly.core.ratelimit import Limiter, create_storage
from tests.conftest import Harness
from tests.factories import PASSWORD, sign_up
from tests.support.outages import timed


async def test_callers_past_the_queue_are_refused_at_once() -> None:
    hasher = PasswordHasher(concurrency=1, queue=1)
    stored = await hasher.hash(PASSWORD)
    outcomes = await asyncio.gather(
        *(hasher.verify(PASSWORD, stored) for _ in range(4)), return_exceptions=True
    )
    # One hashing, one waiting; the other two were turned away without waiting.
    assert outcomes[:2] == [True, True]
    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes[2:])
    refused = outcomes[2]
    assert isinstance(refused, ServiceUnavailable)
    assert refused.headers == {"Retry-After": "1"}
    # Once the burst is over, callers are admitted again.
    assert await hasher.verify(PASSWORD, stored) is True


async def test_a_refused_login_is_a_503_with_retry_after(harness: Harness) -> None:
    # Eight logins at once would also meet the login limiter's reservations (tests/security).
    harness.context.limiter = Limiter(
        harness.context.settings.model_copy(
            update={"rate_limit_login_account": "100/minute", "rate_limit_login_ip": "100/minute"}
        ),
        create_storage(harness.context.settings, harness.context.redis),
    )
    account = await sign_up(harness.client)
    harness.context.passwords = PasswordHasher(concurrency=1, queue=0)
    body = {"email": account.email, "password": PASSWORD}
    responses = await asyncio.gather(
        *(harness.client.post("/api/v1/auth/login", json=body) for _ in range(8))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses[0] == 200
    assert statuses[-1] == 503
    assert set(statuses) == {200, 503}
    refused = next(response for response in responses if response.status_code == 503)
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error_code"] == "service_unavailable"


async def test_a_shed_login_waits_for_no_database_connection(harness: Harness) -> None:
    account = await sign_up(harness.client)
    harness.context.passwords = PasswordHasher(concurrency=1, queue=0)
    harness.context.pool_turns = PoolTurns(size=1, timeout_seconds=5)
    body = {"email": account.email, "password": PASSWORD}
    async with harness.context.pool_turns.turn():  # no database connection is to be had
        busy = asyncio.create_task(harness.context.passwords.hash("the only hashing slot"))
        await asyncio.sleep(0)
        response, seconds = await timed(harness.client.post("/api/v1/auth/login", json=body))
        await busy
    assert response.status_code == 503
    assert response.json()["detail"] == "Too many sign-ins at once; retry shortly."
    assert seconds < 1  # shed first, not after waiting out the pool's 5 s


@pytest.mark.skipif(sys.platform != "linux", reason="thread niceness is a Linux notion")
async def test_hashing_threads_run_below_the_event_loop() -> None:
    hasher = PasswordHasher(concurrency=2)
    await hasher.hash(PASSWORD)
    threads = [t for t in threading.enumerate() if t.name.startswith("bookly-hashing")]
    assert threads
    assert all(_niceness(thread.native_id) == HASHING_THREAD_NICENESS for thread in threads)
    assert _niceness(threading.get_native_id()) < HASHING_THREAD_NICENESS


def _niceness(thread_id: int | None) -> int:
    stat = Path(f"/proc/self/task/{thread_id}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of proc(5)
