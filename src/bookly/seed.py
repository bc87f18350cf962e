"""`bookly seed`: plausible users, books, tags and reviews for demos and benchmarks, bulk loaded
(PostgreSQL: COPY; SQLite: multi-row inserts) with rating summaries computed on the way."""

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from bookly.books import search_index
from bookly.books.fields import isbn13_check_digit
from bookly.core.context import AppContext
from bookly.models import Book, BookTag, Review, Tag, User
from bookly.seed_words import (
    ADJECTIVES,
    FIRST,
    LANGUAGES,
    LAST,
    NOUNS,
    OPINIONS,
    PEOPLE,
    PLACES,
    PUBLISHERS,
    TAGS,
    VERBS,
)

SEED_PASSWORD = "seeded-password"  # noqa: S105  (demo accounts, printed by the command)
BOOKS_PER_BATCH = 5_000
SEEDED_DAYS = 1000  # books arrive over this many days before the seeding
MAX_SEEDED_BOOKS = 1_000_000  # the ISBN numbering below has room for this many per run


@dataclass
class _Batch:
    books: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


# Told after each step: what was done (`users`, `books`, `statistics`), how far, out of how much.
Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class SeedReport:
    users: int
    books: int
    reviews: int


async def seed_database(
    context: AppContext,
    *,
    users: int,
    books: int,
    reviews: int,
    rng_seed: int | None = None,
    progress: Progress = _no_progress,
) -> SeedReport:
    if books > MAX_SEEDED_BOOKS:
        raise ValueError(f"at most {MAX_SEEDED_BOOKS} books per run")
    if reviews and (not books or not users or reviews > books * users):
        raise ValueError("reviews need books and users, and at most one per user and book")
    rng = random.Random(rng_seed)  # noqa: S311  (made-up data, not secrets)
    now = context.clock()
    async with context.engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # a bulk load outlasts the request timeout
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
        loader = _Loader(connection)
        isbn_block = await _free_isbn_block(connection)
        user_uids = await _load_users(context, loader, rng, users, now)
        progress("users", users, users)
        tag_uids = await _ensure_tags(connection, now)
        per_book = _spread(reviews, books, users, rng)
        await search_index.start_bulk_load(connection)

        for start in range(0, books, BOOKS_PER_BATCH):
            batch = _Batch()
            for n in range(start, min(start + BOOKS_PER_BATCH, books)):
                # Books arrive over the seeded days in the order they are stored, as a real
                # catalogue grows: the table's rows follow their creation time.
                added = now - timedelta(days=SEEDED_DAYS * (books - n) / books)
                book, links, book_reviews = _book_with_reviews(
                    rng, n, isbn_block, user_uids, tag_uids, per_book[n], added, now
                )
                batch.books.append(book)
                batch.links += links
                batch.reviews += book_reviews
            await loader.load(Book, batch.books)
            await search_index.index_books(connection, [_text(book) for book in batch.books])
            await loader.load(BookTag, batch.links)
            await loader.load(Review, batch.reviews)
            progress("books", min(start + BOOKS_PER_BATCH, books), books)
        await search_index.end_bulk_load(connection)
        if loader.on_postgresql:
            # Fresh statistics for the planner at once, not when autovacuum gets to it: a
            # search's plan rests on how common its words are (books/listing.py).
            await connection.execute(text("ANALYZE users, books, book_tags, reviews"))
            progress("statistics", 1, 1)
    return SeedReport(users=users, books=books, reviews=reviews)


def _text(book: dict[str, Any]) -> search_index.BookText:
    return search_index.BookText(book["uid"], book["title"], book["author"], book["description"])


class _Loader:
    """Bulk rows into a table: COPY on PostgreSQL, multi-row INSERT elsewhere."""

    def __init__(self, connection: AsyncConnection):
        self.connection = connection
        self.on_postgresql = connection.dialect.name == "postgresql"

    async def load(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        table: Table = model.__table__
        if self.on_postgresql:
            raw = await self.connection.get_raw_connection()
            columns = list(rows[0])
            records = [tuple(row[c] for c in columns) for row in rows]
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=records, columns=columns
            )
        else:
            for chunk in _chunks(rows, 500):
                await self.connection.execute(insert(table), list(chunk))


async def _load_users(
    context: AppContext, loader: _Loader, rng: random.Random, count: int, now: datetime
) -> list[uuid.UUID]:
    password_hash = await context.passwords.hash(SEED_PASSWORD)
    run = uuid.uuid4().hex[:6]  # names stay unique across seeding runs
    rows: list[dict[str, Any]] = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        joined = now - timedelta(days=rng.uniform(30, 1500))
        rows.append(
            {
                "uid": uuid.uuid4(),
                "username": f"{first}.{last}.{n}.{run}"[-32:],
                "email": f"{first}.{last}.{n}.{run}@example.com",
                "first_name": first.title(),
                "last_name": last.title(),
                "password_hash": password_hash,
                "role": "user",
                "is_verified": True,
                "is_active": True,
                "created_at": joined,
                "updated_at": joined,
            }
        )
    await loader.load(User, rows)
    return [row["uid"] for row in rows]


async def _ensure_tags(connection: AsyncConnection, now: datetime) -> list[uuid.UUID]:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    await connection.execute(
        dialect.insert(Tag)
        .values([{"uid": uuid.uuid4(), "name": name, "created_at": now} for name in TAGS])
        .on_conflict_do_nothing()
    )
    return list(await connection.scalars(select(col(Tag.uid)).where(col(Tag.name).in_(TAGS))))


async def _free_isbn_block(connection: AsyncConnection) -> str:
    """Three digits no stored ISBN-13 uses after its 978 prefix: this run numbers within them."""
    used = set(
        await connection.scalars(
            select(func.substr(col(Book.isbn13), 4, 3))
            .where(col(Book.isbn13).like("978%"))
            .distinct()
        )
    )
    free = [f"{n:03d}" for n in range(1000) if f"{n:03d}" not in used]
    if not free:
        raise ValueError("no free ISBN block left for seeding")
    return random.choice(free)  # noqa: S311  (not security sensitive)


def _spread(total: int, buckets: int, cap: int, rng: random.Random) -> list[int]:
    """`total` split over `buckets`, none above `cap`, unevenly: some books are far more
    reviewed than others."""
    if not buckets:
        return []
    weights = [rng.paretovariate(1.5) for _ in range(buckets)]
    scale = total / sum(weights)
    counts = [min(cap, int(w * scale)) for w in weights]
    left = total - sum(counts)
    while left > 0:  # what the cap or the rounding left over, to books with room for it
        for n in rng.choices(range(buckets), weights=weights, k=left):
            if counts[n] < cap and left > 0:
                counts[n] += 1
                left -= 1
        weights = [w if c < cap else 0 for w, c in zip(weights, counts, strict=True)]
    return counts


def _book_with_reviews(
    rng: random.Random,
    n: int,
    isbn_block: str,
    user_uids: list[uuid.UUID],
    tag_uids: list[uuid.UUID],
    review_count: int,
    added: datetime,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    book_uid = uuid.uuid4()
    created = min(now, added + timedelta(seconds=rng.uniform(0, 60)))
    quality = rng.uniform(2.2, 4.8)
    reviews: list[dict[str, Any]] = []
    for reviewer in rng.sample(user_uids, review_count):
        rating = min(5, max(1, round(rng.gauss(quality, 1.0))))
        when = min(now, created + timedelta(days=rng.uniform(0, 400)))
        reviews.append(
            {
                "uid": uuid.uuid4(),
                "book_uid": book_uid,
                "user_uid": reviewer,
                "rating": rating,
                "review_text": " ".join(rng.sample(OPINIONS, 2)),
                "created_at": when,
                "updated_at": when,
            }
        )
    rating_sum = sum(r["rating"] for r in reviews)
    isbn = _isbn(isbn_block, n)
    book = {
        "uid": book_uid,
        "title": _title(rng),
        "author": f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}",
        "publisher": rng.choice(PUBLISHERS),
        "published_date": None if rng.random() < 0.05 else _day(rng),
        "page_count": rng.randint(80, 900),
        "language": rng.choice(LANGUAGES),
        "isbn": isbn,
        "isbn13": isbn,
        "description": _description(rng),
        "owner_uid": rng.choice(user_uids) if user_uids and rng.random() < 0.9 else None,
        "rating_count": len(reviews),
        "rating_sum": rating_sum,
        "rating_avg": rating_sum / len(reviews) if reviews else 0.0,
        "created_at": created,
        "updated_at": created,
    }
    links = [
        {"book_uid": book_uid, "tag_uid": tag_uid}
        for tag_uid in rng.sample(tag_uids, rng.randint(1, 3))
    ]
    return book, links, reviews


def _isbn(block: str, n: int) -> str:
    body = f"978{block}{n:06d}"
    return body + isbn13_check_digit(body)


def _title(rng: random.Random) -> str:
    adjective, noun, other = (
        rng.choice(ADJECTIVES).title(),
        rng.choice(NOUNS).title(),
        rng.choice(NOUNS),
    )
    return rng.choice(
        [
            f"The {adjective} {noun}",
            f"{noun} of {other.title()}s",
            f"A {noun} in {rng.choice(PLACES)}",
            f"The {noun} Who {rng.choice(VERBS).title()}",
        ]
    )


def _description(rng: random.Random) -> str:
    sentences = [
        f"{rng.choice(PEOPLE).capitalize()} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} "
        f"{rng.choice(NOUNS)} of {rng.choice(PLACES)}."
        for _ in range(rng.randint(2, 4))
    ]
    return " ".join(sentences)


def _day(rng: random.Random) -> date:
    return date(1850, 1, 1) + timedelta(days=rng.randint(0, 175 * 365))


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
