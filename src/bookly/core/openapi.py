"""The OpenAPI document as generated clients and readers need it: short stable operation ids,
the shared enums and the `Problem` schema as named components, the error responses and headers
every operation shares, and a top-level tag list.

The routes say what is theirs (`summary`, a docstring for the description, their errors through
`problem_responses`); what follows from the framework (a body can be undecodable, any request can
meet a database outage) is added here, once, for every operation it applies to.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from bookly.core.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    problem_description,
    problem_example,
    problem_response_doc,
)


def operation_id(route: APIRoute) -> str:
    """An operation's id is its route function's name (`signup`, `read_book`), which generated
    clients turn into method names; tests/core/test_openapi_document.py keeps them stable."""
    return route.name


@dataclass(frozen=True)
class SharedEnum:
    """A set of values several operations use (a query parameter, a body field): named once in
    `components`, so a generated client has one type for it instead of a copy per use."""

    name: str
    type: Any  # an Enum, or an annotated type whose JSON schema has an `enum`
    description: str


@dataclass(frozen=True)
class DocumentParts:
    """What the document says beyond the routes (bookly/api_docs.py fills it in)."""

    description: str
    tags: Sequence[Mapping[str, str]]
    shared_enums: Sequence[SharedEnum] = field(default_factory=tuple)


_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id (echoed when the request sent a sane one): quote it "
        "when reporting a problem; the server's log lines carry it.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The path of the resource just created.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "ETag": {
        "description": "The book's version: send it back in `If-None-Match` (a 304 when "
        "unchanged) or `If-Match` (a 412 when someone changed it in between).",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer is the one first given under the request's "
        "`Idempotency-Key`, replayed: nothing was done again.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW-Authenticate": {
        "description": 'The bearer challenge: `Bearer`, or `Bearer error="invalid_token"` when '
        "a token was sent but refused.",
        "required": True,
        "schema": {"type": "string"},
    },
}
# Headers of the responses of some status, whatever the operation.
_HEADERS_BY_STATUS = {"201": ("Location",), "401": ("WWW-Authenticate",)}
_HEADERS_BY_STATUS |= {"429": ("Retry-After",), "503": ("Retry-After",)}


def headers(*names: str) -> dict[str, dict[str, str]]:
    """A response's `headers`, by reference to the named components (`ETag`, ...)."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


# Problems the framework answers for any operation with a request body, whatever its own rules.
_BODY_PROBLEMS = (
    problem_example(
        400, "bad_request", "Bad request", "The body could not be read (not UTF-8, or broken)."
    ),
    problem_example(
        413,
        "payload_too_large",
        "Payload too large",
        "Request bodies are limited to 1048576 bytes.",
    ),
    problem_example(
        415,
        "unsupported_media_type",
        "Unsupported media type",
        "Send the body as `application/json`.",
    ),
)
_VALIDATION_PROBLEM = problem_example(
    422,
    "validation_error",
    "Validation error",
    "The request is not valid; see `errors`.",
    errors=[
        {
            "loc": ["body", "rating"],
            "msg": "Input should be less than or equal to 5",
            "type": "less_than_equal",
        }
    ],
)
_OUTAGE_PROBLEM = problem_example(
    503,
    "service_unavailable",
    "Service unavailable",
    "A backing service is not answering; retry.",
)
_UNEXPECTED_PROBLEM = problem_example(
    500, "internal_error", "Internal server error", "Something went wrong on our side."
)


def install_openapi(app: FastAPI, parts: DocumentParts, *, api_prefix: str) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema["info"]["description"] = parts.description
            schema["tags"] = [dict(tag) for tag in parts.tags]
            components = schema.setdefault("components", {})
            _add_problem_schemas(components.setdefault("schemas", {}))
            components["headers"] = _HEADERS
            for path, operation in _operations(schema):
                _add_shared_problems(operation, public_api=path.startswith(api_prefix))
                _add_headers(operation)
            _name_shared_enums(schema, parts.shared_enums)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            yield path, operation


# The codes no operation lists, as any request can meet them.
_ANY_REQUEST_CODES = """\
Stable and snake_case: what a client branches on. Each error response of an operation lists the
codes it can carry. Besides those, any request may be answered `not_found` (404: no such path),
`method_not_allowed` (405, with `Allow`), `request_header_fields_too_large` (431), `bad_request`
(400: a `Host` this server does not answer for, or an unreadable request) or `internal_error`
(500), and a write `conflict` (409: a uniqueness rule that no more specific code names)."""


def _add_problem_schemas(schemas: dict[str, Any]) -> None:
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem["properties"]["error_code"]["description"] = _ANY_REQUEST_CODES
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    # FastAPI's own 422 body, which Bookly never sends (its 422s are problem documents).
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _add_shared_problems(operation: dict[str, Any], *, public_api: bool) -> None:
    responses = operation.setdefault("responses", {})
    shared: list[dict[str, Any]] = []
    if "requestBody" in operation:
        shared += [*_BODY_PROBLEMS, _VALIDATION_PROBLEM]
    elif operation.get("parameters"):
        shared.append(_VALIDATION_PROBLEM)
    if public_api:  # every API operation reads the database (and most, Redis)
        shared.append(_OUTAGE_PROBLEM)
    shared.append(_UNEXPECTED_PROBLEM)
    for example in shared:
        _merge_problem(responses, example)


def _merge_problem(responses: dict[str, Any], example: dict[str, Any]) -> None:
    """Adds the example's code to the response of its status, making the response if need be
    (and replacing FastAPI's own 422, which Bookly never sends)."""
    status = example["value"]["status"]
    code = example["value"]["error_code"]
    response = responses.get(str(status))
    media = (response or {}).get("content", {}).get(PROBLEM_MEDIA_TYPE)
    if media is None:
        responses[str(status)] = problem_response_doc(status, {code: example})
        return
    examples = media.setdefault("examples", {})
    examples.setdefault(code, example)
    response["description"] = problem_description(status, examples)  # type: ignore[index]


def _add_headers(operation: dict[str, Any]) -> None:
    keyed = any(
        parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
        for parameter in operation.get("parameters", ())
    )
    for status, response in operation["responses"].items():
        names = ["X-Request-ID", *_HEADERS_BY_STATUS.get(status, ())]
        if keyed and status.startswith("2"):  # what a retry under the same key answers
            names.append("Idempotent-Replayed")
        response_headers = response.setdefault("headers", {})
        for name in names:
            response_headers.setdefault(name, headers(name)[name])


def _name_shared_enums(schema: dict[str, Any], shared_enums: Sequence[SharedEnum]) -> None:
    """Every inline copy of a shared enum's values becomes a reference to its component."""
    components = schema["components"]["schemas"]
    names_by_values: dict[frozenset[str], str] = {}
    for shared in shared_enums:
        definition = TypeAdapter(shared.type).json_schema()
        definition.update(title=shared.name, description=shared.description)
        names_by_values[frozenset(definition["enum"])] = shared.name
        components[shared.name] = definition
    named = {id(components[shared.name]) for shared in shared_enums}

    def replaced(node: Any) -> Any:
        if isinstance(node, list):
            return [replaced(item) for item in node]
        if not isinstance(node, dict) or id(node) in named:
            return node
        values = node.get("enum")
        name = names_by_values.get(frozenset(values)) if isinstance(values, list) else None
        if name is not None:
            # What the field says of itself stays; what the enum's type says is the component's.
            kept = {key: node[key] for key in ("description", "default") if key in node}
            return {"$ref": f"#/components/schemas/{name}", **kept}
        return {key: replaced(value) for key, value in node.items()}

    schema["paths"] = replaced(schema["paths"])
    for name, definition in list(components.items()):
        components[name] = replaced(definition)
