"""The OpenAPI document: the `Problem` schema, and the error responses every operation shares."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from bookly.core.problems import PROBLEM_MEDIA_TYPE, Problem

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or HTTPStatus(status).phrase,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
    }


# Responses any operation with a request body can give, whatever its own rules.
_BODY_PROBLEMS = {
    400: "The body could not be decoded (not UTF-8, or not parseable)",
    413: "The body is larger than the configured limit",
    415: "The body was sent as another media type than the operation accepts",
    422: "The body failed validation; `errors` lists each problem",
}


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _add_problem_schemas(schema)
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    _add_shared_problems(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_problem_schemas(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem


def _add_shared_problems(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if "requestBody" in operation:
        for status, description in _BODY_PROBLEMS.items():
            responses.setdefault(str(status), _problem_response(status, description))
    if operation.get("parameters"):
        responses.setdefault("422", _problem_response(422, _BODY_PROBLEMS[422]))
    responses.setdefault("500", _problem_response(500, "An unexpected error (never client input)"))
