"""Password hashing under a burst: admitted while the expected wait fits the budget, refused past
it with 503 naming the operation, waiting without a database connection, and polite to the
event loop.

Admission depends on the estimate of one hash's time, never on how fast this machine is: the
tests give the hasher their own estimate and a timer that reports every hash as taking it."""

import asyncio
import itertools
import sys
import threading
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bookly.core.db import PoolTurns
from bookly.core.errors import ServiceUnavailable
from bookly.core.hashing_admission import TURNS_PER_THREAD, MovingAverage, PasswordWork
from bookly.core.passwords import HASHING_THREAD_NICENESS, PasswordHasher
from bookly.core.ratelimit import Limiter, create_storage
from tests.conftest import Harness
from tests.factories import PASSWORD, log_in, sign_up, signup_body
from tests.support.outages import timed


def hasher_with(
    hash_seconds: float, budget_seconds: float, clock: Callable[[], float] = lambda: 0.0
) -> PasswordHasher:
    """One hashing thread, whose every hash measures `hash_seconds` (consecutive readings of
    the timer are that far apart, and one thread reads it twice per hash); turns are timed by
    `clock`, by default one that stands still (a turn takes no time)."""
    readings = itertools.count(step=hash_seconds)
    return PasswordHasher(
        1,
        budget_seconds,
        hash_time=MovingAverage(hash_seconds),
        timer=lambda: next(readings),
        clock=clock,
    )


async def test_a_burst_within_the_budget_waits_its_turn_and_is_served() -> None:
    hasher = hasher_with(hash_seconds=0.1, budget_seconds=10)
    stored = await hasher.hash(PASSWORD)
    outcomes = await asyncio.gather(*(hasher.verify(PASSWORD, stored) for _ in range(16)))
    assert outcomes == [True] * 16


async def test_callers_whose_wait_exceeds_the_budget_are_refused_at_once() -> None:
    # 0.1 s a hash on one thread: the 1st starts at once, the 2nd waits 0.1 s, the 3rd 0.2 s,
    # the 4th would wait 0.3 s, past the budget of 0.25 s.
    hasher = hasher_with(hash_seconds=0.1, budget_seconds=0.25)
    stored = await hasher.hash(PASSWORD)
    outcomes = await asyncio.gather(
        *(hasher.verify(PASSWORD, stored) for _ in range(8)), return_exceptions=True
    )
    assert outcomes[:3] == [True, True, True]
    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes[3:])
    refused = outcomes[3]
    assert isinstance(refused, ServiceUnavailable)
    assert refused.headers == {"Retry-After": "1"}
    assert refused.detail == "Too many password checks at once; retry shortly."
    # Once the burst is over, callers are admitted again.
    assert hasher.admission.expected_wait_seconds() == 0
    assert await hasher.verify(PASSWORD, stored) is True


async def test_retry_after_is_when_the_queue_should_fit_the_budget_again() -> None:
    hasher = hasher_with(hash_seconds=2.5, budget_seconds=0)
    async with hasher.turn(PasswordWork.SIGN_IN):
        # One password change (two hashes) would wait 2.5 s for the sign-in ahead of it.
        assert hasher.admission.expected_wait_seconds() == 2.5
        with pytest.raises(ServiceUnavailable) as refused:
            async with hasher.turn(PasswordWork.PASSWORD_CHANGE):
                pass
    assert refused.value.headers == {"Retry-After": "3"}
    assert refused.value.detail == "Too many password changes at once; retry shortly."
    assert hasher.admission.expected_wait_seconds() == 0


async def test_the_wait_counts_every_hash_admitted_and_not_yet_done() -> None:
    hasher = hasher_with(hash_seconds=0.5, budget_seconds=100)
    async with AsyncExitStack() as turns:
        await turns.enter_async_context(hasher.turn(PasswordWork.PASSWORD_CHANGE))
        # Its two hashes are ahead of a newcomer, on the one thread.
        assert hasher.admission.expected_wait_seconds() == 1.0
        await hasher.verify(PASSWORD, None)  # one of them done
        assert hasher.admission.expected_wait_seconds() == 0.5
        await turns.enter_async_context(hasher.turn(PasswordWork.SIGN_UP))
        assert hasher.admission.expected_wait_seconds() == 1.0
    # Left without hashing (refused by a rate limit, say): nothing of theirs stays counted.
    assert hasher.admission.expected_wait_seconds() == 0


async def test_the_estimate_follows_the_measured_hash_time() -> None:
    average = MovingAverage(0.1, weight=0.5)
    for _ in range(3):
        average.record(0.5)
    assert average.seconds == pytest.approx(0.45)
    hasher = hasher_with(hash_seconds=0.3, budget_seconds=1)
    hasher.admission.hash_time = MovingAverage(0.1, weight=0.5)
    await hasher.hash(PASSWORD)
    assert hasher.admission.hash_time.seconds == pytest.approx(0.2)


async def test_turns_held_long_make_the_wait_long_whatever_the_hashes_take() -> None:
    # A flooded event loop: requests hold their turns for seconds, though a hash is quick.
    now = [0.0]
    hasher = hasher_with(hash_seconds=0.001, budget_seconds=1, clock=lambda: now[0])
    async with AsyncExitStack() as turns:  # both of the thread's turns, for 10 s
        for _ in range(TURNS_PER_THREAD):
            await turns.enter_async_context(hasher.turn(PasswordWork.SIGN_IN))
        now[0] = 10.0
    assert hasher.admission.turn_time.seconds == pytest.approx(3.6)  # 0 -> 2 -> 3.6
    async with AsyncExitStack() as turns:
        for _ in range(TURNS_PER_THREAD):
            await turns.enter_async_context(hasher.turn(PasswordWork.SIGN_IN))
        # The next one waits for one of the two turns: 3.6 s / 2, past the budget of 1 s.
        assert hasher.admission.expected_wait_seconds() == pytest.approx(1.8)
        with pytest.raises(ServiceUnavailable) as refused:
            async with hasher.turn(PasswordWork.SIGN_IN):
                pass
    assert refused.value.headers == {"Retry-After": "1"}


def _generous_login_limits(harness: Harness) -> None:
    # Many logins at once would also meet the login limiter's reservations (tests/security).
    harness.context.limiter = Limiter(
        harness.context.settings.model_copy(
            update={"rate_limit_login_account": "100/minute", "rate_limit_login_ip": "100/minute"}
        ),
        create_storage(harness.context.settings, harness.context.redis),
    )


async def test_a_burst_of_logins_past_the_budget_gets_503_with_retry_after(
    harness: Harness,
) -> None:
    _generous_login_limits(harness)
    account = await sign_up(harness.client)
    harness.context.passwords = hasher_with(hash_seconds=0.1, budget_seconds=0.25)
    body = {"email": account.email, "password": PASSWORD}
    responses = await asyncio.gather(
        *(harness.client.post("/api/v1/auth/login", json=body) for _ in range(8))
    )
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200] * 3 + [503] * 5
    for refused in (response for response in responses if response.status_code == 503):
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["error_code"] == "service_unavailable"
        assert refused.json()["detail"] == "Too many sign-ins at once; retry shortly."


OPERATIONS = {
    "sign-ins": lambda h, a: h.client.post(
        "/api/v1/auth/login", json={"email": a.email, "password": PASSWORD}
    ),
    "sign-ins (OAuth2 form)": lambda h, a: h.client.post(
        "/api/v1/auth/token", data={"username": a.email, "password": PASSWORD}
    ),
    "signups": lambda h, a: h.client.post("/api/v1/auth/signup", json=signup_body()),
    "password changes": lambda h, a: h.client.post(
        "/api/v1/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "another-long-password"},
        headers=a.headers,
    ),
    "password resets": lambda h, a: h.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": "a-link-token", "new_password": "another-long-password"},
    ),
    "account deletions": lambda h, a: h.client.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=a.headers
    ),
}


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_refusal_names_the_operation(harness: Harness, operation: str) -> None:
    account = await log_in(harness.client, await sign_up(harness.client))
    hasher = harness.context.passwords = hasher_with(hash_seconds=0.1, budget_seconds=0)
    async with hasher.turn(PasswordWork.SIGN_IN):  # another request's hash, under way
        response = await OPERATIONS[operation](harness, account)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error_code"] == "service_unavailable"
    noun = operation.split(" (")[0]
    assert response.json()["detail"] == f"Too many {noun} at once; retry shortly."
    # The same request is admitted once the queue is empty.
    assert (await OPERATIONS[operation](harness, account)).status_code != 503


async def test_a_shed_login_waits_for_no_database_connection(harness: Harness) -> None:
    account = await sign_up(harness.client)
    harness.context.passwords = hasher_with(hash_seconds=0.1, budget_seconds=0)
    harness.context.pool_turns = PoolTurns(size=1, timeout_seconds=5)
    body = {"email": account.email, "password": PASSWORD}
    async with (
        harness.context.pool_turns.turn(),  # no database connection is to be had
        harness.context.passwords.turn(PasswordWork.SIGN_IN),
    ):
        response, seconds = await timed(harness.client.post("/api/v1/auth/login", json=body))
    assert response.status_code == 503
    assert response.json()["detail"] == "Too many sign-ins at once; retry shortly."
    assert seconds < 1  # shed first, not after waiting out the pool's 5 s


async def test_an_admitted_login_waits_its_turn_holding_no_database_connection(
    harness: Harness,
) -> None:
    _generous_login_limits(harness)
    account = await sign_up(harness.client)
    hasher = harness.context.passwords = hasher_with(hash_seconds=0.1, budget_seconds=100)
    harness.context.pool_turns = PoolTurns(size=1, timeout_seconds=30)
    body = {"email": account.email, "password": PASSWORD}
    async with AsyncExitStack() as busy:  # every turn taken by requests being hashed
        for _ in range(TURNS_PER_THREAD):
            await busy.enter_async_context(hasher.turn(PasswordWork.SIGN_IN))
        waiting = asyncio.create_task(harness.client.post("/api/v1/auth/login", json=body))
        async with asyncio.timeout(30):
            # Polled: admission has no event to wait for (it waits for nothing itself).
            while hasher.admission.expected_wait_seconds() < 0.3:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        # Meanwhile the only database connection is free for everyone else.
        assert (await harness.client.get("/api/v1/books")).status_code == 200
        assert not waiting.done()
    response = await asyncio.wait_for(waiting, timeout=30)
    assert response.status_code == 200, response.text


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
