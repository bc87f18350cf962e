"""A reader that notes what it is asked to read, for tests that inspect the SQL that ran."""

from collections.abc import Mapping, Sequence
from typing import Any

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
