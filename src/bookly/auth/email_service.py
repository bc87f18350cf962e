"""What the email links do: verify an address, send a fresh link, reset a forgotten password."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.email_links import (
    LinkPurpose,
    password_binding,
    queue_reset_email,
    queue_verification_email,
    read_link,
)
from bookly.auth.errors import InvalidLink
from bookly.auth.service import of_user, revoke_sessions
from bookly.core.context import AppContext
from bookly.models import User

_SPENT_VERIFICATION = "This link has already been used, or a newer one has been sent."
_SPENT_RESET = "This link has already been used, or the password was changed since it was sent."


async def verify_email(context: AppContext, db: AsyncSession, token: str) -> None:
    now = context.clock()
    claims = read_link(context.settings, LinkPurpose.VERIFY_EMAIL, token, now)
    # Consuming the nonce in one UPDATE: of two uses of one link, exactly one matches.
    verified = await db.scalar(
        update(User)
        .where(
            col(User.uid) == claims.user_uid,
            col(User.email_verification_nonce) == claims.binding,
        )
        .values(is_verified=True, email_verification_nonce=None, updated_at=now)
        .returning(col(User.uid))
    )
    if verified is None:
        raise InvalidLink(_SPENT_VERIFICATION)


async def resend_verification(
    context: AppContext, db: AsyncSession, user: User, client_ip: str
) -> bool:
    """Queue a fresh verification link (older ones die); False when already verified."""
    await context.limiter.hit_email(client_ip, user.email)
    if user.is_verified:
        return False
    queue_verification_email(context, db, user)
    return True


async def resend_verification_to(
    context: AppContext, db: AsyncSession, email: str, client_ip: str
) -> None:
    """Queue a fresh verification link when an active, unverified account has this email (the
    link page's "send me a new one", for someone who is not signed in). Like a reset request, the
    caller answers the same either way, and the limit counts whether or not the account exists."""
    await context.limiter.hit_email(client_ip, email)
    user = await db.scalar(select(User).where(col(User.email) == email.lower()))
    if user is not None and user.is_active and not user.is_verified:
        queue_verification_email(context, db, user)


async def request_password_reset(
    context: AppContext, db: AsyncSession, email: str, client_ip: str
) -> None:
    """Queue a reset link when an active account has this email. The caller answers the same
    either way, and nothing here talks to a mail server. Limited per client and per address
    whether or not the account exists, so the limit tells nothing either."""
    await context.limiter.hit_email(client_ip, email)
    user = await db.scalar(select(User).where(col(User.email) == email.lower()))
    if user is not None and user.is_active:
        queue_reset_email(context, db, user)


async def check_reset_link(context: AppContext, db: AsyncSession, token: str) -> User:
    """The account a reset link is for, while the link is still good (it is not consumed)."""
    claims = read_link(context.settings, LinkPurpose.RESET_PASSWORD, token, context.clock())
    user = await db.get(User, claims.user_uid)
    if user is None or not user.is_active:
        raise InvalidLink("This link is for an account that is no longer available.")
    if password_binding(user.password_hash) != claims.binding:
        raise InvalidLink(_SPENT_RESET)
    return user


async def reset_password(
    context: AppContext, db: AsyncSession, token: str, new_password: str
) -> None:
    """Set the new password and sign the account out everywhere. The link is bound to the
    password hash it was issued for; swapping that hash in one UPDATE consumes the link, so of
    concurrent uses exactly one wins."""
    user = await check_reset_link(context, db, token)
    bound_hash = user.password_hash
    new_hash = await context.passwords.hash(new_password)
    changed = await db.scalar(
        update(User)
        .where(col(User.uid) == user.uid, col(User.password_hash) == bound_hash)
        .values(password_hash=new_hash, updated_at=context.clock())
        .returning(col(User.uid))
    )
    if changed is None:
        raise InvalidLink(_SPENT_RESET)
    await revoke_sessions(context, db, *of_user(user.uid))
