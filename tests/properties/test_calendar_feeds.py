"""enableCalendarFeed and disableCalendarFeed, in generated orders, with and without a token."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from tests.properties.harness import FEW_EXAMPLES, Change, Probe, Snapshot, World, for_all

ENABLE = "mutation { enableCalendarFeed { url createdAt } }"
DISABLE = "mutation { disableCalendarFeed }"
STEPS = st.lists(
    st.tuples(st.sampled_from(["enable", "disable"]), st.sampled_from(["me", "none", "bad"])),
    min_size=1,
    max_size=4,
)


async def test_calendar_feed_mutations_keep_one_feed_a_user_and_write_only_when_signed_in(
    probe: Probe, world: World
) -> None:
    key = (uuid.UUID(world.me.user_id),)
    tokens = {"me": world.me.access_token, "none": None, "bad": "not-a-token"}

    def enabled(_: dict[str, Any], before: Snapshot) -> dict[str, Change]:
        had = key in before["calendar_feed"]
        return {"calendar_feed": Change(changed=1) if had else Change(added=1)}

    def disabled(data: dict[str, Any], before: Snapshot) -> dict[str, Change]:
        assert data["disableCalendarFeed"] is (key in before["calendar_feed"])
        return {"calendar_feed": Change(removed=1)} if data["disableCalendarFeed"] else {}

    async def check(steps: list[tuple[str, str]]) -> None:
        for action, who in steps:
            if action == "enable":
                data = await probe.run(ENABLE, {}, tokens[who], enabled)
                if data is not None:
                    assert "/calendar/" in data["enableCalendarFeed"]["url"]
            else:
                await probe.run(DISABLE, {}, tokens[who], disabled)

    await for_all(STEPS, check, FEW_EXAMPLES)
