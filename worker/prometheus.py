"""The worker's Prometheus metrics, on a small HTTP port of its own (ENGLOG_METRICS_PORT; off
when unset): the worker has no other port, and sits on a private network beside Ollama."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LONG_SECONDS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.connected = Gauge(
            "englog_worker_connected",
            "1 while registered with the API, 0 while reconnecting.",
            registry=registry,
        )
        self.running = Gauge("englog_worker_running_tasks", "Tasks running now.", registry=registry)
        self.tasks = Counter(
            "englog_worker_tasks",
            "Tasks run to an outcome (succeeded, failed, cancelled), by kind.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.task_duration = Histogram(
            "englog_worker_task_duration_seconds",
            "Time to run a task (the model call included), by kind.",
            ["kind"],
            buckets=LONG_SECONDS,
            registry=registry,
        )
        self.llm_tokens_per_second = Histogram(
            "englog_worker_llm_tokens_per_second",
            "Output tokens per second of the model's generation.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=registry,
        )

    def serve(self, host: str, port: int) -> int:
        """Serves /metrics on host:port (0: a free port) in a thread; the bound port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_address[1])
