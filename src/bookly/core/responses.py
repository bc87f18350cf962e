"""A response model's JSON answer built by the route itself, for routes that must hold the body
before the commit (an idempotent create keeps it with its key)."""

from pydantic import BaseModel
from starlette.responses import Response


def json_response(model: BaseModel, status_code: int = 200, **headers: str) -> Response:
    """`model` serialised as FastAPI would for a declared response model."""
    body = type(model).__pydantic_serializer__.to_json(model)
    return Response(body, status_code, headers=headers, media_type="application/json")
