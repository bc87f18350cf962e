"""The raw baseline: what plain Python does for each benchmark scenario, and no more.

Starlette routing, asyncpg, redis.asyncio and orjson in one process, answering each scenario
with the same JSON as Bookly from equivalent SQL (S3 from Bookly's own search SQL: see there). It
is the yardstick for `bench/run.py`, not a second implementation: only the success path is
served; anything else is a bare 4xx/5xx.

Settings come from the environment, as Bookly's do: DATABASE_URL, REDIS_URL, JWT_SECRET,
JWT_ALGORITHM (HS256), DB_POOL_SIZE (10), LOG_LEVEL (INFO: an access line per request on stderr,
with the fields of Bookly's; WARNING or above: none).
"""

import hashlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import orjson
from itsdangerous import BadSignature, URLSafeSerializer
from redis.asyncio import Redis
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookly.books import listing, search
from bookly.core.config import Settings
from bookly.core.reads import Prepared

SECRET = os.environ["JWT_SECRET"]
ALGORITHM = os.environ.get("JWT_ALGORITHM", "HS256")
# Bookly's denylist keys (src/bookly/auth/revocation.py).
DENYLIST_LOADED = "bookly:denylist:loaded"
DENYLIST_ENTRY = "bookly:denylist:sid:"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "sid"]
ACCESS_LOG = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO").upper()) <= logging.INFO


class State:
    pool: asyncpg.Pool
    redis: Redis
    cursors: URLSafeSerializer


state = State()


def json(data: Any, status: int = 200) -> Response:
    # `default=str` writes asyncpg's own UUID type, which orjson doesn't know, in canonical form.
    body = orjson.dumps(data, default=str, option=orjson.OPT_UTC_Z)
    return Response(body, status, media_type="application/json")


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    request.state.user_uid = user_uid
    return row


# S4 -------------------------------------------------------------------------------------------

ME_SQL = """
SELECT u.uid, u.username, u.email, u.first_name, u.last_name, u.role, u.is_verified,
       u.is_active, u.created_at, u.updated_at, s.revoked_at,
       (SELECT count(*) FROM books WHERE owner_uid = u.uid) AS book_count,
       (SELECT count(*) FROM reviews WHERE user_uid = u.uid) AS review_count
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
    return json({name: row[name] for name in (*USER_FIELDS, "book_count", "review_count")})


# S1, S2, S3, S6: the book object in one statement (owner joined, tags aggregated) ---------------

BOOK_COLUMNS = """
b.uid, b.title, b.author, b.publisher, b.published_date, b.page_count, b.language, b.isbn,
b.description, b.rating_sum, b.rating_count, b.created_at, b.updated_at,
o.uid AS owner_uid, o.username AS owner_username,
coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM book_tags bt
          JOIN tags t ON t.uid = bt.tag_uid WHERE bt.book_uid = b.uid), ARRAY[]::varchar[]) AS tags
"""
BOOK_SQL = (
    f"SELECT {BOOK_COLUMNS} FROM books b LEFT JOIN users o ON o.uid = b.owner_uid WHERE b.uid = $1"
)
# Keyset pages: the page's keys first (on the index), then its book objects; separate
# statements with and without a cursor, so each plans on its index.
PAGE_SQL = f"""
SELECT {BOOK_COLUMNS}, page.sort_key
FROM ({{page}}) AS page JOIN books b ON b.uid = page.uid LEFT JOIN users o ON o.uid = b.owner_uid
ORDER BY page.sort_key DESC, b.uid DESC
"""
NEWEST_KEYS = """
SELECT b.uid, b.created_at AS sort_key FROM books b {after}
ORDER BY b.created_at DESC, b.uid DESC LIMIT $1
"""
NEWEST_FIRST_SQL = PAGE_SQL.format(page=NEWEST_KEYS.format(after=""))
NEWEST_AFTER_SQL = PAGE_SQL.format(
    page=NEWEST_KEYS.format(after="WHERE (b.created_at, b.uid) < ($2, $3)")
)


# S3: search runs Bookly's own statements, not copies. Its SQL (the vocabulary read, then a
# page ranked in tiers) and the values it is run with (each word's forms and misspellings as
# tsquery texts) are made by Bookly's search code from its vocabulary: a hand-written copy would
# drift from every change to the ranking (as `ts_rank` did, issue 19), and rewriting the words'
# expansion would be a second implementation to keep right. So the statements are compiled to
# asyncpg's SQL once, here, and each request pays only what a hand-written app would: the words'
# expansion (plain Python, books/search.py `expand`, `query_values`, which any app searching the
# same way must do) and asyncpg. No SQLAlchemy or pydantic runs per request.
class Compiled:
    """A Bookly statement as asyncpg's SQL, with its constants bound once: `arguments` only puts
    a request's values in their places."""

    def __init__(self, query: Prepared):
        compiled = query.statement.compile(dialect=asyncpg_dialect())
        self.sql = compiled.string
        self.planned_per_values = query.planned_per_values
        self._constants: list[Any] = []
        self._slots: list[tuple[int, str]] = []  # (position, name of a request's value)
        for position, name in enumerate(compiled.positiontup or ()):  # asyncpg: $1, $2…
            bind = compiled.binds[name]
            self._constants.append(None if bind.required else bind.effective_value)
            if bind.required:
                self._slots.append((position, name))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = self._constants.copy()
        for position, name in self._slots:
            arguments[position] = values[name]
        return arguments


class SearchReader:
    """books/search.py's `Reader`, on the baseline's pool and the statements compiled here; a
    statement planned per values is prepared for its one run, as Bookly's reader does."""

    def __init__(self, queries: Iterable[Prepared]):
        self._compiled = {query: Compiled(query) for query in queries}

    async def rows(self, query: Prepared, parameters: Mapping[str, Any]) -> list[asyncpg.Record]:
        compiled = self._compiled[query]
        arguments = compiled.arguments(parameters)
        async with state.pool.acquire() as connection:
            if compiled.planned_per_values:
                statement = await connection.prepare(compiled.sql)
                return await statement.fetch(*arguments)
            return await connection.fetch(compiled.sql, *arguments)

    async def close(self) -> None:
        pass


SEARCH_PAGES = {
    (terms, after): listing.plain_search_page(
        on_postgresql=True, search_terms=terms, after_cursor=after
    )
    for terms in range(1, search.MAX_SEARCH_TERMS + 1)
    for after in (False, True)
}
SEARCH = SearchReader([search.vocabulary_read(on_postgresql=True), *SEARCH_PAGES.values()])
SEARCH_RANK_WINDOW = Settings.model_fields["search_rank_window"].default
BOOK_FIELDS = (
    "uid",
    "title",
    "author",
    "publisher",
    "published_date",
    "page_count",
    "language",
    "isbn",
    "description",
)


def book_body(row: asyncpg.Record, tags: list[str]) -> dict[str, Any]:
    body = {name: row[name] for name in BOOK_FIELDS}
    owner = row["owner_uid"]
    body["owner"] = {"uid": owner, "username": row["owner_username"]} if owner else None
    body["tags"] = tags
    count = row["rating_count"]
    body["rating"] = {"average": row["rating_sum"] / count if count else None, "count": count}
    body["created_at"], body["updated_at"] = row["created_at"], row["updated_at"]
    return body


async def book(request: Request) -> Response:
    try:
        uid = uuid.UUID(request.path_params["uid"])
    except ValueError:
        return fail(422)
    row = await state.pool.fetchrow(BOOK_SQL, uid)
    if row is None:
        return fail(404)
    response = json(book_body(row, row["tags"]))
    response.headers["ETag"] = f'"{hashlib.sha256(response.body).hexdigest()[:32]}"'
    return response


def cursor_key(value: Any) -> Any:
    """A sort key as Bookly's cursors hold it (pydantic's JSON form)."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_UTC_Z))


async def books(request: Request) -> Response:
    params = request.query_params
    limit = int(params.get("limit", "20"))
    q = " ".join(params.get("q", "").split())
    scope = "books:relevance" if q else "books:-created_at"
    after: tuple[Any, ...] = ()
    if cursor := params.get("cursor"):
        try:
            cursor_scope, (key, last_uid) = state.cursors.loads(cursor)
        except BadSignature:
            return fail(422)
        if cursor_scope != scope:
            return fail(422)
        after = (float(key) if q else datetime.fromisoformat(key), uuid.UUID(last_uid))
    if q:
        words = await search.expand(SEARCH, True, q)
        if not words.words:
            return json({"items": [], "next_cursor": None})
        values = {
            **search.query_values(True, words),
            "rank_window": SEARCH_RANK_WINDOW,
            "page_size": limit + 1,
        }
        if after:
            values["after_0"], values["after_1"] = after
        rows = await SEARCH.rows(SEARCH_PAGES[len(words.words), bool(after)], values)
    else:
        sql = NEWEST_AFTER_SQL if after else NEWEST_FIRST_SQL
        rows = await state.pool.fetch(sql, limit + 1, *after)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = state.cursors.dumps(
            [scope, [cursor_key(last["sort_key"]), cursor_key(last["uid"])]]
        )
    if q:  # Bookly's statement aggregates the tags unordered, and sorts them in Python
        items = [book_body(row, sorted(row["tag_names"] or ())) for row in rows]
    else:
        items = [book_body(row, row["tags"]) for row in rows]
    return json({"items": items, "next_cursor": next_cursor})


# S5: a review, and its book's rating summary, in one transaction ----------------------------

REVIEWER_SQL = """
SELECT u.uid, u.username, u.is_active, u.is_verified, s.revoked_at
FROM users u JOIN sessions s ON s.user_uid = u.uid
WHERE s.sid = $1 AND u.uid = $2
"""
INSERT_REVIEW_SQL = """
INSERT INTO reviews (uid, book_uid, user_uid, rating, review_text, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
"""
SHIFT_SUMMARY_SQL = """
UPDATE books SET rating_count = rating_count + 1, rating_sum = rating_sum + $2,
       rating_avg = (rating_sum + $2)::float / (rating_count + 1)
WHERE uid = $1
"""


async def review(request: Request) -> Response:
    try:
        author = await caller_row(request, REVIEWER_SQL)
    except Unauthorized:
        return fail(401)
    if not author["is_verified"]:
        return fail(403)
    data = orjson.loads(await request.body())
    rating, text = data["rating"], data["review_text"].strip()
    if type(rating) is not int or not 1 <= rating <= 5 or not 1 <= len(text) <= 5000:
        return fail(422)
    book_uid, review_uid, now = uuid.UUID(request.path_params["uid"]), uuid.uuid4(), utcnow()
    try:
        async with state.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                INSERT_REVIEW_SQL, review_uid, book_uid, author["uid"], rating, text, now
            )
            await connection.execute(SHIFT_SUMMARY_SQL, book_uid, rating)
    except asyncpg.UniqueViolationError:
        return fail(409)
    except asyncpg.ForeignKeyViolationError:
        return fail(404)
    body = {
        "uid": review_uid,
        "rating": rating,
        "review_text": text,
        "book_uid": book_uid,
        "user": {"uid": author["uid"], "username": author["username"]},
        "created_at": now,
        "updated_at": now,
    }
    response = json(body, status=201)
    response.headers["Location"] = f"/api/v1/reviews/{review_uid}"
    return response


class AccessLog:
    """Bookly's access line (same fields, JSON by orjson), written the plain way: one write(2)
    to stderr per request, where it is made."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = getattr(scope.get("route"), "path", "<unmatched>")
            method = scope["method"]
            line = {
                "time": utcnow().isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": "baseline.access",
                "message": f"{method} {route} {status}",
                "request_id": uuid.uuid4().hex,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_ip": scope["client"][0],
            }
            if user_uid := scope.get("state", {}).get("user_uid"):
                line["user_uid"] = user_uid
            os.write(2, orjson.dumps(line, default=str, option=orjson.OPT_APPEND_NEWLINE))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    database_url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    size = int(os.environ.get("DB_POOL_SIZE", "10"))
    state.pool = await asyncpg.create_pool(database_url, min_size=size, max_size=size)
    state.redis = Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    state.cursors = URLSafeSerializer(SECRET, salt="bookly.cursor")
    try:
        yield
    finally:
        await state.redis.aclose()
        await state.pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/users/me", me),
        Route("/api/v1/books/", books),
        Route("/api/v1/books/{uid}", book),
        Route("/api/v1/books/{uid}/reviews", review, methods=["POST"]),
    ],
    lifespan=lifespan,
)
if ACCESS_LOG:
    app.add_middleware(AccessLog)
