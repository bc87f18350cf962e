"""The book object of the API (§4), read in one SQL statement: the owner joined, the tags
aggregated, the rating summary from the book's own columns.

Every route that answers with books reads them here, so a book costs one round trip however
many are on the page (design.md, "Where the time goes": Core rows, not ORM objects).
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Select, String, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import col

from bookly.books.errors import BookNotFound
from bookly.books.schemas import BookOut
from bookly.core.reads import Prepared, Reader, Row
from bookly.models import Book, BookTag, Tag, User
from bookly.models.book import books_table


class _NameList(TypeDecorator[list[str]]):
    """A list of names: a PostgreSQL array as it comes, SQLite's JSON array text decoded."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        if value is None:
            return []
        return list(json.loads(value) if isinstance(value, str) else value)


class _AggregatedNames(FunctionElement[list[str]]):
    """The aggregate of a name column into one list (the order is the caller's to fix)."""

    type = _NameList()
    inherit_cache = True


@compiles(_AggregatedNames, "postgresql")
def _array_agg(element: _AggregatedNames, compiler: SQLCompiler, **kw: Any) -> str:
    # As `text[]`, a type asyncpg knows: for the names' own `varchar[]` it would look the type
    # up on each new connection, which behind a pooler leaks a setting (core/pooler.py).
    return f"array_agg({compiler.process(element.clauses, **kw)})::text[]"


@compiles(_AggregatedNames, "sqlite")
def _json_group_array(element: _AggregatedNames, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


def _tag_names() -> ColumnElement[list[str]]:
    return (
        select(_AggregatedNames(col(Tag.name)))
        .select_from(BookTag)
        .join(Tag, col(Tag.uid) == col(BookTag.tag_uid))
        .where(col(BookTag.book_uid) == col(Book.uid))
        .scalar_subquery()
        .label("tag_names")
    )


_BOOK_FIELDS = (
    "uid",
    "title",
    "author",
    "publisher",
    "published_date",
    "page_count",
    "language",
    "isbn",
    "description",
    "rating_sum",
    "rating_count",
    "created_at",
    "updated_at",
)


# Built once: composing SQLAlchemy constructs costs more than running the compiled statement.
_BOOKS = select(
    *(getattr(Book, name) for name in _BOOK_FIELDS),
    col(User.uid).label("owner_uid"),
    col(User.username).label("owner_username"),
    _tag_names(),
).outerjoin(User, col(User.uid) == col(Book.owner_uid))
_BOOK_BY_UID = Prepared(_BOOKS.where(col(Book.uid) == bindparam("uid")))
# A write's first read: the row stays locked until its transaction ends (PostgreSQL; SQLite
# writes one at a time anyway).
_LOCKED_BOOK_BY_UID = Prepared(
    _BOOKS.where(col(Book.uid) == bindparam("uid")).with_for_update(of=books_table)
)


def select_books(*extra: ColumnElement[Any]) -> Select[Any]:
    """Everything a book object needs, plus `extra` columns (a sort key, say): add the
    conditions and the order."""
    return _BOOKS.add_columns(*extra)


def _fields(row: Row) -> dict[str, Any]:
    # By position (the order of `_BOOKS`): a row's lookups by name cost more than the rest of
    # this function on a page of books.
    fields = dict(zip(_BOOK_FIELDS, row, strict=False))
    owner_uid, owner_username, tag_names = row[len(_BOOK_FIELDS) : len(_BOOK_FIELDS) + 3]
    count, total = fields.pop("rating_count"), fields.pop("rating_sum")
    fields["owner"] = {"uid": owner_uid, "username": owner_username} if owner_uid else None
    # NULL for no tags when asyncpg reads it (core/reads.py), [] through SQLAlchemy's type.
    fields["tags"] = sorted(tag_names or ())
    fields["rating"] = {"average": total / count if count else None, "count": count}
    return fields


_BOOK_LIST: TypeAdapter[list[BookOut]] = TypeAdapter(list[BookOut])


def book_outs(rows: Sequence[Row]) -> list[BookOut]:
    """Book objects for `rows` of `select_books`, validated in one call for the whole page."""
    return _BOOK_LIST.validate_python([_fields(row) for row in rows])


async def read_book(reader: Reader, uid: uuid.UUID, *, for_update: bool = False) -> BookOut:
    """The book object; a write passes its session's connection, so it reads what it flushed,
    and may lock the row `for_update` (to check `If-Match` against what it will change)."""
    rows = await reader.rows(_LOCKED_BOOK_BY_UID if for_update else _BOOK_BY_UID, {"uid": uid})
    if not rows:
        raise BookNotFound(f"No book with uid {uid}.")
    return BookOut.model_validate(_fields(rows[0]))


def body_and_etag(book: BookOut) -> tuple[bytes, str]:
    """The JSON body, and its strong validator: tags and rating changes count too."""
    body = BookOut.__pydantic_serializer__.to_json(book)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str, current: str) -> bool:
    """`If-Match`/`If-None-Match`: `*` or a list of tags (a weak prefix is ignored)."""
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or current in candidates
