import uuid
from typing import Annotated

from fastapi import Depends

from bookly.auth.dependencies import VerifiedUser
from bookly.books import objects
from bookly.books.schemas import BookOut
from bookly.books.service import ensure_may_change
from bookly.core.db import SessionDep
from bookly.core.reads import session_reader


async def _owned_book(uid: uuid.UUID, user: VerifiedUser, db: SessionDep) -> BookOut:
    """The book in the path, locked for the change, if the caller owns it or is an admin."""
    book = await objects.read_book(await session_reader(db), uid, for_update=True)
    ensure_may_change(book, user)
    return book


OwnedBook = Annotated[BookOut, Depends(_owned_book)]
