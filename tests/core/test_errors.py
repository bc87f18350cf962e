"""Every error, the framework's included, is a problem document; client input never makes a 500."""

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.factories import signup_body, user

PROBLEM = "application/problem+json"


def _assert_problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["error_code"] == code
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]


async def test_unknown_route(harness: Harness) -> None:
    _assert_problem(await harness.client.get("/api/v1/nope"), 404, "not_found")


async def test_wrong_method(harness: Harness) -> None:
    _assert_problem(await harness.client.put("/api/v1/auth/login"), 405, "method_not_allowed")


async def test_validation_errors_list_each_problem(harness: Harness) -> None:
    response = await harness.client.post("/api/v1/auth/signup", json=signup_body(password="x"))
    _assert_problem(response, 422, "validation_error")
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "password"]
    assert set(error) == {"loc", "msg", "type"}
    assert "x" not in error["msg"].split()  # the offending input is not echoed


async def test_malformed_json(harness: Harness) -> None:
    response = await harness.client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    _assert_problem(response, 422, "validation_error")


async def test_wrong_content_type(harness: Harness) -> None:
    response = await harness.client.post(
        "/api/v1/auth/login",
        content=b'{"email": "a@example.com", "password": "x"}',
        headers={"content-type": "text/plain"},
    )
    _assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("charset", ["ISO-8859-1", "utf-16", '"windows-1252"'])
async def test_json_declared_in_another_charset_is_refused(harness: Harness, charset: str) -> None:
    response = await harness.client.post(
        "/api/v1/auth/login",
        content='{"email": "ré@example.com", "password": "x"}'.encode("latin-1"),
        headers={"content-type": f"application/json; charset={charset}"},
    )
    _assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf8"'])
async def test_json_declared_as_utf8_is_read(harness: Harness, charset: str) -> None:
    response = await harness.client.post(
        "/api/v1/auth/login",
        content='{"email": "ré@example.com", "password": "wrong-password"}'.encode(),
        headers={"content-type": f"application/json; charset={charset}"},
    )
    _assert_problem(response, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "raw",
    [
        '"nul\\u0000byte"',  # NUL: PostgreSQL refuses it
        '"lone\\ud800surrogate"',  # cannot be encoded as UTF-8
    ],
)
async def test_unstorable_text_is_refused(harness: Harness, raw: str) -> None:
    body = (
        '{"username": "ok_name", "email": "a@example.com", "first_name": '
        + raw
        + ', "last_name": "x", "password": "long-enough-password"}'
    )
    response = await harness.client.post(
        "/api/v1/auth/signup", content=body.encode(), headers={"content-type": "application/json"}
    )
    _assert_problem(response, 422, "validation_error")
    assert response.json()["errors"][0]["loc"] == ["body", "first_name"]


async def test_non_uuid_path_id(harness: Harness) -> None:
    response = await harness.client.get("/api/v1/users/not-a-uuid")
    _assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("limit", ["-1", "0", "101", str(2**70), "ten"])
async def test_bad_numbers_in_queries(harness: Harness, limit: str) -> None:
    admin_account = await user(harness.client, harness.context)
    response = await harness.client.get(
        "/api/v1/users/", params={"limit": limit}, headers=admin_account.headers
    )
    # The query is checked before authorisation decides; either way never a 500.
    assert response.status_code in (403, 422)
    assert response.headers["content-type"] == PROBLEM


async def test_body_over_the_limit_is_refused_by_its_declared_length(harness: Harness) -> None:
    big = b"x" * (harness.context.settings.max_body_bytes + 1)
    response = await harness.client.post(
        "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
    )
    _assert_problem(response, 413, "payload_too_large")


async def test_chunked_body_over_the_limit_is_refused_while_counting(harness: Harness) -> None:
    limit = harness.context.settings.max_body_bytes
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(64):
            chunks_sent += 1
            yield b"x" * (limit // 8)

    response = await harness.client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_problem(response, 413, "payload_too_large")
    assert chunks_sent < 64  # refused before the body was read in full


async def test_non_numeric_content_length(harness: Harness) -> None:
    response = await harness.client.post(
        "/api/v1/auth/login",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": "abc"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_405_lists_every_method_the_path_serves(harness: Harness) -> None:
    response = await harness.client.put("/api/v1/users/me")
    _assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
