"""Endpoints marked `read_only` run without a transaction; every other endpoint keeps one."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.conftest import Harness
from tests.factories import user

ME = "/api/v1/users/me"


@contextmanager
def isolation_levels(harness: Harness) -> Iterator[list[str]]:
    """The isolation level each SQL statement ran under, in order."""
    seen: list[str] = []

    def record(connection: Any, *_: Any) -> None:
        seen.append(connection.get_execution_options().get("isolation_level", "transaction"))

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
    assert set(seen) == {"AUTOCOMMIT"}


async def test_writing_endpoints_keep_their_transaction(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    with isolation_levels(harness) as seen:
        response = await harness.client.patch(
            ME, headers=account.headers, json={"first_name": "Grace"}
        )
    assert response.status_code == 200
    assert seen
    assert "AUTOCOMMIT" not in seen
    # The change was committed, and a read-only request sees it.
    assert (await harness.client.get(ME, headers=account.headers)).json()["first_name"] == "Grace"
