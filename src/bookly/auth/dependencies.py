"""Who is calling, as route parameters: `CurrentUser`, `VerifiedUser`, `AdminUser` (the account
as authentication read it), `CallerDep` (with the session id), `CallerWith` (with more columns
read in the same statement), and `CallerRecord` (the account's row in the request's session,
for the routes that change it)."""

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import ColumnElement

from bookly.auth.caller import Account, Caller, caller_query, load_caller
from bookly.auth.errors import AccountNotVerified, InvalidToken
from bookly.auth.tokens import TokenType, read_token
from bookly.core.context import AppContext, ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import Forbidden, NotAuthenticated
from bookly.core.hashing_admission import PasswordWork
from bookly.core.reads import Prepared
from bookly.models import Role, User

# The password flow lets the interactive docs' Authorize button sign in through /auth/token.
# auto_error=False: a missing header must become our own 401 problem document.
_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `/api/v1/auth/login` or `/api/v1/auth/token`.",
)
BearerToken = Annotated[str | None, Depends(_bearer)]
CallerAndColumns = tuple[Caller, Sequence[Any]]


async def _authenticated(
    request: Request, context: AppContext, access_token: str | None, query: Prepared
) -> CallerAndColumns:
    if not access_token:
        raise NotAuthenticated("Send an access token as `Authorization: Bearer <token>`.")
    now = context.clock()
    claims = read_token(context.settings, access_token, TokenType.ACCESS, now)
    if context.denylist is not None:
        # The shared denylist answers first, so a Redis outage fails closed (503).
        await context.denylist.ensure_live(context.reader, claims.sid, now)
    caller, extra = await load_caller(context.reader, query, claims.sid, claims.user_uid)
    request.state.user_uid = str(caller.account.uid)  # for the access log
    return caller, extra


_CALLER = caller_query()


async def _authenticate(request: Request, context: ContextDep, token: BearerToken) -> Caller:
    caller, _ = await _authenticated(request, context, token, _CALLER)
    return caller


class CallerWith:
    """Authenticates as `CallerDep` does, and reads `columns` (which may refer to `users`) in
    the same statement: a route that answers with more of the caller needs no second read."""

    def __init__(self, *columns: ColumnElement[Any]):
        self._query = caller_query(*columns)

    async def __call__(
        self, request: Request, context: ContextDep, token: BearerToken
    ) -> CallerAndColumns:
        return await _authenticated(request, context, token, self._query)


CallerDep = Annotated[Caller, Depends(_authenticate)]


# Each checks the caller directly (no chain through `_current_user`): FastAPI resolves every
# level of a dependency chain on every request.
async def _current_user(caller: CallerDep) -> Account:
    return caller.account


async def _verified_user(caller: CallerDep) -> Account:
    if not caller.account.is_verified:
        raise AccountNotVerified("Verify your email address before making changes.")
    return caller.account


async def _admin_user(caller: CallerDep) -> Account:
    if caller.account.role != Role.ADMIN:
        raise Forbidden("Only administrators may do this.")
    return caller.account


async def _caller_record(caller: CallerDep, db: SessionDep) -> User:
    user = await db.get(User, caller.account.uid)
    if user is None:  # deleted since authentication read it
        raise InvalidToken("The token's account no longer exists.")
    return user


def hashing_turn(work: PasswordWork) -> Any:
    """For `dependencies=[...]` of a route that hashes a password, which FastAPI runs before
    the others: the request is admitted to the hashing threads or refused (503 naming `work`)
    before anything else runs for it, and waits its turn holding no database connection."""

    async def take_turn(context: ContextDep) -> AsyncIterator[None]:
        async with context.passwords.turn(work):
            yield

    return Depends(take_turn, scope="function")


def signed_in_hashing_turn(work: PasswordWork) -> Any:
    """`hashing_turn` for a signed-in caller's route: the token is checked first, so a request
    without a valid one never takes a place in the queue."""

    async def take_turn(caller: CallerDep, context: ContextDep) -> AsyncIterator[None]:
        async with context.passwords.turn(work):
            yield

    return Depends(take_turn, scope="function")


CurrentUser = Annotated[Account, Depends(_current_user)]
VerifiedUser = Annotated[Account, Depends(_verified_user)]
AdminUser = Annotated[Account, Depends(_admin_user)]
CallerRecord = Annotated[User, Depends(_caller_record)]
