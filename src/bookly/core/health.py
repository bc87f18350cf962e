"""Liveness and readiness probes (root paths, outside the versioned API)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse

from bookly.core.context import ContextDep
from bookly.core.problems import problem_response, problem_responses

router = APIRouter(tags=["operations"])


class Status(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/healthz", response_model=Status, summary="The process is up (touches nothing else)")
async def healthz() -> Status:
    """For liveness probes: answers 200 while the process runs, and touches nothing else (no
    database, no Redis)."""
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Status,
    responses=problem_responses(503),
    summary="The database (and Redis, when configured) answer",
)
async def readyz(context: ContextDep) -> Any:
    """For load balancers' health checks: 200 when the database (and Redis, when configured) answer;
    otherwise 503 with `Retry-After`, its `checks` naming what is not answering. A read replica,
    when configured, is named too (`ok`, `behind` or `unavailable`) but does not decide: without
    it, reads go to the primary."""
    checks: dict[str, str] = {}
    try:
        async with context.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (SQLAlchemyError, OSError):
        checks["database"] = "unavailable"
    if context.redis is not None:
        try:
            await context.redis.ping()
            checks["redis"] = "ok"
        except RedisError:
            checks["redis"] = "unavailable"
    failed = sorted(name for name, state in checks.items() if state != "ok")
    if context.replica is not None:
        # Told, not required: without the replica, reads go to the primary.
        checks["replica"] = context.replica.freshness.state()
    if failed:
        return problem_response(
            503,
            "service_unavailable",
            "Service unavailable",
            f"Not ready: {', '.join(failed)} not answering.",
            headers={"Retry-After": "5"},
            extra={"checks": checks},
        )
    return JSONResponse(Status(status="ok", checks=checks).model_dump())
