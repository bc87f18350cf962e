"""Keyset pagination: opaque signed cursors and the page envelope every list answers with."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Mapped

from bookly.core.errors import InvalidCursor
from bookly.core.reads import Prepared, Reader

ItemT = TypeVar("ItemT")
RowItemT = TypeVar("RowItemT")
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    total: int | None = Field(
        default=None,
        description="Present only with `include_total=true`.",
        exclude_if=lambda total: total is None,
    )


class PageParams(BaseModel):
    """`limit`, `cursor` and `include_total`, shared by every list endpoint."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, max_length=1024)
    include_total: bool = False

    @property
    def after_cursor(self) -> bool:
        """Whether the page follows a cursor: an empty `cursor=` is the first page."""
        return bool(self.cursor)


PageQuery = Annotated[PageParams, Query()]


class CursorCodec:
    """Signs a page's last sort key. A cursor names the list it belongs to (`scope`), so one
    list's cursor is refused by another, and a forged one fails its signature."""

    def __init__(self, secret: str):
        self._serializer = URLSafeSerializer(secret, salt="bookly.cursor")

    def encode(self, scope: str, key: Sequence[Any]) -> str:
        return self._serializer.dumps([scope, _ANY_LIST.dump_python(list(key), mode="json")])

    def decode(self, scope: str, cursor: str, key_types: tuple[type, ...]) -> tuple[Any, ...]:
        try:
            cursor_scope, raw_key = self._serializer.loads(cursor)
            if cursor_scope != scope:
                raise InvalidCursor("This cursor belongs to another list or ordering.")
            return _key_adapter(key_types).validate_python(raw_key)
        except (BadSignature, ValueError, TypeError, ValidationError) as error:
            raise InvalidCursor("The cursor is not one this list issued.") from error


# Adapters are built once: building one costs far more than using it.
_ANY_LIST: TypeAdapter[list[Any]] = TypeAdapter(list[Any])


@cache
def _key_adapter(key_types: tuple[type, ...]) -> TypeAdapter[tuple[Any, ...]]:
    return TypeAdapter(tuple[key_types])  # type: ignore[valid-type]


def after_key(
    columns: Sequence[ColumnElement[Any] | Mapped[Any]], key: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after `key` in (columns...) order; a row comparison an index can serve."""
    left, right = tuple_(*columns), tuple_(*key)
    return left < right if descending else left > right


@dataclass(frozen=True)
class Keyset:
    """A list's order for keyset paging: its columns, the last of them unique (so the order is
    total), all in one direction, and the scope that names its cursors."""

    scope: str
    columns: Sequence[ColumnElement[Any] | Mapped[Any]]
    key_types: tuple[type, ...]
    descending: bool

    @classmethod
    def newest_first(cls, table: Any, *, key: str = "uid") -> "Keyset":
        """The order of most lists: newest first by `created_at`, ties broken by the table's
        unique `key` column."""
        return cls(
            scope=f"{table.__tablename__}:-created_at",
            columns=(table.created_at, getattr(table, key)),
            key_types=(datetime, uuid.UUID),
            descending=True,
        )

    def template(self, statement: SelectT, *, after_cursor: bool) -> SelectT:
        """The statement for one page, its cursor key and size left as parameters (`after_0`,
        `after_1`, …, `page_size`), so a list can build it once and run it for every page."""
        if after_cursor:
            key = [
                bindparam(f"after_{n}", type_=getattr(column, "type", None))
                for n, column in enumerate(self.columns)
            ]
            statement = statement.where(after_key(self.columns, key, descending=self.descending))
        directed = [column.desc() if self.descending else column.asc() for column in self.columns]
        return statement.order_by(*directed).limit(bindparam("page_size", type_=Integer))

    def parameters(self, page: PageParams, cursors: CursorCodec) -> dict[str, Any]:
        """Values for `template`: the key after `page.cursor`, and one row more than the page
        holds, which tells whether another page follows."""
        values: dict[str, Any] = {"page_size": page.limit + 1}
        if page.cursor:  # the same test as `page.after_cursor`, which mypy cannot narrow on
            key = cursors.decode(self.scope, page.cursor, self.key_types)
            values.update({f"after_{n}": value for n, value in enumerate(key)})
        return values

    def cut(
        self,
        rows: Sequence[RowItemT],
        page: PageParams,
        cursors: CursorCodec,
        key_of: Callable[[RowItemT], Sequence[Any]],
    ) -> tuple[list[RowItemT], str | None]:
        """The page's rows, and the cursor to the next page (None at the end)."""
        kept = list(rows[: page.limit])
        if len(rows) <= page.limit:
            return kept, None
        return kept, cursors.encode(self.scope, key_of(kept[-1]))


def count_of(
    table: Any, conditions: Sequence[ColumnElement[bool]], *, planned_per_values: bool = False
) -> Prepared:
    """The statement `count_if_asked` runs for a list of `table`'s rows."""
    return Prepared(
        select(func.count()).select_from(table).where(*conditions),
        planned_per_values=planned_per_values,
    )


async def count_if_asked(
    reader: Reader, page: PageParams, count: Prepared, parameters: Mapping[str, Any] | None = None
) -> int | None:
    """The number of matching rows (`count` selects it) when the client asked for
    `include_total`, else None."""
    if not page.include_total:
        return None
    ((total,),) = await reader.rows(count, parameters or {})
    return int(total)
