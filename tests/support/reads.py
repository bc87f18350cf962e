"""A reader that notes what it is asked to read, for tests that inspect the SQL that ran."""

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect, make_url

from bookly.core.reads import Prepared, Reader, Row


class RecordingReader:
    def __init__(self, reader: Reader):
        self.inner = reader
        self.reads: list[tuple[Prepared, Mapping[str, Any]]] = []

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> Sequence[Row]:
        self.reads.append((query, parameters))
        return await self.inner.rows(query, parameters)

    async def close(self) -> None:
        await self.inner.close()


async def plan_nodes(
    database_url: str, dialect: Dialect, query: Prepared, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every node of the plan PostgreSQL makes for `query` with these values (as the reader
    runs it: compiled for asyncpg, the values bound), parents before their children."""
    compiled = query.compiled(dialect)
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        explained = await connection.fetchval(
            f"EXPLAIN (FORMAT JSON) {compiled.sql}", *compiled.arguments(parameters)
        )
    finally:
        await connection.close()
    plan = json.loads(explained) if isinstance(explained, str) else explained
    return list(_walk(plan[0]["Plan"]))


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)
