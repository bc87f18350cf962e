"""The home page: the catalogue, its search, filters and sorts, a keyset page at a time.

The list is `GET /api/v1/books` itself: the same query model validates the filters, the same
`list_books` reads the page in one statement, and "next page" follows the same signed cursor.
"""

from typing import Any

from fastapi import Request
from starlette.responses import Response

from bookly.books.listing import BookFilters, list_books
from bookly.books.schemas import BookListQuery, BookSort
from bookly.core.context import app_context
from bookly.web import forms
from bookly.web.rendering import page
from bookly.web.routing import web_router

router = web_router()

# The filter form's fields, as the API's query parameters name them.
_FILTERS = ("q", "author", "language", "tag", "min_rating", "sort")
SORTS = (
    ("", "Newest first, or best match"),
    (BookSort.RATING_DESC.value, "Highest rated"),
    (BookSort.TITLE.value, "Title, A to Z"),
    (BookSort.PUBLISHED_DESC.value, "Recently published"),
    (BookSort.OLDEST.value, "Oldest in the catalogue"),
)
MIN_RATINGS = (
    ("", "Any rating"),
    ("4.5", "4.5 stars or more"),
    *((f"{n}", f"{n} stars or more") for n in (4, 3, 2)),
)


def book_query(values: dict[str, str], cursor: str, errors: forms.Errors) -> BookListQuery | None:
    """The API's query model from the filter form's text (blank fields left out)."""
    given: dict[str, Any] = {name: value for name, value in values.items() if value}
    if "tag" in given:
        given["tag"] = [given["tag"]]
    if cursor:
        given["cursor"] = cursor
    return forms.validated(BookListQuery, given, errors)


@router.get("/")
async def catalogue(request: Request) -> Response:
    context = app_context(request)  # not a parameter: this page is one of the busiest
    values = {name: request.query_params.get(name, "").strip() for name in _FILTERS}
    errors: forms.Errors = {}
    query = book_query(values, request.query_params.get("cursor", ""), errors)
    books, next_cursor = [], None
    if query is not None:
        filters = BookFilters.of_query(query)
        # The sort chosen applies; none means newest, or best match for a search (as the API).
        sort = query.sort if query.sort is not BookSort.RELEVANCE or filters.q else None
        found = await list_books(context, query, filters, sort)
        books, next_cursor = found.items, found.next_cursor
    next_values = {name: value for name, value in values.items() if value}
    return page(
        request,
        "catalogue.html",
        title=f"Books matching “{values['q']}”" if values["q"] else "Books",
        status=422 if errors else 200,
        values=values,
        filtered=any(value for name, value in values.items() if name != "q"),
        errors=errors,
        books=books,
        next_page={**next_values, "cursor": next_cursor} if next_cursor else None,
        first_page=next_values if request.query_params.get("cursor") else None,
        sorts=SORTS,
        min_ratings=MIN_RATINGS,
    )
