"""What the application owns for its lifetime, built once by the lifespan and shared by requests."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bookly.core.config import Settings
from bookly.core.db import PoolTurns, utcnow
from bookly.core.pagination import CursorCodec
from bookly.core.passwords import PasswordHasher
from bookly.core.ratelimit import Limiter
from bookly.core.reads import Reader
from bookly.core.replica import Replica

Clock = Callable[[], datetime]


class SessionDenylist(Protocol):
    """The shared list of revoked sessions that every authenticated request consults.

    Core only carries it; auth implements it (`auth/revocation.py`) and is its only user, so core
    names what the slot holds without knowing the domain behind it.
    """

    async def ensure_live(self, reader: Reader, sid: uuid.UUID, now: datetime) -> None: ...

    async def publish(self, sids: Iterable[uuid.UUID]) -> None: ...


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # The hot reads (core/reads.py), outside any session.
    reader: Reader
    redis: Redis | None
    passwords: PasswordHasher
    cursors: CursorCodec
    # Present when Redis is configured; otherwise revocation is read from the database.
    denylist: SessionDenylist | None
    limiter: Limiter
    pool_turns: PoolTurns
    # DATABASE_REPLICA_URL's sessions, hot reads and freshness (the reader routes to it too).
    replica: Replica | None = None
    # Tests replace the clock to move through token and link lifetimes.
    clock: Clock = field(default=utcnow)


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def _context(request: Request) -> AppContext:
    return app_context(request)


ContextDep = Annotated[AppContext, Depends(_context)]
