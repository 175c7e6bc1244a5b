"""`since` of every resumable subscription: a cursor that is not one, or one beyond the newest
event of the user's stream (which would have silenced the subscription for good, live events
included), is refused as BAD_USER_INPUT on `since`; the newest cursor itself resumes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Api, entry_input
from tests.live import Server, Subscription, logged_in

NOT_A_CURSOR = "is not a cursor this API gave out"
AHEAD = "is beyond the newest event of this stream"
STREAMS = {
    "logEntryEvents": "subscription($since: String) { logEntryEvents(since: $since) { cursor } }",
    "insightEvents": "subscription($since: String) { insightEvents(since: $since) { cursor } }",
    "notifications": "subscription($since: String) { notifications(since: $since) { cursor } }",
}
CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"
ENTRY_EVENTS = """subscription($since: String) {
  logEntryEvents(since: $since) { cursor action entryId } }"""


async def refusal(subscription: Subscription) -> list[dict[str, Any]]:
    """The errors a subscription was refused with, whichever way the protocol sent them."""
    message = await subscription.message()
    if message["type"] == "error":
        errors: list[dict[str, Any]] = message["payload"]
    else:
        assert message["type"] == "next", message
        errors = message["payload"]["errors"]
        assert (await subscription.message())["type"] == "complete"
    return errors


@pytest.mark.parametrize("stream", list(STREAMS))
async def test_a_since_that_is_not_a_cursor_or_is_beyond_the_stream_is_bad_user_input(
    server: Server, http: Api, stream: str
) -> None:
    account = await http.sign_up()
    other = await http.sign_up()
    # The other account's newest event: a cursor well beyond this account's own stream.
    for _ in range(3):
        await http.data(CREATE, {"input": entry_input()}, other.access_token)
    async with logged_in(server, other.access_token) as socket_:
        replay = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        theirs = [(await replay.next())["logEntryEvents"]["cursor"] for _ in range(3)][-1]
    cases = {
        "9999999999999999999": NOT_A_CURSOR,  # above int64
        "9223372036854775807": AHEAD,  # the largest int64
        theirs: AHEAD,
        "99999999999999999999": NOT_A_CURSOR,
        "-1": NOT_A_CURSOR,
        "": NOT_A_CURSOR,
        " 1": NOT_A_CURSOR,
        "1.0": NOT_A_CURSOR,
        "²": NOT_A_CURSOR,  # str.isdigit() says yes, int() says no
        "١٢": NOT_A_CURSOR,  # Arabic-Indic digits: int() takes them
        "a\x00": NOT_A_CURSOR,
        "9" * 100_000: NOT_A_CURSOR,
    }
    async with logged_in(server, account.access_token) as socket_:
        for since, message in cases.items():
            errors = await refusal(await socket_.subscribe(STREAMS[stream], {"since": since}))
            assert [error["extensions"] for error in errors] == [
                {"code": "BAD_USER_INPUT", "fields": {"since": message}}
            ], since[:30]


async def test_the_newest_cursor_resumes_and_then_delivers_live_events(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    await http.data(CREATE, {"input": entry_input()}, account.access_token)
    async with logged_in(server, account.access_token) as socket_:
        replay = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        newest = (await replay.next())["logEntryEvents"]["cursor"]
    async with logged_in(server, account.access_token) as socket_:
        resumed = await socket_.subscribe(ENTRY_EVENTS, {"since": newest})
        data = await http.data(CREATE, {"input": entry_input()}, account.access_token)
        event = (await resumed.next())["logEntryEvents"]
        assert (event["action"], event["entryId"]) == ("CREATED", data["createLogEntry"]["id"])
        assert int(event["cursor"]) > int(newest)
