"""The application factory: the lifespan owns the engine and Redis; routers, handlers and
middleware are mounted here and nowhere else."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from bookly.auth.revocation import Denylist
from bookly.auth.router import router as auth_router
from bookly.books.router import router as books_router
from bookly.core.config import Settings, get_settings
from bookly.core.context import AppContext
from bookly.core.db import create_engine, create_sessionmaker
from bookly.core.health import router as health_router
from bookly.core.middleware import BodySizeLimitMiddleware, RequestIdAndHeadersMiddleware
from bookly.core.pagination import CursorCodec
from bookly.core.passwords import PasswordHasher
from bookly.core.problems import Problem, install_problem_handlers
from bookly.core.redis import create_redis
from bookly.reviews.router import book_reviews_router
from bookly.reviews.router import router as reviews_router
from bookly.tags.router import book_tags_router
from bookly.tags.router import router as tags_router
from bookly.users.router import router as users_router

API_PREFIX = "/api/v1"


def create_context(settings: Settings) -> AppContext:
    engine = create_engine(settings)
    redis = create_redis(settings)
    return AppContext(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        redis=redis,
        passwords=PasswordHasher(settings.password_hash_concurrency),
        cursors=CursorCodec(settings.jwt_secret.get_secret_value()),
        denylist=Denylist(redis, settings.access_token_ttl_seconds) if redis else None,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = create_context(settings)
        app.state.context = context
        try:
            yield
        finally:
            if context.redis is not None:
                await context.redis.aclose()
            await context.engine.dispose()

    app = FastAPI(
        title="Bookly",
        summary="Books, reviews and tags, with accounts, sessions and email verification.",
        version="1.0.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
        # No OpenTelemetry here: left on, FastAPI looks the global providers up on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(books_router)
    api.include_router(book_reviews_router)
    api.include_router(reviews_router)
    api.include_router(book_tags_router)
    api.include_router(tags_router)
    app.include_router(api)
    app.include_router(health_router)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdAndHeadersMiddleware)
    _document_problem_schema(app)
    return app


def _document_problem_schema(app: FastAPI) -> None:
    """Register `Problem` under components, where every error response refers to it."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault(
                "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
