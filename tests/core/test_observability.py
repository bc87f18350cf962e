"""Observability (§9): /metrics by route template, pool and row-count gauges; the JSON access
log; and no secret in any log line."""

import json
import logging
import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Receive, Scope, Send

from bookly.core.logging import JsonFormatter, scrub
from bookly.core.metrics import Metrics
from bookly.core.telemetry import route_template
from bookly.models import OutboxMessage, OutboxStatus
from tests.conftest import BACKEND, Harness
from tests.factories import PASSWORD, log_in, sign_up

USER_ROUTE = "/api/v1/users/{uid}"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_are_labelled_by_route_template(harness: Harness) -> None:
    account = await sign_up(harness.client)
    other = await sign_up(harness.client)
    for uid in (account.uid, other.uid):
        assert (await harness.client.get(f"/api/v1/users/{uid}")).status_code == 200
    missing = uuid.uuid4()
    assert (await harness.client.get(f"/api/v1/users/{missing}")).status_code == 404
    for junk in ("/wp-admin/x.php", "/no/such/route"):
        assert (await harness.client.get(junk)).status_code == 404

    response = await harness.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    samples = _samples(text)
    ok = (("method", "GET"), ("route", USER_ROUTE), ("status", "200"))
    assert samples[("bookly_http_requests_total", ok)] == 2
    not_found = (("method", "GET"), ("route", USER_ROUTE), ("status", "404"))
    assert samples[("bookly_http_requests_total", not_found)] == 1
    unmatched = (("method", "GET"), ("route", "<unmatched>"), ("status", "404"))
    assert samples[("bookly_http_requests_total", unmatched)] == 2
    assert samples[("bookly_http_request_duration_seconds_count", ok)] == 2
    all_requests = (("le", "+Inf"), *ok)
    assert samples[("bookly_http_request_duration_seconds_bucket", all_requests)] == 2
    # Raw paths never become labels.
    for raw in (str(account.uid), str(missing), "wp-admin"):
        assert raw not in text
    assert samples[("bookly_db_pool_size", ())] >= 1
    if BACKEND == "postgres":  # the hot reads' own pool (core/reads.py), idle between requests
        assert samples[("bookly_db_read_pool_size", ())] == harness.context.settings.db_pool_size
        assert samples[("bookly_db_read_pool_connections_in_use", ())] == 0


async def test_row_count_gauges_wait_for_their_table(harness: Harness) -> None:
    probe = sa.Table(
        "ops_metrics_probe",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sent", sa.Boolean, nullable=False),
    )
    metrics = Metrics()
    metrics.watch_engine(harness.context.engine)
    metrics.watch_rows(
        "bookly_probe_backlog",
        "Unsent probe rows.",
        sa.select(sa.func.count()).select_from(probe).where(probe.c.sent.is_(False)),
    )
    await metrics.refresh()
    assert "bookly_probe_backlog" not in generate_latest(metrics.registry).decode()

    async with harness.context.engine.begin() as connection:
        await connection.run_sync(probe.create)
        await connection.execute(probe.insert(), [{"sent": False}, {"sent": False}, {"sent": True}])
    try:
        await metrics.refresh()
        samples = _samples(generate_latest(metrics.registry).decode())
        assert samples[("bookly_probe_backlog", ())] == 2
    finally:
        async with harness.context.engine.begin() as connection:
            await connection.run_sync(probe.drop)


def test_watch_rows_needs_one_table() -> None:
    with pytest.raises(ValueError, match="one table"):
        Metrics().watch_rows("x", "x", sa.select(sa.literal(1)))


async def test_one_json_access_line_per_request(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    account = await log_in(harness.client, await sign_up(harness.client))
    caplog.clear()
    caplog.set_level(logging.INFO, logger="bookly.access")

    me = await harness.client.get("/api/v1/users/me", headers=account.headers)

    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "bookly.access"
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == me.headers["x-request-id"]
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/users/me"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["user_uid"] == str(account.uid)
    assert line["level"] == "INFO"


async def test_no_secret_reaches_any_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await sign_up(harness.client)
    await log_in(harness.client, account)
    wrong = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "Wrong-Secret-Pass-1"}
    )
    assert wrong.status_code == 401
    form = {"username": account.email, "password": PASSWORD}
    token_pair = (await harness.client.post("/api/v1/auth/token", data=form)).json()
    refreshed = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refreshed.status_code == 200
    link_token = "LinkToken-" + uuid.uuid4().hex
    await harness.client.get(
        f"/verify-email?token={link_token}",
        headers={"Cookie": "session=CookieSecret123", "Authorization": "Basic dXNlcjpwdw=="},
    )
    await harness.client.post("/api/v1/auth/logout", headers=account.headers)

    # Records from the test's own HTTP client (httpx, httpcore) are not the service's logs.
    text = "\n".join(
        JsonFormatter().format(record)
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "bookly.access" in text
    secrets = [
        PASSWORD,
        "Wrong-Secret-Pass-1",
        account.access_token,
        account.refresh_token,
        token_pair["access_token"],
        token_pair["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
        link_token,
        "CookieSecret123",
        "dXNlcjpwdw==",
    ]
    for secret in secrets:
        assert secret not in text


def test_the_formatter_scrubs_secret_shapes() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    line = scrub(
        f"GET /verify-email?token=abc.def.ghi&x=1 Authorization: Bearer {jwt} password=hunter2"
    )
    assert "abc.def.ghi" not in line
    assert jwt not in line
    assert "hunter2" not in line
    assert "x=1" in line


async def test_route_templates_include_every_router_prefix() -> None:
    app = FastAPI()
    books = APIRouter(prefix="/books")

    @books.get("")
    async def list_books() -> dict[str, str]:
        return {}

    @books.get("/{uid}/reviews/")
    async def book_reviews(uid: str) -> dict[str, str]:
        return {}

    api = APIRouter(prefix="/api/v1")
    api.include_router(books)
    app.include_router(api)
    seen: list[str] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)
        seen.append(route_template(scope))

    transport = httpx.ASGITransport(app=probe)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/api/v1/books")
        await client.get("/api/v1/books/b1/reviews/")
        await client.get("/api/v1/nothing")
    assert seen == ["/api/v1/books", "/api/v1/books/{uid}/reviews/", "<unmatched>"]


async def test_pool_gauge_counts_connections_in_use(harness: Harness) -> None:
    metrics = Metrics()
    metrics.watch_engine(harness.context.engine)

    def in_use() -> float:
        return _samples(generate_latest(metrics.registry).decode())[
            ("bookly_db_pool_connections_in_use", ())
        ]

    before = in_use()
    async with harness.context.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
        during = in_use()
    assert during == before + 1
    assert in_use() == before


async def test_the_outbox_backlog_and_dead_letters_are_on_metrics(harness: Harness) -> None:
    await sign_up(harness.client)  # queues one verification email (no dispatcher runs here)
    async with harness.context.sessionmaker.begin() as db:
        db.add(
            OutboxMessage(
                template="verify-email",
                recipient="gone@example.com",
                payload={},
                message_id="<dead@example.com>",
                status=OutboxStatus.DEAD,
                attempts=8,
                last_error="550 mailbox unavailable",
            )
        )
    text = (await harness.client.get("/metrics")).text
    assert "bookly_outbox_backlog 1.0" in text
    assert "bookly_outbox_dead 1.0" in text
