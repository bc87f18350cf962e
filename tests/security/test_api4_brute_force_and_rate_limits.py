"""OWASP API4:2023 Unrestricted Resource Consumption and API2 (credential stuffing); ASVS v5
V6.3.1 (brute force): rate limits of api.md §8 — login failures per account and per IP with a
lockout that also refuses the right password and expires, signup and email requests."""

import asyncio

import httpx
import pytest

from bookly.core.config import Settings
from bookly.core.errors import RateLimited
from bookly.core.ratelimit import Limiter
from tests.conftest import Harness
from tests.factories import PASSWORD, sign_up, signup_body

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "rate_limit_login_account": "5/15minutes",
            "rate_limit_login_ip": "8/15minutes",
            "rate_limit_signup_ip": "3/hour",
            "rate_limit_email_target": "2/hour",
            "rate_limit_email_ip": "3/hour",
        }
    )


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_five_failures_lock_the_account_even_for_the_right_password(
    harness: Harness,
) -> None:
    account = await sign_up(harness.client)
    for _ in range(5):
        assert (await _login(harness.client, account.email, "wrong-password")).status_code == 401

    locked = await _login(harness.client, account.email, PASSWORD)

    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["error_code"] == "rate_limited"
    assert 850 <= int(locked.headers["retry-after"]) <= 900
    # The OAuth2 form route guards the same account.
    form = {"username": account.email, "password": PASSWORD}
    assert (await harness.client.post("/api/v1/auth/token", data=form)).status_code == 429


async def test_successful_logins_do_not_count(harness: Harness) -> None:
    account = await sign_up(harness.client)
    for _ in range(7):
        assert (await _login(harness.client, account.email, PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(harness.client, account.email, "wrong-password")).status_code == 401
    assert (await _login(harness.client, account.email, PASSWORD)).status_code == 200


async def test_token_route_failures_count_for_the_account(harness: Harness) -> None:
    account = await sign_up(harness.client)
    form = {"username": account.email, "password": "wrong-password"}
    for _ in range(5):
        assert (await harness.client.post("/api/v1/auth/token", data=form)).status_code == 401
    assert (await _login(harness.client, account.email, PASSWORD)).status_code == 429


async def test_a_burst_of_concurrent_guesses_tests_at_most_the_limit(harness: Harness) -> None:
    account = await sign_up(harness.client)
    responses = await asyncio.gather(
        *(_login(harness.client, account.email, f"guess-{n}-password") for n in range(12))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * 5 + [429] * 7


async def test_failures_from_one_ip_lock_that_ip_across_accounts(harness: Harness) -> None:
    # Unknown emails count too: guessing accounts is what the per-IP limit is for.
    for n in range(8):
        response = await _login(harness.client, f"nobody{n}@example.com", "wrong-password")
        assert response.status_code == 401
    account = await sign_up(harness.client)
    assert (await _login(harness.client, account.email, PASSWORD)).status_code == 429


async def test_the_lock_expires(harness: Harness, settings: Settings) -> None:
    # A two-second window stands in for fifteen minutes.
    quick = settings.model_copy(update={"rate_limit_login_account": "2/2seconds"})
    harness.context.limiter = Limiter(quick, harness.context.limiter.storage)
    account = await sign_up(harness.client)
    for _ in range(2):
        assert (await _login(harness.client, account.email, "wrong-password")).status_code == 401
    locked = await _login(harness.client, account.email, PASSWORD)
    assert locked.status_code == 429
    await asyncio.sleep(int(locked.headers["retry-after"]))
    # The window ends on the storage's clock (Redis's, or this process's), and Retry-After is
    # whole seconds: the lock lifts within a few seconds more, with ample headroom on a busy
    # machine, and no later.
    for _ in range(40):
        answer = await _login(harness.client, account.email, PASSWORD)
        if answer.status_code != 429:
            break
        await asyncio.sleep(0.25)
    assert answer.status_code == 200


async def test_signups_are_limited_per_ip(harness: Harness) -> None:
    for _ in range(3):
        await sign_up(harness.client)
    refused = await harness.client.post("/api/v1/auth/signup", json=signup_body())
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 3500


async def test_email_requests_are_limited_per_target_and_per_ip(harness: Harness) -> None:
    limiter = harness.context.limiter
    for _ in range(2):
        await limiter.hit_email("198.51.100.1", "Target@Example.com")
    with pytest.raises(RateLimited):
        await limiter.hit_email("198.51.100.2", "target@example.com")  # another IP, same target
    await limiter.hit_email("198.51.100.3", "other@example.com")
    await limiter.hit_email("198.51.100.3", "third@example.com")
    await limiter.hit_email("198.51.100.3", "fourth@example.com")
    with pytest.raises(RateLimited) as refused:
        await limiter.hit_email("198.51.100.3", "fifth@example.com")
    assert int(refused.value.headers["Retry-After"]) > 3500


async def test_reset_requests_to_unknown_addresses_are_limited_too(harness: Harness) -> None:
    """The limit applies before the account is looked up, so it cannot reveal whether one exists."""
    for _ in range(2):
        accepted = await harness.client.post(
            "/api/v1/auth/password-reset/request", json={"email": "nobody@example.com"}
        )
        assert accepted.status_code == 202
    refused = await harness.client.post(
        "/api/v1/auth/password-reset/request", json={"email": "nobody@example.com"}
    )
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "rate_limited"


async def test_verification_resends_are_limited(harness: Harness) -> None:
    account = await sign_up(harness.client)
    tokens = (
        await harness.client.post(
            LOGIN, json={"email": account.email, "password": account.password}
        )
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    # Signup already counted one email to this address (limit: 2 per hour).
    first = await harness.client.post("/api/v1/auth/verify/resend", headers=headers)
    assert first.status_code == 202
    refused = await harness.client.post("/api/v1/auth/verify/resend", headers=headers)
    assert refused.status_code == 429
    assert "retry-after" in refused.headers
