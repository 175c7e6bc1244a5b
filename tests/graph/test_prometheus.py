"""/metrics after real traffic: HTTP requests, GraphQL operations, events, the task queue, the
database pool, and the scrape's own protection (a task's end:
tests/graph/tasks/test_task_metrics.py)."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import Api, make_settings, serve
from tests.graph.support import moved, scrape, value

ME = "query Me { me { id } }"


async def test_graphql_traffic_moves_the_request_and_operation_metrics(
    client: httpx.AsyncClient, api: Api
) -> None:
    account = await api.sign_up()
    before = await scrape(client)

    await api.data(ME, token=account.access_token)
    await api.data(ME, token=account.access_token)
    await api.error(ME)
    await api.error("query Broken { me { nope } }")
    await client.get("/nowhere.js")  # a missing file: a path without one is the web app's
    after = await scrape(client)

    assert (
        moved(
            before,
            after,
            "englog_http_requests_total",
            route="/graphql",
            method="POST",
            status="200",
        )
        == 4
    )
    assert (
        moved(
            before, after, "englog_http_requests_total", route="other", method="GET", status="404"
        )
        == 1
    )
    assert (
        moved(
            before,
            after,
            "englog_http_requests_total",
            route="/metrics",
            method="GET",
            status="200",
        )
        == 1
    )  # the first scrape, counted once it was answered
    assert (
        moved(
            before,
            after,
            "englog_graphql_operations_total",
            operation="Me",
            kind="query",
            outcome="ok",
        )
        == 2
    )
    assert (
        moved(
            before,
            after,
            "englog_graphql_operations_total",
            operation="Me",
            kind="query",
            outcome="UNAUTHENTICATED",
        )
        == 1
    )
    assert (
        moved(
            before,
            after,
            "englog_graphql_operations_total",
            operation="Broken",
            kind="query",
            outcome="GRAPHQL_VALIDATION_FAILED",
        )
        == 1
    )
    assert (
        moved(before, after, "englog_graphql_operation_duration_seconds_count", kind="query") == 4
    )
    assert moved(before, after, "englog_http_request_duration_seconds_count", route="/graphql") == 4


async def test_client_chosen_operation_names_cannot_grow_the_labels_without_bound(
    client: httpx.AsyncClient, api: Api
) -> None:
    before = await scrape(client)

    await api.error(f"query {'x' * 100} {{ me {{ id }} }}")

    after = await scrape(client)
    assert (
        moved(
            before,
            after,
            "englog_graphql_operations_total",
            operation="other",
            kind="query",
            outcome="UNAUTHENTICATED",
        )
        == 1
    )


async def test_writes_move_the_event_and_queue_metrics(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.sign_up()
    before = await scrape(client)

    await api.create_entry(account)  # one change event, one enrichment task
    after = await scrape(client)

    assert moved(before, after, "englog_events_published_total") >= 1
    assert value(after, "englog_tasks", status="queued", kind="enrich_entry") == 1
    assert value(after, "englog_db_pool_connections", state="size") == 5
    assert value(after, "englog_db_pool_connections", state="checked_out") == 0


async def test_a_metrics_token_guards_the_scrape(database_url: str, redis_url: str) -> None:
    secret = uuid.uuid4().hex
    async with serve(make_settings(database_url, redis_url, metrics_token=secret)) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        samples = await scrape(client, secret)

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert ("englog_websocket_connections", frozenset()) in samples
