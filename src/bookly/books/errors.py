"""The books domain's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import Conflict, NotFound


class BookNotFound(NotFound):
    error_code = "book_not_found"
    title = "Book not found"


class IsbnTaken(Conflict):
    error_code = "isbn_taken"
    title = "ISBN already registered"
