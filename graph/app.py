"""create_app(settings) -> Starlette. The lifespan opens the pools; nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from core import tracing
from db.engine import asyncpg_dsn, create_engine, create_session_factory
from db.tracing import trace_sql
from graph import static
from graph.auth.denylist import Denylist
from graph.auth.passwords import Passwords
from graph.auth.tokens import TokenService
from graph.context import STATE_KEY, AppState, app_state
from graph.errors import is_unavailable
from graph.export import ExportDownloads
from graph.exports.routes import export_routes
from graph.http import GraphQLView
from graph.limits import RateLimiter
from graph.live.close_codes import GOING_AWAY, GOING_AWAY_REASON
from graph.live.fanout import ServerSend
from graph.live.feeds import Feeds
from graph.live.gc_policy import GcPolicy
from graph.live.http_streams import HttpStreams
from graph.live.hub import EventHub
from graph.live.slots import ConnectionSlots
from graph.middleware import BodyLimit, RequestIds, SecurityHeaders
from graph.prometheus import ApiMetrics, RequestMetrics, metrics_endpoint
from graph.query_limits import QueryLimits
from graph.schedules.runner import Scheduler
from graph.schema import build_schema
from graph.settings import ApiSettings
from graph.tasks.server import serve_worker_protocol
from graph.tasks.sweeper import requeue_expired_leases
from graph.tracing import ServerSpans
from graph.web import web_mount

logger = logging.getLogger("englog.api")
PROBE_TIMEOUT = 2.0
# What browsers may send cross-origin: the W3C trace context, the request id the log lines
# carry, and the headers Apollo's clients add (apollo-require-preflight is its CSRF guard).
CORS_HEADERS = [
    "authorization",
    "content-type",
    "accept",
    "traceparent",
    "tracestate",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
]


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, PROBE_TIMEOUT)
    except Exception as exc:  # a probe reports any failure as a status, never raises
        logger.warning("health probe failed: %r", exc)
        return "unavailable"
    return "ok"


async def _database_ok(state: AppState) -> None:
    async with state.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))


async def _statuses(request: Request) -> dict[str, str]:
    state = app_state(request.app)
    database, redis = await asyncio.gather(_check(_database_ok(state)), _check(state.redis.ping()))
    return {"database": database, "redis": redis}


async def health(request: Request) -> JSONResponse:
    checks = await _statuses(request)
    healthy = checks["database"] == "ok"
    body = {"status": "ok" if all(v == "ok" for v in checks.values()) else "degraded", **checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


async def ready(request: Request) -> JSONResponse:
    # Ready means able to serve: PostgreSQL is the system of record, Redis only carries
    # live events and counters, so only the database decides.
    checks = await _statuses(request)
    ok = checks["database"] == "ok"
    return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)


async def live(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _sweep_expired_leases(state: AppState) -> None:
    """Expired leases go back to the queue, whichever API process notices first."""
    interval = max(0.5, state.settings.task_lease_seconds / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            await requeue_expired_leases(state)
        except Exception as exc:  # the database may be away: try again next round
            if is_unavailable(exc):  # expected while it is: one line a round, no traceback
                logger.warning("lease sweep failed: the database is unavailable (%r)", exc)
            else:
                logger.warning("lease sweep failed", exc_info=True)


async def going_away(app: Starlette) -> None:
    """The first step of a graceful shutdown, taken by the server (englog/cli.py) once it
    accepts no new connection and before it waits for the HTTP requests in flight: every
    websocket is closed with 1001 "going away", and the workers' task streams end with their
    leases handed back to the queue (graph/tasks/server.py), so clients and workers move to
    another process at once. The lifespan's end does the latter too, for other servers."""
    try:
        state = app_state(app)
    except LookupError:  # the lifespan never started: nothing is open
        return
    state.http_streams.end_all()  # subscriptions over HTTP end with a last error, and complete
    steps: list[Coroutine[Any, Any, None]] = [
        state.ws_slots.close_all(GOING_AWAY, GOING_AWAY_REASON)
    ]
    if state.worker_protocol is not None:
        steps.append(state.worker_protocol.service.go_away())
    await asyncio.gather(*steps)


def build_state(
    settings: ApiSettings, *, metrics: ApiMetrics, streams: HttpStreams, traced: bool
) -> AppState:
    """The process-wide state, wired in one place (the composition root): its pools are made
    here and opened on first use; the lifespan closes them."""
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    if traced:
        trace_sql(engine)
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=min(PROBE_TIMEOUT, settings.redis_timeout_seconds),
        socket_timeout=settings.redis_timeout_seconds,
    )
    db = create_session_factory(engine)
    hub = EventHub(redis)
    hub.published = metrics.events_published
    tokens = TokenService(
        secret=settings.jwt_secret,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    denylist = Denylist(redis, db, access_ttl=tokens.access_ttl)
    state = AppState(
        settings=settings,
        engine=engine,
        db=db,
        redis=redis,
        tokens=tokens,
        passwords=Passwords(
            time_cost=settings.password_time_cost,
            memory_cost_kib=settings.password_memory_cost_kib,
        ),
        hub=hub,
        feeds=Feeds(db, hub, queue_size=hub.queue_size, delivered=metrics.events_delivered),
        limiter=RateLimiter.from_settings(redis, settings),
        denylist=denylist,
        is_revoked=denylist.is_revoked,
        metrics=metrics,
        http_streams=streams,
    )
    state.ws_slots = ConnectionSlots(state)
    return state


def create_app(settings: ApiSettings) -> Starlette:
    metrics = ApiMetrics()  # the middleware counts from the first request, the lifespan on
    traced = tracing.provider() is not None  # the process configured an exporter

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = build_state(settings, metrics=metrics, streams=view.streams, traced=traced)
        # Start-up leaves ~150k long-lived objects (schema, models, modules) that every full
        # collection would walk again: freezing them cut p99 several-fold in `just bench`;
        # GcPolicy goes on freezing what lives long (connections) as the process runs.
        gc.collect()
        gc.freeze()
        try:
            async with serve_worker_protocol(state) as protocol:
                state.grpc_port = protocol.port
                state.worker_protocol = protocol
                sweeper = asyncio.create_task(_sweep_expired_leases(state))
                collector = asyncio.create_task(
                    GcPolicy(settings.gc_freeze_seconds, settings.gc_full_collect_seconds).run()
                )
                scheduler = (
                    Scheduler(
                        db=state.db,
                        hub=state.hub,
                        dsn=asyncpg_dsn(settings.database_url),
                        interval_seconds=settings.scheduler_interval_seconds,
                        metrics=metrics,
                    )
                    if settings.scheduler
                    else None
                )
                scheduling = asyncio.create_task(scheduler.run()) if scheduler else None
                try:
                    setattr(app.state, STATE_KEY, state)  # read through app_state()
                    yield
                finally:
                    sweeper.cancel()
                    collector.cancel()
                    if scheduler is not None and scheduling is not None:
                        scheduling.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await scheduling
                        await scheduler.close()  # the lock is free for another process at once
        finally:
            await state.http_streams.close()
            await state.ws_slots.close()
            await state.hub.close()
            await state.redis.aclose()
            await state.engine.dispose()

    view = GraphQLView(
        schema=build_schema(
            introspection=settings.introspection_enabled,
            limits=QueryLimits(
                depth=settings.max_query_depth,
                aliases=settings.max_query_aliases,
                tokens=settings.max_query_tokens,
                cost=settings.max_query_cost,
            ),
            suggestions=not settings.production,
            tracing=traced,
        ),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allowed_origins=settings.allowed_origins,
        ping_seconds=settings.ws_ping_seconds,
    )
    # Each download holds a connection while it is read: at most half the pool's.
    downloads = ExportDownloads(max_running=max(1, settings.db_pool_size // 2))
    routes = [
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),
        Route("/health", health),
        Route("/ready", ready),
        Route("/live", live),
        Route("/metrics", metrics_endpoint),
        Route("/export", downloads.endpoint, methods=["GET"]),
        *export_routes(downloads),
    ]
    if settings.graphiql_enabled:  # GraphiQL's page loads its scripts and styles from here
        routes.append(Mount(static.ASSETS_URL, StaticFiles(directory=static.ASSETS)))
    if settings.web:  # last: every route above wins over the app's own paths
        routes.append(web_mount())
    middleware = [
        Middleware(RequestMetrics, metrics=metrics),
        Middleware(SecurityHeaders, production=settings.production),
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
    ]
    # CORS for the configured browser origins; with none configured, any origin in
    # development and none (same-origin pages only) in production.
    origins = settings.allowed_origins or ([] if settings.production else ["*"])
    if origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=CORS_HEADERS,
                expose_headers=["retry-after", "x-request-id"],
                max_age=600,
            ),
        )
    # Every log line written while a request is served carries its id.
    middleware.insert(0, Middleware(RequestIds))
    if traced:  # the server span, joined to the caller's traceparent (graph/tracing.py)
        middleware.insert(0, Middleware(ServerSpans, provider=tracing.provider()))
    # Outermost: the server's own send of each websocket, for its feeds (graph/live/fanout.py).
    middleware.insert(0, Middleware(ServerSend))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
