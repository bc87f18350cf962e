"""A reader's public profile: who they are (no email), the books they added and their reviews."""

import uuid

from fastapi import Request
from starlette.responses import Response

from bookly.books.listing import BookFilters, list_books
from bookly.books.objects import read_book
from bookly.books.schemas import BookSort
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.reviews.service import list_reviews
from bookly.users import service as users_service
from bookly.web.paging import page_params
from bookly.web.rendering import page
from bookly.web.routing import web_router

router = web_router()
BOOKS_PER_PAGE = 10
REVIEWS_PER_PAGE = 10


@router.get("/users/{uid}")
@read_only
async def profile(
    uid: uuid.UUID,
    request: Request,
    context: ContextDep,
    db: SessionDep,
    books_cursor: str = "",
    reviews_cursor: str = "",
) -> Response:
    person = await users_service.public_profile(db, uid)
    books = await list_books(
        context,
        page_params(books_cursor, BOOKS_PER_PAGE),
        BookFilters(owner=uid),
        BookSort.NEWEST,
    )
    reviews = await list_reviews(
        context, page_params(reviews_cursor, REVIEWS_PER_PAGE), user_uid=uid
    )
    # Each review names its book: a page of reviews reads at most that many books.
    titles = {
        book_uid: (await read_book(context.reader, book_uid)).title
        for book_uid in {review.book_uid for review in reviews.items}
    }
    return page(
        request,
        "profile.html",
        title=person.username,
        person=person,
        books=books.items,
        reviews=reviews.items,
        titles=titles,
        next_books={"books_cursor": books.next_cursor} if books.next_cursor else None,
        next_reviews={"reviews_cursor": reviews.next_cursor} if reviews.next_cursor else None,
        first_page={} if books_cursor or reviews_cursor else None,
    )
