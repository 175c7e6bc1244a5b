"""The server span (graph/tracing.py): a caller's W3C traceparent is joined, so every span of
its request, the log lines written while it is served among them, carries the caller's trace
id; and no span holds the GraphQL text a GET carries in its query string."""

from __future__ import annotations

import json
import logging

import httpx
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import JsonFormatter
from graph.app import create_app
from tests.factories import Api, make_settings
from tests.live import eventually, live_server, me_answers, ws_client

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
PROJECTS = "query Projects { projects { name } }"


def access_logged(app: ASGIApp, lines: list[dict[str, object]]) -> ASGIApp:
    """The app behind a server that logs each response as uvicorn's access log does: a JSON
    line written from inside the `send` the application calls."""
    formatter = JsonFormatter()

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                record = logging.LogRecord(
                    "uvicorn.access", logging.INFO, __file__, 0, "%s %s", ("POST", "/"), None
                )
                lines.append(json.loads(formatter.format(record)))
            await send(message)

        await app(scope, receive, sending)

    return served


async def websocket_spans(spans: InMemorySpanExporter) -> int:
    return len(named(list(spans.get_finished_spans()), "websocket /graphql"))


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    by_id = {s.context.span_id: s for s in spans}
    names: list[str] = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_a_callers_traceparent_is_the_parent_of_every_span_of_its_request(
    spans: InMemorySpanExporter, database_url: str, redis_url: str
) -> None:
    # The lease sweeper's SQL would start traces of its own: not within this test.
    app = create_app(make_settings(database_url, redis_url, task_lease_seconds=3600))
    lines: list[dict[str, object]] = []
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=access_logged(manager.app, lines))
        async with httpx.AsyncClient(transport=transport, base_url="http://englog.test") as client:
            api = Api(client)
            account = await api.sign_up()
            # The process's first token check loads the denylist (graph/auth/denylist.py):
            # done here, so the request below makes only its own spans.
            assert await api.data(PROJECTS, token=account.access_token) == {"projects": []}
            spans.clear()
            lines.clear()
            response = await client.post(
                "/graphql",
                json={"query": PROJECTS},
                headers={
                    "Authorization": f"Bearer {account.access_token}",
                    "traceparent": f"00-{TRACE}-{PARENT}-01",
                    "X-Request-ID": "req-7",
                },
            )
    assert response.json() == {"data": {"projects": []}}

    finished = list(spans.get_finished_spans())
    assert {format(span.context.trace_id, "032x") for span in finished} == {TRACE}
    [server] = named(finished, "POST /graphql")
    assert server.kind == SpanKind.SERVER
    assert server.parent is not None
    assert (format(server.parent.span_id, "016x"), server.parent.is_remote) == (PARENT, True)
    operation = ("GraphQL Query: Projects", "POST /graphql")
    assert sorted((span.name, *ancestors(span, finished)) for span in finished) == sorted(
        [
            ("POST /graphql",),
            operation,
            ("GraphQL Parsing", *operation),
            ("GraphQL Validation", *operation),
            ("GraphQL Resolving: projects", *operation),
            ("SQL SELECT", "GraphQL Resolving: projects", *operation),
        ]
    )
    assert [(line["request_id"], line["trace_id"]) for line in lines] == [("req-7", TRACE)]
    assert response.headers["x-request-id"] == "req-7"


async def test_no_span_holds_the_graphql_text_of_a_get_query_string(
    spans: InMemorySpanExporter, database_url: str, redis_url: str
) -> None:
    app = create_app(make_settings(database_url, redis_url, task_lease_seconds=3600))
    query = "query Probe($shown: Boolean!) { privateNote42: __typename @include(if: $shown) }"
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://englog.test") as client:
            response = await client.get(
                "/graphql",
                params={"query": query, "variables": json.dumps({"shown": True})},
                headers={"traceparent": f"00-{TRACE}-{PARENT}-01"},
            )
    assert response.json() == {"data": {"privateNote42": "Query"}}

    finished = list(spans.get_finished_spans())
    [server] = named(finished, "GET /graphql")
    assert server.attributes is not None
    assert server.attributes.get("http.target", "/graphql") == "/graphql"
    recorded = json.dumps([dict(span.attributes or {}) for span in finished])
    for written in ("privateNote42", "__typename", "shown", "query=", "variables"):
        assert written not in recorded


async def test_a_websocket_joins_its_callers_traceparent(
    spans: InMemorySpanExporter, database_url: str, redis_url: str
) -> None:
    async with live_server(database_url, redis_url, task_lease_seconds=3600) as server:
        async with httpx.AsyncClient(base_url=server.http_url) as client:
            account = await Api(client).sign_up()
        spans.clear()  # the sign-up's
        traced = {"traceparent": f"00-{TRACE}-{PARENT}-01"}
        async with ws_client(server, headers=traced) as socket:
            await socket.log_in(account.access_token)
            assert await socket.execute("query Me { me { email } }") == me_answers(account.email)
        # The span of the websocket ends once the server has seen it close.
        await eventually(lambda: websocket_spans(spans), 1)

    finished = list(spans.get_finished_spans())
    [server_span] = named(finished, "websocket /graphql")
    assert server_span.kind == SpanKind.SERVER
    assert server_span.parent is not None
    assert format(server_span.parent.span_id, "016x") == PARENT
    assert format(server_span.context.trace_id, "032x") == TRACE
    [operation] = named(finished, "GraphQL Query: Me")
    assert ancestors(operation, finished) == ["websocket /graphql"]
    assert format(operation.context.trace_id, "032x") == TRACE
