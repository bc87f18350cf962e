"""Keyset pagination: opaque signed cursors and the page envelope every list answers with."""

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)
from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.orm import Mapped

from bookly.core.errors import InvalidCursor

ItemT = TypeVar("ItemT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    total: int | None = Field(default=None, description="Present only with `include_total=true`.")

    @model_serializer(mode="wrap")
    def _omit_total_unless_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("total") is None:
            data.pop("total", None)
        return data


class PageParams(BaseModel):
    """`limit`, `cursor` and `include_total`, shared by every list endpoint."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, max_length=1024)
    include_total: bool = False


PageQuery = Annotated[PageParams, Query()]


class CursorCodec:
    """Signs a page's last sort key. A cursor names the list it belongs to (`scope`), so one
    list's cursor is refused by another, and a forged one fails its signature."""

    def __init__(self, secret: str):
        self._serializer = URLSafeSerializer(secret, salt="bookly.cursor")

    def encode(self, scope: str, key: Sequence[Any]) -> str:
        return self._serializer.dumps(
            [scope, TypeAdapter(list[Any]).dump_python(list(key), mode="json")]
        )

    def decode(self, scope: str, cursor: str, key_types: tuple[type, ...]) -> tuple[Any, ...]:
        try:
            cursor_scope, raw_key = self._serializer.loads(cursor)
            if cursor_scope != scope:
                raise InvalidCursor("This cursor belongs to another list or ordering.")
            adapter: TypeAdapter[tuple[Any, ...]] = TypeAdapter(tuple[key_types])  # type: ignore[valid-type]
            return adapter.validate_python(raw_key)
        except (BadSignature, ValueError, TypeError, ValidationError) as error:
            raise InvalidCursor("The cursor is not one this list issued.") from error


def after_key(
    columns: Sequence[ColumnElement[Any] | Mapped[Any]], key: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after `key` in (columns...) order; a row comparison an index can serve."""
    left, right = tuple_(*columns), tuple_(*key)
    return left < right if descending else left > right
