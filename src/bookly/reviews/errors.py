"""The reviews domain's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import Conflict, NotFound


class ReviewNotFound(NotFound):
    error_code = "review_not_found"
    title = "Review not found"


class ReviewExists(Conflict):
    error_code = "review_exists"
    title = "Review already exists"
