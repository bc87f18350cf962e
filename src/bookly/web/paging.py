"""Keyset pages of the site: the API's `PageParams` from a link's `cursor`."""

from pydantic import ValidationError

from bookly.core.errors import InvalidCursor
from bookly.core.pagination import PageParams


def page_params(cursor: str, limit: int) -> PageParams:
    """The page after `cursor` (the first page when empty); a cursor the API would refuse is
    refused the same way (a page of the site shows it as "not found")."""
    try:
        return PageParams(limit=limit, cursor=cursor or None)
    except ValidationError as error:
        raise InvalidCursor("The cursor is not one this list issued.") from error
