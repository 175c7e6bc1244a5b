"""The API's garbage-collection policy: what it freezes is out of the collector's walks until
the periodic full collection, which reclaims the cycles among it."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from graph.live.gc_policy import GcPolicy


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> Node:
    """One of a two-object cycle: once its caller lets go, only the cyclic collector frees it."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return first


@pytest.fixture
def frozen_afterwards() -> Iterator[None]:
    # The test process froze its start-up objects (the app's lifespan): leave it so.
    yield
    gc.collect()
    gc.freeze()


@pytest.mark.usefixtures("frozen_afterwards")
def test_a_frozen_cycle_outlives_collections_until_the_full_collection() -> None:
    policy = GcPolicy(freeze_seconds=10, full_collect_seconds=600)
    gc.unfreeze()
    held = cycle()  # alive while the policy freezes (a connection's objects, say) …
    ref = weakref.ref(held)

    policy.freeze()
    del held  # … then dropped (the connection closed)
    gc.collect()  # what CPython's own collections do: frozen objects are not walked

    assert gc.get_freeze_count() > 0
    assert ref() is not None
    collected, paused = policy.full_collect()
    assert ref() is None
    assert collected >= 2
    assert paused >= 0
    assert gc.get_freeze_count() > 0  # the survivors are frozen again


@pytest.mark.usefixtures("frozen_afterwards")
def test_an_unfrozen_cycle_is_freed_by_an_ordinary_collection() -> None:
    gc.unfreeze()
    ref = weakref.ref(cycle())

    gc.collect()

    assert ref() is None


async def test_a_freeze_interval_of_zero_turns_the_policy_off() -> None:
    # Not the frozen count before and after: frozen objects freed meanwhile lower it.
    held = cycle()
    ref = weakref.ref(held)

    await asyncio.wait_for(GcPolicy(freeze_seconds=0, full_collect_seconds=600).run(), 1.0)
    del held
    gc.collect()

    assert ref() is None  # never frozen: an ordinary collection freed it
