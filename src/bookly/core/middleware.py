"""Pure ASGI middleware: request ids and security headers, trusted hosts, limits on headers and
bodies, JSON bodies in UTF-8 only."""

import re
import uuid
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookly.core.problems import problem_response

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdAndHeadersMiddleware:
    """Echoes a sane `X-Request-ID` (else makes one) and adds headers every response needs.

    An answer to a request that carried credentials is private to them: `Cache-Control: no-store`
    (unless the route set its own) and `Vary: Authorization`, so no browser or proxy cache keeps
    a token, a profile or a session list, nor serves one caller's answer to another."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        private = _header(scope, b"authorization") is not None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if private:
                    headers.setdefault("Cache-Control", "no-store")
                    headers.add_vary_header("Authorization")
                headers["X-Content-Type-Options"] = "nosniff"
                # An API answer is never meant to be framed or to leak where it was opened from;
                # pages that need their own policy set it first.
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrailingSlashMiddleware:
    """One canonical path per resource: `/api/v1/books/` is served as `/api/v1/books`
    (a redirect would turn a client's POST into a second round trip, or lose it)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            if "raw_path" in scope and scope["raw_path"] is not None:
                scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class HeaderLimitMiddleware:
    """Refuses (431) a request whose headers are larger in all, or more in number, than the limits:
    nothing Bookly serves needs more, and each header is work for every layer that reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int):
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", ()) if scope["type"] == "http" else ()
        if len(headers) <= self.max_count and (
            sum(len(name) + len(value) for name, value in headers) <= self.max_bytes
        ):
            await self.app(scope, receive, send)
            return
        response = problem_response(
            431,
            "request_header_fields_too_large",
            "Request header fields too large",
            f"Requests may carry at most {self.max_count} headers of {self.max_bytes} bytes "
            "in all.",
        )
        await response(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit: at once by `Content-Length`, else by counting chunks."""

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            status, code = (
                (413, "payload_too_large") if declared.isdigit() else (400, "bad_request")
            )
            response = problem_response(
                status,
                code,
                "Payload too large" if status == 413 else "Bad request",
                f"Request bodies are limited to {self.max_body_bytes} bytes.",
            )
            await response(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(
                        413, f"Request bodies are limited to {self.max_body_bytes} bytes."
                    )
            return message

        await self.app(scope, counting_receive, send)


class JsonCharsetMiddleware:
    """Refuses (415) a JSON body declared in another charset than UTF-8: JSON is UTF-8 (RFC 8259),
    and the body would otherwise be read as UTF-8 whatever the client meant, turning its `é`
    into something else or into a 422 that names the wrong cause."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-type") if scope["type"] == "http" else None
        charset = _foreign_json_charset(declared) if declared else None
        if charset is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"JSON bodies are UTF-8; this one was declared as {charset[:40]!r}.",
        )
        await response(scope, receive, send)


def _foreign_json_charset(content_type: str) -> str | None:
    """The charset a JSON content type declares, when it is not UTF-8."""
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    media_type = media_type.lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"')
        if name.strip().lower() == "charset" and charset.lower() not in {"utf-8", "utf8"}:
            return charset
    return None


class TrustedHostMiddleware:
    """Answers only requests whose `Host` is listed (`example.com` or `*.example.com`), with a
    400 problem document otherwise: a forged Host never reaches the app. (`TRUSTED_HOSTS=*`
    trusts any host: the app then leaves this middleware out.)"""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]):
        for pattern in allowed_hosts:
            if "*" in pattern and not (pattern.startswith("*.") and "*" not in pattern[1:]):
                raise ValueError(f"TRUSTED_HOSTS: {pattern!r} is not `*` or `*.domain`")
        self.app = app
        self.exact = {pattern.lower() for pattern in allowed_hosts if not pattern.startswith("*")}
        self.suffixes = tuple(p[1:].lower() for p in allowed_hosts if p.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._trusted(_header(scope, b"host")):
            await self.app(scope, receive, send)
            return
        response = problem_response(
            400, "bad_request", "Bad request", "This server does not answer for that host."
        )
        await response(scope, receive, send)

    def _trusted(self, host_header: str | None) -> bool:
        try:
            host = urlsplit(f"//{host_header}").hostname if host_header else None
        except ValueError:
            return False
        return host is not None and (host in self.exact or host.endswith(self.suffixes))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
