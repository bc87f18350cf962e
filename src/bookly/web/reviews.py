"""Writing, editing and deleting one's review, through the reviews service (the same rules:
verified readers write, the author edits, the author or an admin deletes)."""

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response

from bookly.core.context import ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import Forbidden
from bookly.core.reads import session_reader
from bookly.reviews import service as reviews_service
from bookly.reviews.errors import ReviewExists
from bookly.reviews.schemas import ReviewCreate, ReviewUpdate
from bookly.web import forms
from bookly.web.books import book_page
from bookly.web.rendering import page, redirect, with_notice
from bookly.web.routing import web_router
from bookly.web.visitor import VerifiedWebUser

router = web_router()
_FIELDS = ("rating", "review_text")


def _read(form: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any], forms.Errors]:
    """(the text as typed, the typed values, errors so far)"""
    errors: forms.Errors = {}
    values = {name: forms.text(form, name) for name in _FIELDS}
    typed = {
        "rating": forms.whole_number(form, "rating", errors),
        "review_text": forms.optional_text(form, "review_text"),
    }
    if typed["rating"] is None and "rating" not in errors:
        errors["rating"] = "Choose from 1 to 5 stars."
    return values, typed, errors


@router.post("/books/{uid}/reviews")
async def add_review(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep, db: SessionDep
) -> Response:
    values, typed, errors = _read(await request.form())
    data = forms.validated(ReviewCreate, typed, errors)
    if data is not None and not errors:
        try:
            await reviews_service.create_review(context, db, user, uid, data)
        except ReviewExists as exists:
            await db.rollback()
            errors["review_text"] = exists.detail
        else:
            return redirect(with_notice(f"/books/{uid}", "review-added") + "#reviews")
    return await book_page(
        request, context, uid, user, review_form=values, review_errors=errors, status=422
    )


def _edit_page(
    request: Request,
    review_uid: uuid.UUID,
    book_uid: uuid.UUID,
    values: dict[str, str],
    errors: forms.Errors,
    status: int = 200,
) -> Response:
    return page(
        request,
        "review_form.html",
        title="Edit your review",
        status=status,
        review_uid=review_uid,
        book_uid=book_uid,
        values=values,
        errors=errors,
    )


@router.get("/reviews/{uid}/edit")
async def edit_review_form(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep
) -> Response:
    review = await reviews_service.get_review(context.reader, uid)
    if not reviews_service.may_edit(review.user.uid, user):
        raise Forbidden("Only the review's author may edit it.")
    values = {"rating": str(review.rating), "review_text": review.review_text}
    return _edit_page(request, uid, review.book_uid, values, {})


@router.post("/reviews/{uid}/edit")
async def edit_review(
    uid: uuid.UUID, request: Request, user: VerifiedWebUser, context: ContextDep, db: SessionDep
) -> Response:
    review = await reviews_service.get_review(await session_reader(db), uid)
    if not reviews_service.may_edit(review.user.uid, user):
        raise Forbidden("Only the review's author may edit it.")
    values, typed, errors = _read(await request.form())
    changes = forms.validated(ReviewUpdate, typed, errors)
    if changes is None or errors:
        return _edit_page(request, uid, review.book_uid, values, errors, status=422)
    review = await reviews_service.update_review(context, db, user, uid, changes)
    return redirect(with_notice(f"/books/{review.book_uid}", "review-saved") + "#reviews")


@router.post("/reviews/{uid}/delete")
async def delete_review(uid: uuid.UUID, user: VerifiedWebUser, db: SessionDep) -> Response:
    review = await reviews_service.get_review(await session_reader(db), uid)
    await reviews_service.delete_review(db, user, uid)
    return redirect(with_notice(f"/books/{review.book_uid}", "review-deleted") + "#reviews")
