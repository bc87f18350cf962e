"""The users domain's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import NotFound


class UserNotFound(NotFound):
    error_code = "user_not_found"
    title = "User not found"
