"""Redis pub/sub between API processes: channel names, publish, one Redis subscription a
channel a process fanned out to bounded per-subscriber queues, and insight progress text.
Redis carries only the news; the events are in PostgreSQL (overview: graph/live/__init__.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from core import tracing
from db.queries.event import EventRecord
from graph.errors import SLOW_CONSUMER, AppError
from graph.redis_faults import REDIS_FAULTS

logger = logging.getLogger("englog.events")

DEFAULT_QUEUE_SIZE = 256
RECONNECT_MAX_SECONDS = 5.0
# Put on every subscriber's queue after Redis came back: anything may have been missed.
RESYNC: dict[str, Any] = {"type": "resync"}


def user_channel(user_id: uuid.UUID) -> str:
    return f"englog:user:{user_id}"


def progress_channel(insight_id: uuid.UUID) -> str:
    return f"englog:insight:{insight_id}:progress"


PROGRESS_TTL_SECONDS = 3600
_APPEND_PROGRESS = """
local length = redis.call('APPEND', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
redis.call('PUBLISH', ARGV[3], cjson.encode({
    type = 'progress', delta = ARGV[1], percent = tonumber(ARGV[2]),
    offset = length - string.len(ARGV[1])
}))
return length
"""


def _text_key(insight_id: uuid.UUID) -> str:
    return f"englog:insight:{insight_id}:text"


def _percent_key(insight_id: uuid.UUID) -> str:
    return f"englog:insight:{insight_id}:percent"


class SlowConsumer(AppError):
    """A subscriber fell `queue_size` messages behind and was dropped (resume with `since`)."""

    code = SLOW_CONSUMER


@dataclass(eq=False)
class Subscriber:
    channel: str
    queue: asyncio.Queue[dict[str, Any]]
    overflowed: bool = field(default=False)

    def offer(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Never block the fan-out for one slow reader: drop it, tell it why.
            self.overflowed = True

    async def get(self) -> dict[str, Any]:
        if self.overflowed and self.queue.empty():
            raise SlowConsumer(f"fell more than {self.queue.maxsize} messages behind")
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.get()


class ResyncingPubSub(PubSub):
    """redis-py's pub/sub, telling the hub when it reconnected by itself.

    redis-py reconnects (and resubscribes) inside a call that then succeeds, so the hub sees
    no error; but whatever was published while the connection was down is in PostgreSQL
    only, and every subscriber must re-read it. `on_connect` runs at each reconnect, not at
    the first connect (it is registered once the connection is made).
    """

    def __init__(self, *args: Any, on_reconnect: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_reconnect = on_reconnect

    async def on_connect(self, connection: Any) -> None:
        await super().on_connect(connection)
        self.on_reconnect()


class EventHub:
    """This process's window on Redis pub/sub: ONE Redis subscription a channel however many
    subscribers listen here, dropped when the last one leaves. A subscriber that may have
    missed messages (Redis went away) gets RESYNC and re-reads PostgreSQL."""

    def __init__(self, redis: Redis, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.redis = redis
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._wanted_changed = asyncio.Event()
        # The subscription connection failed (or never came up): the reader subscribes again.
        self._lost = False
        # Counts what went out (graph/prometheus.py), when the app gave one.
        self.published: Counter | None = None

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, channel: str, message: dict[str, Any]) -> bool:
        """Publishes; False (logged) when Redis is away: the event is in PostgreSQL anyway."""
        try:
            with tracing.tracer().start_as_current_span("publish") as span:
                span.set_attribute("englog.message.type", str(message.get("type")))
                await self.redis.publish(channel, json.dumps(message, separators=(",", ":")))
        except REDIS_FAULTS as exc:
            logger.warning("publish to %s failed (%s); subscribers will resync", channel, exc)
            return False
        if self.published is not None:
            self.published.inc()
        return True

    async def publish_events(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            await self.publish(
                user_channel(event.user_id),
                {
                    "type": "event",
                    "id": event.id,
                    "topic": event.topic,
                    "action": event.action,
                    "object_id": str(event.object_id),
                },
            )

    # -- insight progress: the text so far in Redis, deltas on the progress channel ------

    async def append_progress(self, insight_id: uuid.UUID, delta: str, percent: int) -> None:
        """Appends a delta to the text so far and publishes it, atomically (one Lua script).

        The message carries the byte offset the delta starts at, so a late subscriber that
        read the text so far can tell which live deltas it already has.
        """
        try:
            await self.redis.eval(
                _APPEND_PROGRESS,
                2,
                _text_key(insight_id),
                _percent_key(insight_id),
                delta,
                str(percent),
                progress_channel(insight_id),
                str(PROGRESS_TTL_SECONDS),
            )
        except REDIS_FAULTS as exc:
            logger.warning("progress of %s not published (%s)", insight_id, exc)

    async def progress_so_far(self, insight_id: uuid.UUID) -> tuple[str, int]:
        try:
            text, percent = await self.redis.mget(_text_key(insight_id), _percent_key(insight_id))
        except REDIS_FAULTS as exc:
            logger.warning("progress of %s unreadable (%s)", insight_id, exc)
            return "", 0
        return (_text(text) if text else ""), int(percent or 0)

    async def reset_progress(self, insight_id: uuid.UUID) -> None:
        """A new attempt starts from an empty text."""
        with contextlib.suppress(*REDIS_FAULTS):
            await self.redis.delete(_text_key(insight_id), _percent_key(insight_id))

    async def end_progress(self, insight_id: uuid.UUID, status: str) -> None:
        await self.publish(progress_channel(insight_id), {"type": "end", "status": status})

    # -- subscribing --------------------------------------------------------------------

    @property
    def channels(self) -> set[str]:
        return {channel for channel, subscribers in self._subscribers.items() if subscribers}

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        """A subscriber to `channel` for the duration (subscribed in Redis once this returns)."""
        subscriber = Subscriber(channel, asyncio.Queue(self.queue_size))
        async with self._lock:
            first = not self._subscribers.get(channel)
            self._subscribers.setdefault(channel, set()).add(subscriber)
            if first:
                try:
                    await self._redis_subscribe(channel)
                except BaseException:
                    # Cancelled (or worse) half-way: a subscriber left registered here would
                    # keep the channel "subscribed" in the hub and never in Redis, and every
                    # later subscriber of it deaf. The connection's state is unknown: the
                    # reader starts from a new one.
                    self._forget(subscriber)
                    self._lost = True
                    raise
        try:
            yield subscriber
        finally:
            # Unregistered at once, before any await: a cancellation while waiting for the
            # lock must not leave it registered. The Redis side is shielded for the same
            # reason (a channel nobody here wants is dropped at the next resubscribe anyway).
            last = self._forget(subscriber)
            if last or not self._subscribers:
                await asyncio.shield(self._release(channel))

    async def _release(self, channel: str) -> None:
        async with self._lock:
            if not self._subscribers.get(channel):
                await self._redis_unsubscribe(channel)
            if not self._subscribers:
                await self._drop_pubsub()

    def _forget(self, subscriber: Subscriber) -> bool:
        """Unregisters a subscriber; whether it was its channel's last."""
        remaining = self._subscribers.get(subscriber.channel, set())
        remaining.discard(subscriber)
        if remaining:
            return False
        self._subscribers.pop(subscriber.channel, None)
        return True

    async def _drop_pubsub(self) -> None:
        """Nobody listens: the pub/sub connection goes, so that a reset or restart of Redis
        meanwhile cannot leave the next subscriber on a dead one (a new one is made then)."""
        pubsub, self._pubsub = self._pubsub, None
        reader, self._reader = self._reader, None
        self._lost = False
        if reader is not None:
            reader.cancel()  # it may be waiting on the connection closed next
        if pubsub is not None:
            with contextlib.suppress(*REDIS_FAULTS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _new_pubsub(self) -> PubSub:
        return ResyncingPubSub(
            self.redis.connection_pool,
            event_dispatcher=self.redis._event_dispatcher,
            ignore_subscribe_messages=True,
            on_reconnect=self._offer_resync,
        )

    def _offer_resync(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                subscriber.offer(RESYNC)

    async def _redis_subscribe(self, channel: str) -> None:
        try:
            if self._pubsub is None:
                self._pubsub = self._new_pubsub()
            await self._pubsub.subscribe(channel)
        except REDIS_FAULTS as exc:
            # The reader reconnects and subscribes to every wanted channel again.
            logger.warning("subscribe to %s failed (%s); will retry", channel, exc)
            self._lost = True
        self._ensure_reader()

    async def _redis_unsubscribe(self, channel: str) -> None:
        if self._pubsub is None:
            return
        with contextlib.suppress(*REDIS_FAULTS):
            await self._pubsub.unsubscribe(channel)

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="englog-event-hub")

    async def _read(self) -> None:
        delay = 0.1
        while True:
            try:
                if self._lost:
                    # Raises while Redis is still away: the loop waits and tries again, for as
                    # long as it takes (a reader that gave up would leave subscribers deaf).
                    await self._resubscribe()
                    self._lost = False
                    delay = 0.1
                    if self._pubsub is not None:
                        logger.info("Redis subscription back")
                pubsub = self._pubsub
                if pubsub is None or not self._subscribers:
                    await asyncio.sleep(0.05)
                    if not self._subscribers:
                        return
                    continue
                message = await pubsub.get_message(timeout=1.0)
                delay = 0.1
                if message is None or message.get("type") != "message":
                    continue
                self._dispatch(_text(message["channel"]), message["data"])
            except asyncio.CancelledError:
                raise
            # RuntimeError: redis-py's "pubsub connection not set", after a first subscribe
            # that could not connect.
            except REDIS_FAULTS as exc:
                if self._lost:
                    logger.info("Redis still unavailable (%s); retrying in %.1f s", exc, delay)
                else:
                    logger.warning("Redis subscription lost (%s); reconnecting", exc)
                self._lost = True
                await asyncio.sleep(delay)
                delay = min(RECONNECT_MAX_SECONDS, delay * 2)

    async def _resubscribe(self) -> None:
        async with self._lock:
            old, self._pubsub = self._pubsub, None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.aclose()  # type: ignore[no-untyped-call]
            wanted = list(self.channels)
            if not wanted:
                return
            try:
                self._pubsub = self._new_pubsub()
                await self._pubsub.subscribe(*wanted)
            except REDIS_FAULTS:
                self._pubsub = None
                raise
            # Back: whatever was published meanwhile is in PostgreSQL, not here.
            self._offer_resync()

    def _dispatch(self, channel: str, data: bytes | str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("ignored a malformed message on %s", channel)
            return
        for subscriber in list(self._subscribers.get(channel, ())):
            subscriber.offer(message)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        self._subscribers.clear()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
