"""`GET /books`: filters, search (words from search.py, ranked here), sorts, and keyset pages
over each sort."""

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
    Select,
    String,
    Subquery,
    Uuid,
    asc,
    bindparam,
    case,
    cast,
    column,
    desc,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bookly.books import objects, search
from bookly.books.schemas import BookListQuery, BookOut, BookSort, BookSuggestion
from bookly.core.context import AppContext
from bookly.core.pagination import Keyset, Page, PageParams, count_if_asked, count_of
from bookly.core.reads import Prepared
from bookly.core.text import escape_like
from bookly.models import Book, BookTag, Tag
from bookly.models.book import (
    PUBLISHED_ASCENDING,
    PUBLISHED_DESCENDING,
    SERIES_OPENS,
    SQLITE_SEARCH_TABLE,
    books_table,
)


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

    @classmethod
    def of_query(cls, query: BookListQuery) -> "BookFilters":
        """The filters of a validated `GET /books` query (the site's catalogue reads the same)."""
        q = " ".join(query.q.split()) if query.q else None  # blank text searches for nothing
        return cls(
            q=q or None,
            author=query.author,
            language=query.language,
            tags=sorted(set(query.tag or [])),
            owner=query.owner,
            published_from=query.published_from,
            published_to=query.published_to,
            min_rating=query.min_rating,
        )


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
    search_terms: int  # words of `q` (search.py)
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
    words = await search.expand(context.reader, on_postgresql, filters.q) if filters.q else None
    if words is not None and not words.words:  # `q` has no word to find
        return Page(items=[], next_cursor=None, total=0 if page.include_total else None)
    shape = _Shape(
        sort=sort or (BookSort.RELEVANCE if filters.q else BookSort.NEWEST),
        on_postgresql=on_postgresql,
        after_cursor=page.after_cursor,
        search_terms=len(words.words) if words else 0,
        author=filters.author is not None,
        language=filters.language is not None,
        tags=len(filters.tags),
        owner=filters.owner is not None,
        published_from=filters.published_from is not None,
        published_to=filters.published_to is not None,
        min_rating=filters.min_rating is not None,
    )
    query = _page_query(shape)
    values = _values(filters)
    if words is not None:
        values.update(search.query_values(on_postgresql, words))
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


async def suggest_books(context: AppContext, q: str) -> list[BookSuggestion]:
    """The first `SUGGESTIONS` books of a relevance search for `q`, as a search box lists them
    while the reader types (the last word may be unfinished, any word misspelt)."""
    on_postgresql = context.engine.dialect.name == "postgresql"
    words = await search.expand(context.reader, on_postgresql, q)
    if not words.words:
        return []
    rows = await context.reader.rows(
        _suggestions_query(on_postgresql, len(words.words)),
        {
            **search.query_values(on_postgresql, words),
            "rank_window": context.settings.search_rank_window,
        },
    )
    return [BookSuggestion(uid=uid, title=title, author=author) for uid, title, author in rows]


SUGGESTIONS = 8


def _plain_search(on_postgresql: bool, search_terms: int, after_cursor: bool) -> _Shape:
    """A search by `q` alone, ranked by relevance: no other filter."""
    return _Shape(
        sort=BookSort.RELEVANCE,
        on_postgresql=on_postgresql,
        after_cursor=after_cursor,
        search_terms=search_terms,
        author=False,
        language=False,
        tags=0,
        owner=False,
        published_from=False,
        published_to=False,
        min_rating=False,
    )


def plain_search_page(on_postgresql: bool, search_terms: int, after_cursor: bool) -> Prepared:
    """The page statement of `GET /books?q=…` with no other filter, as `list_books` runs it
    (for the benchmark's baseline, which must send the same SQL)."""
    return _page_query(_plain_search(on_postgresql, search_terms, after_cursor)).page


@lru_cache(maxsize=32)
def _suggestions_query(on_postgresql: bool, search_terms: int) -> Prepared:
    shape = _plain_search(on_postgresql, search_terms, after_cursor=False)
    source = _newest_matches(shape, _conditions(shape))
    statement = (
        select(source.c.uid, source.c.title, source.c.author)
        .order_by(desc(_rank(shape, source)), desc(source.c.uid))
        .limit(SUGGESTIONS)
    )
    return Prepared(statement, planned_per_values=on_postgresql)


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
    # What ranking asks of PostgreSQL's search vector (SQLite's search table has the uid).
    found_by = [books_table.c.search_vector] if shape.on_postgresql else []
    return (
        select(
            col(Book.uid),
            col(Book.title),
            col(Book.author),
            col(Book.rating_count),
            *found_by,
        )
        .where(*conditions)
        .order_by(desc(col(Book.created_at)), desc(col(Book.uid)))
        .limit(bindparam("rank_window", type_=Integer))
        .subquery("newest_matches")
    )


def _values(filters: BookFilters) -> dict[str, Any]:
    """The values of a request's filters, named as `_conditions` and `_order` name them."""
    values: dict[str, Any] = {
        "author": f"%{escape_like(filters.author.lower())}%" if filters.author else None,
        "language": filters.language,
        "owner": filters.owner,
        "published_from": filters.published_from,
        "published_to": filters.published_to,
        "min_rating": filters.min_rating,
    }
    values.update({f"tag_{n}": name for n, name in enumerate(filters.tags)})
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


# SQLite's search table, by the book's uid.
_SQLITE_SEARCH = table(SQLITE_SEARCH_TABLE, column("uid", Uuid))


def _sqlite_search(name: str) -> Select[tuple[Any]]:
    """The uids of the books SQLite's search table finds for the FTS5 query `name`."""
    return select(_SQLITE_SEARCH.c.uid).where(
        literal_column(SQLITE_SEARCH_TABLE).op("MATCH")(bindparam(name, type_=String))
    )


def _tsquery(name: str) -> ColumnElement[Any]:
    # Planned for the request's values (`planned_per_values`), the cast is a constant: PostgreSQL
    # parses the words once, and judges from them how many books will match.
    return cast(bindparam(name, type_=String), TSQUERY)


def _matches(shape: _Shape) -> ColumnElement[bool]:
    if shape.on_postgresql:
        return books_table.c.search_vector.op("@@")(_tsquery("match"))
    return col(Book.uid).in_(_sqlite_search("match"))


def _found(shape: _Shape, source: FromClause, name: str) -> ColumnElement[int]:
    """1 when the window's book is found by the query `name` (search.py's values), else 0."""
    if shape.on_postgresql:
        found = source.c.search_vector.op("@@")(_tsquery(name))
    else:
        found = source.c.uid.in_(_sqlite_search(name))
    return case((found, 1), else_=0)


def _main_title_words(shape: _Shape, title: ColumnElement[str]) -> ColumnElement[int]:
    """How many words the title has before its series: a title the query fills ranks first."""
    if shape.on_postgresql:
        main = func.split_part(title, SERIES_OPENS, 1)
    else:
        main = func.substr(title, 1, func.instr(title + SERIES_OPENS, SERIES_OPENS) - 1)
    spaces = func.length(main) - func.length(func.replace(main, " ", ""))
    return case((spaces >= _TITLE_WORDS_COUNTED, _TITLE_WORDS_COUNTED), else_=spaces + 1)


# The ranking's tiers, each weighing more than all below it together: words found as typed (not
# as a near misspelling), words found in the title itself, a title with fewer other words; then
# readers' activity (their ratings), under 1, only to order what ties.
_FOUND_AS_TYPED = 1000
_FOUND_IN_TITLE = 30
_TITLE_WORDS_COUNTED = _FOUND_IN_TITLE - 1
_ACTIVITY_HALF_AT = 50.0  # ratings at which activity is 1/2


def _rank(shape: _Shape, source: FromClause) -> KeyColumn:
    """Relevance, from the window's columns (search.py's queries name the words' features)."""
    words = range(shape.search_terms)
    as_typed = sum((_found(shape, source, f"exact_{n}") for n in words), start=literal(0))
    in_title = sum((_found(shape, source, f"in_title_{n}") for n in words), start=literal(0))
    tiers = (
        as_typed * _FOUND_AS_TYPED
        + in_title * _FOUND_IN_TITLE
        + (_TITLE_WORDS_COUNTED - _main_title_words(shape, source.c.title))
    )
    ratings = cast(source.c.rating_count, Float)
    return cast(tiers, Float) + ratings / (ratings + _ACTIVITY_HALF_AT)
