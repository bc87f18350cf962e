"""A book's page, adding a book, and (for its owner or an admin) changing or deleting it.

The page reads the book with the API's one-statement `read_book`, and its first page of reviews
with the one-statement `list_reviews` of `GET /api/v1/books/{uid}/reviews`; changes go through
the books and tags services, under the same rule (`ensure_may_change`) as
`PATCH /api/v1/books/{uid}`.
"""

import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bookly.auth.caller import Account
from bookly.books import objects
from bookly.books import service as books_service
from bookly.books.errors import IsbnTaken
from bookly.books.schemas import BookOut
from bookly.core.context import AppContext, ContextDep, app_context
from bookly.core.db import SessionDep, read_only
from bookly.core.errors import Forbidden, PreconditionFailed
from bookly.core.reads import session_reader
from bookly.reviews import service as reviews_service
from bookly.reviews.schemas import ReviewOut
from bookly.tags import service as tags_service
from bookly.web import book_forms, forms
from bookly.web.fragments import ReviewRights
from bookly.web.paging import page_params
from bookly.web.rendering import page, redirect, with_notice
from bookly.web.routing import web_router
from bookly.web.visitor import VerifiedWebUser, signed_in_account

router = web_router()
REVIEWS_PER_PAGE = 10


def may_change(book: BookOut, visitor: Account | None) -> bool:
    """Whether to offer the visitor the book's edit and delete buttons (the same rule decides
    when they are used)."""
    if visitor is None:
        return False
    try:
        books_service.ensure_may_change(book, visitor)
    except Forbidden:
        return False
    return True


async def book_page(
    request: Request,
    context: AppContext,
    book_uid: uuid.UUID,
    visitor: Account | None,
    *,
    cursor: str = "",
    review_form: dict[str, str] | None = None,
    review_errors: forms.Errors | None = None,
    status: int = 200,
) -> Response:
    book = await objects.read_book(context.reader, book_uid)
    reviews = await reviews_service.list_reviews(
        context, page_params(cursor, REVIEWS_PER_PAGE), book_uid=book_uid
    )
    own: ReviewOut | None = None
    if visitor is not None:
        mine = await reviews_service.list_reviews(
            context, page_params("", 1), book_uid=book_uid, user_uid=visitor.uid
        )
        own = mine.items[0] if mine.items else None
    return page(
        request,
        "book.html",
        title=book.title,
        status=status,
        book=book,
        reviews=reviews.items,
        next_reviews={"cursor": reviews.next_cursor} if reviews.next_cursor else None,
        first_reviews={} if cursor else None,
        own_review=own,
        may_change=may_change(book, visitor),
        review_rights=_review_rights(reviews.items, visitor),
        review_form=review_form or {"rating": "", "review_text": ""},
        review_errors=review_errors or {},
    )


def _review_rights(reviews: list[ReviewOut], visitor: Account | None) -> ReviewRights:
    """(may edit, may delete) of each review the visitor may change; none for a visitor who is
    not signed in."""
    if visitor is None:
        return {}
    rights = {
        review.uid: (
            reviews_service.may_edit(review.user.uid, visitor),
            reviews_service.may_delete(review.user.uid, visitor),
        )
        for review in reviews
    }
    return {uid: pair for uid, pair in rights.items() if any(pair)}


@router.get("/books/new")
async def new_book_form(request: Request, _: VerifiedWebUser) -> Response:
    return _book_form_page(request, dict.fromkeys(book_forms.FIELDS, ""), {})


def _book_form_page(
    request: Request,
    values: dict[str, str],
    errors: forms.Errors,
    *,
    book: BookOut | None = None,
    etag: str = "",
    problem: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "book_form.html",
        title=f"Edit “{book.title}”" if book else "Add a book",
        status=status,
        values=values,
        errors=errors,
        book=book,
        etag=etag,
        problem=problem,
    )


@router.post("/books/new")
async def add_book(
    request: Request, user: VerifiedWebUser, context: ContextDep, db: SessionDep
) -> Response:
    book_form = book_forms.read(await request.form())
    data = book_forms.to_create(book_form)
    if data is None or book_form.errors:
        return _book_form_page(request, book_form.values, book_form.errors, status=422)
    try:
        book = await books_service.create_book(context, db, user, data)
    except IsbnTaken as taken:
        await db.rollback()
        errors = {"isbn": taken.detail}
        return _book_form_page(request, book_form.values, errors, status=409)
    if book_form.tags:
        await tags_service.replace_book_tags(context, db, book, book_form.tags)
    return redirect(with_notice(f"/books/{book.uid}", "book-added"))


@router.get("/books/{uid}")
async def show_book(uid: uuid.UUID, request: Request) -> Response:
    """Its reviews a page at a time: `?cursor=` (the API's cursor of the book's reviews)."""
    cursor = request.query_params.get("cursor", "")
    visitor = signed_in_account(request)
    return await book_page(request, app_context(request), uid, visitor, cursor=cursor)


async def _owned_book(db: AsyncSession, uid: uuid.UUID, user: Account) -> BookOut:
    """The book, locked for the change, if `user` may change it (as `OwnedBook` for the API)."""
    book = await objects.read_book(await session_reader(db), uid, for_update=True)
    books_service.ensure_may_change(book, user)
    return book


@router.get("/books/{uid}/edit")
@read_only
async def edit_book_form(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep
) -> Response:
    book = await objects.read_book(context.reader, uid)
    books_service.ensure_may_change(book, user)
    etag = objects.body_and_etag(book)[1]
    return _book_form_page(request, book_forms.values_of(book), {}, book=book, etag=etag)


@router.post("/books/{uid}/edit")
async def edit_book(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep, db: SessionDep
) -> Response:
    book = await _owned_book(db, uid, user)
    form = await request.form()
    # The book as the form showed it: a change made meanwhile is not overwritten unseen.
    etag = forms.text(form, "etag")
    book_form = book_forms.read(form)
    changes = book_forms.to_update(book_form)
    if changes is None or book_form.errors:
        return _book_form_page(
            request, book_form.values, book_form.errors, book=book, etag=etag, status=422
        )
    try:
        changed = await books_service.update_book(context, db, book, changes, etag or None)
    except PreconditionFailed:
        await db.rollback()
        problem = (
            "Someone changed this book after you opened this form. Your text is below; "
            "open the book again to see its changes, then edit it."
        )
        return _book_form_page(
            request, book_form.values, {}, book=book, etag=etag, problem=problem, status=412
        )
    except IsbnTaken as taken:
        await db.rollback()
        errors = {"isbn": taken.detail}
        return _book_form_page(request, book_form.values, errors, book=book, etag=etag, status=409)
    if sorted(book_form.tags) != changed.tags:
        await tags_service.replace_book_tags(context, db, changed, book_form.tags)
    return redirect(with_notice(f"/books/{uid}", "book-saved"))


@router.get("/books/{uid}/delete")
@read_only
async def delete_book_form(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep
) -> Response:
    book = await objects.read_book(context.reader, uid)
    books_service.ensure_may_change(book, user)
    return page(request, "book_delete.html", title=f"Delete “{book.title}”", book=book)


@router.post("/books/{uid}/delete")
async def delete_book(uid: uuid.UUID, user: VerifiedWebUser, db: SessionDep) -> Response:
    book = await _owned_book(db, uid, user)
    await books_service.delete_book(db, book.uid)
    return redirect(with_notice("/", "book-deleted"))
