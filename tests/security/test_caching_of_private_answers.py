"""OWASP API8:2023 (security misconfiguration), ASVS v5 14.3.2: answers that carry tokens or a
caller's private data are marked `Cache-Control: no-store`, and vary by `Authorization`."""

from tests.conftest import Harness
from tests.factories import admin, user


async def test_token_answers_are_never_stored(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    login = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    refreshed = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"
    form = await harness.client.post(
        "/api/v1/auth/token", data={"username": account.email, "password": account.password}
    )
    assert form.status_code == 200
    assert form.headers["cache-control"] == "no-store"


async def test_answers_to_a_signed_in_caller_are_private(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    moderator = await admin(harness.client, harness.context)
    for path, headers in (
        ("/api/v1/users/me", account.headers),
        ("/api/v1/auth/sessions", account.headers),
        ("/api/v1/users", moderator.headers),
    ):
        response = await harness.client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        assert "Authorization" in response.headers["vary"], path


async def test_public_reads_stay_cacheable(harness: Harness) -> None:
    response = await harness.client.get("/api/v1/books")
    assert response.status_code == 200
    assert "cache-control" not in response.headers
