"""Which server a request reads from, with a replica configured: the rules, and the middleware
that applies them.

A request reads from the replica when all of these hold, decided once as it arrives so that all
its reads come from one server:
- its method is GET or HEAD (it writes nothing; every other method reads and writes on the
  primary, in its one transaction);
- it sends no `Authorization` header: a signed-in API client reads the primary, so whatever it
  has just written through its token it sees at once, whether or not it keeps cookies;
- it carries no read-your-writes cookie: any response to a request that committed a write sets
  one (`bookly_read_primary`, living for the lag bound and a second), so a browser or any
  client keeping cookies reads the primary until the replica has its write;
- the replica is fresh: its replayed state is at most `DB_REPLICA_MAX_LAG_SECONDS` old
  (core/replica.py).
Within such a request, a write session pins it to the primary (a GET that writes, such as an
email link, reads what it changes), and reads that must be current (a session's caller, the
revocations) never leave the primary (`Prepared(on_primary=True)`).

The cookie's lifetime is what makes it enough: a read after it expired happens at least the lag
bound after the write committed, and the replica serves a read only while it has replayed
everything committed up to the lag bound ago, the write included.
"""

import math
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookly.core.config import Settings

READ_PRIMARY_COOKIE = "bookly_read_primary"


@dataclass
class ReadRoute:
    """Where one request's reads go, and what it did that the response must tell."""

    on_replica: bool
    # A write was committed: the response sets the read-your-writes cookie.
    wrote: bool = False
    # A read on the replica failed where it could not be read again on the primary there and
    # then (in a session): the request is answered again, on the primary.
    replica_failed: bool = False


_route: ContextVar[ReadRoute | None] = ContextVar("bookly_read_route", default=None)


def current_route() -> ReadRoute | None:
    """This request's route; None outside requests, or without a replica."""
    return _route.get()


def note_write() -> None:
    """The request committed a write: its answer sets the read-your-writes cookie."""
    route = _route.get()
    if route is not None:
        route.wrote = True


def note_replica_failure() -> None:
    """A session's read failed on the replica: answer the request again on the primary."""
    route = _route.get()
    if route is not None:
        route.replica_failed = True


# What a replica read may fail with that the primary may well answer: the replica is down, shut
# down or restarting, unreachable, too busy to lend a connection, or cancelled the read in
# conflict with what it replays. (Not the statement timeout: the primary would time out too.)
REPLICA_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    PoolTimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TransactionRollbackError,
)


def is_replica_failure(error: BaseException) -> bool:
    """`error`, or the driver's error SQLAlchemy wrapped in it, is one of `REPLICA_FAILURES`."""
    if isinstance(error, DBAPIError):
        driver_error = error.orig.__cause__ if error.orig is not None else None
        return error.connection_invalidated or isinstance(driver_error, REPLICA_FAILURES)
    return isinstance(error, REPLICA_FAILURES)


def _reads_anywhere(scope: Scope) -> bool:
    """GET or HEAD, without credentials or the read-your-writes cookie."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    for name, value in scope["headers"]:
        if name == b"authorization":
            return False
        if name == b"cookie" and READ_PRIMARY_COOKIE in cookie_parser(value.decode("latin-1")):
            return False
    return True


class ReadRoutingMiddleware:
    """Decides each request's route, sets the read-your-writes cookie on answers to writes, and
    answers again on the primary a request whose replica read failed before its answer went
    out. Only GET and HEAD requests go to the replica, so answering one again repeats nothing
    but reads; its (empty) body is given again too. Installed only with a replica configured;
    it finds the replica in the app's context (`scope["app"]`)."""

    def __init__(self, app: ASGIApp, *, settings: Settings):
        self.app = app
        # Whole seconds, never shorter than the bound.
        lifetime = math.ceil(settings.db_replica_max_lag_seconds) + 1
        attributes = f"Max-Age={lifetime}; Path=/; HttpOnly; SameSite=Lax"
        if settings.public_base_url.startswith("https://"):
            attributes += "; Secure"
        self._cookie = f"{READ_PRIMARY_COOKIE}=1; {attributes}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replica = scope["app"].state.context.replica
        route = ReadRoute(on_replica=_reads_anywhere(scope) and replica.freshness.is_fresh())
        token = _route.set(route)
        try:
            await self._answer(scope, receive, send, route)
        finally:
            _route.reset(token)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, route: ReadRoute) -> None:
        if not route.on_replica:
            await self.app(scope, receive, self._telling(send, route))
            return
        attempt = _Attempt(self._telling(send, route), route)
        try:
            await self.app(scope, receive, attempt.send)
        except Exception:
            if not attempt.to_answer_again:
                raise
        if attempt.to_answer_again:
            route.on_replica = False
            await self.app(scope, _empty_body_then(receive), self._telling(send, route))

    def _telling(self, send: Send, route: ReadRoute) -> Send:
        async def telling(message: Message) -> None:
            if message["type"] == "http.response.start" and route.wrote:
                headers = [*message.get("headers", []), (b"set-cookie", self._cookie)]
                message = {**message, "headers": headers}
            await send(message)

        return telling


class _Attempt:
    """Passes the answer on, unless the replica failed before it started: then nothing of it
    goes out (the failure's problem document), and the request is to be answered again."""

    def __init__(self, send: Send, route: ReadRoute):
        self._send = send
        self._route = route
        self._started = False

    @property
    def to_answer_again(self) -> bool:
        return self._route.replica_failed and not self._started

    async def send(self, message: Message) -> None:
        if self.to_answer_again:
            return
        self._started = True
        await self._send(message)


def _empty_body_then(receive: Receive) -> Callable[[], Awaitable[Message]]:
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return replayed
