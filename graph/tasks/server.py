"""The API side of the worker protocol: a grpc.aio server in the API's lifespan, with its
credentials, serving graph/tasks/servicer.py until the process shuts down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio

from db import queue
from db.engine import asyncpg_dsn
from graph.context import AppState
from graph.tasks.servicer import WorkerService
from protos.bridge import generic_handler

logger = logging.getLogger("englog.grpc")

# Unary calls in flight when the server stops get this long to finish.
STOP_GRACE_SECONDS = 3


def _credentials(state: AppState) -> grpc.ServerCredentials | None:
    settings = state.settings
    if not settings.grpc_tls:
        return None
    key, cert, ca = (
        Path(str(path)).read_bytes()
        for path in (
            settings.grpc_tls_key_file,
            settings.grpc_tls_cert_file,
            settings.grpc_tls_ca_file,
        )
    )
    return grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=ca,
        require_client_auth=True,
    )


@dataclass(frozen=True)
class WorkerProtocol:
    """The running worker protocol: its bound port, and its servicer (for `go_away`)."""

    port: int
    service: WorkerService


@asynccontextmanager
async def serve_worker_protocol(state: AppState) -> AsyncIterator[WorkerProtocol]:
    """Serves the worker protocol for the duration; at its end the workers' leases are
    handed back (WorkerService.go_away, unless called before) and the server stops."""
    async with queue.TaskWakeups(
        asyncpg_dsn(state.settings.database_url), poll_seconds=state.settings.task_poll_seconds
    ) as wakeups:
        server = grpc.aio.server()
        service = WorkerService(state, wakeups)
        server.add_generic_rpc_handlers((generic_handler(service),))
        address = f"{state.settings.grpc_host}:{state.settings.grpc_port}"
        credentials = _credentials(state)
        port = (
            server.add_secure_port(address, credentials)
            if credentials is not None
            else server.add_insecure_port(address)
        )
        await server.start()
        mode = "mTLS" if credentials else "plaintext, loopback only"
        logger.info("gRPC worker protocol on %s:%d (%s)", state.settings.grpc_host, port, mode)
        try:
            yield WorkerProtocol(port, service)
        finally:
            await service.go_away()
            await server.stop(grace=STOP_GRACE_SECONDS)
