"""Reviews, and the rating summary on their book, changed together in one transaction."""

import uuid
from collections import defaultdict

from sqlalchemy import (
    Float,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.caller import Account
from bookly.auth.schemas import UserRef
from bookly.books.errors import BookNotFound
from bookly.books.service import ensure_exists
from bookly.core.conflicts import unique_rules
from bookly.core.context import AppContext
from bookly.core.errors import Forbidden
from bookly.core.pagination import Page, PageParams, count_if_asked
from bookly.core.reads import Reader
from bookly.models import Review, Role
from bookly.models.book import books_table as _books
from bookly.reviews import objects
from bookly.reviews.errors import ReviewExists, ReviewNotFound
from bookly.reviews.schemas import ReviewCreate, ReviewOut, ReviewUpdate

_INSERT_REVIEW = insert(Review.__table__)  # type: ignore[attr-defined]


async def create_review(
    context: AppContext, db: AsyncSession, author: Account, book_uid: uuid.UUID, data: ReviewCreate
) -> ReviewOut:
    now = context.clock()
    # Built as the answer, not as a `Review`: a table model's ORM state cost ~8 % of S5's CPU
    # (bench/README.md item 23), for an object nothing else would use. Its values are the row.
    review = ReviewOut(
        uid=uuid.uuid4(),
        rating=data.rating,
        review_text=data.review_text,
        book_uid=book_uid,
        user=UserRef(uid=author.uid, username=author.username),
        created_at=now,
        updated_at=now,
    )
    # The unique (user, book) constraint decides races; the foreign key, that the book exists.
    one_per_reader = {
        "user_uid": ReviewExists("You have already reviewed this book; edit that review.")
    }
    try:
        async with unique_rules(one_per_reader):
            # A Core insert on the session's connection: the ORM's unit of work and execution
            # path cost more than the statement.
            await (await db.connection()).execute(
                _INSERT_REVIEW,
                {**review.model_dump(exclude={"user"}), "user_uid": author.uid},
            )
    except IntegrityError as error:
        raise BookNotFound(f"No book with uid {book_uid}.") from error
    await _shift_summaries(db, {book_uid: (1, data.rating)})
    return review


def may_edit(author_uid: uuid.UUID, user: Account) -> bool:
    """Only its author edits a review (the site asks too, to offer the button or not)."""
    return author_uid == user.uid


def may_delete(author_uid: uuid.UUID, user: Account) -> bool:
    """Its author or an administrator deletes a review."""
    return author_uid == user.uid or user.role == Role.ADMIN


async def get_review(reader: Reader, review_uid: uuid.UUID) -> ReviewOut:
    rows = await reader.rows(objects.REVIEW_BY_UID, {"uid": review_uid})
    if not rows:
        raise ReviewNotFound(f"No review with uid {review_uid}.")
    return objects.review_outs(rows)[0]


async def update_review(
    context: AppContext,
    db: AsyncSession,
    user: Account,
    review_uid: uuid.UUID,
    changes: ReviewUpdate,
) -> ReviewOut:
    review = await _locked_review(db, review_uid)
    if not may_edit(review.user_uid, user):
        raise Forbidden("Only the review's author may edit it.")
    fields = changes.model_dump(exclude_unset=True, exclude_none=True)
    if "rating" in fields and fields["rating"] != review.rating:
        await _shift_summaries(db, {review.book_uid: (0, fields["rating"] - review.rating)})
    for name, value in fields.items():
        setattr(review, name, value)
    review.updated_at = context.clock()
    db.add(review)
    await db.flush()
    return _review_out(review, user)


async def delete_review(db: AsyncSession, user: Account, review_uid: uuid.UUID) -> None:
    review = await _locked_review(db, review_uid)
    if not may_delete(review.user_uid, user):
        raise Forbidden("Only the review's author or an administrator may delete it.")
    await db.execute(delete(Review).where(col(Review.uid) == review.uid))
    await _shift_summaries(db, {review.book_uid: (-1, -review.rating)})


async def delete_reviews_of(db: AsyncSession, user_uid: uuid.UUID) -> None:
    """Delete a user's reviews and take them out of their books' rating summaries."""
    deleted = await db.execute(
        delete(Review)
        .where(col(Review.user_uid) == user_uid)
        .returning(col(Review.book_uid), col(Review.rating))
    )
    shifts: dict[uuid.UUID, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for book_uid, rating in deleted:
        count, total = shifts[book_uid]
        shifts[book_uid] = (count - 1, total - rating)
    await _shift_summaries(db, shifts)


async def list_reviews(
    context: AppContext,
    page: PageParams,
    *,
    book_uid: uuid.UUID | None = None,
    user_uid: uuid.UUID | None = None,
) -> Page[ReviewOut]:
    """Reviews newest first: of a book, of a user, or all of them; a page in one statement
    (a book's empty page asks whether the book exists: 404 if not)."""
    query = objects.list_query(
        of_book=book_uid is not None, of_user=user_uid is not None, after_cursor=page.after_cursor
    )
    values = {
        name: value
        for name, value in (("book_uid", book_uid), ("user_uid", user_uid))
        if value is not None
    }
    keyset = objects.NEWEST_REVIEWS
    found = await context.reader.rows(
        query.page, {**values, **keyset.parameters(page, context.cursors)}
    )
    if not found and book_uid is not None:
        await ensure_exists(context.reader, book_uid)
    rows, next_cursor = keyset.cut(found, page, context.cursors, objects.sort_key)
    return Page(
        items=objects.review_outs(rows),
        next_cursor=next_cursor,
        total=await count_if_asked(context.reader, page, query.count, values),
    )


async def _locked_review(db: AsyncSession, review_uid: uuid.UUID) -> Review:
    # Locked, so that its old rating is still the one in the summary when we shift it.
    review = await db.scalar(select(Review).where(col(Review.uid) == review_uid).with_for_update())
    if review is None:
        raise ReviewNotFound(f"No review with uid {review_uid}.")
    return review


_count, _sum = _books.c.rating_count, _books.c.rating_sum
_SHIFT_SUMMARY = (
    update(_books)
    .where(_books.c.uid == bindparam("b_uid"))
    .values(
        rating_count=_count + bindparam("d_count"),
        rating_sum=_sum + bindparam("d_sum"),
        # Float division, exactly as Python's sum / count (numeric division would round).
        rating_avg=func.coalesce(
            cast(_sum + bindparam("d_sum"), Float) / func.nullif(_count + bindparam("d_count"), 0),
            0.0,
        ),
    )
)


async def _shift_summaries(db: AsyncSession, shifts: dict[uuid.UUID, tuple[int, int]]) -> None:
    """Add (count, sum) deltas to books' summaries with relative updates, so concurrent review
    changes on one book add up exactly rather than overwrite each other."""
    parameters = [{"b_uid": uid, "d_count": dc, "d_sum": ds} for uid, (dc, ds) in shifts.items()]
    if parameters:  # one set runs as one statement; several as an executemany
        await (await db.connection()).execute(_SHIFT_SUMMARY, parameters)


def _review_out(review: Review, author: Account | UserRef) -> ReviewOut:
    return ReviewOut(
        uid=review.uid,
        rating=review.rating,
        review_text=review.review_text,
        book_uid=review.book_uid,
        user=UserRef(uid=author.uid, username=author.username),
        created_at=review.created_at,
        updated_at=review.updated_at,
    )
