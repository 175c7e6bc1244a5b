"""Resumable event streams: replay from PostgreSQL after the cursor, then follow the
process's one Feed of the user's topic (overview: graph/live/__init__.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import event as events
from graph.context import Info
from graph.errors import BadUserInput
from graph.live import shared
from graph.live.fanout import FrameCache
from graph.live.hub import EventHub, SlowConsumer, Subscriber, user_channel
from graph.live.shared import Direct, share

logger = logging.getLogger("englog.subscriptions")

T = TypeVar("T")

# Builds the delivered items of a batch of events, in event order, each with its event id
# (one query for the batch, not per event; events whose object is gone may be left out).
Loader = Callable[
    [async_sessionmaker[AsyncSession], Sequence[events.EventRecord]],
    Awaitable[list[tuple[int, T]]],
]
RETRY_MAX_SECONDS = 5.0
STOP_RETRY_SECONDS = 0.5  # a feed not stopped by a cancellation is cancelled again after this


def parse_since(since: str | None) -> int | None:
    if since is None:
        return None
    if not since.isdigit() or len(since) > 19:
        raise BadUserInput({"since": "is not a cursor this API gave out"})
    return int(since)


@dataclass(frozen=True)
class Batch(Generic[T]):
    """Items of events up to `last` (inclusive); each item paired with its event id."""

    last: int
    items: list[tuple[int, T]]


@dataclass(eq=False)
class Member(Generic[T]):
    """One subscription's place on a feed: the batches it has not taken yet, bounded.

    When more than `limit` items wait (beyond one batch, which is always taken), the
    member is dropped: what waited is freed and its next `get` raises SlowConsumer, so a
    socket that does not read costs bounded memory and never slows the feed.
    """

    limit: int
    start: int = 0  # the feed's position when this member joined
    pending: int = 0
    overflowed: bool = False
    batches: deque[Batch[T]] = field(default_factory=deque)
    waiter: asyncio.Future[None] | None = None
    cursor: int = 0  # the last event delivered, by the subscription's task or its feed
    # Set while the subscription is live on a socket its feed may write to itself; then it
    # is also in `directs` (its feed's, by shared-execution key: Feed._render).
    direct: Direct | None = None
    directs: dict[object, dict[Member[T], None]] = field(default_factory=dict)

    def go_direct(self, writer: Direct | None) -> None:
        if writer is None or writer.delivery.fast is None:
            return
        self.direct = writer
        self.directs.setdefault(writer.executor.share_key, {})[self] = None

    def leave_direct(self) -> None:
        direct, self.direct = self.direct, None
        if direct is not None:
            members = self.directs.get(direct.executor.share_key)
            if members is not None:
                members.pop(self, None)
                if not members:
                    del self.directs[direct.executor.share_key]

    def take(self, batch: Batch[T], frames: FrameCache, now: float) -> int:
        """The feed's hand-over of a batch: written to the socket at once while the
        subscription's task waits for a batch with none queued, and its socket takes writes
        (graph/live/fanout.py); otherwise queued for its task (offer), from the first event that
        could not be written. The number written."""
        direct, waiter = self.direct, self.waiter
        fast = direct.delivery.fast if direct is not None else None
        if direct is None or fast is None or waiter is None or waiter.done() or self.batches:
            self.offer(batch)  # (fast is None once the operation was completed: graph/live/ws.py)
            return 0
        written = 0
        for index, (event_id, item) in enumerate(batch.items):
            if event_id <= self.cursor:
                continue
            text = frames.text(direct, item)
            try:
                sent = text is not None and fast.write(text, frames)
            except Exception:  # the connection changed under us: the task's path decides
                logger.debug("direct write failed", exc_info=True)
                sent = False
            if not sent:
                self.offer(Batch(batch.last, batch.items[index:]))
                break
            self.cursor = event_id
            written += 1
        else:
            self.cursor = max(self.cursor, batch.last)
        if written and direct.delivery.wrote is not None:
            direct.delivery.wrote(now)
        return written

    def offer(self, batch: Batch[T]) -> None:
        if self.overflowed:
            return
        if self.batches and self.pending + len(batch.items) > self.limit:
            self.overflowed = True
            self.batches.clear()
            self.pending = 0
        else:
            self.batches.append(batch)
            self.pending += len(batch.items)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self) -> Batch[T]:
        while not self.batches:
            if self.overflowed:
                raise SlowConsumer(f"fell more than {self.limit} events behind")
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        batch = self.batches.popleft()
        self.pending -= len(batch.items)
        return batch


@dataclass(eq=False)
class Feed(Generic[T]):
    """One user's events of one topic on this process, for all its subscriptions here.

    It subscribes to the user's Redis channel and, on every wake-up, reads the events after
    `last` from the event log (id order), builds the delivered items once (one query a
    batch) and hands the same item objects to every member, which is what lets their
    execution be shared (graph/live/shared.py): one database read an event a process, not
    one a socket. Redis messages only say "something happened", so out-of-order publishes
    cannot reorder a user's events, and a Redis outage costs a re-read (RESYNC).
    """

    user_id: uuid.UUID
    topic: str
    load: Loader[T]
    delivered: Counter | None = None  # frames written by the feed itself
    members: set[Member[T]] = field(default_factory=set)
    # The members its task may write to itself, by shared-execution key (Member.go_direct).
    directs: dict[object, dict[Member[T], None]] = field(default_factory=dict)
    last: int = 0
    ready: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None

    async def run(self, db: async_sessionmaker[AsyncSession], hub: EventHub) -> None:
        delay = 0.1
        while True:
            try:
                async with hub.subscribe(user_channel(self.user_id)) as live:
                    # Subscribed first, read second: whatever commits from here on is seen
                    # either by the read below or by a wake-up after it.
                    if not self.ready.done():
                        async with db() as session:
                            self.last = await events.latest_event_id(
                                session, user_id=self.user_id, topic=self.topic
                            )
                        self.ready.set_result(None)
                    else:  # subscribed again: whatever was missed meanwhile
                        await self._catch_up(db)
                    while True:
                        await _next_wake(live, self.topic)
                        await self._catch_up(db)
                        delay = 0.1
            except asyncio.CancelledError:
                raise
            except SlowConsumer:
                # More wake-ups queued than it could take: subscribe afresh and re-read.
                continue
            except Exception as exc:
                if not self.ready.done():
                    self.ready.set_exception(exc)
                    return
                logger.warning(
                    "event feed of %s (%s) failed (%s); retrying", self.user_id, self.topic, exc
                )
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_SECONDS, delay * 2)

    async def _catch_up(self, db: async_sessionmaker[AsyncSession]) -> None:
        while True:
            async with db() as session:
                batch = await events.events_after(
                    session, user_id=self.user_id, topic=self.topic, after=self.last
                )
            if not batch:
                return
            items = await self.load(db, batch)
            for _, item in items:
                share(item)
            delivered: Batch[T] = Batch(batch[-1].id, items)
            await self._render(delivered)
            # No await from here: a member that joins sees either this batch or `last`.
            self.last = delivered.last
            frames, now = FrameCache(), time.monotonic()
            written = sum(member.take(delivered, frames, now) for member in self.members)
            if written and self.delivered is not None:
                self.delivered.inc(written)
            if len(batch) < events.MAX_REPLAY:
                return

    async def _render(self, batch: Batch[T]) -> None:
        """Runs the shared executions the direct members' frames need (one per distinct
        operation and event), so that handing the batch over needs no await."""
        renderers = [next(iter(members)).direct for members in self.directs.values()]
        for direct in renderers:
            if direct is None:
                continue
            for _, item in batch.items:
                try:
                    await direct.render(item)
                except Exception:  # the task's path reports it, with its error codes
                    logger.warning("a shared execution failed", exc_info=True)


class Feeds:
    """The feeds of this process, by (user, topic); a feed stops with its last member."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        hub: EventHub,
        *,
        queue_size: int,
        delivered: Counter | None = None,
    ) -> None:
        self.db = db
        self.hub = hub
        self.queue_size = queue_size
        self.delivered = delivered
        self._feeds: dict[tuple[uuid.UUID, str], Feed[Any]] = {}

    def __len__(self) -> int:
        return len(self._feeds)

    def members(self, user_id: uuid.UUID, topic: str) -> set[Member[Any]]:
        feed = self._feeds.get((user_id, topic))
        return set(feed.members) if feed is not None else set()

    @contextlib.asynccontextmanager
    async def join(
        self, user_id: uuid.UUID, topic: str, load: Loader[T]
    ) -> AsyncIterator[Member[T]]:
        key = (user_id, topic)
        feed: Feed[Any] | None = self._feeds.get(key)
        if feed is None:
            feed = Feed(user_id, topic, load, self.delivered)
            feed.task = asyncio.create_task(
                feed.run(self.db, self.hub), name=f"englog-feed-{topic}"
            )
            self._feeds[key] = feed
        member: Member[T] = Member(self.queue_size, directs=feed.directs)
        feed.members.add(member)
        try:
            await asyncio.shield(feed.ready)
            member.start = feed.last  # same step as the membership check below: no await
            yield member
        finally:
            feed.members.discard(member)
            if not feed.members and self._feeds.get(key) is feed:
                del self._feeds[key]
                assert feed.task is not None
                await stop_task(feed.task)


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancels the task until it ends. A cancellation that lands while a pooled database
    connection is being checked out or returned can be swallowed below us (seen: a socket
    closed right after it subscribed left its feed, and its Redis subscription, running
    forever, and its handler waiting for it); the next one lands on our own awaits. The
    task's outcome is dropped: it was told to stop."""
    interrupted = False
    while not task.done():
        task.cancel()
        try:
            await asyncio.wait([task], timeout=STOP_RETRY_SECONDS)
        except asyncio.CancelledError:
            # Our own caller is being stopped (stop_task one level up): finish stopping this
            # task first, or it would be left running with nobody to stop it.
            interrupted = True
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
    if interrupted:
        raise asyncio.CancelledError


async def follow(info: Info, *, topic: str, since: str | None, load: Loader[T]) -> AsyncIterator[T]:
    """The user's `topic` events after `since` (or from now on), then live, forever.

    It joins the feed first, reading its position `start` in the same step, replays
    (since, start] from PostgreSQL itself, and takes the feed's items above `start`: the
    seam has no gap and no duplicate.
    """
    user_id = info.context.user_id()
    after = parse_since(since)
    state = info.context.state
    async with state.feeds.join(user_id, topic, load) as member:
        last = member.start if after is None else after
        # Replay (after, start] from PostgreSQL; the feed brings everything after start.
        while last < member.start:
            async with state.db() as session:
                batch = await events.events_after(session, user_id=user_id, topic=topic, after=last)
            batch = [event for event in batch if event.id <= member.start]
            if not batch:
                break
            for _, item in await load(state.db, batch):
                yield item
            last = batch[-1].id
        # Live: on a websocket, shared items are written to it directly (graph/live/shared.py),
        # by the feed itself while this task waits (graph/live/fanout.py).
        writer = shared.direct()
        member.cursor = last
        member.go_direct(writer)
        try:
            while True:
                delivered = await member.get()
                for event_id, item in delivered.items:
                    if event_id <= member.cursor:
                        continue
                    member.cursor = event_id
                    frame = await writer.frame(item) if writer is not None else None
                    if frame is None:
                        yield item
                        continue
                    assert writer is not None
                    if not await writer.delivery.send_text(frame):
                        return  # the socket is gone; its handler is closing the operation
                member.cursor = max(member.cursor, delivered.last)
        finally:
            member.leave_direct()


async def _next_wake(live: Subscriber, topic: str) -> None:
    """Waits for a message that may mean new events of `topic` (or a resync), then takes
    every message already queued too: one read answers them all."""
    while True:
        message = await live.get()
        if _wakes(message, topic):
            break
    while not live.queue.empty():
        live.queue.get_nowait()


def _wakes(message: dict[str, Any], topic: str) -> bool:
    kind = message.get("type")
    return kind == "resync" or (kind == "event" and message.get("topic") == topic)
