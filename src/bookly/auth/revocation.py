"""The Redis denylist of revoked sessions, a cache of the `sessions` table.

Every authenticated request asks Redis one question (`MGET`): is the denylist loaded, and is this
session on it. Redis may lose everything (a restart, `FLUSHALL`); the missing "loaded" marker then
makes the next request rebuild the list from the database, so a revoked token never comes back.
A revoked session can only hold access tokens issued before it was revoked, so entries need to
live no longer than an access token.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select
from sqlmodel import col

from bookly.auth.errors import TokenRevoked
from bookly.core.errors import ServiceUnavailable
from bookly.core.reads import Prepared, Reader
from bookly.models import AuthSession

_REVOKED_SINCE = Prepared(
    select(col(AuthSession.sid)).where(col(AuthSession.revoked_at) >= bindparam("since")),
    on_primary=True,
)
_LOADED_KEY = "bookly:denylist:loaded"
_ENTRY_PREFIX = "bookly:denylist:sid:"
# Entries outlive the access tokens they block by this margin (clock skew between processes).
_MARGIN_SECONDS = 60


def _entry_key(sid: uuid.UUID) -> str:
    return f"{_ENTRY_PREFIX}{sid}"


class Denylist:
    def __init__(self, redis: Redis, access_token_ttl_seconds: int):
        self._redis = redis
        self._ttl = access_token_ttl_seconds + _MARGIN_SECONDS

    async def ensure_live(self, reader: Reader, sid: uuid.UUID, now: datetime) -> None:
        """Raise `TokenRevoked` for a revoked session, `ServiceUnavailable` if Redis can't say."""
        try:
            loaded, entry = await self._redis.mget(_LOADED_KEY, _entry_key(sid))
            revoked = entry is not None if loaded else await self._rebuild(reader, sid, now)
        except RedisError as error:
            raise ServiceUnavailable("Session checks are unavailable; retry shortly.") from error
        if revoked:
            raise TokenRevoked("This session has been signed out.")

    async def publish(self, sids: Iterable[uuid.UUID]) -> None:
        """Deny `sids` at once, everywhere. Called before the revoking transaction commits, so an
        unreachable Redis fails the request rather than leave the tokens working."""
        keys = [_entry_key(sid) for sid in sids]
        if not keys:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, "1", ex=self._ttl)
                await pipe.execute()
        except RedisError as error:
            raise ServiceUnavailable("Sign-out is unavailable; retry shortly.") from error

    async def _rebuild(self, reader: Reader, asked_sid: uuid.UUID, now: datetime) -> bool:
        since = now - timedelta(seconds=self._ttl)
        revoked_sids = {sid for (sid,) in await reader.rows(_REVOKED_SINCE, {"since": since})}
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in revoked_sids:
                pipe.set(_entry_key(sid), "1", ex=self._ttl)
            pipe.set(_LOADED_KEY, "1")
            await pipe.execute()
        return asked_sid in revoked_sids
