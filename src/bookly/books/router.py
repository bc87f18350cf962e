import uuid
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from starlette.convertors import Convertor, register_url_convertor

from bookly.auth.dependencies import VerifiedUser
from bookly.auth.responses import VERIFIED
from bookly.books import listing, objects, service
from bookly.books.dependencies import OwnedBook
from bookly.books.errors import BookNotFound, IsbnTaken
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
from bookly.core.errors import Forbidden, InvalidCursor, PreconditionFailed
from bookly.core.openapi import headers
from bookly.core.pagination import Page
from bookly.core.problems import problem_responses
from bookly.core.query_model import QueryModel
from bookly.core.routing import ApiRouter
from bookly.core.text import StorableText
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.idempotency.responses import KEYED

router = ApiRouter(prefix="/books", tags=["books"])


class _BookUid(Convertor[str]):
    """A book's path segment: anything (a malformed uid gets its 422) but `suggest`, so that
    `PATCH /books/suggest` is a method `/books/suggest` does not allow (405), not a book."""

    regex = "(?!suggest$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("book_uid", _BookUid())

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
    responses=problem_responses(InvalidCursor),
    summary="Search and list books (keyset pages)",
    openapi_extra=_BOOK_LIST_QUERY.openapi,
)
async def list_books(
    context: ContextDep, query: Annotated[BookListQuery, Depends(_BOOK_LIST_QUERY)]
) -> Page[BookOut]:
    """Filters combine: a book is listed when it meets every one given; `tag` repeats
    (`tag=a&tag=b`: books carrying both). `q` searches titles, authors and descriptions word by
    word, whatever the accents and case, forgiving small misspellings and taking the last word as
    a prefix.

    `sort=relevance` (the default with `q`, refused without it) ranks the newest 500 matching
    books (`SEARCH_RANK_WINDOW`) and lists only those: a relevance search does not reach older
    matches; sort by `-created_at` to walk every match. Every other order lists every match.

    A keyset page: pass `next_cursor` back as `cursor`, with the same filters and order (a cursor
    of another list or order is refused with 422). Books added while paging never make a page
    repeat or skip one."""
    filters = listing.BookFilters.of_query(query)
    if query.sort is BookSort.RELEVANCE and not filters.q:
        raise RequestValidationError(
            [{"loc": ("query", "sort"), "msg": "relevance needs `q`", "type": "value_error"}]
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
    responses={
        201: {"headers": headers("ETag")},
        **problem_responses(*VERIFIED, IsbnTaken, *KEYED),
    },
    summary="Add a book (verified accounts); the caller owns it",
)
async def create_book(
    data: BookCreate,
    user: VerifiedUser,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    """Any verified account may add a book, and owns it. The ISBN (10 or 13 digits, separators
    allowed, check digit verified) is stored without separators and is unique: an ISBN-10 and its
    ISBN-13 are one book (409 `isbn_taken`). Answers the book, its path in `Location` and its
    `ETag`. Send an `Idempotency-Key` to make a retry safe."""
    if replayed := await idempotency.replay_or_reserve(user.uid):
        return replayed
    book = await service.create_book(context, db, user, data)
    location = f"/api/v1/books/{book.uid}"
    return await idempotency.keep(_book_response(book, status.HTTP_201_CREATED, Location=location))


@router.get(
    "/{uid:book_uid}",
    response_model=BookOut,
    responses={
        200: {"headers": headers("ETag")},
        304: {
            "description": "Not modified: an ETag sent in `If-None-Match` is current; no body",
            "headers": headers("ETag"),
        },
        **problem_responses(BookNotFound),
    },
    openapi_extra={"parameters": [_IF_NONE_MATCH]},
    summary="Read a book; 304 when the `If-None-Match` ETag is current",
)
async def read_book(uid: uuid.UUID, request: Request) -> Response:
    # The hottest route takes the request as it is: FastAPI resolves each declared dependency
    # and header anew per request, and `ContextDep` with an `If-None-Match` header parameter
    # cost about 10 % of this route's CPU (bench/README.md, item 22).
    """Answers the book with its `ETag`. Send the ETags you hold in `If-None-Match` to get 304 Not
    Modified, without a body, while the book is unchanged. A change to the book, its tags or its
    reviews (the rating summary) changes the ETag."""
    context = app_context(request)
    if_none_match = request.headers.get("if-none-match")
    # The body is serialised once, for both the ETag and the answer.
    body, etag = objects.body_and_etag(await objects.read_book(context.reader, uid))
    if if_none_match is not None and objects.etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.patch(
    "/{uid:book_uid}",
    response_model=BookOut,
    responses={
        200: {"headers": headers("ETag")},
        **problem_responses(*VERIFIED, Forbidden, BookNotFound, IsbnTaken, PreconditionFailed),
    },
    summary="Change some of a book's fields (owner or admin); honours `If-Match`",
)
async def update_book(
    changes: BookUpdate,
    book: OwnedBook,
    context: ContextDep,
    db: SessionDep,
    if_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    """Changes the fields sent and only those; `null` clears an optional field (`title` and `author`
    cannot be cleared). The book's owner or an administrator only (403 `forbidden`).

    Send the `ETag` you read in `If-Match` to change the book only if nobody changed it since:
    otherwise 412 `precondition_failed`, nothing changes, and you read the book again before
    retrying. Without `If-Match` the change is unconditional. Answers the book and its new
    `ETag`."""
    return _book_response(await service.update_book(context, db, book, changes, if_match))


@router.delete(
    "/{uid:book_uid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*VERIFIED, Forbidden, BookNotFound),
    summary="Delete a book (owner or admin); its reviews and tag links go with it",
)
async def delete_book(book: OwnedBook, db: SessionDep) -> None:
    """The book's owner or an administrator only (403 `forbidden`). Its reviews and tag links are
    deleted with it."""
    await service.delete_book(db, book.uid)
