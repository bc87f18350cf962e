"""The Redis client: short timeouts and no silent retries, so an outage is seen at once."""

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bookly.core.config import Settings


def create_redis(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        retry=Retry(NoBackoff(), retries=0),
        health_check_interval=0,
        decode_responses=True,
    )
