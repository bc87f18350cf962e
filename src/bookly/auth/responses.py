"""The errors each kind of caller (auth/dependencies.py) can meet before the route runs, for the
routes' documented responses: `problem_responses(*VERIFIED, BookNotFound, ...)`."""

from bookly.auth.errors import AccountDisabled, AccountNotVerified, InvalidToken, TokenRevoked
from bookly.core.errors import AppError, Forbidden, NotAuthenticated, ServiceUnavailable

# `CallerDep`, `CurrentUser`, `CallerRecord`: no token, a bad or expired one, a signed-out
# session, a disabled account, or a revocation check that cannot be made (503, fail closed).
BEARER: tuple[type[AppError], ...] = (
    NotAuthenticated,
    InvalidToken,
    TokenRevoked,
    AccountDisabled,
    ServiceUnavailable,
)
# `VerifiedUser`: every write needs a verified email address.
VERIFIED = (*BEARER, AccountNotVerified)
# `AdminUser`.
ADMIN = (*BEARER, Forbidden)
