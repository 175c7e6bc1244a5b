"""When the API process lets CPython's cyclic garbage collector walk its long-lived objects
(gc.freeze, and one full collection a period)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass

logger = logging.getLogger("englog.gc")


@dataclass
class GcPolicy:
    """Why: a process holding many websockets holds hundreds of objects per socket (tasks,
    timer handles, parsed documents, generators) that live as long as the socket. CPython's
    full collection walks every one, and starts by itself each time the old generation has
    grown by a quarter: at 10,000 sockets (3.3 M tracked objects) one took 2.5-2.7 s, a stop
    of every socket at once, met in steady state (`just bench --only subscriptions`).

    So every `freeze_seconds` the young generations are collected and what survives moves
    to the permanent generation (`gc.freeze()`), which no collection walks; automatic full
    collections then walk only what came since. Objects that die while frozen are still
    freed by reference counting at once. What freezing keeps is cyclic garbage among frozen
    objects (a closed socket's task and its exception, say), so every
    `full_collect_seconds` the process unfreezes and runs one full collection, logging how
    long it stopped the process: that bounds the memory held, at one pause a period.
    """

    freeze_seconds: float  # 0: never freeze (CPython's own collections only)
    full_collect_seconds: float

    def freeze(self) -> None:
        """Collects the young generations and freezes the survivors. (Not the frozen count:
        gc.get_freeze_count() walks every frozen object, half a second at 10,000 sockets.)"""
        gc.collect(1)
        gc.freeze()

    def full_collect(self) -> tuple[int, float]:
        """Unfreezes everything, collects it all, freezes the survivors again.

        Returns the objects collected and the seconds the process stood still."""
        began = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        return collected, time.perf_counter() - began

    async def run(self) -> None:
        """The policy's loop, for the lifespan of the API process."""
        if self.freeze_seconds <= 0:
            return
        next_full = time.monotonic() + self.full_collect_seconds
        while True:
            await asyncio.sleep(self.freeze_seconds)
            if time.monotonic() >= next_full:
                collected, paused = self.full_collect()
                next_full = time.monotonic() + self.full_collect_seconds
                logger.info(
                    "full garbage collection: %d objects freed, %.0f ms", collected, paused * 1000
                )
            else:
                self.freeze()
