import uuid

from fastapi import Response, status

from bookly.auth.dependencies import AdminUser, VerifiedUser
from bookly.auth.responses import ADMIN, VERIFIED
from bookly.books.errors import BookNotFound
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import Forbidden, InvalidCursor
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.core.routing import ApiRouter
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.idempotency.responses import KEYED
from bookly.reviews import service
from bookly.reviews.errors import ReviewExists, ReviewNotFound
from bookly.reviews.schemas import ReviewCreate, ReviewOut, ReviewUpdate

router = ApiRouter(prefix="/reviews", tags=["reviews"])
# The reviews of one book live under the book.
book_reviews_router = ApiRouter(prefix="/books/{uid}/reviews", tags=["reviews"])


@book_reviews_router.get(
    "",
    response_model=Page[ReviewOut],
    responses=problem_responses(BookNotFound, InvalidCursor),
    summary="A book's reviews, newest first",
)
async def list_book_reviews(
    uid: uuid.UUID, context: ContextDep, page: PageQuery
) -> Page[ReviewOut]:
    """A keyset page of the book's reviews, newest first: pass `next_cursor` back as `cursor`."""
    return await service.list_reviews(context, page, book_uid=uid)


@book_reviews_router.post(
    "",
    response_model=ReviewOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*VERIFIED, BookNotFound, ReviewExists, *KEYED),
    summary="Review a book (one review per user per book)",
)
async def create_review(
    uid: uuid.UUID,
    data: ReviewCreate,
    user: VerifiedUser,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    """Any verified account may review a book once (409 `review_exists`: edit that review instead);
    the book's rating summary counts it at once. Answers the review, its path in `Location`. Send
    an `Idempotency-Key` to make a retry safe."""
    if replayed := await idempotency.replay_or_reserve(user.uid):
        return replayed
    review = await service.create_review(context, db, user, uid, data)
    location = f"/api/v1/reviews/{review.uid}"
    created = json_response(review, status.HTTP_201_CREATED, Location=location)
    return await idempotency.keep(created)


@router.get(
    "",
    response_model=Page[ReviewOut],
    responses=problem_responses(*ADMIN, InvalidCursor),
    summary="All reviews, newest first (admins only)",
)
async def list_reviews(_: AdminUser, context: ContextDep, page: PageQuery) -> Page[ReviewOut]:
    """Every review, newest first, as a keyset page; for moderation."""
    return await service.list_reviews(context, page)


@router.get(
    "/{uid}",
    response_model=ReviewOut,
    responses=problem_responses(ReviewNotFound),
    summary="Read a review",
)
async def read_review(uid: uuid.UUID, context: ContextDep) -> ReviewOut:
    """Public, no token needed: the review with its author; 404 `review_not_found` when no review
    has that uid."""
    return await service.get_review(context.reader, uid)


@router.patch(
    "/{uid}",
    response_model=ReviewOut,
    responses=problem_responses(*VERIFIED, ReviewNotFound, Forbidden),
    summary="Edit a review (its author only)",
)
async def update_review(
    uid: uuid.UUID, changes: ReviewUpdate, user: VerifiedUser, context: ContextDep, db: SessionDep
) -> ReviewOut:
    """Changes the fields sent; only the review's author may (403 `forbidden`, administrators
    included). A new rating moves the book's rating summary."""
    return await service.update_review(context, db, user, uid, changes)


@router.delete(
    "/{uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*VERIFIED, ReviewNotFound, Forbidden),
    summary="Delete a review (its author or an admin); the book's rating summary follows",
)
async def delete_review(uid: uuid.UUID, user: VerifiedUser, db: SessionDep) -> None:
    """The review's author or an administrator only (403 `forbidden`); the book's rating summary
    drops it."""
    await service.delete_review(db, user, uid)
