"""Health probes, request ids, standard headers, and the OpenAPI document."""

from tests.conftest import Harness
from tests.factories import user
from tests.support.catalogue import book_body


async def test_healthz(harness: Harness) -> None:
    response = await harness.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_names_what_it_checked(harness: Harness) -> None:
    response = await harness.client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    if harness.context.redis is not None:
        assert checks["redis"] == "ok"


async def test_readyz_fails_when_the_database_is_gone(harness: Harness) -> None:
    from bookly.core.db import create_engine

    broken = harness.context.settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"
            if not harness.context.settings.is_sqlite
            else "sqlite+aiosqlite:////nonexistent-dir/for/bookly.db"
        }
    )
    healthy_engine = harness.context.engine
    harness.context.engine = create_engine(broken)
    try:
        response = await harness.client.get("/readyz")
    finally:
        await harness.context.engine.dispose()
        harness.context.engine = healthy_engine
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "service_unavailable"
    assert "database" in response.json()["detail"]
    assert response.headers["retry-after"]


async def test_request_id_is_echoed_or_made(harness: Harness) -> None:
    echoed = await harness.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await harness.client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    insane = await harness.client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert insane.headers["x-request-id"] != "bad id\twith junk"


async def test_every_response_says_nosniff(harness: Harness) -> None:
    for response in (
        await harness.client.get("/healthz"),
        await harness.client.get("/nope"),
        await harness.client.post("/api/v1/auth/login", json={}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "x-request-id" in response.headers


async def test_openapi_documents_problem_responses(harness: Harness) -> None:
    response = await harness.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "Problem" in schema["components"]["schemas"]
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "application/problem+json" in login["401"]["content"]
    me = schema["paths"]["/api/v1/users/me"]["get"]["responses"]
    assert {"401", "503"} <= set(me)
    docs = await harness.client.get("/docs")
    assert docs.status_code == 200


async def test_openapi_documents_the_problems_every_body_can_cause(harness: Harness) -> None:
    schema = (await harness.client.get("/api/v1/openapi.json")).json()
    signup = schema["paths"]["/api/v1/auth/signup"]["post"]["responses"]
    assert {"400", "413", "415", "422", "500"} <= set(signup)
    assert "ValidationIssue" in schema["components"]["schemas"]
    scheme = next(iter(schema["components"]["securitySchemes"].values()))
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"


async def test_a_trailing_slash_reaches_the_same_resource(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    for path in ("/api/v1/books", "/api/v1/books/"):
        created = await harness.client.post(path, json=book_body(), headers=account.headers)
        assert created.status_code == 201, path
        listed = await harness.client.get(path)
        assert listed.status_code == 200, path
    schema = (await harness.client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/books" in schema["paths"]
    assert "/api/v1/books/" not in schema["paths"]
