"""/metrics of a real server while websockets come and go: connections, subscriptions and the
events written to them."""

from __future__ import annotations

import uuid

import httpx

from db.queries.event import LOG_ENTRY
from tests.factories import Api
from tests.graph.support import Samples, moved, scrape, value
from tests.live import Server, eventually, logged_in

ENTRY_EVENTS = "subscription { logEntryEvents { action } }"


async def test_sockets_and_subscriptions_are_counted_and_deliveries_too(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with httpx.AsyncClient(base_url=server.http_url) as client:

        async def sample() -> Samples:
            return await scrape(client)

        async def open_sockets() -> tuple[float, float]:
            samples = await sample()
            return (
                value(samples, "englog_websocket_connections"),
                value(samples, "englog_subscriptions"),
            )

        # An event first, so that a feed that has read its position stands above 0.
        await http.create_entry(account)
        user_id = uuid.UUID(account.user_id)

        async def subscribed() -> int:
            members = server.state.feeds.members(user_id, LOG_ENTRY)
            return sum(1 for member in members if member.start > 0)

        before = await sample()
        async with (
            logged_in(server, account.access_token) as first,
            logged_in(server, account.access_token) as second,
        ):
            await first.subscribe(ENTRY_EVENTS)
            await second.subscribe(ENTRY_EVENTS)
            await eventually(open_sockets, (2.0, 2.0))
            await eventually(subscribed, 2)
            await http.create_entry(account)
            for socket in (first, second):
                assert (await socket.receive())["payload"] == {
                    "data": {"logEntryEvents": {"action": "CREATED"}}
                }
            during = await sample()
        await eventually(open_sockets, (0.0, 0.0))

    assert moved(before, during, "englog_events_delivered_total") == 2
    assert moved(before, during, "englog_events_published_total") >= 1
