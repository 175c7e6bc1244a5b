"""OpenTelemetry traces, for the API and the worker: one trace follows an insight from the
request's server span (graph/tracing.py: a caller's `traceparent` is joined) and its GraphQL
operation through its SQL, the enqueue, the task's delivery over gRPC, the worker's
Ollama call and the result's report back to the publish that reached subscribers.

ENGLOG_TRACING_EXPORTER picks where spans go: "none" (the default: spans cost nothing),
"console" (stdout, one JSON object a line), or "otlp" (OTLP over HTTP to
ENGLOG_OTLP_ENDPOINT, e.g. http://collector:4318/v1/traces). The context crosses processes
in W3C `traceparent` form: in the task's `trace_context` map (API → worker) and in gRPC
metadata (worker → API). Spans carry sizes and counts, never the user's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

# The worker imports this module: what only the API uses (SQLAlchemy here, Strawberry and the
# ASGI server spans in graph/tracing.py) is imported where it is used, not here.
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

Exporter = Literal["none", "console", "otlp"]

_provider: TracerProvider | None = None


def tracer() -> trace.Tracer:
    """EngLog's tracer: the configured provider's, or one that records nothing."""
    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer("englog")


def provider() -> TracerProvider | None:
    return _provider


def configure_tracing(
    service: str, exporter: Exporter, endpoint: str | None = None
) -> TracerProvider | None:
    """The process's tracer provider for this exporter (None for "none")."""
    if exporter == "none":
        return None
    made = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter == "console":
        made.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    use_provider(made)
    return made


def one_line(span: ReadableSpan) -> str:
    """A span as one compact JSON line: the exporter's default, indented, took some thirty
    lines a span and buried the logs that share the terminal."""
    line: str = span.to_json(indent=None)
    return line + "\n"


def use_provider(chosen: TracerProvider | None) -> TracerProvider | None:
    """Makes `chosen` EngLog's provider (tests give an in-memory one); the previous one."""
    global _provider  # one provider a process, as OpenTelemetry's own
    previous, _provider = _provider, chosen
    return previous


def inject() -> dict[str, str]:
    """The current trace context as W3C headers (empty outside a recording span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str] | Iterable[tuple[str, str | bytes]]) -> otel_context.Context:
    """A context whose parent is the one in `carrier` (headers, or gRPC metadata pairs)."""
    if not isinstance(carrier, Mapping):
        carrier = {key: value for key, value in carrier if isinstance(value, str)}
    return propagate.extract(carrier)


def current_trace_id() -> str | None:
    """The current span's trace id, 32 hex digits, or None."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def trace_sql(engine: AsyncEngine) -> None:
    """A span for each SQL statement this engine runs (the statement, never its values)."""
    from sqlalchemy import event

    sync = engine.sync_engine

    def before(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        context = args[1]
        verb = statement.split(None, 1)[0].upper() if statement.strip() else "SQL"
        context._englog_span = tracer().start_span(
            f"SQL {verb}",
            attributes={"db.system": "postgresql", "db.statement": statement[:2000]},
        )

    def after(_conn: Any, _cursor: Any, _statement: str, *args: Any) -> None:
        span = getattr(args[1], "_englog_span", None)
        if span is not None:
            span.end()

    def failed(context: Any) -> None:
        span = getattr(context.execution_context, "_englog_span", None)
        if span is not None:
            span.record_exception(context.original_exception)
            span.end()

    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    event.listen(sync, "handle_error", failed)
