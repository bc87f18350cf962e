"""Accounts and sessions: signup, login, refresh rotation with reuse detection, sign-out."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.email_links import queue_verification_email
from bookly.auth.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    SessionNotFound,
    TokenReused,
    TokenRevoked,
    UsernameTaken,
)
from bookly.auth.schemas import SessionOut, SignupIn, TokenPair
from bookly.auth.tokens import TokenType, issue_token, read_token
from bookly.core.conflicts import unique_rules
from bookly.core.context import AppContext
from bookly.core.db import autocommit
from bookly.core.errors import Conflict
from bookly.core.pagination import Keyset, Page, PageParams, count_if_asked, count_of
from bookly.core.reads import session_reader
from bookly.models import AuthSession, User


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str
    ip: str


def account_conflicts() -> dict[str, Conflict]:
    """The unique rules of an account (`core/conflicts.py`), for the writes that may break them."""
    return {
        "username": UsernameTaken("That username is taken."),
        "email": EmailTaken("An account with that email already exists."),
    }


async def signup(context: AppContext, db: AsyncSession, data: SignupIn, client_ip: str) -> User:
    email = data.email.lower()
    await context.limiter.hit_signup(client_ip, email)
    if await db.scalar(select(col(User.uid)).where(col(User.email) == email)):
        raise EmailTaken("An account with that email already exists.")
    if await db.scalar(
        select(col(User.uid)).where(func.lower(User.username) == data.username.lower())
    ):
        raise UsernameTaken("That username is taken.")
    now = context.clock()
    user = User(
        username=data.username,
        email=email,
        first_name=data.first_name,
        last_name=data.last_name,
        password_hash=await context.passwords.hash(data.password),
        created_at=now,
        updated_at=now,
    )
    db.add(user)
    # Queued in this transaction: the email exists if and only if the account does.
    queue_verification_email(context, db, user)
    async with unique_rules(account_conflicts()):
        await db.flush()
    return user


async def authenticate(
    context: AppContext, db: AsyncSession, email: str, password: str, client_ip: str
) -> User:
    """The account for these credentials. Unknown email and wrong password fail alike, in body
    and in time; a disabled account is only revealed to someone who knows its password.
    Failures are counted per account and per client IP; past the limit even a right password
    is refused (429) until the window ends."""
    async with context.limiter.login_attempt(client_ip, email):
        user = await db.scalar(select(User).where(col(User.email) == email.lower()))
        matches = await context.passwords.verify(password, user.password_hash if user else None)
        if user is None or not matches:
            raise InvalidCredentials("The email or password is wrong.")
    if not user.is_active:
        raise AccountDisabled("This account has been disabled.")
    return user


async def start_session(
    context: AppContext, db: AsyncSession, user: User, client: ClientInfo
) -> TokenPair:
    now = context.clock()
    session = AuthSession(
        user_uid=user.uid,
        refresh_jti=uuid.uuid4(),
        created_at=now,
        last_used_at=now,
        user_agent=client.user_agent[:255],
        ip=client.ip[:64],
    )
    db.add(session)
    return _token_pair(context, user, session.sid, session.refresh_jti, now)


async def refresh(context: AppContext, db: AsyncSession, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is spent, a new pair is issued. A spent token
    presented again means it was stolen or replayed: the whole session is revoked."""
    now = context.clock()
    claims = read_token(context.settings, refresh_token, TokenType.REFRESH, now)
    new_jti = uuid.uuid4()
    # One atomic compare-and-swap: of two concurrent uses of one token, exactly one wins.
    rotated = await db.scalar(
        update(AuthSession)
        .where(
            col(AuthSession.sid) == claims.sid,
            col(AuthSession.refresh_jti) == claims.jti,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(refresh_jti=new_jti, last_used_at=now)
        .returning(col(AuthSession.user_uid))
    )
    if rotated is None:
        session = await db.get(AuthSession, claims.sid)
        if session is None:
            raise InvalidToken("This session no longer exists.")
        if session.revoked_at is not None:
            raise TokenRevoked("This session has been signed out.")
        await revoke_sessions(context, db, col(AuthSession.sid) == claims.sid)
        raise TokenReused("This refresh token was already used; the session has been revoked.")
    user = await db.get(User, rotated)
    if user is None or not user.is_active:
        raise InvalidToken("The token's account is not available.")
    return _token_pair(context, user, claims.sid, new_jti, now)


# A browser session's last use is written at most this often: a page costs no write, and
# "last used" in a list of sessions is still right to the minute.
SESSION_TOUCH_SECONDS = 60
_TOUCH_SESSION = (
    update(AuthSession)
    .where(
        col(AuthSession.sid) == bindparam("touched_sid"),
        col(AuthSession.revoked_at).is_(None),
        # Of a session's requests in one minute, one writes; the others change no row.
        col(AuthSession.last_used_at) <= bindparam("stale_before"),
    )
    .values(last_used_at=bindparam("now"))
)


async def touch_session(context: AppContext, sid: uuid.UUID, last_used_at: datetime) -> bool:
    """Record a use of the session unless one was recorded in the last SESSION_TOUCH_SECONDS
    (`last_used_at`: as its caller read it); whether this use was recorded. Outside the
    request's transaction, on an autocommit connection of the sessions' pool."""
    now = context.clock()
    stale_before = now - timedelta(seconds=SESSION_TOUCH_SECONDS)
    if last_used_at > stale_before:
        return False
    values = {"touched_sid": sid, "stale_before": stale_before, "now": now}
    async with context.pool_turns.turn(), autocommit(context.engine).connect() as connection:
        touched = await connection.execute(_TOUCH_SESSION, values)
    return bool(touched.rowcount)


async def revoke_sessions(
    context: AppContext, db: AsyncSession, *which: ColumnElement[bool]
) -> list[uuid.UUID]:
    """Revoke the live sessions matching `which`, in the database and (before the commit, so an
    outage fails the request) in the Redis denylist."""
    revoked = list(
        (
            await db.scalars(
                update(AuthSession)
                .where(col(AuthSession.revoked_at).is_(None), *which)
                .values(revoked_at=context.clock())
                .returning(col(AuthSession.sid))
            )
        ).all()
    )
    if context.denylist is not None:
        await context.denylist.publish(revoked)
    return revoked


def of_user(
    user_uid: uuid.UUID, *, except_sid: uuid.UUID | None = None
) -> list[ColumnElement[bool]]:
    """Conditions selecting a user's sessions, optionally sparing one (the caller's own)."""
    conditions = [col(AuthSession.user_uid) == user_uid]
    if except_sid is not None:
        conditions.append(col(AuthSession.sid) != except_sid)
    return conditions


async def revoke_session_of(
    context: AppContext, db: AsyncSession, user_uid: uuid.UUID, sid: uuid.UUID
) -> None:
    revoked = await revoke_sessions(context, db, *of_user(user_uid), col(AuthSession.sid) == sid)
    if not revoked:
        raise SessionNotFound("You have no live session with that id.")


_NEWEST_SESSIONS = Keyset.newest_first(AuthSession, key="sid")


async def live_sessions(
    context: AppContext,
    db: AsyncSession,
    page: PageParams,
    user_uid: uuid.UUID,
    current_sid: uuid.UUID,
) -> Page[SessionOut]:
    """The user's live sessions, newest first, a page at a time like every list (api.md §7)."""
    conditions = [col(AuthSession.user_uid) == user_uid, col(AuthSession.revoked_at).is_(None)]
    statement = _NEWEST_SESSIONS.template(
        select(AuthSession).where(*conditions), after_cursor=page.after_cursor
    )
    found = await db.scalars(statement, _NEWEST_SESSIONS.parameters(page, context.cursors))
    rows, next_cursor = _NEWEST_SESSIONS.cut(
        list(found), page, context.cursors, lambda row: (row.created_at, row.sid)
    )
    items = [
        SessionOut(
            sid=row.sid,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            user_agent=row.user_agent,
            ip=row.ip,
            current=row.sid == current_sid,
        )
        for row in rows
    ]
    total = await count_if_asked(await session_reader(db), page, count_of(AuthSession, conditions))
    return Page(items=items, next_cursor=next_cursor, total=total)


async def change_password(
    context: AppContext,
    db: AsyncSession,
    user: User,
    current_sid: uuid.UUID,
    current_password: str,
    new_password: str,
) -> None:
    if not await context.passwords.verify(current_password, user.password_hash):
        raise InvalidCredentials("The current password is wrong.")
    user.password_hash = await context.passwords.hash(new_password)
    user.updated_at = context.clock()
    db.add(user)
    await revoke_sessions(context, db, *of_user(user.uid, except_sid=current_sid))


def _token_pair(
    context: AppContext, user: User, sid: uuid.UUID, refresh_jti: uuid.UUID, now: datetime
) -> TokenPair:
    settings = context.settings
    common: dict[str, Any] = {"user_uid": user.uid, "sid": sid, "role": user.role, "now": now}
    return TokenPair(
        access_token=issue_token(settings, TokenType.ACCESS, **common),
        refresh_token=issue_token(settings, TokenType.REFRESH, jti=refresh_jti, **common),
        expires_in=settings.access_token_ttl_seconds,
    )
