"""Bookly's errors: each carries its HTTP status and stable `error_code`.

Every error leaves the service as an RFC 9457 problem document (see `problems.py`).
"""

from typing import ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 500
    error_code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"
    # Most errors undo the request's writes; a few (a detected token reuse) must keep them.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.title
        self.headers = headers or {}
        super().__init__(self.detail)


class ValidationFailed(AppError):
    """A 422 found past the schema (a cursor's signature, a set's size); like the framework's
    422s it lists the problem in `errors`, at the input it names."""

    status_code = 422
    error_code = "validation_error"
    title = "Validation error"
    location: ClassVar[tuple[str, ...]] = ("body",)
    issue_type: ClassVar[str] = "value_error"

    @property
    def errors(self) -> list[dict[str, object]]:
        return [{"loc": list(self.location), "msg": self.detail, "type": self.issue_type}]


class InvalidCursor(ValidationFailed):
    title = "Invalid cursor"
    location = ("query", "cursor")
    issue_type = "invalid_cursor"


class Unauthorized(AppError):
    """401s carry `WWW-Authenticate: Bearer`, with `error="invalid_token"` once a token was sent."""

    status_code = 401
    error_code = "not_authenticated"
    title = "Not authenticated"
    token_was_sent: ClassVar[bool] = True

    def __init__(self, detail: str | None = None):
        challenge = 'Bearer error="invalid_token"' if self.token_was_sent else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class NotAuthenticated(Unauthorized):
    """No credentials were sent (a plain `Bearer` challenge)."""

    token_was_sent = False


class Forbidden(AppError):
    status_code = 403
    error_code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status_code = 404
    error_code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    error_code = "conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    status_code = 412
    error_code = "precondition_failed"
    title = "Precondition failed"


class RateLimited(AppError):
    status_code = 429
    error_code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int, detail: str | None = None):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailable(AppError):
    status_code = 503
    error_code = "service_unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after_seconds: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})
