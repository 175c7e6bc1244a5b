"""requestInsight and retryInsight, fed generated input."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from db.queries import insight as insights
from graph.context import AppState
from tests.properties.harness import (
    FEW_EXAMPLES,
    REQUEST_INSIGHT,
    Change,
    Probe,
    World,
    for_all,
)
from tests.properties.strategies import (
    DATE,
    IDS,
    OWN,
    TEXT,
    enum,
    huge,
    plausible,
    resolve,
    weighted,
)

PERIODS = weighted(
    (
        3,
        st.builds(
            lambda start, days: (start.isoformat(), (start + timedelta(days=days)).isoformat()),
            st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)),
            st.integers(min_value=-1, max_value=367),
        ),
    ),
    (1, st.tuples(DATE, DATE)),
)
INSIGHT_INPUT = st.builds(
    lambda period, rest: {**rest, "periodStart": period[0], "periodEnd": period[1]},
    PERIODS,
    st.fixed_dictionaries(
        {
            "kind": enum("DAILY_SUMMARY", "WEEKLY_REPORT", "ANNUAL_ASSESSMENT"),
        },
        optional={
            "projectIds": plausible(st.one_of(st.lists(IDS, max_size=4), huge(OWN))),
            "focusAreas": plausible(st.one_of(st.lists(plausible(TEXT), max_size=12), huge("a"))),
        },
    ),
)


async def test_request_insight_answers_an_insight_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")

    async def check(request: Any) -> None:
        await probe.run(
            REQUEST_INSIGHT,
            {"input": resolve(request, refs)},
            world.me.access_token,
            lambda data, _: {
                "insight": Change(added=1),
                "task": Change(added=1),
                "event": Change(added=1),
            },
        )

    await for_all(plausible(INSIGHT_INPUT), check)


async def test_retry_insight_answers_a_pending_insight_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World, app_state: AppState
) -> None:
    async def check(insight_id: Any) -> None:
        refs = await world.ids("insight")
        async with app_state.db() as session, session.begin():  # only a FAILED one retries
            own = uuid.UUID(refs["own"])
            assert await insights.mark_insight_running(session, insight_id=own)
            assert await insights.fail_insight(session, insight_id=own, error="model timed out")
        await probe.run(
            "mutation($id: ID!) { retryInsight(id: $id) { id status } }",
            {"id": resolve(insight_id, refs)},
            world.me.access_token,
            lambda data, _: {
                "insight": Change(changed=1),
                "task": Change(added=1),
                "event": Change(added=1),
            },
        )

    await for_all(IDS, check, FEW_EXAMPLES)  # "gone" is one still PENDING: CONFLICT
