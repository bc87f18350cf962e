"""Edges (§8): CORS from settings, trusted hosts, security headers, pure ASGI middleware."""

import pytest
from pydantic import ValidationError
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware

from bookly.core.config import Settings
from bookly.main import create_app
from tests.support.apps import app_client

ORIGIN = "https://app.example.org"


async def test_cors_allows_only_configured_origins(settings: Settings) -> None:
    configured = settings.model_copy(update={"cors_origins": [ORIGIN]})
    async with app_client(configured) as (_, client):
        preflight = await client.options(
            "/api/v1/auth/login",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        foreign = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        allowed = await client.get("/healthz", headers={"Origin": ORIGIN})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in foreign.headers


async def test_no_cors_headers_by_default(settings: Settings) -> None:
    async with app_client(settings) as (_, client):
        response = await client.get("/healthz", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_a_wildcard_cors_origin_is_refused() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings(_env_file=None, cors_origins="*")  # type: ignore[call-arg]
    assert Settings(
        _env_file=None, cors_origins="https://a.example, https://b.example"
    ).cors_origins == [  # type: ignore[call-arg]
        "https://a.example",
        "https://b.example",
    ]


async def test_trusted_hosts_refuse_other_hosts_with_a_problem(settings: Settings) -> None:
    configured = settings.model_copy(update={"trusted_hosts": ["bookly.test", "*.bookly.test"]})
    async with app_client(configured) as (_, client):
        ours = await client.get("/healthz")
        sub = await client.get("/healthz", headers={"Host": "api.bookly.test:8443"})
        forged = await client.get("/healthz", headers={"Host": "evil.example"})
        lookalike = await client.get("/healthz", headers={"Host": "evilbookly.test"})
    assert ours.status_code == 200
    assert sub.status_code == 200
    for refused in (forged, lookalike):
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["error_code"] == "bad_request"
        assert refused.headers["x-content-type-options"] == "nosniff"


async def test_any_host_is_answered_by_default(settings: Settings) -> None:
    assert settings.trusted_hosts == ["*"]
    async with app_client(settings) as (_, client):
        response = await client.get("/healthz", headers={"Host": "whatever.example"})
    assert response.status_code == 200


async def test_security_headers_on_success_and_error(settings: Settings) -> None:
    async with app_client(settings) as (_, client):
        responses = [
            await client.get("/healthz"),
            await client.get("/no/such/route"),
            await client.post(
                "/api/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}
            ),
        ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert len(response.headers["x-request-id"]) >= 16


def test_all_middleware_is_pure_asgi(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"cors_origins": [ORIGIN], "trusted_hosts": ["x.example"]}
    )
    app = create_app(configured)
    classes = [middleware.cls for middleware in app.user_middleware]
    assert CORSMiddleware in classes  # configured here, so every kind is present
    for cls in classes:
        assert isinstance(cls, type)
        assert not issubclass(cls, BaseHTTPMiddleware), cls
