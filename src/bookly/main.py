"""The application factory: the lifespan owns the engine and Redis; routers, handlers and
middleware are mounted here and nowhere else."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from bookly.api_docs import API_DOCUMENT
from bookly.auth.revocation import Denylist
from bookly.auth.router import router as auth_router
from bookly.books.router import router as books_router
from bookly.core.config import Settings, get_settings
from bookly.core.context import AppContext
from bookly.core.db import PoolTurns, create_engine, create_sessionmaker
from bookly.core.docs import install_docs
from bookly.core.health import router as health_router
from bookly.core.logging import skip_unwritten_record_fields
from bookly.core.metrics import Metrics
from bookly.core.metrics import router as metrics_router
from bookly.core.middleware import (
    BodySizeLimitMiddleware,
    HeaderLimitMiddleware,
    JsonCharsetMiddleware,
    RequestIdAndHeadersMiddleware,
    TrailingSlashMiddleware,
    TrustedHostMiddleware,
)
from bookly.core.openapi import install_openapi, operation_id
from bookly.core.pagination import CursorCodec
from bookly.core.passwords import PasswordHasher
from bookly.core.problems import install_problem_handlers
from bookly.core.ratelimit import Limiter, create_storage
from bookly.core.read_routing import ReadRoutingMiddleware
from bookly.core.reads import EngineReader, PostgresReader, Reader
from bookly.core.redis import create_redis
from bookly.core.replica import Replica, RoutedReader, sampled
from bookly.core.routing import API_PREFIX
from bookly.core.telemetry import TelemetryMiddleware
from bookly.mail.outbox import watch_outbox
from bookly.mail.worker import drain_in_process
from bookly.pages.router import router as pages_router
from bookly.reviews.router import book_reviews_router
from bookly.reviews.router import router as reviews_router
from bookly.tags.router import book_tags_router
from bookly.tags.router import router as tags_router
from bookly.users.router import router as users_router
from bookly.web.site import install_web

# Every router served under API_PREFIX (tests walk these to find, e.g., every admin route).
# FastAPI tries routes in this order on every request, so the busiest come first.
API_ROUTERS = (
    books_router,
    book_reviews_router,
    users_router,
    reviews_router,
    book_tags_router,
    tags_router,
    auth_router,
)

logger = logging.getLogger("bookly")


def create_context(settings: Settings) -> AppContext:
    engine = create_engine(settings)
    redis = create_redis(settings)
    pool_turns = PoolTurns(settings.db_pool_size, settings.db_pool_timeout_seconds)
    reader: Reader = (
        EngineReader(engine, pool_turns.turn)
        if settings.is_sqlite
        else PostgresReader(settings, engine.dialect)
    )
    replica = None
    if settings.database_replica_url and isinstance(reader, PostgresReader):
        replica = Replica(settings, engine.dialect, settings.database_replica_url, reader)
        reader = RoutedReader(replica)
    return AppContext(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        reader=reader,
        redis=redis,
        passwords=PasswordHasher(
            settings.password_hash_concurrency, settings.password_hash_wait_budget_seconds
        ),
        cursors=CursorCodec(settings.jwt_secret.get_secret_value()),
        denylist=Denylist(redis, settings.access_token_ttl_seconds) if redis else None,
        limiter=Limiter(settings, create_storage(settings, redis)),
        pool_turns=pool_turns,
        replica=replica,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = create_context(settings)
        app.state.context = context
        metrics.watch_engine(context.engine, context.reader)
        try:
            async with drain_in_process(context), sampled(context.replica):
                yield
        finally:
            if context.redis is not None:
                await context.redis.aclose()
            await context.reader.close()
            await context.engine.dispose()
            logger.info("shutdown: database pool and Redis connections closed")

    app = FastAPI(
        title="Bookly",
        summary="Books, reviews and tags, with accounts, sessions and email verification.",
        version="1.0.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by install_docs from local assets, so they work offline.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
        # No OpenTelemetry here: left on, FastAPI looks the global providers up on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    metrics = Metrics()
    watch_outbox(metrics)
    app.state.metrics = metrics
    install_problem_handlers(app)
    # Each router sits directly on the app: FastAPI matches an included router's routes again
    # at every level of nesting, so one level less is measurably cheaper per request.
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_web(app)  # the readers' site at `/`, its routes after the API's
    app.include_router(health_router)
    app.include_router(pages_router)
    app.include_router(metrics_router)
    install_docs(app)
    # Pure ASGI middleware; the last added runs first.
    if settings.database_replica_url:
        # Innermost: the layers around it see only the answer that goes out.
        app.add_middleware(ReadRoutingMiddleware, settings=settings)
    app.add_middleware(JsonCharsetMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        HeaderLimitMiddleware,
        max_bytes=settings.max_header_bytes,
        max_count=settings.max_header_count,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["Location", "ETag", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    if "*" not in settings.trusted_hosts:  # `*` trusts any host: no layer to pass through
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(RequestIdAndHeadersMiddleware)
    app.add_middleware(TelemetryMiddleware, metrics=metrics)
    app.add_middleware(TrailingSlashMiddleware)
    install_openapi(app, API_DOCUMENT, api_prefix=API_PREFIX)
    return app


def create_served_app() -> FastAPI:
    """The app as `bookly serve` runs it, one per worker process."""
    skip_unwritten_record_fields()
    app = create_app()
    # What exists now (modules, routes, schemas) lives as long as the process: frozen, the
    # collector's full passes stop walking it, pauses that showed as tail latency under load.
    gc.collect()
    gc.freeze()
    return app
