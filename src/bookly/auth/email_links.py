"""The links in emails: signed (itsdangerous, one salt per purpose), expiring, and bound to a
little account state so each works once.

A verification link carries the account's current verification nonce: a resend replaces the
nonce and verifying clears it, so older and used links die. A reset link carries a digest of
the current password hash: once the password changes (by this link or otherwise), it dies.
The issue time is signed into the link and checked against the app's clock.
"""

import hashlib
import secrets
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from bookly.auth.errors import InvalidLink
from bookly.auth.tokens import MAX_CLOCK_SKEW_SECONDS
from bookly.core.config import Settings
from bookly.core.context import AppContext
from bookly.mail.messages import MailTemplate
from bookly.mail.outbox import enqueue
from bookly.models import User

MAX_TOKEN_LENGTH = 1024


class LinkPurpose(StrEnum):
    """Each purpose is also the path of the browser page the link opens."""

    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 (a link purpose, not a secret)


@dataclass(frozen=True)
class LinkClaims:
    user_uid: uuid.UUID
    binding: str


def _serializer(settings: Settings, purpose: LinkPurpose) -> URLSafeSerializer:
    return URLSafeSerializer(
        settings.jwt_secret.get_secret_value(), salt=f"bookly.email-link.{purpose}"
    )


def _lifetime_seconds(settings: Settings, purpose: LinkPurpose) -> int:
    if purpose is LinkPurpose.VERIFY_EMAIL:
        return settings.verification_link_ttl_seconds
    return settings.reset_link_ttl_seconds


def issue_link(
    settings: Settings, purpose: LinkPurpose, user_uid: uuid.UUID, binding: str, now: datetime
) -> str:
    """The page URL with a signed token, always on PUBLIC_BASE_URL."""
    token = _serializer(settings, purpose).dumps(
        {"sub": user_uid.hex, "bind": binding, "iat": int(now.timestamp())}
    )
    return f"{settings.public_base_url}/{purpose}?{urlencode({'token': token})}"


def read_link(settings: Settings, purpose: LinkPurpose, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired link for `purpose`; else 400 `invalid_link`."""
    not_valid = InvalidLink("This link is not valid. Check that you copied it completely.")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise not_valid
    try:
        claims = _serializer(settings, purpose).loads(token)
        user_uid = uuid.UUID(hex=claims["sub"])
        binding, issued_at = claims["bind"], claims["iat"]
    except (BadData, KeyError, TypeError, ValueError) as error:
        raise not_valid from error
    if not isinstance(binding, str) or not isinstance(issued_at, int):
        raise not_valid
    age = now.timestamp() - issued_at
    if age > _lifetime_seconds(settings, purpose):
        raise InvalidLink("This link has expired. Ask for a new one.")
    if age < -MAX_CLOCK_SKEW_SECONDS:  # signed with our key, yet dated ahead of every clock
        raise not_valid
    return LinkClaims(user_uid=user_uid, binding=binding)


def password_binding(password_hash: str) -> str:
    """A digest of the password hash: it changes with the password and reveals nothing of it."""
    digest = hashlib.sha256(password_hash.encode()).digest()[:18]
    return urlsafe_b64encode(digest).decode()


def _valid_for(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def queue_verification_email(context: AppContext, db: AsyncSession, user: User) -> None:
    """Give the account a fresh verification nonce (older links die) and queue its link."""
    settings = context.settings
    user.email_verification_nonce = secrets.token_urlsafe(16)
    db.add(user)
    link = issue_link(
        settings,
        LinkPurpose.VERIFY_EMAIL,
        user.uid,
        user.email_verification_nonce,
        context.clock(),
    )
    enqueue(
        context,
        db,
        MailTemplate.VERIFY_EMAIL,
        user.email,
        {
            "first_name": user.first_name,
            "link": link,
            "valid_for": _valid_for(settings.verification_link_ttl_seconds),
        },
    )


def queue_reset_email(context: AppContext, db: AsyncSession, user: User) -> None:
    settings = context.settings
    link = issue_link(
        settings,
        LinkPurpose.RESET_PASSWORD,
        user.uid,
        password_binding(user.password_hash),
        context.clock(),
    )
    enqueue(
        context,
        db,
        MailTemplate.RESET_PASSWORD,
        user.email,
        {
            "first_name": user.first_name,
            "link": link,
            "valid_for": _valid_for(settings.reset_link_ttl_seconds),
        },
    )
