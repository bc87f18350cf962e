"""Books: create, read, change, delete, and the book object every route answers with."""

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.caller import Account
from bookly.books import objects
from bookly.books.fields import isbn13
from bookly.books.schemas import BookCreate, BookOut, BookUpdate
from bookly.core.context import AppContext
from bookly.core.errors import (
    AppError,
    BookNotFound,
    Forbidden,
    IsbnTaken,
    PreconditionFailed,
)
from bookly.core.reads import session_reader
from bookly.models import Book, Role


async def flush_or(db: AsyncSession, conflict: AppError) -> None:
    """Flush; a constraint violation (a lost race included) becomes `conflict`, never a 500."""
    try:
        await db.flush()
    except IntegrityError as error:
        raise conflict from error


async def get_book(db: AsyncSession, book_uid: uuid.UUID, *, for_update: bool = False) -> Book:
    statement = select(Book).where(col(Book.uid) == book_uid)
    if for_update:  # writes check the row they change (If-Match) while holding it
        statement = statement.with_for_update()
    book = await db.scalar(statement)
    if book is None:
        raise BookNotFound(f"No book with uid {book_uid}.")
    return book


def ensure_may_change(book: Book, user: Account) -> None:
    if book.owner_uid != user.uid and user.role != Role.ADMIN:
        raise Forbidden("Only the book's owner or an administrator may change it.")


async def create_book(
    context: AppContext, db: AsyncSession, owner: Account, data: BookCreate
) -> BookOut:
    fields = data.model_dump()
    now = context.clock()
    book = Book(
        **fields,
        isbn13=isbn13(data.isbn) if data.isbn else None,
        owner_uid=owner.uid,
        created_at=now,
        updated_at=now,
    )
    db.add(book)
    await flush_or(db, IsbnTaken(f"A book with ISBN {data.isbn} already exists."))
    return await book_out(db, book)


async def update_book(
    context: AppContext, db: AsyncSession, book: Book, changes: BookUpdate, if_match: str | None
) -> BookOut:
    if if_match is not None and not etag_matches(if_match, etag(await book_out(db, book))):
        raise PreconditionFailed("The book has changed since you read it; read it again.")
    fields: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if "isbn" in fields:
        fields["isbn13"] = isbn13(fields["isbn"]) if fields["isbn"] else None
    for name, value in fields.items():
        setattr(book, name, value)
    book.updated_at = context.clock()
    db.add(book)
    await flush_or(db, IsbnTaken(f"A book with ISBN {changes.isbn} already exists."))
    return await book_out(db, book)


async def delete_book(db: AsyncSession, book: Book) -> None:
    # Reviews and tag links go with it (ON DELETE CASCADE).
    await db.execute(delete(Book).where(col(Book.uid) == book.uid))


async def touch(context: AppContext, db: AsyncSession, book: Book) -> None:
    book.updated_at = context.clock()
    db.add(book)
    await db.flush()


async def book_out(db: AsyncSession, book: Book) -> BookOut:
    """The book object as this transaction sees it (what it flushed included)."""
    return await objects.read_book(await session_reader(db), book.uid)


def etag(book: BookOut) -> str:
    return objects.body_and_etag(book)[1]


def etag_matches(header: str, current: str) -> bool:
    """`If-Match`/`If-None-Match`: `*` or a list of tags (a weak prefix is ignored)."""
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or current in candidates
