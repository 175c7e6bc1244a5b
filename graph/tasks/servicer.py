"""The worker protocol's calls: each parses the request, runs the task kind's hook
(graph/tasks/kinds.py) around the queue's step (db/queue.py), and maps the answer.

The task's job arrives complete in the Task message, so workers need no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import grpc.aio

from core import tracing
from db import queue
from graph.context import AppState
from graph.errors import AppError, is_unavailable
from graph.tasks.hand_back import handing_back
from graph.tasks.kinds import Outcome
from graph.tasks.registry import NAMES, UNNAMED_KINDS, task_kind
from graph.tasks.results import (
    CheckedSuccess,
    InvalidResult,
    check_progress,
    check_success,
    clean_reason,
)
from graph.transaction import transaction
from graph.validation import parse_uuid
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import GOING_AWAY_METADATA, SESSION_METADATA

logger = logging.getLogger("englog.grpc")

Context = grpc.aio.ServicerContext[Any, Any]

STREAM_RETRY_FIRST_SECONDS = 0.1
STREAM_RETRY_MAX_SECONDS = 2.0
STREAMS_END_TIMEOUT = 3.0  # how long a shutdown waits for task streams to end


@contextlib.asynccontextmanager
async def _database(context: Context) -> AsyncIterator[None]:
    """PostgreSQL unreachable answers UNAVAILABLE (the worker retries), not UNKNOWN; anything
    else unexpected answers INTERNAL with nothing of the error (grpc would put the exception,
    SQL and all, in the details) and is logged here instead."""
    try:
        yield
    except grpc.aio.AbortError:
        raise  # an answer already chosen
    except Exception as exc:
        if is_unavailable(exc):
            logger.warning("worker call failed: the database is unavailable (%r)", exc)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable")
        logger.exception("worker call failed")
        await context.abort(grpc.StatusCode.INTERNAL, "internal error (logged by the API)")


def _delivery_trace(task: queue.LeasedTask, owner: str) -> dict[str, str]:
    """The span of a task's delivery, in the trace of the request that enqueued it; its
    context, for the worker's spans to be its children."""
    parent = tracing.extract(task.payload.get(queue.TRACE_CONTEXT) or {})
    name = f"deliver {task.kind}"
    with tracing.tracer().start_as_current_span(name, context=parent) as span:
        span.set_attribute("englog.task.attempt", task.attempt)
        span.set_attribute("englog.worker", owner)
        return tracing.inject()


def _stream_kinds(request: pb.StreamTasksRequest) -> tuple[str, ...]:
    """The kinds a task stream leases: those it asks for that this server knows, or
    UNNAMED_KINDS when it names none (workers older than `kinds`). A task no connected
    worker asks for stays queued until one that can run it connects."""
    if not request.kinds:
        return UNNAMED_KINDS
    asked = set(request.kinds)
    kinds = tuple(name for name in NAMES if name in asked)
    if asked - set(kinds):
        logger.warning(
            "a worker asked for task kinds this server does not know: %s",
            ",".join(sorted(asked - set(kinds))),
        )
    return kinds


class WorkerService:
    """Implements protos.bridge.WorkerServicer against PostgreSQL."""

    def __init__(self, state: AppState, wakeups: queue.TaskWakeups) -> None:
        self.state = state
        self.settings = state.settings
        # One LISTEN connection per process, shared by every worker stream it serves.
        self.wakeups = wakeups
        # Set when the process shuts down: no new stream, and the open ones end.
        self.closing = asyncio.Event()
        self._streams: dict[str, int] = {}  # worker (lease owner) -> its open task streams
        self._no_streams = asyncio.Event()
        self._no_streams.set()

    @property
    def connected_workers(self) -> int:
        """Workers with a task stream open on this process."""
        return len(self._streams)

    async def _going_away(self, context: Context) -> None:
        await context.abort(
            grpc.StatusCode.UNAVAILABLE,
            "the API is shutting down; its leases go back to the queue",
            trailing_metadata=((GOING_AWAY_METADATA, "1"),),
        )

    async def go_away(self) -> None:
        """The start of a graceful shutdown: every task stream ends (UNAVAILABLE, with
        GOING_AWAY_METADATA) and the leases of the workers they served go back to the
        queue at once, for workers on other API processes (or this one's successor) to
        take, instead of after their expiry. Results reported meanwhile are still taken:
        a lease is either completed or handed back, never both."""
        if self.closing.is_set():
            return
        owners = set(self._streams)
        self.closing.set()
        self.wakeups.wake()  # streams waiting for work look up and see the closing
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_streams.wait(), STREAMS_END_TIMEOUT)
        if not owners:
            return
        try:
            async with handing_back(self.state) as hand_back:
                released = await queue.release_owned(hand_back.session, owners=owners)
                for task in released:
                    await hand_back.given_up(
                        kind=task.kind, payload=task.payload, status=task.status, error=None
                    )
        except Exception:  # the database may be away: the leases then expire as usual
            logger.warning("could not hand the workers' leases back", exc_info=True)
            return
        logger.info("handed %d leased tasks of %d workers back", len(released), len(owners))

    # -- session -------------------------------------------------------------------------

    async def _worker_id(self, context: Context) -> uuid.UUID:
        token = dict(context.invocation_metadata() or ()).get(SESSION_METADATA)
        if not token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "register first")
        try:
            return self.state.tokens.decode(str(token), "worker").user_id
        except AppError:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "session expired: register again")
        raise AssertionError("unreachable: abort raises")

    async def register_worker(
        self, request: pb.RegisterWorkerRequest, context: Context
    ) -> pb.RegisterWorkerResponse:
        try:
            worker_id = uuid.UUID(request.worker_id)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "worker_id must be a UUID")
        if self.closing.is_set():
            await self._going_away(context)
        issued = self.state.tokens.issue_worker(worker_id)
        logger.info(
            "worker %s (%s, %s) registered: %s, %d slots",
            request.name,
            request.version,
            request.model,
            ",".join(request.capabilities),
            request.max_concurrent_tasks,
        )
        return pb.RegisterWorkerResponse(
            session_token=issued.token,
            heartbeat_interval_seconds=max(1, int(self.settings.heartbeat_interval_seconds)),
            lease_seconds=max(1, int(self.settings.task_lease_seconds)),
            server_time=datetime.now(UTC),
        )

    # -- leases --------------------------------------------------------------------------

    async def heartbeat(
        self, request: pb.HeartbeatRequest, context: Context
    ) -> pb.HeartbeatResponse:
        worker_id = await self._worker_id(context)
        tokens = {token for token in map(parse_uuid, request.lease_tokens) if token is not None}
        async with _database(context), self.state.db() as session, session.begin():
            held = await queue.extend_leases(
                session,
                owner=str(worker_id),
                lease_tokens=tokens,
                lease_seconds=self.settings.task_lease_seconds,
            )
        return pb.HeartbeatResponse(held_lease_tokens=sorted(str(token) for token in held))

    async def stream_tasks(
        self, request: pb.StreamTasksRequest, context: Context
    ) -> AsyncIterator[pb.Task]:
        worker_id = await self._worker_id(context)
        if self.closing.is_set():
            await self._going_away(context)
        owner = str(worker_id)
        capacity = max(1, min(int(request.free_slots), 64))
        kinds = _stream_kinds(request)
        self._streams[owner] = self._streams.get(owner, 0) + 1
        self._no_streams.clear()
        try:
            retry = STREAM_RETRY_FIRST_SECONDS
            while not self.closing.is_set():
                # Read before looking at the queue: a wake-up that lands in between is not lost.
                generation = self.wakeups.generation
                try:
                    running, leased = await self._lease(owner, capacity, kinds)
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    # The stream outlives a database outage: the worker stays connected and
                    # gets tasks as soon as PostgreSQL is back, not after its own back-off.
                    logger.warning(
                        "task stream: the database is unavailable (%r); retrying in %.1f s",
                        exc,
                        retry,
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.closing.wait(), retry)
                    retry = min(retry * 2, STREAM_RETRY_MAX_SECONDS)
                    continue
                retry = STREAM_RETRY_FIRST_SECONDS
                # Committed: the lease is durable before the worker hears of it.
                for task in leased:
                    kind = task_kind(task.kind)
                    await kind.after_commit(
                        self.state, payload=task.payload, outcome=Outcome.LEASED
                    )
                    yield pb.Task(
                        task_id=str(task.id),
                        kind=task.kind,
                        attempt=task.attempt,
                        lease_token=str(task.lease_token),
                        lease_expires_at=task.lease_expires_at,
                        trace_context=_delivery_trace(task, owner),
                        **kind.job_message(task.payload),
                    )
                if leased and running + len(leased) < capacity:
                    continue  # there may be more waiting
                await self.wakeups.wait(after=generation)
            await self._going_away(context)
        finally:
            self._streams[owner] -= 1
            if not self._streams[owner]:
                del self._streams[owner]
            if not self._streams:
                self._no_streams.set()

    async def _lease(
        self, owner: str, capacity: int, kinds: tuple[str, ...]
    ) -> tuple[int, list[queue.LeasedTask]]:
        """How many tasks `owner` runs, and the ones of `kinds` leased to it now (up to
        `capacity`)."""
        async with transaction(self.state.db, self.state.hub) as session:
            running = await queue.count_leased(session, owner=owner)
            leased: list[queue.LeasedTask] = []
            if running < capacity:
                leased = await queue.lease(
                    session,
                    owner=owner,
                    limit=capacity - running,
                    lease_seconds=self.settings.task_lease_seconds,
                    kinds=kinds,
                )
                for task in leased:
                    await task_kind(task.kind).on_leased(session, payload=task.payload)
        return running, leased

    async def report_progress(
        self, request: pb.ReportProgressRequest, context: Context
    ) -> pb.ReportProgressResponse:
        worker_id = await self._worker_id(context)
        if parse_uuid(request.task_id) is None or parse_uuid(request.lease_token) is None:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "task_id and lease_token are UUIDs"
            )
        try:
            check_progress(request)
        except InvalidResult as exc:
            # Only this report is refused: the lease stays, and the result decides.
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid progress: {exc}")
        async with _database(context), self.state.db() as session:
            task = await queue.leased_task(
                session,
                task_id=uuid.UUID(request.task_id),
                lease_token=uuid.UUID(request.lease_token),
                owner=str(worker_id),
            )
        if task is not None:
            await task_kind(task.kind).on_progress(
                self.state, payload=task.payload, delta=request.delta, percent=int(request.percent)
            )
        return pb.ReportProgressResponse(lease_held=task is not None)

    async def report_result(
        self, request: pb.ReportResultRequest, context: Context
    ) -> pb.ReportResultResponse:
        # A child of the worker's task span (its context rides in the call's metadata).
        parent = tracing.extract(context.invocation_metadata() or ())
        with tracing.tracer().start_as_current_span("report_result", context=parent) as span:
            span.set_attribute("englog.task.outcome", "success" if request.success else "failure")
            return await self._report_result(request, context)

    async def _report_result(
        self, request: pb.ReportResultRequest, context: Context
    ) -> pb.ReportResultResponse:
        owner = str(await self._worker_id(context))
        if parse_uuid(request.task_id) is None or parse_uuid(request.lease_token) is None:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "task_id and lease_token are UUIDs"
            )
        if request.success is None and request.failure is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "success or failure is required")
        task_id, token = uuid.UUID(request.task_id), uuid.UUID(request.lease_token)
        checked: CheckedSuccess | None = None
        invalid: str | None = None
        if request.success is not None:
            try:
                checked = check_success(request.success)
            except InvalidResult as exc:
                invalid = str(exc)
        status: str | None = None
        async with _database(context), handing_back(self.state) as hand_back:
            session = hand_back.session
            task = await queue.get_task(session, task_id=task_id)
            if task is None:
                return pb.ReportResultResponse(accepted=False)
            kind = task_kind(task.kind)
            if task.lease_token == token and task.lease_owner != owner:
                # Not a lease that moved on (that answers accepted=false): the token was
                # taken from the worker that holds it, whose lease stays untouched.
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, "this lease is held by another worker"
                )
            if checked is not None:
                accepted = await queue.complete(
                    session, task_id=task_id, lease_token=token, owner=owner
                )
                if accepted:
                    await kind.on_success(session, payload=task.payload, result=checked)
            else:
                # An invalid Success ends the attempt like a retryable failure: the worker
                # cannot mend the result it sent, and holding the lease until it expired
                # would only delay the next attempt (and the slot it frees).
                if invalid is not None:
                    error = clean_reason(f"the worker's result was refused: {invalid}")
                    retryable = True
                else:
                    assert request.failure is not None  # checked above: one of the two
                    error = clean_reason(request.failure.reason)
                    retryable = request.failure.retryable
                status = await queue.fail(
                    session,
                    task_id=task_id,
                    lease_token=token,
                    owner=owner,
                    error=error,
                    retryable=retryable,
                    base_delay=kind.retry.base_delay,
                    max_delay=kind.retry.max_delay,
                )
                accepted = status is not None
                if status is not None:
                    await hand_back.given_up(
                        kind=task.kind, payload=task.payload, status=status, error=error
                    )
        if accepted:
            self.wakeups.wake()  # a slot freed: this process's streams may lease again
            if checked is not None or status != "queued":  # the task has ended
                self.state.metrics.task_ended(
                    kind=task.kind,
                    outcome="succeeded" if checked is not None else str(status),
                    attempts=task.attempts,
                    seconds=(datetime.now(UTC) - task.created_at).total_seconds(),
                    stats=checked.stats if checked is not None else {},
                )
            if checked is not None:
                await kind.after_commit(self.state, payload=task.payload, outcome=Outcome.SUCCEEDED)
        if invalid is not None:
            outcome = "; the attempt failed" if accepted else ""
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"invalid result: {invalid}{outcome}"
            )
        return pb.ReportResultResponse(accepted=accepted)
