"""OWASP API4:2023 Unrestricted Resource Consumption; ASVS v5 V4.2 (HTTP message structure).

Oversized, deeply nested and malformed bodies get a 4xx problem document, never a 500."""

import pytest

from tests.conftest import Harness
from tests.factories import admin

LOGIN = "/api/v1/auth/login"
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than any parser's recursion limit
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"email": "a@example.com", "password": "x"',  # truncated
        b"null",
        b"[]",
        b'"just a string"',
        b"1e999999",
        b'{"email": "a@example.com", "password": "x", "email": "b@example.com"}',
    ],
)
async def test_malformed_bodies(harness: Harness, body: bytes) -> None:
    response = await harness.client.post(LOGIN, content=body, headers=JSON)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_huge_strings_are_refused_by_their_bounds(harness: Harness) -> None:
    response = await harness.client.post(
        LOGIN, json={"email": "a@example.com", "password": "p" * 100_000}
    )
    assert response.status_code == 422


async def test_many_unknown_fields(harness: Harness) -> None:
    body = {f"field{i}": i for i in range(5_000)} | {"email": "a@example.com", "password": "x"}
    response = await harness.client.post(LOGIN, json=body)
    assert response.status_code == 422


async def test_a_body_just_over_the_limit(harness: Harness) -> None:
    limit = harness.context.settings.max_body_bytes
    padding = "x" * (limit + 1 - len('{"email":"","password":""}'))
    response = await harness.client.post(LOGIN, json={"email": "", "password": padding})
    assert response.status_code == 413
    assert response.json()["error_code"] == "payload_too_large"


@pytest.mark.parametrize("limit", ["-1", "0", "101", str(2**64), "1e3", "NaN"])
async def test_page_sizes_are_bounded(harness: Harness, limit: str) -> None:
    boss = await admin(harness.client, harness.context)
    response = await harness.client.get(
        "/api/v1/users/", params={"limit": limit}, headers=boss.headers
    )
    assert response.status_code == 422
