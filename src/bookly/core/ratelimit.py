"""Rate limits (the `limits` library): login failures, signups, and email-sending requests.

Counters live in Redis when it is configured — shared by every API process, through the app's own
Redis connection pool (short timeouts, no retries) — and in process memory otherwise.
Every limit is a fixed window in the `limits` notation (`5/15minutes`), one setting each.

Login counts failures only, yet must stay exact under a burst of concurrent guesses: each attempt
first *reserves* a failure (an atomic increment that also answers "still under the limit?"), and a
correct password gives the reservation back. So a burst can never test more than N passwords, and
a locked account refuses even the right one until its window ends.

When Redis does not answer, limited routes fail closed with 503 `service_unavailable`: an outage
must not switch brute-force protection off.
"""

import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis

from bookly.core.config import Settings
from bookly.core.errors import RateLimited, ServiceUnavailable, Unauthorized

_KEY_PREFIX = "bookly:limits"


def create_storage(settings: Settings, redis: Redis | None) -> Storage:
    """Redis storage over the app's connection pool when Redis is configured, else memory."""
    if settings.redis_url is None or redis is None:
        return MemoryStorage()
    options: dict[str, Any] = {
        "implementation": "redispy",
        "key_prefix": _KEY_PREFIX,
        "wrap_exceptions": True,
        "connection_pool": redis.connection_pool,
    }
    return RedisStorage(f"async+{settings.redis_url}", **options)


class Limiter:
    """The application's limits, named after what they protect."""

    def __init__(self, settings: Settings, storage: Storage):
        self.storage = storage
        self._strategy = FixedWindowRateLimiter(storage)
        self.login_account = parse(settings.rate_limit_login_account)
        self.login_ip = parse(settings.rate_limit_login_ip)
        self.signup_ip = parse(settings.rate_limit_signup_ip)
        self.email_target = parse(settings.rate_limit_email_target)
        self.email_ip = parse(settings.rate_limit_email_ip)

    @asynccontextmanager
    async def login_attempt(self, ip: str, email: str) -> AsyncIterator[None]:
        """Wrap a credential check: refused (429) while the account or the IP is locked; the
        attempt counts as a failure only if the block refuses the credentials (`Unauthorized`)."""
        reserved: list[tuple[RateLimitItem, str]] = []
        try:
            for item, identifier in ((self.login_ip, ip), (self.login_account, email.lower())):
                reserved.append((item, identifier))
                if not await self._strategy.hit(item, "login", identifier):
                    raise await self._refusal(item, "login", identifier)
            yield
        except Unauthorized:
            raise  # a real failure: the reservations stay counted
        except StorageError as error:
            raise _unavailable() from error
        except BaseException:
            await self._give_back(reserved, "login")
            raise
        else:
            await self._give_back(reserved, "login")

    async def hit_signup(self, ip: str, email: str) -> None:
        """Count a signup attempt against the client IP and the address it would email."""
        await self._hit_all((self.signup_ip, "signup", ip), (self.email_target, "email", email))

    async def hit_email(self, ip: str, email: str) -> None:
        """Count a request that sends email (password reset, verification resend) against the
        client IP and the target address; 429 once either is spent."""
        await self._hit_all((self.email_ip, "email-ip", ip), (self.email_target, "email", email))

    async def _hit_all(self, *limits: tuple[RateLimitItem, str, str]) -> None:
        try:
            for item, scope, identifier in limits:
                if not await self._strategy.hit(item, scope, identifier.lower()):
                    raise await self._refusal(item, scope, identifier.lower())
        except StorageError as error:
            raise _unavailable() from error

    async def _give_back(self, reserved: list[tuple[RateLimitItem, str]], scope: str) -> None:
        try:
            for item, identifier in reserved:
                await self.storage.incr(item.key_for(scope, identifier), item.get_expiry(), -1)
        except StorageError as error:
            raise _unavailable() from error

    async def _refusal(self, item: RateLimitItem, scope: str, identifier: str) -> RateLimited:
        stats = await self._strategy.get_window_stats(item, scope, identifier)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return RateLimited(retry_after, f"Too many attempts; retry in {retry_after} seconds.")


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("Rate limiting is unavailable; retry shortly.", retry_after_seconds=5)
