"""Turn every error, Bookly's and the framework's, into an RFC 9457 problem document."""

import logging
from http import HTTPStatus
from typing import Any, cast

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from bookly.core.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)

logger = logging.getLogger("bookly.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Framework statuses that have a contract error_code.
_CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    431: "request_header_fields_too_large",
    429: "rate_limited",
    503: "service_unavailable",
}


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; `error_code` is what clients branch on."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    error_code: str = Field(examples=["book_not_found"])
    errors: list[ValidationIssue] | None = None


def problem_response(
    status: int,
    error_code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "error_code": error_code,
    }
    body.update(extra or {})
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _app_error(_: Request, exc: Exception) -> Response:
    exc = cast(AppError, exc)
    extra = {"errors": exc.errors} if isinstance(exc, ValidationFailed) else None
    return problem_response(
        exc.status_code, exc.error_code, exc.title, exc.detail, headers=exc.headers, extra=extra
    )


def _http_error(request: Request, exc: Exception) -> Response:
    exc = cast(HTTPException, exc)
    status = exc.status_code
    if status == 405:
        exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    code = _CODES_BY_STATUS.get(status, "internal_error" if status >= 500 else "bad_request")
    return problem_response(status, code, phrase, detail, headers=dict(exc.headers or {}))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    return ", ".join(
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


def _validation_error(request: Request, exc: Exception) -> Response:
    exc = cast(RequestValidationError, exc)
    if _body_in_wrong_media_type(request, exc):
        return problem_response(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as `application/json`.",
        )
    # Only loc/msg/type: the offending input may be huge, binary, or a password.
    issues = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]],
            "msg": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    return problem_response(
        422,
        "validation_error",
        "Validation error",
        "The request is not valid; see `errors`.",
        extra={"errors": issues},
    )


def _body_in_wrong_media_type(request: Request, exc: RequestValidationError) -> bool:
    """A JSON route whose whole body failed to parse because it was sent as something else."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type or media_type == "application/json" or media_type.endswith("+json"):
        return False
    return any(tuple(error["loc"]) == ("body",) for error in exc.errors())


def _backing_service_error(request: Request, exc: Exception) -> Response:
    # A data exception (SQLSTATE class 22) is the client's input slipping past validation;
    # anything else from the driver means the database is unreachable, overloaded or too slow.
    # SQLAlchemy's errors carry the driver's error as `orig`; asyncpg's (core/reads.py) are it.
    driver_error = getattr(exc, "orig", exc)
    sqlstate = getattr(driver_error, "sqlstate", None) or ""
    if sqlstate.startswith("22"):
        return problem_response(
            422, "validation_error", "Validation error", "A value is out of range or malformed."
        )
    logger.warning("backing service unavailable on %s: %r", request.url.path, exc)
    return _app_error(request, ServiceUnavailable("A backing service is not answering; retry."))


def _unexpected_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, UnicodeEncodeError):  # a lone surrogate that reached an encoder
        return problem_response(
            400, "bad_request", "Bad request", "The request contains text that is not UTF-8."
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500, "internal_error", "Internal server error", "Something went wrong on our side."
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _backing_service_error)
    app.add_exception_handler(PoolTimeoutError, _backing_service_error)
    app.add_exception_handler(asyncpg.PostgresError, _backing_service_error)
    app.add_exception_handler(asyncpg.InterfaceError, _backing_service_error)
    app.add_exception_handler(OSError, _backing_service_error)
    app.add_exception_handler(RedisError, _backing_service_error)
    app.add_exception_handler(Exception, _unexpected_error)


# What a bare status documents (`problem_responses(503)`): the core error of that status, else
# the framework's own code.
_ERRORS_BY_STATUS: dict[int, type[AppError]] = {
    error.status_code: error
    for error in (
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        ValidationFailed,
        RateLimited,
        ServiceUnavailable,
        AppError,
    )
}


def problem_example(
    status: int, error_code: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """An OpenAPI example of a problem document, named by its `error_code`."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return {"summary": title, "value": {**body, "error_code": error_code, **extra}}


def _example_of(source: type[AppError] | int) -> tuple[int, dict[str, Any]]:
    if isinstance(source, int):
        if source in _ERRORS_BY_STATUS:
            return _example_of(_ERRORS_BY_STATUS[source])
        phrase = HTTPStatus(source).phrase
        return source, problem_example(source, _CODES_BY_STATUS[source], phrase, f"{phrase}.")
    extra: dict[str, Any] = {}
    if issubclass(source, ValidationFailed):
        issue = {"loc": list(source.location), "msg": source.title, "type": source.issue_type}
        extra["errors"] = [issue]
    example = problem_example(
        source.status_code, source.error_code, source.title, f"{source.title}.", **extra
    )
    return source.status_code, example


def problem_description(status: int, examples: dict[str, Any]) -> str:
    """A problem response's description: its status and every `error_code` it can carry (the
    keys of `examples`), which is what a client branches on."""
    codes = "\n".join(f"- `{code}`: {example['summary']}" for code, example in examples.items())
    return f"{HTTPStatus(status).phrase}. The problem's `error_code` is one of:\n\n{codes}"


def problem_response_doc(status: int, examples: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI response: a problem document (and nothing else), an example per code."""
    return {
        "description": problem_description(status, examples),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": examples,
            }
        },
    }


def problem_responses(*sources: type[AppError] | int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors a route can raise (`AppError` subclasses)
    and bare statuses (the framework's code for each): one response per status, listing every
    `error_code` with an example body. core/openapi.py adds what every operation shares."""
    by_status: dict[int, dict[str, Any]] = {}
    for source in sources:
        status, example = _example_of(source)
        by_status.setdefault(status, {}).setdefault(example["value"]["error_code"], example)
    return {
        status: problem_response_doc(status, examples)
        for status, examples in sorted(by_status.items())
    }
