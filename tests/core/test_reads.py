"""Hot reads (core/reads.py): on PostgreSQL they run on asyncpg's own pool, and answer exactly
as the same statements do through SQLAlchemy; a dry read pool answers 503 within its timeout."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from fastapi import Request
from sqlalchemy import (
    Integer,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

from bookly.books import objects
from bookly.core.config import Settings
from bookly.core.reads import ConnectionReader, PostgresReader, Prepared
from bookly.main import create_app
from tests.conftest import BACKEND, Harness
from tests.factories import user
from tests.support.apps import app_client
from tests.support.catalogue import new_book, new_review
from tests.support.outages import assert_unavailable, timed

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg reads PostgreSQL only")


@postgres_only
async def test_asyncpg_reads_books_exactly_as_sqlalchemy_does(harness: Harness) -> None:
    assert isinstance(harness.context.reader, PostgresReader)
    owner = await user(harness.client, harness.context)
    tagged = await new_book(harness.client, owner, isbn="9780441478125")
    tags = await harness.client.put(
        f"/api/v1/books/{tagged['uid']}/tags",
        json={"tags": ["science fiction", "anthropology"]},
        headers=owner.headers,
    )
    assert tags.status_code == 200, tags.text
    await new_review(harness.client, await user(harness.client, harness.context), tagged["uid"])
    bare = await new_book(harness.client, owner, publisher=None, published_date=None)

    for book in (tagged, bare):
        uid = uuid.UUID(book["uid"])
        on_asyncpg = await objects.read_book(harness.context.reader, uid)
        async with harness.context.engine.connect() as connection:
            on_sqlalchemy = await objects.read_book(ConnectionReader(connection), uid)
        assert objects.body_and_etag(on_asyncpg) == objects.body_and_etag(on_sqlalchemy)
    assert on_asyncpg.tags == []
    assert (await objects.read_book(harness.context.reader, uuid.UUID(tagged["uid"]))).tags == [
        "anthropology",
        "science fiction",
    ]


@postgres_only
async def test_a_dry_read_pool_answers_503_within_its_timeout(settings: Settings) -> None:
    configured = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout_seconds": 0.5})
    async with app_client(configured) as (app, client):
        reader = app.state.context.reader
        assert isinstance(reader, PostgresReader)
        busy = asyncio.create_task(reader.rows(Prepared(select(func.pg_sleep(2))), {}))
        for _ in range(500):  # until the sleeper holds the pool's one connection
            if reader.connections_in_use() == 1:
                break
            await asyncio.sleep(0.01)

        response, seconds = await timed(client.get(f"/api/v1/books/{uuid.uuid4()}"))
        assert_unavailable(response)
        assert 0.5 <= seconds < 1.5

        await busy
        assert reader.connections_in_use() == 0
        assert (await client.get(f"/api/v1/books/{uuid.uuid4()}")).status_code == 404


@postgres_only
async def test_a_released_read_connection_is_not_sent_a_reset_query(settings: Settings) -> None:
    # A read leaves no session state behind, so releasing its connection costs no round trip.
    configured = settings.model_copy(update={"db_pool_size": 1})
    async with app_client(configured) as (app, client):
        assert (await client.get(f"/api/v1/books/{uuid.uuid4()}")).status_code == 404
        reader = app.state.context.reader
        assert isinstance(reader, PostgresReader)
        (holder,) = await reader.rows(Prepared(select(func.pg_backend_pid())), {})
        monitor = await asyncpg.connect(
            make_url(configured.database_url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            last_query = await monitor.fetchval(
                "SELECT query FROM pg_stat_activity WHERE pid = $1", holder[0]
            )
        finally:
            await monitor.close()
    assert "pg_backend_pid" in last_query


@postgres_only
async def test_a_data_exception_in_a_hot_read_is_the_clients_422(settings: Settings) -> None:
    # asyncpg's own errors are answered as SQLAlchemy's are: SQLSTATE class 22 is bad input.
    app = create_app(settings)

    async def read_a_malformed_number(request: Request) -> None:
        malformed = Prepared(select(cast(literal("not a number"), Integer)))
        await request.app.state.context.reader.rows(malformed, {})

    app.add_api_route("/probe/malformed", read_a_malformed_number)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bookly.test") as client:
            response = await client.get("/probe/malformed")
    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "validation_error"


@postgres_only
async def test_a_read_planned_per_values_leaves_no_statement_to_go_generic(
    settings: Settings,
) -> None:
    # PostgreSQL moves a prepared statement to a generic plan after five runs; a search must be
    # planned for its own words every time (books/listing.py), or a common word takes the plan
    # made for a rare one. Each such read prepares a statement of its own, planned for its
    # values at its first (and only) run, and drops it.
    configured = settings.model_copy(update={"db_pool_size": 1})  # one connection: one view
    reader = PostgresReader(configured, PGDialect_asyncpg())
    statements = table("pg_prepared_statements", column("statement"), column("generic_plans"))
    plans = Prepared(
        select(statements.c.generic_plans).where(statements.c.statement.contains("-4242"))
    )
    try:
        for planned_per_values in (True, False):
            probe = Prepared(
                select(literal_column("-4242", Integer) + bindparam("n", type_=Integer)),
                planned_per_values=planned_per_values,
            )
            for n in range(8):
                assert (await reader.rows(probe, {"n": n}))[0][0] == n - 4242
            generic = [row[0] for row in await reader.rows(plans, {})]
            if planned_per_values:
                assert generic == []
            else:  # the same statement from asyncpg's cache: the check can see a generic plan
                assert any(generic), generic
    finally:
        await reader.close()
