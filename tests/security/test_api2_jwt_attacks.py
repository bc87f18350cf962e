"""OWASP API2:2023 Broken Authentication; ASVS v5 V9 (self-contained tokens): every malformed,
forged, confused or expired JWT gets 401 invalid_token."""

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import Harness
from tests.factories import Account, user

ME = "/api/v1/users/me"


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _secret(harness: Harness) -> str:
    return harness.context.settings.jwt_secret.get_secret_value()


async def _assert_invalid(harness: Harness, token: str) -> None:
    response = await harness.client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
async def account(harness: Harness) -> Account:
    return await user(harness.client, harness.context)


async def test_no_credentials_is_not_authenticated(harness: Harness) -> None:
    response = await harness.client.get(ME)
    assert response.status_code == 401
    assert response.json()["error_code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_tokens_in_the_query_string_are_ignored(harness: Harness, account: Account) -> None:
    response = await harness.client.get(ME, params={"access_token": account.access_token})
    assert response.status_code == 401
    assert response.json()["error_code"] == "not_authenticated"


async def test_alg_none_is_refused(harness: Harness, account: Account) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = base64.urlsafe_b64encode(json.dumps(_claims(account.access_token)).encode())
    token = f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."
    await _assert_invalid(harness, token)


async def test_another_hmac_algorithm_is_refused(harness: Harness, account: Account) -> None:
    token = jwt.encode(_claims(account.access_token), _secret(harness), algorithm="HS512")
    await _assert_invalid(harness, token)


async def test_a_wrong_key_is_refused(harness: Harness, account: Account) -> None:
    token = jwt.encode(_claims(account.access_token), "another-secret-" * 4, algorithm="HS256")
    await _assert_invalid(harness, token)


async def test_a_tampered_payload_is_refused(harness: Harness, account: Account) -> None:
    header, _, signature = account.access_token.split(".")
    forged = {**_claims(account.access_token), "role": "admin"}
    payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    await _assert_invalid(harness, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("missing", ["exp", "sub", "sid", "jti", "typ", "iat"])
async def test_each_required_claim_is_required(
    harness: Harness, account: Account, missing: str
) -> None:
    claims = _claims(account.access_token)
    del claims[missing]
    await _assert_invalid(harness, jwt.encode(claims, _secret(harness), algorithm="HS256"))


async def test_a_refresh_token_is_not_an_access_token(harness: Harness, account: Account) -> None:
    await _assert_invalid(harness, account.refresh_token)


async def test_an_access_token_cannot_refresh(harness: Harness, account: Account) -> None:
    response = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.access_token}
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_token"


async def test_expiry_follows_the_clock(harness: Harness, account: Account) -> None:
    assert (await harness.client.get(ME, headers=account.headers)).status_code == 200
    harness.clock.advance(minutes=14, seconds=50)
    assert (await harness.client.get(ME, headers=account.headers)).status_code == 200
    harness.clock.advance(seconds=15)
    await _assert_invalid(harness, account.access_token)


async def test_a_token_issued_in_the_future_is_refused(harness: Harness, account: Account) -> None:
    """An `iat` more than a minute ahead (ASVS v5 9.2.1): the key signed it, no honest clock did."""
    claims = _claims(account.access_token)
    for ahead_seconds, answered in ((50, 200), (120, 401)):
        forged = {**claims, "iat": claims["iat"] + ahead_seconds, "exp": claims["exp"] + 120}
        token = jwt.encode(forged, _secret(harness), "HS256")
        response = await harness.client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == answered, response.text
    await _assert_invalid(harness, token)


async def test_an_expired_refresh_token_cannot_refresh(harness: Harness, account: Account) -> None:
    harness.clock.advance(days=14, seconds=1)
    response = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_token"


async def test_key_hints_in_the_header_are_ignored(harness: Harness, account: Account) -> None:
    """A `jku`/`kid` pointing elsewhere changes nothing: only the configured key verifies."""
    token = jwt.encode(
        _claims(account.access_token),
        "attacker-key-" * 4,
        algorithm="HS256",
        headers={"kid": "../../dev/null", "jku": "http://attacker.invalid/jwks.json"},
    )
    await _assert_invalid(harness, token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer", "x" * 5000, "é.é.é"])
async def test_garbage_tokens(harness: Harness, garbage: str) -> None:
    header = f"Bearer {garbage}".encode()
    response = await harness.client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error_code"] in {"invalid_token", "not_authenticated"}


async def test_a_token_for_a_session_that_never_existed(harness: Harness, account: Account) -> None:
    claims = {**_claims(account.access_token), "sid": str(uuid.uuid4())}
    claims["iat"] = int(time.time())
    token = jwt.encode(claims, _secret(harness), algorithm="HS256")
    response = await harness.client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
