"""The API process's Prometheus metrics, served at /metrics (text exposition format).

Each app has a registry of its own (tests run several apps in one process). Counters and
histograms move as things happen; gauges of state kept elsewhere (the task queue, connected
workers, the database pool) are read when /metrics is scraped.

Label values stay few: routes are the app's own paths (anything else is "other"), operation
names are the client's only while they look like names and fewer than MAX_OPERATION_NAMES
have been seen (then "other"), outcomes are "ok" or an error code.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from db import queue
from graph.context import AppState, app_state
from protos.vocabulary import GENERATE_INSIGHT, tokens_per_second

ROUTES = frozenset({"/graphql", "/health", "/ready", "/live", "/metrics"})
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LONG_SECONDS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.http_requests = Counter(
            "englog_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "englog_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=SECONDS,
            registry=registry,
        )
        self.operations = Counter(
            "englog_graphql_operations",
            "GraphQL operations by name, kind and outcome (ok, or the first error's code).",
            ["operation", "kind", "outcome"],
            registry=registry,
        )
        self.operation_duration = Histogram(
            "englog_graphql_operation_duration_seconds",
            "Time to run a GraphQL query or mutation (a subscription: to set it up).",
            ["kind"],
            buckets=SECONDS,
            registry=registry,
        )
        self.websockets = Gauge(
            "englog_websocket_connections", "Open websocket connections.", registry=registry
        )
        self.subscriptions = Gauge(
            "englog_subscriptions", "Running GraphQL subscriptions.", registry=registry
        )
        self.events_published = Counter(
            "englog_events_published", "Messages published to Redis pub/sub.", registry=registry
        )
        self.events_delivered = Counter(
            "englog_events_delivered",
            "Subscription events written to websockets.",
            registry=registry,
        )
        self.tasks = Gauge(
            "englog_tasks",
            "Tasks in the queue by status and kind (read at scrape time).",
            ["status", "kind"],
            registry=registry,
        )
        self.task_duration = Histogram(
            "englog_task_duration_seconds",
            "From a task's creation to its final result, by kind and outcome.",
            ["kind", "outcome"],
            buckets=LONG_SECONDS,
            registry=registry,
        )
        self.task_attempts = Histogram(
            "englog_task_attempts",
            "Attempts a task took, when it ended.",
            ["kind"],
            buckets=(1, 2, 3, 4, 5, 10),
            registry=registry,
        )
        self.insight_generation = Histogram(
            "englog_insight_generation_seconds",
            "The model's time for one insight (its own total_duration).",
            buckets=LONG_SECONDS,
            registry=registry,
        )
        self.scheduler_leader = Gauge(
            "englog_scheduler_leader",
            "1 while this process runs the scheduler (one process at a time), else 0.",
            registry=registry,
        )
        # The scheduler's routines; the metric and its label keep the name `job`, which
        # dashboards and alerts rely on.
        self.scheduled_routines = Counter(
            "englog_scheduled_jobs",
            "Scheduled routines done by this process, by routine (label job) and outcome.",
            ["job", "outcome"],
            registry=registry,
        )
        self.llm_tokens_per_second = Histogram(
            "englog_llm_tokens_per_second",
            "Output tokens per second of the model's generation.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=registry,
        )
        self.workers = Gauge(
            "englog_workers_connected",
            "Workers with a task stream open on this process.",
            registry=registry,
        )
        self.db_pool = Gauge(
            "englog_db_pool_connections",
            "Database pool connections by state (checked_out, idle, overflow) and its size.",
            ["state"],
            registry=registry,
        )
        self._names: set[str] = set()

    def operation_name(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._names:
            return name
        if _NAME.match(name) and len(self._names) < MAX_OPERATION_NAMES:
            self._names.add(name)
            return name
        return "other"

    def task_ended(
        self, *, kind: str, outcome: str, attempts: int, seconds: float, stats: dict[str, int]
    ) -> None:
        self.task_duration.labels(kind, outcome).observe(max(0.0, seconds))
        self.task_attempts.labels(kind).observe(attempts)
        total = stats.get("total_duration", 0)
        if kind == GENERATE_INSIGHT and total:
            self.insight_generation.observe(total / 1e9)
        speed = tokens_per_second(stats)
        if speed is not None:
            self.llm_tokens_per_second.observe(speed)


async def _read_state(state: AppState, workers: int) -> None:
    """The gauges of state kept elsewhere; a database that cannot be asked leaves them."""
    metrics = state.metrics
    pool: Any = state.engine.pool
    with contextlib.suppress(Exception):  # best effort: a pool class without statistics
        metrics.db_pool.labels("size").set(pool.size())
        metrics.db_pool.labels("checked_out").set(pool.checkedout())
        metrics.db_pool.labels("idle").set(pool.checkedin())
        metrics.db_pool.labels("overflow").set(max(0, pool.overflow()))
    metrics.workers.set(workers)
    try:
        async with state.db() as session:
            depth = await queue.queue_depth(session)
    except Exception:
        return
    metrics.tasks.clear()
    for (status, kind), count in depth.items():
        metrics.tasks.labels(status, kind).set(count)


async def metrics_endpoint(request: Request) -> Response:
    state = app_state(request.app)
    token = state.settings.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return Response("metrics need ENGLOG_METRICS_TOKEN as a bearer token\n", status_code=401)
    protocol = state.worker_protocol
    await _read_state(state, protocol.service.connected_workers if protocol else 0)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Counts and times every HTTP request (websockets are counted by their handler)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in ROUTES else "other"
        status = 500  # unless the app answers
        began = time.perf_counter()

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.http_requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.http_duration.labels(route).observe(time.perf_counter() - began)


class OperationMetrics(SchemaExtension):
    """Counts GraphQL operations by name, kind and outcome, and times them."""

    def on_operation(self) -> Iterator[None]:
        began = time.perf_counter()
        yield
        context = self.execution_context
        state = getattr(context.context, "state", None)
        metrics: ApiMetrics | None = getattr(state, "metrics", None)
        if metrics is None:
            return
        try:
            kind = context.operation_type.value.lower()
        except RuntimeError:  # no operation could be told (a syntax error, say)
            kind = "unknown"
        errors = list(context.pre_execution_errors or [])
        result = context.result
        errors += list(getattr(result, "errors", None) or [])
        outcome = "ok"
        if errors:
            code = (errors[0].extensions or {}).get("code")
            outcome = code if isinstance(code, str) and _NAME.match(code) else "error"
        name = metrics.operation_name(context.operation_name)
        metrics.operations.labels(name, kind, outcome).inc()
        metrics.operation_duration.labels(kind).observe(time.perf_counter() - began)
