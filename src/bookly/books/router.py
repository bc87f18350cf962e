import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from bookly.auth.dependencies import VerifiedUser
from bookly.books import listing, objects, service
from bookly.books.dependencies import OwnedBook
from bookly.books.schemas import (
    BookCreate,
    BookListQuery,
    BookOut,
    BookSort,
    BookSuggestions,
    BookUpdate,
)
from bookly.core.context import ContextDep, app_context
from bookly.core.db import SessionDep
from bookly.core.pagination import Page
from bookly.core.problems import problem_responses
from bookly.core.query_model import QueryModel
from bookly.core.text import StorableText
from bookly.idempotency.keys import IdempotencyKeyDep

router = APIRouter(prefix="/books", tags=["books"])

_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags the client holds: 304 when the book's is among them (or `*`).",
    "schema": {"type": "string"},
}


def _book_response(book: BookOut, status_code: int = 200, **headers: str) -> Response:
    """The book as JSON with its `ETag`, the body serialised once for both."""
    body, etag = objects.body_and_etag(book)
    return Response(
        body, status_code, headers={"ETag": etag, **headers}, media_type="application/json"
    )


# The hottest list: its query string is validated in one call (core/query_model.py).
_BOOK_LIST_QUERY = QueryModel(BookListQuery)


@router.get(
    "",
    response_model=Page[BookOut],
    responses=problem_responses(422, 503),
    summary="Search and list books (keyset pages)",
    openapi_extra=_BOOK_LIST_QUERY.openapi,
)
async def list_books(
    context: ContextDep, query: Annotated[BookListQuery, Depends(_BOOK_LIST_QUERY)]
) -> Page[BookOut]:
    q = " ".join(query.q.split()) if query.q else None  # blank text searches for nothing
    if query.sort is BookSort.RELEVANCE and not q:
        raise RequestValidationError(
            [{"loc": ("query", "sort"), "msg": "relevance needs `q`", "type": "value_error"}]
        )
    filters = listing.BookFilters(
        q=q or None,
        author=query.author,
        language=query.language,
        tags=sorted(set(query.tag or [])),
        owner=query.owner,
        published_from=query.published_from,
        published_to=query.published_to,
        min_rating=query.min_rating,
    )
    return await listing.list_books(context, query, filters, query.sort)


@router.get(
    "/suggest",
    response_model=BookSuggestions,
    responses=problem_responses(422, 503),
    summary="Up to 8 books for what a reader is typing into a search box",
)
async def suggest_books(
    context: ContextDep,
    q: Annotated[
        StorableText,
        Query(min_length=1, max_length=200, description="The search text typed so far."),
    ],
) -> BookSuggestions:
    """The best matches of a relevance search for `q`, as `GET /books?q=` ranks them, with only
    their `uid`, `title` and `author`: accents and case do not matter, small misspellings are
    forgiven, and the last word is taken as unfinished (`brave new wor`). Public; text with no
    word in it suggests nothing."""
    return BookSuggestions(items=await listing.suggest_books(context, " ".join(q.split())))


@router.post(
    "",
    response_model=BookOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_book(
    data: BookCreate,
    user: VerifiedUser,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    if replayed := await idempotency.replay_or_reserve(user.uid):
        return replayed
    book = await service.create_book(context, db, user, data)
    location = f"/api/v1/books/{book.uid}"
    return await idempotency.keep(_book_response(book, status.HTTP_201_CREATED, Location=location))


@router.get(
    "/{uid}",
    response_model=BookOut,
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
    openapi_extra={"parameters": [_IF_NONE_MATCH]},
)
async def read_book(uid: uuid.UUID, request: Request) -> Response:
    # The hottest route takes the request as it is: FastAPI resolves each declared dependency
    # and header anew per request, and `ContextDep` with an `If-None-Match` header parameter
    # cost about 10 % of this route's CPU (bench/README.md, item 22).
    context = app_context(request)
    if_none_match = request.headers.get("if-none-match")
    # The body is serialised once, for both the ETag and the answer.
    body, etag = objects.body_and_etag(await objects.read_book(context.reader, uid))
    if if_none_match is not None and objects.etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.patch(
    "/{uid}",
    response_model=BookOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    summary="Change some of a book's fields (owner or admin); honours `If-Match`",
)
async def update_book(
    changes: BookUpdate,
    book: OwnedBook,
    context: ContextDep,
    db: SessionDep,
    if_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    return _book_response(await service.update_book(context, db, book, changes, if_match))


@router.delete(
    "/{uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
    summary="Delete a book (owner or admin); its reviews and tag links go with it",
)
async def delete_book(book: OwnedBook, db: SessionDep) -> None:
    await service.delete_book(db, book.uid)
