"""Who is calling: `CurrentUser`, `VerifiedUser`, `AdminUser` and the session behind them."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlmodel import col

from bookly.auth.tokens import TokenType, read_token
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import (
    AccountDisabled,
    AccountNotVerified,
    Forbidden,
    InvalidToken,
    NotAuthenticated,
    TokenRevoked,
)
from bookly.models import AuthSession, Role, User

# The password flow lets the interactive docs' Authorize button sign in through /auth/token.
# auto_error=False: a missing header must become our own 401 problem document.
_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `/api/v1/auth/login` or `/api/v1/auth/token`.",
)


# One query loads the user through its session row: the token's session must still exist, belong
# to this user, and be live in the database too. Built once, as it runs on every request.
_USER_BY_SESSION = (
    select(User, col(AuthSession.revoked_at))
    .join(AuthSession, col(AuthSession.user_uid) == col(User.uid))
    .where(col(AuthSession.sid) == bindparam("sid"), col(User.uid) == bindparam("uid"))
)


@dataclass(frozen=True)
class Caller:
    user: User
    sid: uuid.UUID


async def _authenticate(
    request: Request,
    context: ContextDep,
    db: SessionDep,
    access_token: Annotated[str | None, Depends(_bearer)],
) -> Caller:
    if not access_token:
        raise NotAuthenticated("Send an access token as `Authorization: Bearer <token>`.")
    now = context.clock()
    claims = read_token(context.settings, access_token, TokenType.ACCESS, now)
    if context.denylist is not None:
        # The shared denylist answers first, so a Redis outage fails closed (503).
        await context.denylist.ensure_live(db, claims.sid, now)
    row = (await db.execute(_USER_BY_SESSION, {"sid": claims.sid, "uid": claims.user_uid})).first()
    if row is not None and row.revoked_at is not None:
        raise TokenRevoked("This session has been signed out.")
    user = row.User if row is not None else None
    if user is None:
        raise InvalidToken("The token's account no longer exists.")
    if not user.is_active:
        raise AccountDisabled("This account has been disabled.")
    request.state.user_uid = str(user.uid)  # for the access log
    return Caller(user=user, sid=claims.sid)


CallerDep = Annotated[Caller, Depends(_authenticate)]


# Each checks the caller directly (no chain through `_current_user`): FastAPI resolves every
# level of a dependency chain on every request.
async def _current_user(caller: CallerDep) -> User:
    return caller.user


async def _verified_user(caller: CallerDep) -> User:
    if not caller.user.is_verified:
        raise AccountNotVerified("Verify your email address before making changes.")
    return caller.user


async def _admin_user(caller: CallerDep) -> User:
    if caller.user.role != Role.ADMIN:
        raise Forbidden("Only administrators may do this.")
    return caller.user


CurrentUser = Annotated[User, Depends(_current_user)]
VerifiedUser = Annotated[User, Depends(_verified_user)]
AdminUser = Annotated[User, Depends(_admin_user)]
