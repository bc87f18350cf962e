"""What the application owns for its lifetime, built once by the lifespan and shared by requests."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bookly.auth.revocation import Denylist
from bookly.core.config import Settings
from bookly.core.db import PoolTurns, utcnow
from bookly.core.pagination import CursorCodec
from bookly.core.passwords import PasswordHasher
from bookly.core.ratelimit import Limiter
from bookly.core.reads import Reader

Clock = Callable[[], datetime]


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
    denylist: Denylist | None
    limiter: Limiter
    pool_turns: PoolTurns
    # Tests replace the clock to move through token and link lifetimes.
    clock: Clock = field(default=utcnow)


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def _context(request: Request) -> AppContext:
    return app_context(request)


ContextDep = Annotated[AppContext, Depends(_context)]
