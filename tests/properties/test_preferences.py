"""updatePreferences, fed generated input."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.properties.harness import (
    Change,
    Probe,
    World,
    for_all,
)
from tests.properties.strategies import TEXT, plausible

CLOCK_TIMES = st.one_of(
    st.sampled_from(["00:00", "09:00", "23:59", "24:00", "9:00", "09:60", "09:00:00", "09:00\n"]),
    st.none(),
    TEXT,
)
PREFERENCES_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "weeklyReport": plausible(st.one_of(st.booleans(), st.none())),
        "email": plausible(st.one_of(st.booleans(), st.none())),
        "dailySummaryTime": plausible(CLOCK_TIMES),
        "reminderTime": plausible(CLOCK_TIMES),
        "timezone": plausible(
            st.one_of(st.sampled_from(["Europe/Berlin", "UTC", "Mars/Olympus"]), st.none(), TEXT)
        ),
    },
)


async def test_update_preferences_answers_the_user_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    query = """mutation($input: UpdatePreferencesInput!) {
      updatePreferences(input: $input) { id preferences { reminderTime } } }"""

    async def check(value: Any) -> None:
        data = await probe.run(
            query,
            {"input": value},
            world.me.access_token,
            lambda data, _: {'"user"': Change(changed=1)},
        )
        if data is not None:
            assert data["updatePreferences"]["id"] == world.me.user_id

    await for_all(plausible(PREFERENCES_INPUT), check)
