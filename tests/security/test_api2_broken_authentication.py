"""OWASP API2:2023 Broken Authentication; ASVS v5 V6 (authentication), V7 (session management).

Every event that must end sessions ends them for both token kinds at once, and login failures
don't tell whether an account exists — by status, body, or time.
"""

import statistics
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bookly.auth.email_links import LinkPurpose, issue_link, password_binding
from bookly.core.config import Settings
from bookly.models import User
from tests.conftest import Harness
from tests.factories import PASSWORD, Account, admin, log_in, user

ME = "/api/v1/users/me"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Lockouts are tested in test_api4_brute_force_and_rate_limits.py; here they would cut
    the timing samples short."""
    return settings.model_copy(
        update={"rate_limit_login_account": "1000/minute", "rate_limit_login_ip": "1000/minute"}
    )


Event = Callable[[Harness, Account, Account], Awaitable[None]]


async def _logout(h: Harness, victim: Account, _: Account) -> None:
    await h.client.post("/api/v1/auth/logout", headers=victim.headers)


async def _logout_all(h: Harness, victim: Account, _: Account) -> None:
    other = await log_in(h.client, Account(**{**vars(victim), "access_token": ""}))
    await h.client.post("/api/v1/auth/logout-all", headers=other.headers)


async def _password_change_elsewhere(h: Harness, victim: Account, _: Account) -> None:
    other = await log_in(h.client, Account(**{**vars(victim), "access_token": ""}))
    response = await h.client.post(
        "/api/v1/auth/password/change",
        headers=other.headers,
        json={"current_password": PASSWORD, "new_password": "another-long-password"},
    )
    assert response.status_code == 200


async def _password_reset(h: Harness, victim: Account, _: Account) -> None:
    async with h.context.sessionmaker() as db:
        stored = await db.get(User, victim.uid)
        assert stored is not None
        binding = password_binding(stored.password_hash)
    link = issue_link(
        h.context.settings, LinkPurpose.RESET_PASSWORD, victim.uid, binding, h.context.clock()
    )
    token = parse_qs(urlsplit(link).query)["token"][0]
    response = await h.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "another-long-password"},
    )
    assert response.status_code == 200


async def _role_change(h: Harness, victim: Account, boss: Account) -> None:
    response = await h.client.patch(
        f"/api/v1/users/{victim.uid}", headers=boss.headers, json={"role": "admin"}
    )
    assert response.status_code == 200


async def _disable(h: Harness, victim: Account, boss: Account) -> None:
    response = await h.client.patch(
        f"/api/v1/users/{victim.uid}", headers=boss.headers, json={"is_active": False}
    )
    assert response.status_code == 200


async def _session_deleted_elsewhere(h: Harness, victim: Account, _: Account) -> None:
    other = await log_in(h.client, Account(**{**vars(victim), "access_token": ""}))
    sessions = (await h.client.get("/api/v1/auth/sessions", headers=other.headers)).json()["items"]
    target = next(s["sid"] for s in sessions if not s["current"])
    await h.client.delete(f"/api/v1/auth/sessions/{target}", headers=other.headers)


@pytest.mark.parametrize(
    "event",
    [_logout, _logout_all, _password_change_elsewhere, _password_reset, _role_change, _disable,
     _session_deleted_elsewhere],
)  # fmt: skip
async def test_tokens_die_with_their_session(harness: Harness, event: Event) -> None:
    boss = await admin(harness.client, harness.context)
    victim = await user(harness.client, harness.context)
    await event(harness, victim, boss)

    me = await harness.client.get(ME, headers=victim.headers)
    assert me.status_code == 401
    refresh = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": victim.refresh_token}
    )
    assert refresh.status_code == 401
    assert refresh.json()["error_code"] in {"token_revoked", "invalid_token"}


async def _login_seconds(client: httpx.AsyncClient, email: str) -> float:
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "definitely-wrong-password"}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


async def test_login_failures_take_as_long_for_unknown_emails(harness: Harness) -> None:
    """Median of 30 tries each: without the dummy hash an unknown email answers ~20x faster."""
    known = await user(harness.client, harness.context)
    known_times, unknown_times = [], []
    for attempt in range(30):
        known_times.append(await _login_seconds(harness.client, known.email))
        unknown_times.append(await _login_seconds(harness.client, f"ghost{attempt}@example.com"))
    ratio = statistics.median(unknown_times) / statistics.median(known_times)
    assert 0.6 < ratio < 1.67, (statistics.median(known_times), statistics.median(unknown_times))


async def test_login_failures_read_the_same(harness: Harness) -> None:
    known = await user(harness.client, harness.context)
    responses = [
        await harness.client.post(
            "/api/v1/auth/login", json={"email": email, "password": "definitely-wrong-password"}
        )
        for email in (known.email, "ghost@example.com")
    ]
    assert responses[0].status_code == responses[1].status_code == 401
    assert responses[0].json() == responses[1].json()
    strip = {"x-request-id", "content-length", "date"}
    headers = [{k: v for k, v in r.headers.items() if k not in strip} for r in responses]
    assert headers[0] == headers[1]
