"""insightEvents, logEntryEvents and insightProgress over real websockets to a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid

import grpc.aio
import httpx

from db.queries import event as events
from graph.app import create_app
from protos.generated.englog.worker import v1 as pb
from tests.factories import Account, Api, connect, entry_input, make_settings
from tests.graph.live.feeds.support import ENTRY_EVENTS, create_entry, numsub
from tests.graph.tasks.support import next_task, registered, request_insight, success
from tests.live import Server, logged_in, serve

INSIGHT_EVENTS = """
subscription($since: String) { insightEvents(since: $since) { cursor insight { id status } } }
"""
PROGRESS = """
subscription($id: ID!) { insightProgress(id: $id) { insightId status delta percent } }
"""
DELETE = "mutation($id: ID!) { deleteLogEntry(id: $id) }"


def random_text(length: int) -> str:
    return secrets.token_urlsafe(length)[:length]


async def test_insight_events_follow_an_insight_from_pending_to_completed(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as socket_:
        events = await socket_.subscribe(INSIGHT_EVENTS)
        await asyncio.sleep(0)  # the subscription is registered before the request below
        insight_id = await _request_when_subscribed(http, account, server)
        pending = await events.next()
        assert pending["insightEvents"]["insight"] == {"id": insight_id, "status": "PENDING"}
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.state.grpc_port}") as channel:
            worker = await registered(channel)
            stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
            try:
                task = await next_task(stream)
            finally:
                stream.cancel()
            running = await events.next()
            assert running["insightEvents"]["insight"] == {"id": insight_id, "status": "RUNNING"}
            assert (await worker.report_result(success(task))).accepted is True
        completed = await events.next()
        assert completed["insightEvents"]["insight"] == {"id": insight_id, "status": "COMPLETED"}
        cursors = [int(e["insightEvents"]["cursor"]) for e in (pending, running, completed)]
        assert cursors == sorted(cursors)
        assert len(set(cursors)) == 3


async def _request_when_subscribed(http: Api, account: Account, server: Server) -> str:
    channel = f"englog:user:{account.user_id}"
    for _ in range(200):
        if await numsub(server, channel) == 1:
            break
        await asyncio.sleep(0.02)
    return await request_insight(http, account)


async def test_resume_with_since_replays_missed_events_then_continues_live(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    first = await create_entry(http, account, "first")
    async with logged_in(server, account.access_token) as socket_:
        replay = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        event = await replay.next()
        assert event["logEntryEvents"]["entryId"] == first
        cursor = event["logEntryEvents"]["cursor"]
    # Offline: these are missed live and must come back on resume.
    second = await create_entry(http, account, "second")
    await http.data(DELETE, {"id": first}, account.access_token)
    async with logged_in(server, account.access_token) as socket_:
        resumed = await socket_.subscribe(ENTRY_EVENTS, {"since": cursor})
        missed = [(await resumed.next())["logEntryEvents"] for _ in range(2)]
        assert [(e["action"], e["entryId"]) for e in missed] == [
            ("CREATED", second),
            ("DELETED", first),
        ]
        assert missed[0]["entry"] == {"title": "second"}
        assert missed[1]["entry"] is None
        third = await create_entry(http, account, "third")
        live = (await resumed.next())["logEntryEvents"]
        assert (live["action"], live["entryId"]) == ("CREATED", third)
        cursors = [int(e["cursor"]) for e in [*missed, live]]
        assert int(cursor) < cursors[0] < cursors[1] < cursors[2]


async def test_events_written_during_the_replay_arrive_once_and_in_order(
    server: Server, http: Api, database_url: str
) -> None:
    account = await http.sign_up()
    inputs = [entry_input(index, title=f"old {index}") for index in range(300)]
    await http.data(
        "mutation($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }",
        {"inputs": inputs},
        account.access_token,
    )
    async with logged_in(server, account.access_token) as socket_:
        replay = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        # Written while the replay is being read and delivered.
        writers = asyncio.gather(*(create_entry(http, account, f"new {i}") for i in range(20)))
        received = [(await replay.next())["logEntryEvents"]["cursor"] for _ in range(320)]
        await writers
    async with connect(database_url) as connection:
        rows = await connection.fetch(
            "SELECT id FROM event WHERE user_id = $1 AND topic = 'log_entry' ORDER BY id",
            uuid.UUID(account.user_id),
        )
    assert [int(c) for c in received] == [row["id"] for row in rows]


async def test_a_user_receives_only_their_own_events(server: Server, http: Api) -> None:
    ada, bob = await http.sign_up(), await http.sign_up()
    async with logged_in(server, bob.access_token) as socket_:
        events = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        await create_entry(http, ada, "ada's secret")
        await request_insight(http, ada)
        mine = await create_entry(http, bob, "bob's own")
        first = (await events.next())["logEntryEvents"]
        assert (first["entryId"], first["entry"]) == (mine, {"title": "bob's own"})


async def test_the_redis_subscription_ends_with_the_last_listener(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    channel = f"englog:user:{account.user_id}"
    async with (
        logged_in(server, account.access_token) as one,
        logged_in(server, account.access_token) as two,
    ):
        await one.subscribe(ENTRY_EVENTS)
        await two.subscribe(INSIGHT_EVENTS)
        for _ in range(200):
            if server.state.hub.channels == {channel}:
                break
            await asyncio.sleep(0.02)
        # Two sockets, one Redis subscription in this process.
        assert await numsub(server, channel) == 1
    for _ in range(200):
        if not server.state.hub.channels:
            break
        await asyncio.sleep(0.02)
    assert server.state.hub.channels == set()
    assert await numsub(server, channel) == 0


async def test_insight_progress_gives_a_late_joiner_the_text_so_far_then_deltas(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    insight_id = await request_insight(http, account)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.state.grpc_port}") as channel:
        worker = await registered(channel)
        stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
        try:
            task = await next_task(stream)
        finally:
            stream.cancel()

        async def progress(delta: str, sequence: int, percent: int) -> None:
            response = await worker.report_progress(
                pb.ReportProgressRequest(
                    task_id=task.task_id,
                    lease_token=task.lease_token,
                    delta=delta,
                    percent=percent,
                    sequence=sequence,
                )
            )
            assert response.lease_held is True

        await progress("Your week ", 1, 10)
        await progress("was good", 2, 40)
        async with logged_in(server, account.access_token) as socket_:
            late = await socket_.subscribe(PROGRESS, {"id": insight_id})
            assert (await late.next())["insightProgress"] == {
                "insightId": insight_id,
                "status": "RUNNING",
                "delta": "Your week was good",
                "percent": 40,
            }
            await progress(", mostly.", 3, 90)
            assert (await late.next())["insightProgress"]["delta"] == ", mostly."
            assert (
                await worker.report_result(success(task, "Your week was good, mostly."))
            ).accepted
            assert (await late.next())["insightProgress"] == {
                "insightId": insight_id,
                "status": "COMPLETED",
                "delta": None,
                "percent": 100,
            }
            assert (await late.message())["type"] == "complete"


async def test_insight_progress_of_another_users_insight_is_not_found(
    server: Server, http: Api
) -> None:
    ada, bob = await http.sign_up(), await http.sign_up()
    insight_id = await request_insight(http, ada)
    async with logged_in(server, bob.access_token) as socket_:
        spy = await socket_.subscribe(PROGRESS, {"id": insight_id})
        message = await spy.message()
        assert message["type"] == "error" or (
            message["type"] == "next"
            and message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        ), message


async def test_a_subscriber_that_never_reads_stays_bounded(
    database_url: str, redis_url: str
) -> None:
    # Without uvicorn's keep-alive: the socket reads nothing while 6,000 entries are written,
    # which on a loaded machine takes longer than the 40 s its unanswered pings allow.
    app = create_app(make_settings(database_url, redis_url, ws_per_message_deflate=True))
    async with (
        serve(app, keepalive=False) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as client,
    ):
        await _never_reads(Server(port, app.state.englog, app), Api(client))


async def _never_reads(server: Server, http: Api) -> None:
    account = await http.sign_up()
    user_id = uuid.UUID(account.user_id)
    feeds = server.state.feeds
    feeds.queue_size = 16  # this test's members: a small limit, reached quickly
    heavy = "subscription { logEntryEvents { cursor entry { title description } } }"
    async with logged_in(server, account.access_token, receive_buffer=4096) as socket_:
        await socket_.subscribe(heavy)
        for _ in range(200):
            if feeds.members(user_id, "log_entry"):
                break
            await asyncio.sleep(0.02)
        bulk = (
            "mutation($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) {id} }"
        )
        # 6,000 events of 2 KB that do not compress (per-message deflate is on): more than
        # the socket buffers hold. The socket reads none of them. (Batches of 400 keep each
        # request under the 1 MiB body cap.)
        for batch in range(15):
            inputs = [
                entry_input(batch * 400 + i, title=f"e{i}", description=random_text(2000))
                for i in range(400)
            ]
            await http.data(bulk, {"inputs": inputs}, account.access_token)
            # What waits for the socket is at most the limit plus the batch being taken.
            members = feeds.members(user_id, "log_entry")
            for member in members:
                assert member.pending <= feeds.queue_size + events.MAX_REPLAY
        # Dropped for falling behind: the socket is told why, with a code.
        codes = []
        for _ in range(7000):
            message = json.loads(await asyncio.wait_for(socket_.socket.recv(), 15))
            errors = message.get("payload", {}).get("errors") if message["type"] == "next" else None
            if message["type"] == "error" or errors:
                codes = [e["extensions"]["code"] for e in (errors or message["payload"])]
                break
        assert codes == ["SLOW_CONSUMER"]
    for _ in range(200):
        if not len(feeds):
            break
        await asyncio.sleep(0.02)
    assert len(feeds) == 0
