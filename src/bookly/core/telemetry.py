"""Pure ASGI middleware: per-request metrics and the JSON access log (one line per request).

It labels by route template (`/api/v1/users/{uid}`), never the raw path, so ids and query strings
(which may carry email-link tokens) never reach a metric label or a log line.
"""

import logging
import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookly.core.logging import ACCESS_LOGGER
from bookly.core.metrics import UNMATCHED_ROUTE, Metrics

_access_log = logging.getLogger(ACCESS_LOGGER)
# Any other method string is labelled OTHER, so it cannot add series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's full template (`/api/v1/users/{uid}`), or `UNMATCHED_ROUTE`.

    FastAPI leaves the matched route in `scope["route"]`, but an included router's route knows
    only its own part of the path; the prefixes above it are static, so they are the leading
    segments of the concrete path that the route's template does not cover.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED_ROUTE
    if isinstance(route, Mount):  # a mounted app: its own paths are not ours to enumerate
        template = f"{template}/{{path}}"
    own_segments = template.count("/")
    concrete = scope["path"].split("/")
    if ":path}" in template or len(concrete) <= own_segments:
        return template
    return "/".join(concrete[: len(concrete) - own_segments]) + template


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        self.metrics.observe(method, route, status, seconds)
        if not _access_log.isEnabledFor(logging.INFO):
            return
        state = scope.get("state", {})
        client = scope.get("client")
        _access_log.info(
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "request_id": state.get("request_id"),
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "user_uid": state.get("user_uid"),
                "client_ip": client[0] if client else None,
            },
        )
