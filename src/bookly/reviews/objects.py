"""The review object of the API, read in one SQL statement (its author joined), and review
lists a page per statement: a book's, a user's, or all of them, newest first.

Like books/objects.py, these are hot reads (core/reads.py): a book's page on the site and
`GET /books/{uid}/reviews` read its first page of reviews with one statement, built once per
shape of list, run on the reader outside any session.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, bindparam, select
from sqlmodel import col

from bookly.core.pagination import Keyset, count_of
from bookly.core.reads import Prepared, Row
from bookly.models import Review, User
from bookly.reviews.schemas import ReviewOut

_REVIEW_FIELDS = ("uid", "rating", "review_text", "book_uid", "created_at", "updated_at")

# The review's columns, then its author's uid and name (`_out` reads them by position).
_REVIEWS = select(
    *(getattr(Review, name) for name in _REVIEW_FIELDS),
    col(User.uid),
    col(User.username),
).join(User, col(User.uid) == col(Review.user_uid))
_CREATED_AT = _REVIEW_FIELDS.index("created_at")

REVIEW_BY_UID = Prepared(_REVIEWS.where(col(Review.uid) == bindparam("uid")))

NEWEST_REVIEWS = Keyset.newest_first(Review)


@dataclass(frozen=True)
class ListQuery:
    page: Prepared
    count: Prepared


@lru_cache(maxsize=8)
def list_query(*, of_book: bool, of_user: bool, after_cursor: bool) -> ListQuery:
    """A page of reviews newest first (of one book, of one user, or all), its values named
    `book_uid` and `user_uid`, and `NEWEST_REVIEWS`'s keyset parameters; and the count."""
    conditions: list[ColumnElement[bool]] = []
    if of_book:
        conditions.append(col(Review.book_uid) == bindparam("book_uid"))
    if of_user:
        conditions.append(col(Review.user_uid) == bindparam("user_uid"))
    statement = NEWEST_REVIEWS.template(_REVIEWS.where(*conditions), after_cursor=after_cursor)
    return ListQuery(Prepared(statement), count_of(Review, conditions))


def sort_key(row: Row) -> tuple[Any, uuid.UUID]:
    """A row's place in `NEWEST_REVIEWS`: (created_at, uid)."""
    return row[_CREATED_AT], row[0]


def _fields(row: Row) -> dict[str, Any]:
    fields = dict(zip(_REVIEW_FIELDS, row, strict=False))
    author_uid, author_name = row[len(_REVIEW_FIELDS) :]
    fields["user"] = {"uid": author_uid, "username": author_name}
    return fields


_REVIEW_LIST: TypeAdapter[list[ReviewOut]] = TypeAdapter(list[ReviewOut])


def review_outs(rows: Sequence[Row]) -> list[ReviewOut]:
    """Review objects for rows of these statements, validated in one call for the page."""
    return _REVIEW_LIST.validate_python([_fields(row) for row in rows])
