"""`GET /books`: filters, full-text search, sorts, and keyset pages over each sort."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bookly.books import objects
from bookly.books.schemas import BookOut, BookSort
from bookly.core.context import AppContext
from bookly.core.pagination import Keyset, Page, PageParams, count_if_asked
from bookly.core.text import escape_like
from bookly.models import Book, BookTag, Tag
from bookly.models.book import (
    PUBLISHED_ASCENDING,
    PUBLISHED_DESCENDING,
    SEARCH_CONFIG,
    books_table,
)

MAX_SEARCH_TERMS = 10


@dataclass(frozen=True)
class BookFilters:
    q: str | None = None
    author: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    owner: uuid.UUID | None = None
    published_from: date | None = None
    published_to: date | None = None
    min_rating: float | None = None


KeyColumn = ColumnElement[Any] | Mapped[Any]


@dataclass(frozen=True)
class _Order:
    key: KeyColumn
    key_type: type
    descending: bool


async def list_books(
    context: AppContext,
    db: AsyncConnection,
    page: PageParams,
    filters: BookFilters,
    sort: BookSort | None,
) -> Page[BookOut]:
    sort = sort or (BookSort.RELEVANCE if filters.q else BookSort.NEWEST)
    on_postgresql = db.dialect.name == "postgresql"
    conditions = _conditions(filters, on_postgresql)
    order = _order(sort, filters.q, on_postgresql)

    keyset = Keyset(
        scope=f"books:{sort.value}",
        columns=(order.key, col(Book.uid)),
        key_types=(order.key_type, uuid.UUID),
        descending=order.descending,
    )
    statement = objects.select_books(order.key.label("sort_key")).where(*conditions)
    rows, next_cursor = keyset.cut(
        await objects.read_books(db, keyset.page_of(statement, page, context.cursors)),
        page,
        context.cursors,
        lambda row: (row.sort_key, row.uid),
    )
    total = await count_if_asked(db, page, Book, conditions)
    return Page(items=objects.book_outs(rows), next_cursor=next_cursor, total=total)


def _order(sort: BookSort, q: str | None, on_postgresql: bool) -> _Order:
    descending = sort.value.startswith("-")
    if sort is BookSort.RELEVANCE:
        return _Order(_rank(q or "", on_postgresql), float, descending=True)
    if sort in (BookSort.NEWEST, BookSort.OLDEST):
        return _Order(col(Book.created_at), datetime, descending)
    if sort in (BookSort.TITLE, BookSort.TITLE_DESC):
        return _Order(col(Book.title), str, descending)
    if sort in (BookSort.PUBLISHED, BookSort.PUBLISHED_DESC):
        # The same expressions as the indexes, so that they serve these orders.
        unknown_last = PUBLISHED_DESCENDING if descending else PUBLISHED_ASCENDING
        return _Order(literal_column(unknown_last, Date), date, descending)
    return _Order(col(Book.rating_avg), float, descending)


def _conditions(filters: BookFilters, on_postgresql: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        conditions.append(_matches(filters.q, on_postgresql))
    if filters.author:
        pattern = f"%{escape_like(filters.author.lower())}%"
        conditions.append(func.lower(col(Book.author)).like(pattern, escape="\\"))
    if filters.language:
        conditions.append(col(Book.language) == filters.language)
    for name in filters.tags:  # every tag must be on the book
        conditions.append(
            exists()
            .where(col(BookTag.book_uid) == col(Book.uid), col(Tag.name) == name)
            .where(col(Tag.uid) == col(BookTag.tag_uid))
        )
    if filters.owner is not None:
        conditions.append(col(Book.owner_uid) == filters.owner)
    if filters.published_from is not None:
        conditions.append(col(Book.published_date) >= filters.published_from)
    if filters.published_to is not None:
        conditions.append(col(Book.published_date) <= filters.published_to)
    if filters.min_rating is not None:
        conditions.append(col(Book.rating_count) > 0)
        conditions.append(col(Book.rating_avg) >= filters.min_rating)
    return conditions


def _search_vector() -> ColumnElement[Any]:
    return books_table.c.search_vector


def _tsquery(q: str) -> ColumnElement[Any]:
    # websearch_to_tsquery takes any text (quotes, "or", "-word") without syntax errors.
    return func.websearch_to_tsquery(cast(literal(SEARCH_CONFIG), REGCONFIG), q)


def _terms(q: str) -> list[str]:
    return q.lower().split()[:MAX_SEARCH_TERMS]


def _term_in(term: str, column: KeyColumn) -> ColumnElement[bool]:
    return func.lower(func.coalesce(column, "")).like(f"%{escape_like(term)}%", escape="\\")


def _matches(q: str, on_postgresql: bool) -> ColumnElement[bool]:
    if on_postgresql:
        return _search_vector().op("@@")(_tsquery(q))
    # SQLite: every word appears (literally) in the title, the author or the description.
    searched = (col(Book.title), col(Book.author), col(Book.description))
    return and_(*(or_(*(_term_in(term, c) for c in searched)) for term in _terms(q)))


def _rank(q: str, on_postgresql: bool) -> KeyColumn:
    if on_postgresql:
        return func.ts_rank(_search_vector(), _tsquery(q))
    # SQLite: a word in the title weighs most, then the author, then the description.
    weights = ((col(Book.title), 3.0), (col(Book.author), 2.0), (col(Book.description), 1.0))
    return sum(
        (
            case((_term_in(term, c), weight), else_=0.0)
            for term in _terms(q)
            for c, weight in weights
        ),
        start=literal(0.0),
    )
