"""timerEvents over real websockets: every tab of the user sees the timer start, change, stop
and be discarded, after each commit; no one else does; `since` replays what a tab missed."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import Account, Api
from tests.graph.live.feeds.support import numsub
from tests.graph.timer.support import DISCARD, START, STOP, UPDATE, start
from tests.live import Server, Subscription, logged_in

TIMER_EVENTS = """
subscription($since: String) {
  timerEvents(since: $since) { cursor action timerId timer { id title type startedAt } }
}
"""
SILENCE = 0.5  # how long a socket that must receive nothing is watched


async def listening(server: Server, *accounts: Account) -> None:
    """Until every account's feed has subscribed to its Redis channel."""
    for _ in range(200):
        counts = [await numsub(server, f"englog:user:{a.user_id}") for a in accounts]
        if all(counts):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the subscriptions did not start")


async def event(feed: Subscription) -> dict[str, object]:
    data = await feed.next()
    item: dict[str, object] = data["timerEvents"]
    return item


async def test_every_tab_of_the_user_sees_the_timer_live_and_no_one_else_does(
    server: Server, http: Api
) -> None:
    me, other = await http.sign_up(), await http.sign_up()
    async with (
        logged_in(server, me.access_token) as tab_one,
        logged_in(server, me.access_token) as tab_two,
        logged_in(server, other.access_token) as theirs,
    ):
        feeds = [await tab.subscribe(TIMER_EVENTS) for tab in (tab_one, tab_two)]
        their_feed = await theirs.subscribe(TIMER_EVENTS)
        await listening(server, me, other)

        timer = await start(http, me, type="CODE")
        timer_id = timer["id"]
        seen = {"id": timer_id, "title": timer["title"], "type": "CODE"}
        for feed in feeds:
            item = await event(feed)
            assert {k: v for k, v in item.items() if k != "cursor"} == {
                "action": "STARTED",
                "timerId": timer_id,
                "timer": {**seen, "startedAt": timer["startedAt"]},
            }

        await http.data(UPDATE, {"input": {"title": "Renamed"}}, me.access_token)
        for feed in feeds:
            item = await event(feed)
            assert item["action"] == "UPDATED"
            assert item["timer"] == {**seen, "title": "Renamed", "startedAt": timer["startedAt"]}

        await http.data(STOP, token=me.access_token)
        for feed in feeds:
            item = await event(feed)
            assert (item["action"], item["timerId"], item["timer"]) == ("STOPPED", timer_id, None)

        second = await start(http, me, title="Second")
        await http.data(DISCARD, token=me.access_token)
        for feed in feeds:
            # The STARTED of a timer discarded by the time it is read says so: null.
            started, discarded = await event(feed), await event(feed)
            assert (started["action"], started["timerId"]) == ("STARTED", second["id"])
            assert (discarded["action"], discarded["timer"]) == ("DISCARDED", None)

        with pytest.raises(TimeoutError):
            await their_feed.message(timeout=SILENCE)


async def test_a_refused_start_publishes_nothing(server: Server, http: Api) -> None:
    me = await http.sign_up()
    await start(http, me, type="CODE")
    async with logged_in(server, me.access_token) as tab:
        feed = await tab.subscribe(TIMER_EVENTS)
        await listening(server, me)
        error = await http.error(START, {"input": {"title": "Again"}}, me.access_token)
        assert error["extensions"]["code"] == "CONFLICT"
        with pytest.raises(TimeoutError):
            await feed.message(timeout=SILENCE)


async def test_a_tab_resuming_with_since_gets_what_it_missed_once(
    server: Server, http: Api
) -> None:
    me = await http.sign_up()
    async with logged_in(server, me.access_token) as tab:
        feed = await tab.subscribe(TIMER_EVENTS)
        await listening(server, me)
        await start(http, me, type="CODE")
        first = await event(feed)
    # Missed while the tab was away.
    await http.data(UPDATE, {"input": {"title": "While away"}}, me.access_token)
    await http.data(STOP, token=me.access_token)
    async with logged_in(server, me.access_token) as tab:
        feed = await tab.subscribe(TIMER_EVENTS, {"since": first["cursor"]})
        missed = [await event(feed), await event(feed)]
        assert [item["action"] for item in missed] == ["UPDATED", "STOPPED"]
        with pytest.raises(TimeoutError):
            await feed.message(timeout=SILENCE)
