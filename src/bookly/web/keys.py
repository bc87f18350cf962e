"""The site's signed values and cookie names: the session reference and the CSRF tokens.

Both are signed with the application's secret (`JWT_SECRET`), each under a salt of its own, so
neither can be passed off as the other, nor as a cursor or an email link (other salts).
"""

from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from bookly.core.config import Settings


@dataclass(frozen=True)
class WebKeys:
    session: URLSafeTimedSerializer
    csrf: URLSafeSerializer
    # Outside development cookies are `Secure`, and their names carry the `__Host-` prefix: the
    # browser then refuses them unless Secure, host-only and on Path=/.
    secure: bool
    session_max_age: int
    session_cookie: str
    csrf_cookie: str


def web_keys(settings: Settings) -> WebKeys:
    return _keys(
        settings.jwt_secret.get_secret_value(),
        settings.environment != "development",
        settings.refresh_token_ttl_seconds,
    )


@lru_cache(maxsize=4)
def _keys(secret: str, secure: bool, session_max_age: int) -> WebKeys:
    prefix = "__Host-" if secure else ""
    return WebKeys(
        session=URLSafeTimedSerializer(secret, salt="bookly.web.session"),
        csrf=URLSafeSerializer(secret, salt="bookly.web.csrf"),
        secure=secure,
        # A browser session lasts as long as an API session's refresh token.
        session_max_age=session_max_age,
        session_cookie=f"{prefix}bookly_session",
        csrf_cookie=f"{prefix}bookly_csrf",
    )
