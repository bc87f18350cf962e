"""The pass through PgBouncer (`BOOKLY_TEST_POOLER=pgbouncer`, scripts/test-all) really goes
through it: the app runs as behind a transaction pooler, and PgBouncer holds its connection."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import THROUGH_POOLER, Database, Harness

pytestmark = pytest.mark.skipif(not THROUGH_POOLER, reason="runs in the pass through PgBouncer")


async def test_the_app_reaches_postgresql_through_pgbouncer(
    database: Database, harness: Harness
) -> None:
    assert database.pooler is not None
    assert harness.context.settings.db_pooler == "transaction"
    name = make_url(database.url).database
    assert name is not None
    async with harness.context.engine.connect() as connection:
        # The statement timeout `bookly migrate` stores behind a pooler, on the server side.
        timeout_ms = await connection.scalar(
            text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        )
        assert timeout_ms == str(harness.context.settings.db_statement_timeout_ms)
        pool = await asyncio.to_thread(database.pooler.pool, name)
    assert pool.get("cl_active", 0) >= 1, pool
    response = await harness.client.get("/api/v1/books")
    assert response.status_code == 200
