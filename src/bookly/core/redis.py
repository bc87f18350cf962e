"""The Redis client: short timeouts and no silent retries, so an outage is seen at once.

The one retry allowed is an immediate reconnect after a connection error: a pooled socket
that died with a Redis restart is replaced instead of failing a request. Timeouts (a frozen or
overloaded Redis) are never retried.
"""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

from bookly.core.config import Settings


def create_redis(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(ConnectionError,)),
        health_check_interval=0,
        decode_responses=True,
    )
