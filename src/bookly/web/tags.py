"""The tags: all of them, most used first, and each tag's books."""

from fastapi import Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from bookly.books.fields import TagName
from bookly.books.listing import BookFilters, list_books
from bookly.books.schemas import BookSort
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.tags import service as tags_service
from bookly.tags.errors import TagNotFound
from bookly.tags.schemas import TagOut, TagSort
from bookly.web.paging import page_params
from bookly.web.rendering import page
from bookly.web.routing import web_router

router = web_router()
TAGS_PER_PAGE = 100
BOOKS_PER_PAGE = 20
_tag_name = TypeAdapter(TagName)


@router.get("/tags")
@read_only
async def all_tags(
    request: Request, context: ContextDep, db: SessionDep, cursor: str = "", sort: str = ""
) -> Response:
    order = TagSort.NAME if sort == TagSort.NAME.value else TagSort.MOST_USED
    tags = await tags_service.list_tags(
        context, db, page_params(cursor, TAGS_PER_PAGE), None, order
    )
    keep = {"sort": order.value} if order is TagSort.NAME else {}
    return page(
        request,
        "tags.html",
        title="Tags",
        tags=tags.items,
        by_name=order is TagSort.NAME,
        next_page={**keep, "cursor": tags.next_cursor} if tags.next_cursor else None,
        first_page=keep if cursor else None,
    )


async def _tag(context: ContextDep, db: SessionDep, name: str) -> TagOut:
    """The tag by its name: the first of the tags that start with it, in name order, is it
    if it exists."""
    try:
        normal = _tag_name.validate_python(name)
    except ValidationError as error:
        raise TagNotFound(f"No tag named {name!r}.") from error
    found = await tags_service.list_tags(context, db, page_params("", 1), normal, TagSort.NAME)
    if not found.items or found.items[0].name != normal:
        raise TagNotFound(f"No tag named {normal!r}.")
    return found.items[0]


@router.get("/tags/{name:path}")
@read_only
async def tag_books(
    name: str, request: Request, context: ContextDep, db: SessionDep, cursor: str = ""
) -> Response:
    tag = await _tag(context, db, name)
    books = await list_books(
        context,
        page_params(cursor, BOOKS_PER_PAGE),
        BookFilters(tags=[tag.name]),
        BookSort.NEWEST,
    )
    return page(
        request,
        "tag.html",
        title=f"Books tagged “{tag.name}”",
        tag=tag,
        books=books.items,
        next_page={"cursor": books.next_cursor} if books.next_cursor else None,
        first_page={} if cursor else None,
    )
