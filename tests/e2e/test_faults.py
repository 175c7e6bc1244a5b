"""PostgreSQL or Redis going away under a running `englog api` (and worker), and coming back.

Each server is reached through a TCP proxy of the test's own (tests/e2e/proxy.py): cutting it
resets every connection and refuses new ones, as a server that stopped does, without
touching the machine's servers that other test runs share. Nothing is restarted to recover.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.processes import REGISTERED, UNREACHABLE, Launcher
from tests.e2e.proxy import Proxy
from tests.e2e.support import Database, eventually, request_insight
from tests.e2e.test_live_delivery import ENTRY_EVENTS, ws_url
from tests.factories import Api, entry_input
from tests.live import logged_in

pytestmark = pytest.mark.slow

PROJECTS = "{ projects { name } }"
CREATE_PROJECT = 'mutation { createProject(input: {name: "Gemini"}) { id } }'
LOG_IN = """
mutation($email: String!) { logIn(email: $email, password: "correct horse battery") { tokenType } }
"""
CREATE_ENTRY = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { title } }"
ENTRY_TITLES = "{ logEntries { edges { node { title } } } }"
ME = "{ me { email } }"
UNAVAILABLE = {"code": "SERVICE_UNAVAILABLE"}


def codes(body: dict[str, Any]) -> list[tuple[list[str] | None, dict[str, Any]]]:
    """Each error's path and extensions."""
    return [(error.get("path"), error["extensions"]) for error in body["errors"]]


async def waiting_for_projects(db: Database) -> list[int]:
    """The backends waiting for a lock on the project table (pg_locks is read live, where
    pg_stat_activity would show the snapshot taken when the transaction began)."""
    rows = await db.connection.fetch(
        "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'project'::regclass"
    )
    return [row["pid"] for row in rows]


async def test_with_postgresql_away_the_api_answers_unavailable_and_recovers_by_itself(
    launcher: Launcher, database_url: str, db: Database
) -> None:
    async with Proxy.to(database_url) as postgres:
        api = await launcher.api({"ENGLOG_DATABASE_URL": postgres.url})
        worker = await launcher.worker(api)
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30.0) as client:
            http = Api(client)
            account = await http.sign_up()
            token = account.access_token
            await http.create_project(account, "Apollo")

            # A query in flight when PostgreSQL stops: its backend is terminated (57P01), as
            # `pg_ctl stop -m fast` terminates every one. It waits on a lock until then.
            async with db.connection.transaction():
                await db.connection.execute("LOCK TABLE project IN ACCESS EXCLUSIVE MODE")
                pending = asyncio.create_task(http.post(PROJECTS, token=token))
                blocked = await eventually(
                    lambda: waiting_for_projects(db),
                    lambda pids: len(pids) == 1,
                    what="a blocked query",
                )
                await db.connection.execute("SELECT pg_terminate_backend($1)", blocked[0])
                body = await pending
            assert body["data"] is None
            assert codes(body) == [(["projects"], UNAVAILABLE)]

            await postgres.cut()

            ready = await client.get("/ready")
            assert (ready.status_code, ready.json()) == (
                503,
                {"ready": False, "database": "unavailable", "redis": "ok"},
            )
            health = await client.get("/health")
            assert (health.status_code, health.json()) == (
                503,
                {"status": "degraded", "database": "unavailable", "redis": "ok"},
            )
            for document, variables, field in (
                (PROJECTS, None, "projects"),
                (CREATE_PROJECT, None, "createProject"),
                (LOG_IN, {"email": account.email}, "logIn"),
            ):
                body = await http.post(document, variables, token)
                assert (body["data"], codes(body)) == (None, [([field], UNAVAILABLE)])
            # The worker's task stream met the outage too (and stays open through it).
            await api.proc.wait_for_output("task stream: the database is unavailable")

            # Restarting: the port answers again, but "the database system is starting up".
            await postgres.start_up()
            ready = await client.get("/ready")
            assert (ready.status_code, ready.json()["database"]) == (503, "unavailable")
            body = await http.post(PROJECTS, token=token)
            assert (body["data"], codes(body)) == (None, [(["projects"], UNAVAILABLE)])

            await postgres.restore()

            async def ready_status() -> int:
                return (await client.get("/ready")).status_code

            await eventually(ready_status, lambda status: status == 200, what="/ready")
            assert await http.data(PROJECTS, token=token) == {"projects": [{"name": "Apollo"}]}
            insight_id = await request_insight(http, account)
            row = await db.wait_for_insight(insight_id)
            assert (row["status"], row["model"], row["attempts"]) == ("COMPLETED", "builtin", 1)
    # The worker stayed connected: one registration, never a reconnection.
    assert worker.output().count(REGISTERED) == 1
    assert UNREACHABLE not in worker.output()
    assert api.proc.running


async def test_with_redis_away_operations_go_on_and_missed_events_come_from_postgresql(
    launcher: Launcher, redis_url: str
) -> None:
    async with Proxy.to(redis_url) as redis:
        env = {"ENGLOG_REDIS_URL": redis.url}
        fail_open = await launcher.api(env, name="api-fail-open")  # the default
        fail_closed = await launcher.api(
            {**env, "ENGLOG_RATE_LIMIT_FAIL": "closed"}, name="api-fail-closed"
        )
        async with (
            httpx.AsyncClient(base_url=fail_open.base_url, timeout=30.0) as client,
            httpx.AsyncClient(base_url=fail_closed.base_url, timeout=30.0) as closed_client,
        ):
            http = Api(client)
            account = await http.sign_up()
            token = account.access_token

            async def create(title: str, hour: int) -> None:
                entry = entry_input(offset_hours=hour, title=title)
                data = await http.data(CREATE_ENTRY, {"input": entry}, token)
                assert data == {"createLogEntry": {"title": title}}

            async with logged_in(ws_url(fail_open.base_url), token) as socket_:
                events = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
                await create("before", 0)
                assert (await events.next())["logEntryEvents"]["entry"] == {"title": "before"}

                await redis.cut()
                # The subscription's reader failed to come back at least once: a long outage.
                await fail_open.proc.wait_for_output("Redis still unavailable")

                # Rate limits fail open: queries and mutations, sign-in included, go on.
                await create("during 1", 1)
                await create("during 2", 2)
                assert await http.data(ENTRY_TITLES, token=token) == {
                    "logEntries": {
                        "edges": [
                            {"node": {"title": title}}
                            for title in ("during 2", "during 1", "before")
                        ]
                    }
                }
                assert await http.data(LOG_IN, {"email": account.email}) == {
                    "logIn": {"tokenType": "Bearer"}
                }
                ready = await client.get("/ready")
                assert (ready.status_code, ready.json()) == (
                    200,
                    {"ready": True, "database": "ok", "redis": "unavailable"},
                )
                # ENGLOG_RATE_LIMIT_FAIL=closed: refused before running, 503 by GraphQL over HTTP.
                refused = await closed_client.post(
                    "/graphql",
                    json={"query": ME},
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/graphql-response+json",
                    },
                )
                assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
                assert codes(refused.json()) == [(None, {**UNAVAILABLE, "retryAfter": 1})]

                await redis.restore()

                # What was written meanwhile arrives, read from PostgreSQL, then live again.
                titles = [(await events.next(timeout=30))["logEntryEvents"]["entry"]["title"]]
                titles.append((await events.next())["logEntryEvents"]["entry"]["title"])
                await create("after", 3)
                titles.append((await events.next())["logEntryEvents"]["entry"]["title"])
                assert titles == ["during 1", "during 2", "after"]

            async def me_on_fail_closed() -> dict[str, Any]:
                return await Api(closed_client).post(ME, token=token)

            body = await eventually(
                me_on_fail_closed, lambda found: "errors" not in found, what="rate limits back"
            )
            assert body == {"data": {"me": {"email": account.email}}}
