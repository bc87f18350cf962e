"""The raw baseline: what plain Python does for each benchmark scenario, and no more.

Starlette routing, asyncpg, redis.asyncio and orjson in one process, answering each scenario
with the same JSON as Bookly from equivalent SQL. It is the yardstick for `bench/run.py`, not a
second implementation: only the success path is served; anything else is a bare 4xx/5xx.

Settings come from the environment, as Bookly's do: DATABASE_URL, REDIS_URL, JWT_SECRET,
JWT_ALGORITHM (HS256), DB_POOL_SIZE (10).
"""

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
import orjson
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = os.environ["JWT_SECRET"]
ALGORITHM = os.environ.get("JWT_ALGORITHM", "HS256")
# Bookly's denylist keys (src/bookly/auth/revocation.py).
DENYLIST_LOADED = "bookly:denylist:loaded"
DENYLIST_ENTRY = "bookly:denylist:sid:"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "sid"]


class State:
    pool: asyncpg.Pool
    redis: Redis


state = State()


def json(data: Any, status: int = 200) -> Response:
    # `default=str` writes asyncpg's own UUID type, which orjson doesn't know, in canonical form.
    body = orjson.dumps(data, default=str, option=orjson.OPT_UTC_Z)
    return Response(body, status, media_type="application/json")


def fail(status: int) -> Response:
    return Response(status_code=status)


class Unauthorized(Exception):
    pass


async def caller_row(request: Request, sql: str) -> asyncpg.Record:
    """Bookly's authentication: JWT, one Redis MGET for the denylist, one SQL query for the user
    through its session row (`sql` takes $1 = sid, $2 = user uid)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized
    try:
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
        if claims["typ"] != "access" or int(claims["exp"]) <= time.time():
            raise Unauthorized
        sid, user_uid = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise Unauthorized from error
    loaded, entry = await state.redis.mget(DENYLIST_LOADED, f"{DENYLIST_ENTRY}{sid}")
    if not loaded or entry is not None:
        raise Unauthorized
    row = await state.pool.fetchrow(sql, sid, user_uid)
    if row is None or row["revoked_at"] is not None or not row["is_active"]:
        raise Unauthorized
    return row


# S4 -------------------------------------------------------------------------------------------

ME_SQL = """
SELECT u.uid, u.username, u.email, u.first_name, u.last_name, u.role, u.is_verified,
       u.is_active, u.created_at, u.updated_at, s.revoked_at
FROM users u JOIN sessions s ON s.user_uid = u.uid
WHERE s.sid = $1 AND u.uid = $2
"""

USER_FIELDS = (
    "uid",
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "is_verified",
    "is_active",
    "created_at",
    "updated_at",
)


async def me(request: Request) -> Response:
    try:
        row = await caller_row(request, ME_SQL)
    except Unauthorized:
        return fail(401)
    body = {name: row[name] for name in USER_FIELDS}
    body["book_count"] = 0
    body["review_count"] = 0
    return json(body)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    database_url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    size = int(os.environ.get("DB_POOL_SIZE", "10"))
    state.pool = await asyncpg.create_pool(database_url, min_size=size, max_size=size)
    state.redis = Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    try:
        yield
    finally:
        await state.redis.aclose()
        await state.pool.close()


app = Starlette(
    routes=[Route("/api/v1/users/me", me)],
    lifespan=lifespan,
)
