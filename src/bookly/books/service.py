"""Books: create, change, delete, and the rule of who may change one."""

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.caller import Account
from bookly.books import objects, search_index
from bookly.books.errors import BookNotFound, IsbnTaken
from bookly.books.fields import isbn13
from bookly.books.schemas import BookCreate, BookOut, BookUpdate
from bookly.core.conflicts import unique_rules
from bookly.core.context import AppContext
from bookly.core.errors import Forbidden, PreconditionFailed
from bookly.core.reads import Prepared, Reader, session_reader
from bookly.models import Book, Role
from bookly.models.book import books_table

_BOOK_UID = Prepared(select(col(Book.uid)).where(col(Book.uid) == bindparam("uid")))


async def ensure_exists(reader: Reader, book_uid: uuid.UUID) -> None:
    if not await reader.rows(_BOOK_UID, {"uid": book_uid}):
        raise BookNotFound(f"No book with uid {book_uid}.")


def ensure_may_change(book: BookOut, user: Account) -> None:
    owned = book.owner is not None and book.owner.uid == user.uid
    if not owned and user.role != Role.ADMIN:
        raise Forbidden("Only the book's owner or an administrator may change it.")


def _isbn_taken(isbn: str | None) -> dict[str, IsbnTaken]:
    return {"isbn13": IsbnTaken(f"A book with ISBN {isbn} already exists.")}


async def create_book(
    context: AppContext, db: AsyncSession, owner: Account, data: BookCreate
) -> BookOut:
    now = context.clock()
    book = Book(
        **data.model_dump(),
        isbn13=isbn13(data.isbn) if data.isbn else None,
        owner_uid=owner.uid,
        created_at=now,
        updated_at=now,
    )
    db.add(book)
    async with unique_rules(_isbn_taken(data.isbn)):
        await db.flush()
    created = await objects.read_book(await session_reader(db), book.uid)
    await _index(db, created)
    return created


async def update_book(
    context: AppContext,
    db: AsyncSession,
    book: BookOut,
    changes: BookUpdate,
    if_match: str | None,
) -> BookOut:
    """Change `book`, read under its lock (`OwnedBook`): the `If-Match` check compares the
    validator of that very read, so the book is read once for the check and once for the answer."""
    if if_match is not None and not objects.etag_matches(if_match, objects.body_and_etag(book)[1]):
        raise PreconditionFailed("The book has changed since you read it; read it again.")
    fields: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if "isbn" in fields:
        fields["isbn13"] = isbn13(fields["isbn"]) if fields["isbn"] else None
    async with unique_rules(_isbn_taken(changes.isbn)):
        await db.execute(
            update(books_table)
            .where(books_table.c.uid == book.uid)
            .values(**fields, updated_at=context.clock())
        )
    changed = await objects.read_book(await session_reader(db), book.uid)
    if fields.keys() & _SEARCHED_FIELDS:
        await _index(db, changed)
    return changed


_SEARCHED_FIELDS = {"title", "author", "description"}


async def _index(db: AsyncSession, book: BookOut) -> None:
    """Search's vocabulary (and SQLite's search table) in step with the book, in its transaction."""
    text = search_index.BookText(book.uid, book.title, book.author, book.description)
    await search_index.index_books(await db.connection(), [text])


async def touch(context: AppContext, db: AsyncSession, book_uid: uuid.UUID) -> None:
    """Mark the book changed (its tags did), so its `updated_at` and validator move on."""
    await db.execute(
        update(books_table).where(books_table.c.uid == book_uid).values(updated_at=context.clock())
    )


async def delete_book(db: AsyncSession, book_uid: uuid.UUID) -> None:
    # Reviews and tag links go with it (ON DELETE CASCADE).
    await db.execute(delete(Book).where(col(Book.uid) == book_uid))
