"""Access and refresh JWTs: issued with every claim the contract names, checked strictly."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from bookly.auth.errors import InvalidToken
from bookly.core.config import Settings


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    user_uid: uuid.UUID
    sid: uuid.UUID
    jti: uuid.UUID
    role: str
    expires_at: datetime


_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "sid"]
# Clocks of the processes that issue and check tokens may differ by this much; a token issued
# further in the future was not issued by us at any honest time (a forged or replayed clock).
MAX_CLOCK_SKEW_SECONDS = 60


def issue_token(
    settings: Settings,
    typ: TokenType,
    *,
    user_uid: uuid.UUID,
    sid: uuid.UUID,
    role: str,
    now: datetime,
    jti: uuid.UUID | None = None,
) -> str:
    lifetime = (
        settings.access_token_ttl_seconds
        if typ is TokenType.ACCESS
        else settings.refresh_token_ttl_seconds
    )
    claims: dict[str, Any] = {
        "sub": str(user_uid),
        "sid": str(sid),
        "jti": str(jti or uuid.uuid4()),
        "typ": typ.value,
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


def read_token(settings: Settings, token: str, expected: TokenType, now: datetime) -> TokenClaims:
    """Verify signature, algorithm, required claims, type and expiry (against `now`, so tests can
    move the clock). Header fields such as `kid`/`jku`/`jwk` are ignored: the key is ours alone."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
        if claims["typ"] != expected.value:
            raise InvalidToken(f"A {claims['typ']!s:.20} token cannot be used here.")
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        if expires_at <= now:
            raise InvalidToken("The token has expired.")
        if int(claims["iat"]) > now.timestamp() + MAX_CLOCK_SKEW_SECONDS:
            raise InvalidToken("The token was issued in the future.")
        return TokenClaims(
            user_uid=uuid.UUID(str(claims["sub"])),
            sid=uuid.UUID(str(claims["sid"])),
            jti=uuid.UUID(str(claims["jti"])),
            role=str(claims.get("role", "")),
            expires_at=expires_at,
        )
    except InvalidToken:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as error:
        raise InvalidToken("The token is malformed or its signature is wrong.") from error
