"""Every argument of every subscription, fed generated values over a real websocket to a real
uvicorn: a refusal with coded errors, or an accepted subscription (it answers data, or the
server joined its stream's feed) that ends when the client completes it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from db.queries import insight as insights
from tests.factories import Account, Api, connect
from tests.live import Client, Server, logged_in
from tests.properties.harness import READS, World, coded, document, for_all, variables
from tests.properties.strategies import SUBSCRIPTIONS, TOPICS, resolve

WITHIN = 15.0  # a bound on every wait, never an expectation of speed


@dataclass
class Socket:
    """One graphql-transport-ws connection; each example subscribes with an id of its own."""

    client: Client
    # Whether the server holds a live subscription of this socket's stream: the feed it joined
    # (graph/live/feeds.py) has a member.
    listening: Callable[[], bool]

    async def try_(self, query: str, values: dict[str, Any]) -> None:
        """Subscribes: refused with coded errors, or accepted (it answers data, or the server
        joined its stream's feed); then ends it and waits until the server let go."""
        subscription = await self.client.subscribe(query, values)
        answer = asyncio.create_task(self.client.message_of(subscription.id))
        try:
            async with asyncio.timeout(WITHIN):
                while not answer.done() and not self.listening():
                    await asyncio.wait([answer], timeout=0.01)
        finally:
            if not answer.done():
                answer.cancel()  # accepted, and silent: websockets' recv may be cancelled
                with contextlib.suppress(asyncio.CancelledError):
                    await answer
        message = answer.result() if answer.done() and not answer.cancelled() else None
        if message is not None and message["type"] == "error":
            coded(message["payload"])
            return
        if message is not None:
            assert message["type"] in ("next", "complete"), message
            coded(message.get("payload", {}).get("errors") or [])
        await subscription.complete()
        for _ in range(int(WITHIN / 0.01)):
            if not self.listening():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the subscription was not ended")


async def newest_events(database_url: str, account: Account) -> dict[str, str]:
    async with connect(database_url) as connection:
        rows = await connection.fetch(
            "SELECT topic, max(id) AS id FROM event WHERE user_id = $1 GROUP BY topic",
            uuid.UUID(account.user_id),
        )
    return {row["topic"]: str(row["id"]) for row in rows}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTIONS))
async def test_every_subscription_answers_data_or_coded_errors_whatever_its_arguments(
    server: Server, database_url: str, name: str
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http_client:
        world_ = World(Api(http_client), *[await Api(http_client).sign_up() for _ in range(2)])
        read = SUBSCRIPTIONS[name]
        refs: dict[str, Any] = await world_.ids(read.kind)
        await world_.ids("entry")  # events in the log-entry stream too
        if read.kind == "insight":
            # Ended: insightProgress answers at once and completes. (A pending one would
            # wait for the model; ending it from here raced the event hub's clean-up.)
            async with server.state.db() as session, session.begin():
                for ref in ("own", "gone"):
                    insight_id = uuid.UUID(refs[ref])
                    assert await insights.mark_insight_running(session, insight_id=insight_id)
                    assert await insights.fail_insight(
                        session, insight_id=insight_id, error="model timed out"
                    )
        mine = await newest_events(database_url, world_.me)
        theirs = await newest_events(database_url, world_.other)
        refs["newest"] = mine.get(TOPICS.get(name, ""), "0")
        refs["theirs"] = max(theirs.values(), key=int)
    query = document("subscription", name, read.selection)
    async with logged_in(server, world_.me.access_token) as socket_:
        user_id, topic = uuid.UUID(world_.me.user_id), TOPICS.get(name)
        feeds = server.state.feeds
        connection = Socket(
            socket_, lambda: topic is not None and bool(feeds.members(user_id, topic))
        )

        async def check(values: dict[str, Any]) -> None:
            await connection.try_(query, resolve(values, refs))

        await for_all(variables("subscription", name, read), check, READS)
