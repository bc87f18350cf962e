"""Prometheus metrics: requests by route template, the database pool, and watched row counts.

Each app has its own registry (tests build many apps in one process). With `--workers N`, each
worker process keeps its own numbers and a scrape reaches one of them; run one worker per port
(or container) and scrape each when exact totals matter (see the README).

Row counts (the email outbox backlog, dead letters) are registered by the package that owns the
table, with `metrics.watch_rows(...)`. They are counted at scrape time, and only once the table
exists, so a scrape never fails on a database that has not been migrated that far.
"""

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Select, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.responses import Response

from bookly.core.config import Settings
from bookly.core.errors import Forbidden, NotAuthenticated
from bookly.core.problems import problem_responses
from bookly.core.reads import PostgresReader, Reader
from bookly.core.replica import Replica, RoutedReader

# Requests that matched no route share one label, so junk paths cannot grow the series count.
UNMATCHED_ROUTE = "<unmatched>"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class _WatchedRows:
    name: str
    documentation: str
    table: str
    count: Select[int]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "bookly_http_requests",
            "HTTP requests answered, by route template, method and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "bookly_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._engine: AsyncEngine | None = None
        self._read_pool: PostgresReader | None = None
        self._replica: Replica | None = None
        self._watched: list[_WatchedRows] = []
        self._row_counts: dict[str, float] = {}
        # Each label set's two series, found once: `labels()` takes a lock and builds a key on
        # every call. As bounded as the labels themselves (route templates, not paths).
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registry.register(_ScrapeTimeCollector(self))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._series.get((method, route, status))
        if series is None:
            labels = (method, route, str(status))
            series = self._series[method, route, status] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        requests, latency = series
        requests.inc()
        latency.observe(seconds)

    def watch_engine(self, engine: AsyncEngine, reader: Reader | None = None) -> None:
        """Report this engine's pool, and the reader's when it keeps one of its own, and the
        replica's when it routes to one (called by the lifespan once they exist)."""
        self._engine = engine
        if isinstance(reader, RoutedReader):
            self._replica = reader.replica
            reader = reader.primary
        self._read_pool = reader if isinstance(reader, PostgresReader) else None

    def watch_rows(self, name: str, documentation: str, count: Select[int]) -> None:
        """Expose gauge `name` = the result of `count` (a `SELECT count(*) FROM one_table ...`),
        evaluated at each scrape, and skipped while its table does not exist."""
        froms = count.get_final_froms()
        table = getattr(froms[0], "name", None) if len(froms) == 1 else None
        if not isinstance(table, str):
            raise ValueError("watch_rows needs a count over exactly one table")
        self._watched.append(_WatchedRows(name, documentation, table, count))

    async def refresh(self) -> None:
        self._row_counts = {}
        if self._engine is None or not self._watched:
            return
        try:
            async with self._engine.connect() as connection:
                existing = await connection.run_sync(
                    lambda sync: set(inspect(sync).get_table_names())
                )
                for watched in self._watched:
                    if watched.table in existing:
                        value = await connection.scalar(watched.count)
                        self._row_counts[watched.name] = float(value or 0)
        except (SQLAlchemyError, OSError):
            return  # the database is down: the scrape still answers, without these gauges

    def scrape_time_metrics(self) -> Iterator[Metric]:
        yield from _pool_gauges("bookly_db", "", self._engine, self._read_pool)
        if self._replica is not None:
            replica = self._replica
            yield from _pool_gauges("bookly_db_replica", "replica ", replica.engine, replica.reader)
            lag = replica.freshness.lag_seconds()
            if lag is not None:
                yield _gauge(
                    "bookly_db_replica_lag_seconds",
                    "How old the newest state known to be on the replica is.",
                    lag,
                )
            yield _gauge(
                "bookly_db_replica_serving",
                "1 while public reads go to the replica, 0 while they go to the primary.",
                float(replica.freshness.is_fresh()),
            )
        for watched in self._watched:
            if watched.name in self._row_counts:
                gauge = GaugeMetricFamily(watched.name, watched.documentation)
                gauge.add_metric([], self._row_counts[watched.name])
                yield gauge


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


def _pool_gauges(
    prefix: str, server: str, engine: AsyncEngine | None, reads: PostgresReader | None
) -> Iterator[Metric]:
    """The sessions' pool (SQLAlchemy) and the hot reads' pool (asyncpg) of one server."""
    pool = engine.pool if engine is not None else None
    if isinstance(pool, QueuePool):
        yield _gauge(
            f"{prefix}_pool_connections_in_use",
            f"Connections of the {server}sessions' pool checked out now.",
            pool.checkedout(),
        )
        yield _gauge(
            f"{prefix}_pool_size", f"Connections the {server}sessions' pool may hold.", pool.size()
        )
    if reads is not None:
        yield _gauge(
            f"{prefix}_read_pool_connections_in_use",
            f"Connections of the {server}hot reads' pool in use now.",
            reads.connections_in_use(),
        )
        yield _gauge(
            f"{prefix}_read_pool_size",
            f"Connections the {server}hot reads' pool may hold.",
            reads.max_size,
        )


class _ScrapeTimeCollector(Collector):
    def __init__(self, metrics: Metrics):
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.scrape_time_metrics()


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (text exposition format)",
    description="Open unless `METRICS_TOKEN` (a bearer token) or `METRICS_ALLOW_NETWORKS` (client "
    "networks) is set; then every one that is set must let the scrape through.",
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Metrics"},
        **problem_responses(401, 403),
    },
)
async def metrics(request: Request) -> Response:
    _ensure_scraper_allowed(request)
    app_metrics: Metrics = request.app.state.metrics
    await app_metrics.refresh()
    return Response(generate_latest(app_metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _ensure_scraper_allowed(request: Request) -> None:
    """`METRICS_TOKEN` and `METRICS_ALLOW_NETWORKS`, when set, each must let the scrape through."""
    settings: Settings = request.app.state.context.settings
    if settings.metrics_allow_networks:
        peer = request.client.host if request.client else ""
        try:
            address = ip_address(peer)
        except ValueError:
            address = None
        if address is None or not any(address in net for net in settings.metrics_allow_networks):
            raise Forbidden("Metrics are not served to this network.")
    if settings.metrics_token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented, expected):
            raise NotAuthenticated("Metrics need the scrape token as a bearer token.")
