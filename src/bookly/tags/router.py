import uuid
from typing import Annotated

from fastapi import Query, Response, status

from bookly.auth.dependencies import AdminUser
from bookly.auth.responses import ADMIN, VERIFIED
from bookly.books.dependencies import OwnedBook
from bookly.books.errors import BookNotFound
from bookly.books.fields import TagName
from bookly.books.schemas import BookOut
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.errors import Forbidden, InvalidCursor
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.core.routing import ApiRouter
from bookly.core.text import StorableText
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.idempotency.responses import KEYED
from bookly.tags import service
from bookly.tags.errors import TagExists, TagNotFound, TooManyTags
from bookly.tags.schemas import BookTagsIn, TagIn, TagOut, TagSort

router = ApiRouter(prefix="/tags", tags=["tags"])
# A book's tags are changed under the book, by its owner or an admin.
book_tags_router = ApiRouter(prefix="/books/{uid}/tags", tags=["tags"])

_BOOK_TAG_ERRORS = problem_responses(*VERIFIED, Forbidden, BookNotFound, TooManyTags)


@book_tags_router.put(
    "", response_model=BookOut, responses=_BOOK_TAG_ERRORS, summary="Replace a book's tags"
)
async def replace_book_tags(
    body: BookTagsIn, book: OwnedBook, context: ContextDep, db: SessionDep
) -> BookOut:
    """The book's tags become exactly the names sent (at most 20, each normalised: trimmed,
    lower-cased, inner spaces collapsed); names no tag has yet become new tags. The book's owner
    or an administrator only (403 `forbidden`). Answers the book."""
    return await service.replace_book_tags(context, db, book, body.tags)


@book_tags_router.post(
    "", response_model=BookOut, responses=_BOOK_TAG_ERRORS, summary="Add tags to a book"
)
async def add_book_tags(
    body: BookTagsIn, book: OwnedBook, context: ContextDep, db: SessionDep
) -> BookOut:
    """Adds the names sent to the book's tags (normalised as for `PUT`; names it carries already are
    kept once), up to 20 in all (422 beyond). The book's owner or an administrator only. Answers
    the book."""
    return await service.add_book_tags(context, db, book, body.tags)


@book_tags_router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*VERIFIED, Forbidden, BookNotFound, TagNotFound),
    summary="Take a tag off a book",
)
async def remove_book_tag(
    name: TagName, book: OwnedBook, context: ContextDep, db: SessionDep
) -> None:
    """Takes the tag (its name, normalised) off the book: 404 `tag_not_found` when the book does not
    carry it. The tag itself stays. The book's owner or an administrator only."""
    await service.remove_book_tag(context, db, book, name)


@router.get(
    "",
    response_model=Page[TagOut],
    responses=problem_responses(InvalidCursor),
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
    """Every tag with the number of books carrying it; `q` keeps the names that start with it
    (normalised as names are). Sorted by name, or by `-book_count` (most used first). A keyset
    page: pass `next_cursor` back as `cursor`, with the same `q` and `sort`."""
    prefix = " ".join(q.split()).lower() if q else None
    return await service.list_tags(context, db, page, prefix, sort)


@router.post(
    "",
    response_model=TagOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*ADMIN, TagExists, *KEYED),
    summary="Create a tag (admins only)",
)
async def create_tag(
    body: TagIn,
    admin: AdminUser,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    """Administrators only. Names are compared after normalisation (trimmed, lower-cased, inner
    spaces collapsed): 409 `tag_exists` when a tag already has it. Answers the tag, its path in
    `Location`. Send an `Idempotency-Key` to make a retry safe."""
    if replayed := await idempotency.replay_or_reserve(admin.uid):
        return replayed
    tag = await service.create_tag(context, db, body.name)
    created = json_response(tag, status.HTTP_201_CREATED, Location=f"/api/v1/tags/{tag.uid}")
    return await idempotency.keep(created)


@router.get(
    "/{uid}", response_model=TagOut, responses=problem_responses(TagNotFound), summary="Read a tag"
)
@read_only
async def read_tag(uid: uuid.UUID, db: SessionDep) -> TagOut:
    """Public, no token needed: the tag and how many books carry it; 404 `tag_not_found` when no tag
    has that uid."""
    return await service.get_tag(db, uid)


@router.patch(
    "/{uid}",
    response_model=TagOut,
    responses=problem_responses(*ADMIN, TagNotFound, TagExists),
    summary="Rename a tag (admins only)",
)
async def rename_tag(uid: uuid.UUID, body: TagIn, _: AdminUser, db: SessionDep) -> TagOut:
    """Administrators only; every book carrying the tag carries the new name. 409 `tag_exists` when
    another tag has that name."""
    return await service.rename_tag(db, uid, body.name)


@router.delete(
    "/{uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*ADMIN, TagNotFound),
    summary="Delete a tag (admins only); it leaves every book",
)
async def delete_tag(uid: uuid.UUID, _: AdminUser, db: SessionDep) -> None:
    """Administrators only; the tag leaves every book that carried it."""
    await service.delete_tag(db, uid)
