"""The goodbooks-10k books as Bookly books: read from the committed CSV, stored through Bookly's
own `create_book` (the rows `POST /books` stores), with the readers' ratings as their summary."""

import csv
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, update

from bookly.auth.caller import Account
from bookly.books.fields import compact_isbn
from bookly.books.schemas import BookCreate
from bookly.books.service import create_book
from bookly.core.context import AppContext
from bookly.models import User
from bookly.models.book import books_table

BOOKS_CSV = Path(__file__).resolve().parent / "goodbooks-10k" / "books.csv"
BOOKS_PER_TRANSACTION = 500
# Books are stored in a shuffled order, the same in every run: the CSV runs from the most rated
# down, and a relevance search ranks the newest matches (SEARCH_RANK_WINDOW).
LOAD_ORDER_SEED = 19

# Goodreads' language codes (ISO 639-2/B, or English with a region) as ISO 639-1. `fil`
# (Filipino) and `mul` (several) have none: those books are stored without a language.
_LANGUAGES = {
    "ara": "ar", "dan": "da", "fre": "fr", "ger": "de", "ind": "id", "ita": "it", "jpn": "ja",
    "nl": "nl", "nor": "no", "per": "fa", "pol": "pl", "por": "pt", "rum": "ro", "rus": "ru",
    "spa": "es", "swe": "sv", "tur": "tr", "vie": "vi",
}  # fmt: skip


@dataclass(frozen=True)
class GoodBook:
    book_id: int
    title: str
    author: str
    book: BookCreate  # what a client would send for it
    ratings: int
    average_rating: float


def read_books(path: Path = BOOKS_CSV) -> list[GoodBook]:
    with path.open(encoding="utf-8", newline="") as file:
        return [_good_book(row) for row in csv.DictReader(file)]


def _good_book(row: dict[str, str]) -> GoodBook:
    author = row["authors"].split(",")[0].strip()
    year = int(row["year"]) if row["year"] else 0
    book = BookCreate.model_validate(
        {
            "title": row["title"],
            "author": author,
            "language": _language(row["language_code"]),
            # Only the year is known; BookCreate takes a whole date.
            "published_date": f"{year:04d}-01-01" if 1 <= year <= 9999 else None,
            "isbn": _isbn(row["isbn"]),
        }
    )
    return GoodBook(
        int(row["book_id"]),
        book.title,
        book.author,
        book,
        int(row["ratings_count"]),
        float(row["average_rating"]),
    )


def _language(code: str) -> str | None:
    if code == "en" or code.startswith(("eng", "en-")):
        return "en"
    return _LANGUAGES.get(code)


def _isbn(digits: str) -> str | None:
    """The CSV's ISBN-10 lost its leading zeros; a number that is no ISBN is left out, as a
    client would have to."""
    if not digits:
        return None
    try:
        return compact_isbn(digits.zfill(10))
    except ValueError:
        return None


def shuffled(books: list[GoodBook], seed: int) -> list[GoodBook]:
    order = list(books)
    random.Random(seed).shuffle(order)  # noqa: S311  (an order, not a secret)
    return order


async def store_books(context: AppContext, books: list[GoodBook]) -> dict[uuid.UUID, int]:
    """Store `books` as one user's, as `POST /books` does; then give each the summary of its
    Goodreads ratings (readers' activity, which ranking may weigh). Returns uid -> book_id."""
    order = shuffled(books, LOAD_ORDER_SEED)
    owner = await _owner(context)
    stored: dict[uuid.UUID, GoodBook] = {}
    for start in range(0, len(order), BOOKS_PER_TRANSACTION):
        async with context.sessionmaker.begin() as db:
            for good in order[start : start + BOOKS_PER_TRANSACTION]:
                stored[(await create_book(context, db, owner, good.book)).uid] = good
    async with context.engine.begin() as connection:
        await connection.execute(
            update(books_table)
            .where(books_table.c.uid == bindparam("b_uid"))
            .values(
                rating_count=bindparam("b_count"),
                rating_sum=bindparam("b_sum"),
                rating_avg=bindparam("b_avg"),
            ),
            [_rating_summary(uid, good) for uid, good in stored.items()],
        )
    return {uid: good.book_id for uid, good in stored.items()}


def _rating_summary(uid: uuid.UUID, good: GoodBook) -> dict[str, object]:
    total = round(good.average_rating * good.ratings)
    average = total / good.ratings if good.ratings else 0.0
    return {"b_uid": uid, "b_count": good.ratings, "b_sum": total, "b_avg": average}


async def _owner(context: AppContext) -> Account:
    async with context.sessionmaker.begin() as db:
        user = User(
            username="goodbooks",
            email="goodbooks@example.com",
            first_name="Good",
            last_name="Books",
            password_hash="!",  # never signs in  # noqa: S106
            is_verified=True,
        )
        db.add(user)
        await db.flush()
        return Account.model_validate(user)
