"""The worker process: dials the API over gRPC, takes tasks, runs them, reports back.

It never opens a database connection; everything a task needs arrives in the Task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import grpc.aio

from core import tracing
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import BUILTIN_MODEL, GOING_AWAY_METADATA, SEND_EMAIL, tokens_per_second
from worker.jobs import TaskFailed
from worker.llm import OllamaLLM
from worker.mail import mailer_for
from worker.prometheus import WorkerMetrics

# Re-exported: tests and callers build a Worker's runner from here.
from worker.runner import Runner as Runner
from worker.runner import build_runner as build_runner
from worker.settings import WorkerSettings
from worker.tasks import registry
from worker.tasks.kinds import Tools

logger = logging.getLogger("englog.worker")

VERSION = "0.1.0"
PROGRESS_FLUSH_SECONDS = 0.1  # deltas are batched: one ReportProgress per 100 ms, not per token
MAX_BACKOFF_SECONDS = 30.0


def channel_for(settings: WorkerSettings) -> grpc.aio.Channel:
    target = settings.api_grpc_address
    if settings.tls_ca_file:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(settings.tls_ca_file).read_bytes(),
            private_key=Path(settings.tls_key_file).read_bytes() if settings.tls_key_file else None,
            certificate_chain=Path(settings.tls_cert_file).read_bytes()
            if settings.tls_cert_file
            else None,
        )
        return grpc.aio.secure_channel(target, credentials)
    return grpc.aio.insecure_channel(target)


class LeaseLost(asyncio.CancelledError):
    """The API gave the task to someone else: stop working on it (a cancellation)."""


def going_away(error: grpc.aio.AioRpcError) -> bool:
    """Whether the API ended the stream because it shuts down (and took the leases back)."""
    return any(key == GOING_AWAY_METADATA for key, _ in error.trailing_metadata() or ())


class ProgressReporter:
    """Batches a task's deltas into one ReportProgress per PROGRESS_FLUSH_SECONDS."""

    def __init__(self, worker: Worker, task: pb.Task) -> None:
        self.worker = worker
        self.task = task
        self.buffer: list[str] = []
        self.percent = 0
        self.sequence = 0
        self.flushed_at = asyncio.get_running_loop().time()

    async def progress(self, delta: str, percent: int) -> None:
        self.buffer.append(delta)
        self.percent = max(0, min(100, percent))
        if asyncio.get_running_loop().time() - self.flushed_at >= PROGRESS_FLUSH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        client = self.worker.client
        if not self.buffer or client is None:
            return
        self.sequence += 1
        delta = "".join(self.buffer)
        self.buffer.clear()
        self.flushed_at = asyncio.get_running_loop().time()
        request = pb.ReportProgressRequest(
            task_id=self.task.task_id,
            lease_token=self.task.lease_token,
            delta=delta,
            percent=self.percent,
            sequence=self.sequence,
        )
        try:
            response = await client.report_progress(request)
        except (grpc.aio.AioRpcError, grpc.aio.UsageError):
            return  # progress is best effort; the result is what must arrive
        if not response.lease_held:
            raise LeaseLost


class Worker:
    def __init__(
        self, settings: WorkerSettings, runner: Runner, *, capabilities: tuple[str, ...], model: str
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.capabilities = capabilities
        self.model = model
        self.worker_id = uuid.uuid4()
        self.slots = asyncio.Semaphore(settings.max_concurrent_tasks)
        self.running: dict[str, asyncio.Task[None]] = {}  # lease token -> task
        self.client: WorkerClient | None = None
        self.connected = asyncio.Event()
        self.metrics = WorkerMetrics()
        self.metrics_port: int | None = None  # bound once run() serves /metrics

    async def run(self, stop: asyncio.Event) -> None:
        """Connects, and reconnects with backoff, until `stop` is set; then finishes its tasks.

        One channel for the whole run: grpc reconnects it by itself, so a task that finishes
        while the API is away reports its result to the API that comes back.
        """
        if self.settings.metrics_port is not None:
            self.metrics_port = self.metrics.serve(
                self.settings.metrics_host, self.settings.metrics_port
            )
            logger.info(
                "metrics on http://%s:%d/metrics", self.settings.metrics_host, self.metrics_port
            )
        async with channel_for(self.settings) as channel:
            attempt = 0
            while not stop.is_set():
                try:
                    await self._session(channel, stop)
                    attempt = 0
                except (grpc.aio.AioRpcError, OSError) as exc:
                    # A session that got as far as registering starts the back-off afresh.
                    attempt = 1 if self.connected.is_set() else attempt + 1
                    self.connected.clear()
                    self.metrics.connected.set(0)
                    jitter = random.uniform(0.5, 1.0)  # noqa: S311 - backoff jitter, not security
                    delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(attempt, 6)) * jitter
                    code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else exc
                    logger.warning("API unreachable (%s); retrying in %.1f s", code, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
            await self._drain()

    async def _session(self, channel: grpc.aio.Channel, stop: asyncio.Event) -> None:
        client = WorkerClient(channel)
        registration = await client.register_worker(
            pb.RegisterWorkerRequest(
                worker_id=str(self.worker_id),
                name=self.settings.worker_name,
                capabilities=list(self.capabilities),
                version=VERSION,
                max_concurrent_tasks=self.settings.max_concurrent_tasks,
                model=self.model,
            )
        )
        self.client = client
        self.connected.set()
        self.metrics.connected.set(1)
        logger.info("registered with %s as %s", self.settings.api_grpc_address, self.worker_id)
        heartbeat = asyncio.create_task(
            self._heartbeats(client, registration.heartbeat_interval_seconds)
        )
        # Only the kinds it can run: an e-mail waits in the queue for a worker that sends mail
        # rather than being failed by one that cannot.
        stream = client.stream_tasks(
            pb.StreamTasksRequest(
                free_slots=self.settings.max_concurrent_tasks, kinds=list(self.capabilities)
            )
        )
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                read = asyncio.ensure_future(stream.read())
                done, _ = await asyncio.wait({read, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    # Take nothing new; finish what runs while heartbeats keep the leases.
                    read.cancel()
                    stream.cancel()
                    await self._drain()
                    return
                try:
                    message = read.result()
                except grpc.aio.AioRpcError as exc:
                    if going_away(exc):
                        self._abandon_tasks()
                    raise
                if message is grpc.aio.EOF or not isinstance(message, pb.Task):
                    raise grpc.aio.AioRpcError(
                        grpc.StatusCode.UNAVAILABLE,
                        grpc.aio.Metadata(),
                        grpc.aio.Metadata(),
                        "stream ended",
                    )
                await self.slots.acquire()
                self.running[message.lease_token] = asyncio.create_task(self._execute(message))
        finally:
            stopper.cancel()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    def _abandon_tasks(self) -> None:
        """The API handed our leases back (it shuts down): another worker may already have
        the tasks, and results for those leases would be refused, so stop them now."""
        if self.running:
            logger.warning(
                "the API is shutting down and took back our %d tasks; stopping them",
                len(self.running),
            )
        for task in self.running.values():
            task.cancel()

    async def _heartbeats(self, client: WorkerClient, interval: int) -> None:
        while True:
            await asyncio.sleep(max(1, interval))
            tokens = list(self.running)
            try:
                response = await client.heartbeat(pb.HeartbeatRequest(lease_tokens=tokens))
            except grpc.aio.AioRpcError as exc:
                logger.warning("heartbeat failed: %s", exc.code())
                continue
            for token in set(tokens) - set(response.held_lease_tokens):
                logger.warning("lease %s lost; stopping that task", token)
                if token in self.running:
                    self.running[token].cancel()

    async def _execute(self, task: pb.Task) -> None:
        # The task's span is a child of its delivery on the API (the trace of the request
        # that asked for it); the API's span of the report is a child of this one.
        parent = tracing.extract(dict(task.trace_context))
        span_name = f"task {task.kind}"
        try:
            with (
                tracing.tracer().start_as_current_span(span_name, context=parent) as span,
                self._measured(task.kind) as measure,
            ):
                span.set_attribute("englog.task.attempt", task.attempt)
                outcome = await self._outcome(task)
                measure(outcome)
                await self._report(task, outcome, tracing.inject())
        except asyncio.CancelledError:
            logger.info("task %s cancelled", task.task_id)
        finally:
            self.running.pop(task.lease_token, None)
            self.slots.release()

    @contextlib.contextmanager
    def _measured(self, kind: str) -> Iterator[Callable[[pb.ReportResultRequest], None]]:
        """Counts the task while it runs; the caller hands its outcome to the callable."""
        metrics, began = self.metrics, time.perf_counter()
        outcome = "cancelled"

        def measure(result: pb.ReportResultRequest) -> None:
            nonlocal outcome
            outcome = "succeeded" if result.success is not None else "failed"
            stats = result.success.stats if result.success is not None else {}
            speed = tokens_per_second(stats)
            if speed is not None:
                metrics.llm_tokens_per_second.observe(speed)

        metrics.running.inc()
        try:
            yield measure
        finally:
            metrics.running.dec()
            metrics.tasks.labels(kind, outcome).inc()
            metrics.task_duration.labels(kind).observe(time.perf_counter() - began)

    async def _outcome(self, task: pb.Task) -> pb.ReportResultRequest:
        reporter = ProgressReporter(self, task)
        try:
            success = await self.runner(task, reporter.progress)
            await reporter.flush()
            return pb.ReportResultRequest(
                task_id=task.task_id, lease_token=task.lease_token, success=success
            )
        except TaskFailed as failure:
            reason, retryable = failure.reason, failure.retryable
        except Exception as exc:  # a bug in task code is a failed task, never a dead worker
            logger.exception("task %s crashed", task.task_id)
            reason, retryable = f"worker error: {type(exc).__name__}", True
        return pb.ReportResultRequest(
            task_id=task.task_id,
            lease_token=task.lease_token,
            failure=pb.Failure(reason=reason, retryable=retryable),
        )

    async def _report(
        self, task: pb.Task, result: pb.ReportResultRequest, trace_context: dict[str, str]
    ) -> None:
        """Reports until the API has it: across reconnects, until the lease would be gone."""
        for attempt in range(8):
            client = self.client
            if client is not None:
                try:
                    response = await client.report_result(result, trace_context=trace_context)
                    if not response.accepted:
                        logger.info("result of %s not accepted (lease moved on)", task.task_id)
                    return
                except (grpc.aio.AioRpcError, grpc.aio.UsageError) as exc:
                    logger.warning("reporting %s failed: %s", task.task_id, exc)
            await asyncio.sleep(min(10.0, 0.5 * 2**attempt))
        logger.error("gave up reporting %s; its lease will expire and it runs again", task.task_id)

    async def _drain(self) -> None:
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)


async def run_worker(settings: WorkerSettings, stop: asyncio.Event) -> None:
    mailer = mailer_for(settings)
    if mailer is None:
        logger.info(
            "this worker sends no e-mail (neither ENGLOG_SMTP_HOST nor ENGLOG_MAILBOX_FILE "
            "is set): %s tasks wait for a worker that does",
            SEND_EMAIL,
        )
    else:
        logger.info("e-mails are %s", mailer.description)
    llm = OllamaLLM(settings) if settings.ollama_host else None
    try:
        worker = Worker(
            settings,
            build_runner(llm, mailer=mailer),
            # The kinds these tools run (worker/tasks/registry.py): e-mail only with a mailer.
            capabilities=registry.capabilities(Tools(llm=llm, mailer=mailer)),
            model=settings.ollama_model if llm else BUILTIN_MODEL,
        )
        await worker.run(stop)
    finally:
        if llm is not None:
            await llm.aclose()


def serve_forever(settings: WorkerSettings) -> None:
    """`englog worker`: runs until SIGINT/SIGTERM, then finishes or hands back its tasks."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
