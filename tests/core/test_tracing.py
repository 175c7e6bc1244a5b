"""One insight, one trace: the GraphQL operation, its SQL, the enqueue, the delivery over the
real gRPC server, the worker's task and Ollama call (the fake Ollama on loopback), the report
back and its publishes, in an in-memory exporter, with the right parents and none of the
user's text."""

from __future__ import annotations

import asyncio
import json

import httpx
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph.app import create_app
from tests.factories import Api, make_settings
from tests.fakes.insight_answers import narrative, sections_of
from tests.fakes.ollama import FakeOllama, Script
from tests.graph.tasks.support import insight_reaching
from tests.worker import worker_settings
from worker.client import run_worker

SECRET = "You shipped the private quarterly thing."
# A well-formed answer (worker/insights checks it), its first section the user's secret.
REPLY = narrative(sections_of("WEEKLY_REPORT"), [SECRET])
REQUEST = """
mutation Request($input: RequestInsightInput!) { requestInsight(input: $input) { id } }
"""


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    names = []
    current = parent_of(span, spans)
    while current is not None:
        names.append(current.name)
        current = parent_of(current, spans)
    return names


async def test_one_insight_is_one_trace_from_the_request_to_the_publish(
    spans: InMemorySpanExporter, database_url: str, redis_url: str
) -> None:
    app = create_app(make_settings(database_url, redis_url))  # traced: a provider is set
    with FakeOllama() as fake:
        fake.script = Script(reply=REPLY)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://englog.test"
            ) as client,
        ):
            api = Api(client)
            account = await api.sign_up()
            spans.clear()
            data = await api.data(
                REQUEST,
                {
                    "input": {
                        "kind": "WEEKLY_REPORT",
                        "periodStart": "2026-11-02",
                        "periodEnd": "2026-11-08",
                    }
                },
                account.access_token,
            )
            insight_id = data["requestInsight"]["id"]
            settings = worker_settings(fake.url).model_copy(
                update={"api_grpc_address": f"127.0.0.1:{app.state.englog.grpc_port}"}
            )
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(settings, stop))
            try:
                found = await insight_reaching(api, account, insight_id, within=30)
            finally:
                stop.set()
                await asyncio.wait_for(worker, 30)
    assert f"## Accomplishments\n\n{SECRET}\n" in found["content"]

    finished = list(spans.get_finished_spans())
    [operation] = named(finished, "GraphQL Query: Request")
    [enqueue] = named(finished, "enqueue generate_insight")
    [deliver] = named(finished, "deliver generate_insight")
    [task] = named(finished, "task generate_insight")
    [ollama] = named(finished, "ollama.chat")
    [report] = named(finished, "report_result")
    trace_id = operation.context.trace_id
    for span in (enqueue, deliver, task, ollama, report):
        assert span.context.trace_id == trace_id, span.name
    assert "GraphQL Query: Request" in ancestors(enqueue, finished)
    assert any(
        span.name == "SQL INSERT" and "GraphQL Query: Request" in ancestors(span, finished)
        for span in finished
    )
    assert parent_of(deliver, finished) is enqueue
    assert parent_of(task, finished) is deliver
    assert parent_of(ollama, finished) is task
    assert parent_of(report, finished) is task
    publishes = [span for span in named(finished, "publish") if parent_of(span, finished)]
    assert any(parent_of(span, finished) is report for span in publishes)
    assert ollama.attributes is not None
    assert ollama.attributes["llm.model"] == "llama3.2:3b"
    assert int(str(ollama.attributes["llm.output_tokens"])) > 0
    assert int(str(ollama.attributes["llm.prompt_tokens"])) > 0
    # Sizes and counts only: neither the answer nor anything of the account in any span.
    recorded = json.dumps([dict(span.attributes or {}) for span in finished])
    for secret in ("private quarterly", account.email, account.access_token):
        assert secret not in recorded
