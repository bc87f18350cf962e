import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from bookly.auth.dependencies import AdminUser
from bookly.books.dependencies import OwnedBook
from bookly.books.fields import TagName
from bookly.books.schemas import BookOut
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.core.text import StorableText
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.tags import service
from bookly.tags.schemas import BookTagsIn, TagIn, TagOut, TagSort

router = APIRouter(prefix="/tags", tags=["tags"])
# A book's tags are changed under the book, by its owner or an admin.
book_tags_router = APIRouter(prefix="/books/{uid}/tags", tags=["tags"])

_BOOK_TAG_ERRORS = problem_responses(401, 403, 404, 422, 503)


@book_tags_router.put(
    "", response_model=BookOut, responses=_BOOK_TAG_ERRORS, summary="Replace a book's tags"
)
async def replace_book_tags(
    body: BookTagsIn, book: OwnedBook, context: ContextDep, db: SessionDep
) -> BookOut:
    return await service.replace_book_tags(context, db, book, body.tags)


@book_tags_router.post(
    "", response_model=BookOut, responses=_BOOK_TAG_ERRORS, summary="Add tags to a book"
)
async def add_book_tags(
    body: BookTagsIn, book: OwnedBook, context: ContextDep, db: SessionDep
) -> BookOut:
    return await service.add_book_tags(context, db, book, body.tags)


@book_tags_router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_BOOK_TAG_ERRORS,
    summary="Take a tag off a book",
)
async def remove_book_tag(
    name: TagName, book: OwnedBook, context: ContextDep, db: SessionDep
) -> None:
    await service.remove_book_tag(context, db, book, name)


@router.get(
    "",
    response_model=Page[TagOut],
    responses=problem_responses(422, 503),
    summary="Tags with how many books carry each; `q` filters by name prefix",
)
@read_only
async def list_tags(
    context: ContextDep,
    db: SessionDep,
    page: PageQuery,
    q: Annotated[StorableText | None, Query(min_length=1, max_length=40)] = None,
    sort: TagSort = TagSort.NAME,
) -> Page[TagOut]:
    prefix = " ".join(q.split()).lower() if q else None
    return await service.list_tags(context, db, page, prefix, sort)


@router.post(
    "",
    response_model=TagOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422, 503),
    summary="Create a tag (admins only)",
)
async def create_tag(
    body: TagIn,
    admin: AdminUser,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    if replayed := await idempotency.replay_or_reserve(admin.uid):
        return replayed
    tag = await service.create_tag(context, db, body.name)
    created = json_response(tag, status.HTTP_201_CREATED, Location=f"/api/v1/tags/{tag.uid}")
    return await idempotency.keep(created)


@router.get("/{uid}", response_model=TagOut, responses=problem_responses(404, 422))
@read_only
async def read_tag(uid: uuid.UUID, db: SessionDep) -> TagOut:
    return await service.get_tag(db, uid)


@router.patch(
    "/{uid}",
    response_model=TagOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Rename a tag (admins only)",
)
async def rename_tag(uid: uuid.UUID, body: TagIn, _: AdminUser, db: SessionDep) -> TagOut:
    return await service.rename_tag(db, uid, body.name)


@router.delete(
    "/{uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
    summary="Delete a tag (admins only); it leaves every book",
)
async def delete_tag(uid: uuid.UUID, _: AdminUser, db: SessionDep) -> None:
    await service.delete_tag(db, uid)
