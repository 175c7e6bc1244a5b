"""The EventHub against real Redis: fan-out, bounds, and recovery after Redis restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from graph.live.hub import EventHub, SlowConsumer
from tests.graph.live.support import RedisProcess


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_one_redis_subscription_fans_out_to_every_local_subscriber(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    hub = EventHub(redis)
    try:
        async with (
            hub.subscribe("englog:test:fanout") as one,
            hub.subscribe("englog:test:fanout") as two,
        ):
            assert (await redis.pubsub_numsub("englog:test:fanout"))[0][1] == 1
            await hub.publish("englog:test:fanout", {"n": 1})
            assert await asyncio.wait_for(one.get(), 5) == {"n": 1}
            assert await asyncio.wait_for(two.get(), 5) == {"n": 1}
        assert (await redis.pubsub_numsub("englog:test:fanout"))[0][1] == 0
    finally:
        await hub.close()
        await redis.aclose()


async def test_a_subscriber_that_never_reads_is_dropped_without_slowing_the_others(
    redis_url: str,
) -> None:
    redis = Redis.from_url(redis_url)
    hub = EventHub(redis, queue_size=5)
    try:
        async with (
            hub.subscribe("englog:test:slow") as slow,
            hub.subscribe("englog:test:slow") as fast,
        ):
            for n in range(20):
                await hub.publish("englog:test:slow", {"n": n})
                assert await asyncio.wait_for(fast.get(), 5) == {"n": n}
            # Bounded: the slow one kept 5 messages, not 20, and then learns why it ends.
            assert slow.queue.qsize() == 5
            for n in range(5):
                assert await slow.get() == {"n": n}
            with pytest.raises(SlowConsumer, match="fell more than 5 messages behind"):
                await slow.get()
    finally:
        await hub.close()
        await redis.aclose()


async def test_subscriptions_recover_after_redis_restarts_and_ask_for_a_resync(
    own_redis: RedisProcess,
) -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{own_redis.port}/0")
    hub = EventHub(redis)
    try:
        async with hub.subscribe("englog:test:restart") as subscriber:
            await hub.publish("englog:test:restart", {"n": 1})
            assert await asyncio.wait_for(subscriber.get(), 5) == {"n": 1}
            own_redis.stop()
            # Publishing while Redis is down reports failure instead of raising.
            assert await hub.publish("englog:test:restart", {"n": 2}) is False
            own_redis.start()
            # Back: the subscriber is told it may have missed messages...
            assert await asyncio.wait_for(subscriber.get(), 30) == {"type": "resync"}
            # ...and live delivery works again. A publish may still land before the hub's
            # subscription is back (the resync covers that): publish until one arrives.
            received: list[dict[str, Any]] = []
            for _ in range(100):
                await hub.publish("englog:test:restart", {"n": 3})
                with contextlib.suppress(TimeoutError):
                    received.append(await asyncio.wait_for(subscriber.get(), 0.2))
                if {"n": 3} in received:
                    break
            assert {"n": 3} in received
            assert {str(m.get("type")) for m in received if "n" not in m} <= {"resync"}
    finally:
        await hub.close()
        await redis.aclose()
