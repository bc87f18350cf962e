"""Endpoints marked `read_only` run without a transaction; every other endpoint keeps one."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.conftest import Harness
from tests.factories import user

ME = "/api/v1/users/me"


@contextmanager
def isolation_levels(harness: Harness) -> Iterator[list[tuple[str, str]]]:
    """Each SQL statement that went through SQLAlchemy, in order, with its isolation level."""
    seen: list[tuple[str, str]] = []

    def record(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        options = connection.get_execution_options()
        seen.append((options.get("isolation_level", "transaction"), statement))

    engine = harness.context.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_reading_endpoints_run_each_query_on_its_own(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    with isolation_levels(harness) as seen:
        me = await harness.client.get(ME, headers=account.headers)
        profile = await harness.client.get(f"/api/v1/users/{account.uid}")
        sessions = await harness.client.get("/api/v1/auth/sessions", headers=account.headers)
    assert (me.status_code, profile.status_code, sessions.status_code) == (200, 200, 200)
    assert seen
    assert {level for level, _ in seen} == {"AUTOCOMMIT"}


async def test_writing_endpoints_keep_their_transaction(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    with isolation_levels(harness) as seen:
        response = await harness.client.patch(
            ME, headers=account.headers, json={"first_name": "Grace"}
        )
    assert response.status_code == 200
    # Authentication is a hot read of its own (core/reads.py); the change is one transaction.
    writes = [level for level, sql in seen if sql.lstrip().upper().startswith("UPDATE")]
    assert writes
    assert "AUTOCOMMIT" not in writes
    # The change was committed, and a read-only request sees it.
    assert (await harness.client.get(ME, headers=account.headers)).json()["first_name"] == "Grace"
