import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator

from bookly.auth.schemas import UserRef
from bookly.books.fields import Isbn, IsoDate, Language, TagName
from bookly.core.pagination import PageParams
from bookly.core.schemas import RequestBody, WholeNumber
from bookly.core.text import StorableText

Title = Annotated[
    StorableText, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)
]
Publisher = Annotated[
    StorableText, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)
]
Description = Annotated[StorableText, StringConstraints(max_length=5000)]
PageCount = Annotated[int, Field(ge=1, le=100_000), WholeNumber]


class BookCreate(RequestBody):
    title: Title
    author: Title
    publisher: Publisher | None = None
    published_date: IsoDate | None = None
    page_count: PageCount | None = None
    language: Language | None = None
    isbn: Isbn | None = None
    description: Description | None = None


def _without_null(schema: dict[str, Any]) -> None:
    # The field's JSON schema as its type alone: `_not_cleared` refuses the null.
    [kept] = [option for option in schema.pop("anyOf") if option.get("type") != "null"]
    schema.update(kept)


class BookUpdate(RequestBody):
    """Any subset of the writable fields; `null` clears an optional one."""

    # Title and author may be left out but never cleared: the schema offers no null for them.
    title: Title | None = Field(default=None, json_schema_extra=_without_null)
    author: Title | None = Field(default=None, json_schema_extra=_without_null)
    publisher: Publisher | None = None
    published_date: IsoDate | None = None
    page_count: PageCount | None = None
    language: Language | None = None
    isbn: Isbn | None = None
    description: Description | None = None

    # Before the type, so that the refusal names the field (a default is never validated).
    @field_validator("title", "author", mode="before")
    @classmethod
    def _not_cleared(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be cleared: leave it out to keep it")
        return value


class Rating(BaseModel):
    average: float | None = Field(description="Mean of the reviews' ratings; null when none.")
    count: int


class BookOut(BaseModel):
    uid: uuid.UUID
    title: str
    author: str
    publisher: str | None
    published_date: date | None
    page_count: int | None
    language: str | None
    isbn: str | None
    description: str | None
    owner: UserRef | None
    tags: list[str]
    rating: Rating
    created_at: datetime
    updated_at: datetime


class BookSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    PUBLISHED = "published_date"
    PUBLISHED_DESC = "-published_date"
    RATING_DESC = "-rating"
    RATING = "rating"
    RELEVANCE = "relevance"


class BookSuggestion(BaseModel):
    """A book as a search box suggests it."""

    uid: uuid.UUID
    title: str
    author: str


class BookSuggestions(BaseModel):
    items: list[BookSuggestion] = Field(description="At most 8, best first.")


class BookListQuery(PageParams):
    """`GET /books`: the page, the filters (all must hold) and the order."""

    q: Annotated[StorableText, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Full-text search."
    )
    author: Annotated[StorableText, StringConstraints(min_length=1, max_length=255)] | None = None
    language: Language | None = None
    tag: list[TagName] | None = Field(
        default=None, max_length=20, description="Repeatable: all must match."
    )
    owner: uuid.UUID | None = None
    published_from: IsoDate | None = None
    published_to: IsoDate | None = None
    min_rating: float | None = Field(default=None, ge=0, le=5)
    sort: BookSort | None = Field(
        default=None,
        description=(
            "Default `-created_at`, or `relevance` when searching with `q`. `relevance` ranks "
            "the newest `SEARCH_RANK_WINDOW` matching books (500 by default), best first, and "
            "lists only those; every other sort lists every match."
        ),
    )
