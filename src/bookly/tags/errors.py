"""The tags domain's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import Conflict, NotFound, ValidationFailed


class TagNotFound(NotFound):
    error_code = "tag_not_found"
    title = "Tag not found"


class TagExists(Conflict):
    error_code = "tag_exists"
    title = "Tag already exists"


class TooManyTags(ValidationFailed):
    title = "Too many tags"
    location = ("body", "tags")
    issue_type = "too_many_tags"
