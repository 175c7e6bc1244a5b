"""OpenTelemetry traces, for the API and the worker: one trace follows an insight from the
request's server span (graph/tracing.py: a caller's `traceparent` is joined) and its GraphQL
operation through its SQL, the enqueue, the task's delivery over gRPC, the worker's
Ollama call and the result's report back to the publish that reached subscribers.

ENGLOG_TRACING_EXPORTER picks where spans go: "none" (the default: spans cost nothing),
"console" (stdout, one JSON object a line), or "otlp" (OTLP over HTTP to
ENGLOG_OTLP_ENDPOINT, e.g. http://collector:4318/v1/traces). The context crosses processes
in W3C `traceparent` form: in the task's `trace_context` map (API → worker) and in gRPC
metadata (worker → API). Spans carry sizes and counts, never the user's text.

This module holds only what every process shares (the provider, the tracer, propagation):
the worker imports it, so the adapters to the API's libraries live with their layers,
db/tracing.py (SQL) and graph/tracing.py (server spans, GraphQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

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
