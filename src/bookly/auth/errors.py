"""The auth domain's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized


class InvalidLink(AppError):
    status_code = 400
    error_code = "invalid_link"
    title = "Invalid or expired link"


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


class AccountNotVerified(Forbidden):
    error_code = "account_not_verified"
    title = "Account not verified"


class AccountDisabled(Forbidden):
    error_code = "account_disabled"
    title = "Account disabled"


class SessionNotFound(NotFound):
    error_code = "session_not_found"
    title = "Session not found"


class EmailTaken(Conflict):
    error_code = "email_taken"
    title = "Email already registered"


class UsernameTaken(Conflict):
    error_code = "username_taken"
    title = "Username already taken"
