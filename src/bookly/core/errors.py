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


class BadRequest(AppError):
    status_code = 400
    error_code = "bad_request"
    title = "Bad request"


class InvalidCursor(AppError):
    status_code = 422
    error_code = "validation_error"
    title = "Invalid cursor"


class PasswordMismatch(AppError):
    status_code = 400
    error_code = "password_mismatch"
    title = "Passwords do not match"


class InvalidLink(AppError):
    status_code = 400
    error_code = "invalid_link"
    title = "Invalid or expired link"


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
    token_was_sent = False


class InvalidToken(Unauthorized):
    error_code = "invalid_token"
    title = "Invalid token"


class TokenRevoked(Unauthorized):
    error_code = "token_revoked"
    title = "Token revoked"


class TokenReused(Unauthorized):
    error_code = "token_reused"
    title = "Refresh token reused"
    keeps_changes = True  # the session it revoked must stay revoked


class InvalidCredentials(Unauthorized):
    error_code = "invalid_credentials"
    title = "Invalid credentials"
    token_was_sent = False


class Forbidden(AppError):
    status_code = 403
    error_code = "forbidden"
    title = "Forbidden"


class AccountNotVerified(Forbidden):
    error_code = "account_not_verified"
    title = "Account not verified"


class AccountDisabled(Forbidden):
    error_code = "account_disabled"
    title = "Account disabled"


class NotFound(AppError):
    status_code = 404
    error_code = "not_found"
    title = "Not found"


class UserNotFound(NotFound):
    error_code = "user_not_found"
    title = "User not found"


class SessionNotFound(NotFound):
    error_code = "session_not_found"
    title = "Session not found"


class Conflict(AppError):
    status_code = 409
    error_code = "conflict"
    title = "Conflict"


class EmailTaken(Conflict):
    error_code = "email_taken"
    title = "Email already registered"


class UsernameTaken(Conflict):
    error_code = "username_taken"
    title = "Username already taken"


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


class BookNotFound(NotFound):
    error_code = "book_not_found"
    title = "Book not found"


class ReviewNotFound(NotFound):
    error_code = "review_not_found"
    title = "Review not found"


class TagNotFound(NotFound):
    error_code = "tag_not_found"
    title = "Tag not found"


class IsbnTaken(Conflict):
    error_code = "isbn_taken"
    title = "ISBN already registered"


class ReviewExists(Conflict):
    error_code = "review_exists"
    title = "Review already exists"


class TagExists(Conflict):
    error_code = "tag_exists"
    title = "Tag already exists"


class TooManyTags(AppError):
    status_code = 422
    error_code = "validation_error"
    title = "Too many tags"
