"""create_app(settings) -> Starlette. The lifespan opens the pools; nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
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
from starlette.routing import Route, WebSocketRoute

from db.engine import create_engine, create_session_factory
from graph.auth.passwords import Passwords
from graph.auth.tokens import TokenService
from graph.context import AppState
from graph.events import EventHub
from graph.gc_policy import GcPolicy
from graph.grpc_server import requeue_expired_leases, serve_worker_protocol
from graph.http import GraphQLView
from graph.middleware import BodyLimit, SecurityHeaders
from graph.query_limits import QueryLimits
from graph.schema import build_schema
from graph.settings import ApiSettings

logger = logging.getLogger("englog.api")
PROBE_TIMEOUT = 2.0


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
    state: AppState = request.state.englog
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
        except Exception:  # the database may be away: try again next round
            logger.warning("lease sweep failed", exc_info=True)


def create_app(settings: ApiSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=PROBE_TIMEOUT)
        state = AppState(
            settings=settings,
            engine=engine,
            db=create_session_factory(engine),
            redis=redis,
            tokens=TokenService(
                secret=settings.jwt_secret,
                access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
                refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            ),
            passwords=Passwords(
                time_cost=settings.password_time_cost,
                memory_cost_kib=settings.password_memory_cost_kib,
            ),
            hub=EventHub(redis),
        )
        # Start-up leaves ~150k long-lived objects (schema, models, modules) that every full
        # collection would walk again: freezing them cut p99 several-fold in `just bench`;
        # GcPolicy goes on freezing what lives long (connections) as the process runs.
        gc.collect()
        gc.freeze()
        try:
            async with serve_worker_protocol(state) as state.grpc_port:
                sweeper = asyncio.create_task(_sweep_expired_leases(state))
                collector = asyncio.create_task(
                    GcPolicy(settings.gc_freeze_seconds, settings.gc_full_collect_seconds).run()
                )
                try:
                    app.state.englog = state  # for operators and tests; requests use the scope
                    yield {"englog": state}
                finally:
                    sweeper.cancel()
                    collector.cancel()
        finally:
            await state.ws_slots.close()
            await state.hub.close()
            await redis.aclose()
            await engine.dispose()

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
        ),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allowed_origins=settings.allowed_origins,
    )
    routes = [
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),
        Route("/health", health),
        Route("/ready", ready),
        Route("/live", live),
    ]
    middleware = [
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
                allow_headers=["authorization", "content-type", "accept"],
                expose_headers=["retry-after"],
                max_age=600,
            ),
        )
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
