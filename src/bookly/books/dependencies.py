import uuid
from typing import Annotated

from fastapi import Depends

from bookly.auth.dependencies import VerifiedUser
from bookly.books.service import ensure_may_change, get_book
from bookly.core.db import SessionDep
from bookly.models import Book


async def _owned_book(uid: uuid.UUID, user: VerifiedUser, db: SessionDep) -> Book:
    """The book in the path, locked for the change, if the caller owns it or is an admin."""
    book = await get_book(db, uid, for_update=True)
    ensure_may_change(book, user)
    return book


OwnedBook = Annotated[Book, Depends(_owned_book)]
