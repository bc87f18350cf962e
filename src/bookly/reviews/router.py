import uuid

from fastapi import APIRouter, Response, status

from bookly.auth.dependencies import AdminUser, VerifiedUser
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.reviews import service
from bookly.reviews.schemas import ReviewCreate, ReviewOut, ReviewUpdate

router = APIRouter(prefix="/reviews", tags=["reviews"])
# The reviews of one book live under the book.
book_reviews_router = APIRouter(prefix="/books/{uid}/reviews", tags=["reviews"])


@book_reviews_router.get(
    "", response_model=Page[ReviewOut], responses=problem_responses(404, 422, 503)
)
@read_only
async def list_book_reviews(
    uid: uuid.UUID, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[ReviewOut]:
    return await service.list_reviews(context, db, page, book_uid=uid)


@book_reviews_router.post(
    "",
    response_model=ReviewOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
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
    if replayed := await idempotency.replay_or_reserve(user.uid):
        return replayed
    review = await service.create_review(context, db, user, uid, data)
    location = f"/api/v1/reviews/{review.uid}"
    created = json_response(review, status.HTTP_201_CREATED, Location=location)
    return await idempotency.keep(created)


@router.get(
    "",
    response_model=Page[ReviewOut],
    responses=problem_responses(401, 403, 422, 503),
    summary="All reviews, newest first (admins only)",
)
@read_only
async def list_reviews(
    _: AdminUser, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[ReviewOut]:
    return await service.list_reviews(context, db, page)


@router.get("/{uid}", response_model=ReviewOut, responses=problem_responses(404, 422))
@read_only
async def read_review(uid: uuid.UUID, db: SessionDep) -> ReviewOut:
    return await service.get_review(db, uid)


@router.patch(
    "/{uid}",
    response_model=ReviewOut,
    responses=problem_responses(401, 403, 404, 422, 503),
    summary="Edit a review (its author only)",
)
async def update_review(
    uid: uuid.UUID, changes: ReviewUpdate, user: VerifiedUser, context: ContextDep, db: SessionDep
) -> ReviewOut:
    return await service.update_review(context, db, user, uid, changes)


@router.delete(
    "/{uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
    summary="Delete a review (its author or an admin); the book's rating summary follows",
)
async def delete_review(uid: uuid.UUID, user: VerifiedUser, db: SessionDep) -> None:
    await service.delete_review(db, user, uid)
