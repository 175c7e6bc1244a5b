"""SQL spans: one for each statement an engine runs (core/tracing.py has the tracer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core import tracing

MAX_STATEMENT = 2000  # characters of the statement a span keeps


def trace_sql(engine: AsyncEngine) -> None:
    """A span for each SQL statement this engine runs (the statement, never its values)."""
    sync = engine.sync_engine

    def before(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        context = args[1]
        verb = statement.split(None, 1)[0].upper() if statement.strip() else "SQL"
        context._englog_span = tracing.tracer().start_span(
            f"SQL {verb}",
            attributes={"db.system": "postgresql", "db.statement": statement[:MAX_STATEMENT]},
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
