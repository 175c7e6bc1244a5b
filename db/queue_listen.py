"""Wake-ups for task consumers: LISTEN on the queue's channel, with polling as the fallback.

One dedicated connection per process listens; any number of waiters share it. A waiter
wakes when a task is enqueued (NOTIFY at commit) or after `poll_seconds`, whichever comes
first, so a lost connection, a missed notification or a task whose `run_after` arrives
later only delays work by one poll interval. The connection is re-established by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Any, Self

import asyncpg

from db.engine import asyncpg_dsn

logger = logging.getLogger(__name__)

# The channel `db.queue` notifies on (it re-exports both names from here).
CHANNEL = "englog_tasks"

_CONNECT_TIMEOUT = 5.0
_CHECK_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 2.0
_FIRST_RETRY_SECONDS = 0.05
_EXPECTED_FAILURES = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class TaskWakeups:
    """`async with TaskWakeups(url) as wakeups: await wakeups.wait()`.

    To miss no notification between a look at the queue and the wait, read `generation`
    before looking and pass it as `wait(after=...)`: the wait returns at once if anything
    woke waiters since.
    """

    def __init__(
        self,
        url: str,
        *,
        poll_seconds: float = 5.0,
        channel: str = CHANNEL,
        application_name: str = "englog-task-wakeups",
        max_reconnect_seconds: float = 5.0,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._poll_seconds = poll_seconds
        self._channel = channel
        self._application_name = application_name
        self._max_reconnect_seconds = max_reconnect_seconds
        self._generation = 0
        self._event = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._connection: Any = None
        self._connections = 0
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def generation(self) -> int:
        """Counts wake-ups so far: notifications, and reconnections that may have missed one."""
        return self._generation

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    @property
    def connections(self) -> int:
        """How many times the listening connection was established (1 + reconnections)."""
        return self._connections

    async def __aenter__(self) -> Self:
        self._supervisor = asyncio.create_task(self._supervise(), name="englog-task-wakeups")
        # Listening (or known to be unable to) before the caller's first look at the queue.
        await self._first_attempt.wait()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=_CLOSE_TIMEOUT)
            except _EXPECTED_FAILURES:
                connection.terminate()
        self._wake()  # nobody waits out a poll interval on a closed listener

    async def wait(self, *, after: int | None = None) -> bool:
        """Waits for a wake-up or `poll_seconds`; True when woken, False when the poll came due.

        Either way the caller should look at the queue next.
        """
        if after is not None and after != self._generation:
            return True
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), self._poll_seconds)
        except TimeoutError:
            return False
        return True

    def wake(self) -> None:
        """Wakes this process's waiters now (e.g. a slot freed here: no NOTIFY needed)."""
        self._wake()

    def _wake(self) -> None:
        self._generation += 1
        self._event.set()
        self._event = asyncio.Event()

    def _on_notify(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._wake()

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = _FIRST_RETRY_SECONDS
        while True:
            started = loop.time()
            try:
                await self._listen()
            except _EXPECTED_FAILURES as error:
                logger.warning(
                    "task wake-ups: no listening connection (%r); polling every %ss meanwhile",
                    error,
                    self._poll_seconds,
                )
            except Exception:
                # This loop must outlive any surprise: the poll alone would keep tasks moving,
                # but every task would wait a poll interval.
                logger.exception("task wake-ups: unexpected failure of the listening connection")
            # (On cancellation the connection stays for __aexit__ to close gracefully.)
            connection, self._connection = self._connection, None
            if connection is not None and not connection.is_closed():
                connection.terminate()
            self._first_attempt.set()
            if loop.time() - started > self._max_reconnect_seconds:
                delay = _FIRST_RETRY_SECONDS  # a connection that lived: reconnect at once
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_seconds)

    async def _listen(self) -> None:
        """Holds one listening connection until it is lost."""
        self._connection = connection = await asyncpg.connect(
            self._dsn,
            timeout=_CONNECT_TIMEOUT,
            server_settings={"application_name": self._application_name},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self._channel, self._on_notify)
        self._connections += 1
        if self._connections > 1:
            # Notifications sent while we were away are gone: have every waiter look now.
            self._wake()
        self._first_attempt.set()
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self._poll_seconds)
            except TimeoutError:
                # A silently dead link (no FIN, no RST) shows up only when used.
                await connection.fetchval("SELECT 1", timeout=_CHECK_TIMEOUT)
