"""This process's open websockets: each user's connections counted in Redis for every API
process (ENGLOG_WS_MAX_CONNECTIONS_PER_USER), and their sessions re-checked in batches."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Protocol

from graph.errors import ServiceUnavailable
from graph.live.close_codes import FORBIDDEN, TRY_AGAIN_LATER
from graph.redis_faults import REDIS_FAULTS

if TYPE_CHECKING:
    from graph.auth.tokens import Claims
    from graph.context import AppState

logger = logging.getLogger("englog.ws")

REDIS_TIMEOUT = 1.0  # a connection_init never waits longer than this on the counter
MIN_SLOT_TTL = 30.0

# A sorted set per user: one member per live connection, scored with the time it lapses
# unless its process refreshes it (ConnectionSlots). A process that dies without closing its
# sockets leaves members that lapse on their own, instead of a counter that stays high
# forever (an INCR/DECR counter would, as long as any of the user's sockets kept refreshing
# its TTL). Scores are the API processes' clocks: NTP-level skew is nothing against a TTL
# of 30 s or more. When Redis is unreachable connections are let in and a warning logged.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class Socket(Protocol):
    """An open websocket, as the registry sees it (graph/live/ws.py's handler)."""

    @property
    def closing(self) -> bool: ...

    @property
    def claims(self) -> Claims | None:
        """Of the access token the socket was accepted with; None before connection_init."""

    async def close(self, code: int, reason: str) -> None: ...


def connections_key(user_id: uuid.UUID) -> str:
    return f"englog:ws:connections:{user_id}"


def slot_ttl(state: AppState) -> float:
    return max(3 * state.settings.ws_ping_seconds, MIN_SLOT_TTL)


async def acquire_slot(state: AppState, user_id: uuid.UUID, slot: str) -> bool:
    """Whether the user is under the cap (the slot is then taken); True if Redis is away."""
    ttl = slot_ttl(state)
    now = time.time()
    script = state.redis.register_script(_ACQUIRE)
    args: list[str | float] = [
        now,
        now + ttl,
        slot,
        state.settings.ws_max_connections_per_user,
        int(ttl * 1000),
    ]
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            taken = await script(keys=[connections_key(user_id)], args=args)
    except REDIS_FAULTS:
        logger.warning(
            "websocket connection counter unavailable: connection allowed", exc_info=True
        )
        return True
    return bool(taken)


async def release_slot(state: AppState, user_id: uuid.UUID, slot: str) -> None:
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            await state.redis.zrem(connections_key(user_id), slot)
    except REDIS_FAULTS:  # the member lapses by itself
        logger.debug("could not release a websocket connection slot", exc_info=True)


class ConnectionSlots:
    """This process's websocket connections, kept counted in Redis together.

    Every ENGLOG_WS_PING_SECONDS one pipeline refreshes every live connection's member (one
    ZADD a user), and counts it again if Redis lost it: a round trip a process, not one a
    connection (at 10,000 sockets those were a third of the process's CPU).

    It also knows every open socket, counted or not yet, so that a shutdown can close them
    all with 1001 (`close_all`), and re-checks their sessions together (`close_revoked`).
    """

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.revocations = RevocationChecks(state)
        self._slots: dict[str, uuid.UUID] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[Socket] = set()
        self._checker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._slots)

    def opened(self, handler: Socket) -> None:
        self._handlers.add(handler)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._recheck(), name="englog-ws-revocations")

    def closed(self, handler: Socket) -> None:
        self._handlers.discard(handler)

    async def close_all(self, code: int, reason: str) -> None:
        """Closes every open socket with `code` and `reason` (closing handshakes included;
        the caller bounds the wait)."""
        handlers = list(self._handlers)
        if handlers:
            await asyncio.gather(*(handler.close(code, reason) for handler in handlers))

    def add(self, user_id: uuid.UUID, slot: str) -> None:
        self._slots[slot] = user_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep(), name="englog-ws-slots")

    def discard(self, slot: str) -> None:
        self._slots.pop(slot, None)

    async def _recheck(self) -> None:
        """Every ENGLOG_WS_AUTH_RECHECK_SECONDS, one denylist look-up for every signed-in
        socket of the process (one MGET), not one a socket: at 10,000 sockets the single
        look-ups were a tenth of the process's CPU. A revoked session's sockets close."""
        while self._handlers:
            await asyncio.sleep(self.state.settings.ws_auth_recheck_seconds)
            await self.close_revoked()

    async def close_revoked(self) -> None:
        signed_in = [
            (handler, claims)
            for handler in list(self._handlers)
            if (claims := handler.claims) is not None and not handler.closing
        ]
        if not signed_in:
            return
        try:
            revoked = await self.state.revoked_sessions([claims for _, claims in signed_in])
        except ServiceUnavailable as exc:
            # Not known to be valid any more: these sockets go, and their clients come back
            # (1013 is retried) and resume with `since` once the check can be answered.
            await asyncio.gather(*(h.close(TRY_AGAIN_LATER, str(exc)) for h, _ in signed_in))
            return
        closing = [handler for (handler, _), gone in zip(signed_in, revoked, strict=True) if gone]
        if closing:
            await asyncio.gather(*(h.close(FORBIDDEN, "Token revoked") for h in closing))

    async def _keep(self) -> None:
        while self._slots:
            await asyncio.sleep(self.state.settings.ws_ping_seconds)
            await self.refresh()

    async def refresh(self) -> None:
        ttl = slot_ttl(self.state)
        lapse = time.time() + ttl
        members: dict[uuid.UUID, dict[str, float]] = {}
        for slot, user_id in self._slots.items():
            members.setdefault(user_id, {})[slot] = lapse
        if not members:
            return
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                async with self.state.redis.pipeline(transaction=False) as pipe:
                    for user_id, slots in members.items():
                        pipe.zadd(connections_key(user_id), slots)
                        pipe.pexpire(connections_key(user_id), int(ttl * 1000))
                    await pipe.execute()
        except REDIS_FAULTS:
            logger.debug("could not refresh websocket connection slots", exc_info=True)

    async def close(self) -> None:
        self._slots.clear()
        for task in (self._task, self._checker):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task


class RevocationChecks:
    """Every operation on a socket asks whether its session was revoked, as every HTTP
    request does (logOut ends a session at once, on sockets too). The operations that ask in
    the same turn of the event loop share one denylist look-up, as the periodic re-check
    does: a burst of subscribes costs one MGET, not one each."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._waiting: list[tuple[Claims, asyncio.Future[bool]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def revoked(self, claims: Claims) -> bool:
        """Whether the session is revoked; ServiceUnavailable when that cannot be known."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((claims, future))
        if len(self._waiting) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        task = asyncio.create_task(self._answer(waiting), name="englog-ws-revocation-batch")
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _answer(self, waiting: list[tuple[Claims, asyncio.Future[bool]]]) -> None:
        try:
            answers = await self.state.revoked_sessions([claims for claims, _ in waiting])
        except Exception as exc:
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), revoked in zip(waiting, answers, strict=True):
            if not future.done():
                future.set_result(revoked)
