"""The one bridge between grpcio's asyncio API and the betterproto2 messages.

grpcio deals in bytes through generic method handlers; this module gives the servicer and
the client typed messages (`Message.parse` in, `bytes(message)` out) and owns the method
table, so nothing else needs generated gRPC stubs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import betterproto2
import grpc
import grpc.aio

from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import SESSION_METADATA

SERVICE = "englog.worker.v1.WorkerService"

Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Method:
    name: str
    attribute: str
    request: type[betterproto2.Message]
    response: type[betterproto2.Message]
    server_streaming: bool = False

    @property
    def path(self) -> str:
        return f"/{SERVICE}/{self.name}"


METHODS = (
    Method(
        "RegisterWorker", "register_worker", pb.RegisterWorkerRequest, pb.RegisterWorkerResponse
    ),
    Method("Heartbeat", "heartbeat", pb.HeartbeatRequest, pb.HeartbeatResponse),
    Method("StreamTasks", "stream_tasks", pb.StreamTasksRequest, pb.Task, server_streaming=True),
    Method(
        "ReportProgress", "report_progress", pb.ReportProgressRequest, pb.ReportProgressResponse
    ),
    Method("ReportResult", "report_result", pb.ReportResultRequest, pb.ReportResultResponse),
)


class WorkerServicer(Protocol):
    """What the API implements; each method gets the typed request and grpc's context."""

    async def register_worker(
        self, request: pb.RegisterWorkerRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RegisterWorkerResponse: ...

    async def heartbeat(
        self, request: pb.HeartbeatRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.HeartbeatResponse: ...

    def stream_tasks(
        self, request: pb.StreamTasksRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.Task]: ...

    async def report_progress(
        self, request: pb.ReportProgressRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReportProgressResponse: ...

    async def report_result(
        self, request: pb.ReportResultRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReportResultResponse: ...


def _serialize(message: betterproto2.Message) -> bytes:
    return bytes(message)


def generic_handler(servicer: WorkerServicer) -> grpc.GenericRpcHandler:
    """The servicer's methods as grpcio handlers, (de)serialising with the messages."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in METHODS:
        implementation = getattr(servicer, method.attribute)
        factory = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = factory(
            implementation,
            request_deserializer=method.request.parse,
            response_serializer=_serialize,
        )
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


class WorkerClient:
    """Typed calls over a grpc.aio channel; the session token rides in the metadata."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._calls: dict[str, Any] = {}
        for method in METHODS:
            make = channel.unary_stream if method.server_streaming else channel.unary_unary
            self._calls[method.attribute] = make(
                method.path,
                request_serializer=_serialize,
                response_deserializer=method.response.parse,
            )
        self.session_token: str | None = None

    def _metadata(self) -> Metadata:
        return ((SESSION_METADATA, self.session_token),) if self.session_token else ()

    def _unary(self, name: str) -> Callable[..., Awaitable[Any]]:
        return self._calls[name]  # type: ignore[no-any-return]

    async def register_worker(
        self, request: pb.RegisterWorkerRequest, *, timeout: float | None = 10
    ) -> pb.RegisterWorkerResponse:
        response: pb.RegisterWorkerResponse = await self._unary("register_worker")(
            request, timeout=timeout
        )
        self.session_token = response.session_token
        return response

    async def heartbeat(
        self, request: pb.HeartbeatRequest, *, timeout: float | None = 10
    ) -> pb.HeartbeatResponse:
        response: pb.HeartbeatResponse = await self._unary("heartbeat")(
            request, metadata=self._metadata(), timeout=timeout
        )
        return response

    def stream_tasks(self, request: pb.StreamTasksRequest) -> grpc.aio.UnaryStreamCall[Any, Any]:
        call: grpc.aio.UnaryStreamCall[Any, Any] = self._calls["stream_tasks"](
            request, metadata=self._metadata()
        )
        return call

    async def report_progress(
        self, request: pb.ReportProgressRequest, *, timeout: float | None = 10
    ) -> pb.ReportProgressResponse:
        response: pb.ReportProgressResponse = await self._unary("report_progress")(
            request, metadata=self._metadata(), timeout=timeout
        )
        return response

    async def report_result(
        self,
        request: pb.ReportResultRequest,
        *,
        timeout: float | None = 30,
        trace_context: Mapping[str, str] | None = None,
    ) -> pb.ReportResultResponse:
        """`trace_context`: W3C headers for the API's span of this report (a child of the
        worker's task span)."""
        metadata = (*self._metadata(), *(trace_context or {}).items())
        response: pb.ReportResultResponse = await self._unary("report_result")(
            request, metadata=metadata, timeout=timeout
        )
        return response
