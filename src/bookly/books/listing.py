"""`GET /books`: filters, full-text search, sorts, and keyset pages over each sort."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    FromClause,
    Integer,
    String,
    Subquery,
    and_,
    asc,
    bindparam,
    case,
    desc,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bookly.books import objects
from bookly.books.schemas import BookOut, BookSort
from bookly.core.context import AppContext
from bookly.core.pagination import Keyset, Page, PageParams, count_if_asked, count_of
from bookly.core.reads import Prepared
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


@dataclass(frozen=True)
class _Shape:
    """What a list's SQL depends on, apart from values: requests of one shape share one
    statement, built once. (SQLAlchemy runs a statement it has seen far faster than a new one
    of the same text: no cache key to compute, no result columns to match up again.)"""

    sort: BookSort
    on_postgresql: bool
    after_cursor: bool
    search_terms: int  # words of `q` (PostgreSQL parses `q` itself: 1 when present)
    author: bool
    language: bool
    tags: int
    owner: bool
    published_from: bool
    published_to: bool
    min_rating: bool


@dataclass(frozen=True)
class _PageQuery:
    page: Prepared
    keyset: Keyset
    count: Prepared


async def list_books(
    context: AppContext,
    page: PageParams,
    filters: BookFilters,
    sort: BookSort | None,
) -> Page[BookOut]:
    on_postgresql = context.engine.dialect.name == "postgresql"
    terms = _terms(filters.q) if filters.q else []
    shape = _Shape(
        sort=sort or (BookSort.RELEVANCE if filters.q else BookSort.NEWEST),
        on_postgresql=on_postgresql,
        after_cursor=page.after_cursor,
        search_terms=(1 if on_postgresql else len(terms)) if filters.q else 0,
        author=filters.author is not None,
        language=filters.language is not None,
        tags=len(filters.tags),
        owner=filters.owner is not None,
        published_from=filters.published_from is not None,
        published_to=filters.published_to is not None,
        min_rating=filters.min_rating is not None,
    )
    query = _page_query(shape)
    values = _values(filters, terms)
    if shape.sort is BookSort.RELEVANCE:
        values["rank_window"] = context.settings.search_rank_window
    rows, next_cursor = query.keyset.cut(
        await context.reader.rows(
            query.page, {**values, **query.keyset.parameters(page, context.cursors)}
        ),
        page,
        context.cursors,
        lambda row: (row[-1], row[0]),  # (sort_key, uid): the first and the added column
    )
    total = await count_if_asked(context.reader, page, query.count, values)
    return Page(items=objects.book_outs(rows), next_cursor=next_cursor, total=total)


@lru_cache(maxsize=256)
def _page_query(shape: _Shape) -> _PageQuery:
    conditions = _conditions(shape)
    source: FromClause = books_table
    if shape.sort is BookSort.RELEVANCE:
        source, conditions = _newest_matches(shape, conditions), []  # it holds only matches
    order = _order(shape, source)
    keyset = Keyset(
        scope=f"books:{shape.sort.value}",
        columns=(order.key, source.c.uid),
        key_types=(order.key_type, uuid.UUID),
        descending=order.descending,
    )
    # The page's keys first, on the index and narrow; then the book objects for those rows
    # only (owner, tags), so a search that matches thousands joins and sorts just their keys.
    keys = keyset.template(
        select(source.c.uid, order.key.label("sort_key")).select_from(source).where(*conditions),
        after_cursor=shape.after_cursor,
    ).subquery("page")
    direction = desc if order.descending else asc
    statement = (
        objects.select_books(keys.c.sort_key)
        .join(keys, keys.c.uid == col(Book.uid))
        .order_by(direction(keys.c.sort_key), direction(keys.c.uid))
    )
    # PostgreSQL picks a search's plan by how common its words are, which it sees only in
    # each request's own values.
    planned = shape.on_postgresql and bool(shape.search_terms)
    return _PageQuery(
        Prepared(statement, planned_per_values=planned),
        keyset,
        count_of(source, conditions, planned_per_values=planned),
    )


def _newest_matches(shape: _Shape, conditions: list[ColumnElement[bool]]) -> Subquery:
    """The books a relevance search ranks: the newest `SEARCH_RANK_WINDOW` that match, with
    what ranking reads. Ranking every match grows with the catalogue (a common word is in tens
    of thousands of books at 1M); finding the newest few hundred does not: PostgreSQL walks the
    creation-time index until it has them, or ranks a rare word's few matches from the search
    index."""
    ranked = [_search_vector()] if shape.on_postgresql else _SEARCHED
    return (
        select(col(Book.uid), *ranked)
        .where(*conditions)
        .order_by(desc(col(Book.created_at)), desc(col(Book.uid)))
        .limit(bindparam("rank_window", type_=Integer))
        .subquery("newest_matches")
    )


def _values(filters: BookFilters, terms: list[str]) -> dict[str, Any]:
    """The values of a request's filters, named as `_conditions` and `_order` name them."""
    values: dict[str, Any] = {
        "q": filters.q,
        "author": f"%{escape_like(filters.author.lower())}%" if filters.author else None,
        "language": filters.language,
        "owner": filters.owner,
        "published_from": filters.published_from,
        "published_to": filters.published_to,
        "min_rating": filters.min_rating,
    }
    values.update({f"tag_{n}": name for n, name in enumerate(filters.tags)})
    values.update({f"term_{n}": f"%{escape_like(term)}%" for n, term in enumerate(terms)})
    return {name: value for name, value in values.items() if value is not None}


def _order(shape: _Shape, source: FromClause) -> _Order:
    sort = shape.sort
    descending = sort.value.startswith("-")
    if sort is BookSort.RELEVANCE:
        return _Order(_rank(shape, source), float, descending=True)
    if sort in (BookSort.NEWEST, BookSort.OLDEST):
        return _Order(col(Book.created_at), datetime, descending)
    if sort in (BookSort.TITLE, BookSort.TITLE_DESC):
        return _Order(col(Book.title), str, descending)
    if sort in (BookSort.PUBLISHED, BookSort.PUBLISHED_DESC):
        # The same expressions as the indexes, so that they serve these orders.
        unknown_last = PUBLISHED_DESCENDING if descending else PUBLISHED_ASCENDING
        return _Order(literal_column(unknown_last, Date), date, descending)
    return _Order(col(Book.rating_avg), float, descending)


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.search_terms:
        conditions.append(_matches(shape))
    if shape.author:
        conditions.append(func.lower(col(Book.author)).like(bindparam("author"), escape="\\"))
    if shape.language:
        conditions.append(col(Book.language) == bindparam("language"))
    for n in range(shape.tags):  # every tag must be on the book
        conditions.append(
            exists()
            .where(col(BookTag.book_uid) == col(Book.uid), col(Tag.name) == bindparam(f"tag_{n}"))
            .where(col(Tag.uid) == col(BookTag.tag_uid))
        )
    if shape.owner:
        conditions.append(col(Book.owner_uid) == bindparam("owner"))
    if shape.published_from:
        conditions.append(col(Book.published_date) >= bindparam("published_from"))
    if shape.published_to:
        conditions.append(col(Book.published_date) <= bindparam("published_to"))
    if shape.min_rating:
        conditions.append(col(Book.rating_count) > 0)
        conditions.append(col(Book.rating_avg) >= bindparam("min_rating"))
    return conditions


# What SQLite searches (and ranks) with LIKE.
_SEARCHED = (books_table.c.title, books_table.c.author, books_table.c.description)
_SEARCHED_WEIGHTS = (3.0, 2.0, 1.0)  # a word in the title weighs most, then the author's


def _search_vector() -> ColumnElement[Any]:
    return books_table.c.search_vector


# The configuration as a constant of the SQL text, which PostgreSQL resolves when it parses
# the statement. A bound value cast to regconfig is resolved by a stable function instead:
# the planner cannot fold the tsquery then, and every row tested parsed `q` anew (S3's query
# took 4.5 ms instead of 1.3, bench/README.md item 20).
_SEARCH_CONFIG = literal_column(f"'{SEARCH_CONFIG}'::regconfig", REGCONFIG)


def _tsquery() -> ColumnElement[Any]:
    # websearch_to_tsquery takes any text (quotes, "or", "-word") without syntax errors. It is
    # immutable: planned for the request's values (`planned_per_values`), PostgreSQL parses it
    # once, when planning, and judges from its words how many books will match.
    return func.websearch_to_tsquery(_SEARCH_CONFIG, bindparam("q", type_=String))


def _terms(q: str) -> list[str]:
    return q.lower().split()[:MAX_SEARCH_TERMS]


def _term_in(n: int, column: KeyColumn) -> ColumnElement[bool]:
    pattern = bindparam(f"term_{n}", type_=String)
    return func.lower(func.coalesce(column, "")).like(pattern, escape="\\")


def _matches(shape: _Shape) -> ColumnElement[bool]:
    if shape.on_postgresql:
        return _search_vector().op("@@")(_tsquery())
    # SQLite: every word appears (literally) in the title, the author or the description.
    return and_(*(or_(*(_term_in(n, c) for c in _SEARCHED)) for n in range(shape.search_terms)))


def _rank(shape: _Shape, source: FromClause) -> KeyColumn:
    """Relevance, read from `source`'s columns (the search vector, or what SQLite searches)."""
    if shape.on_postgresql:
        return func.ts_rank(source.c.search_vector, _tsquery(), type_=Float)
    searched = [source.c[column.name] for column in _SEARCHED]
    return sum(
        (
            case((_term_in(n, column), weight), else_=0.0)
            for n in range(shape.search_terms)
            for column, weight in zip(searched, _SEARCHED_WEIGHTS, strict=True)
        ),
        start=literal(0.0),
    )
