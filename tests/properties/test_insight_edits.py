"""updateInsight and deleteInsight, fed generated input."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from db.queries import insight as insights
from graph.context import AppState
from tests.properties.harness import FEW_EXAMPLES, Change, Probe, World, for_all
from tests.properties.strategies import IDS, TEXT, plausible, resolve

UPDATE = """mutation($id: ID!, $input: UpdateInsightInput!) {
  updateInsight(id: $id, input: $input) { id editedContent editedAt } }"""
DELETE = "mutation($id: ID!) { deleteInsight(id: $id) }"
EDITS = st.fixed_dictionaries(
    {},
    optional={
        "editedContent": plausible(
            st.one_of(TEXT, st.none(), st.just("x" * 100_001), st.just("# Mine\n\nEdited."))
        )
    },
)


async def completed_refs(world: World, app_state: AppState) -> dict[str, str]:
    """own and others COMPLETED; gone still PENDING (so CONFLICT)."""
    refs = await world.ids("insight")
    async with app_state.db() as session, session.begin():
        for ref in ("own", "others"):
            insight_id = uuid.UUID(refs[ref])
            assert await insights.mark_insight_running(session, insight_id=insight_id)
            assert await insights.complete_insight(
                session, insight_id=insight_id, content="# Report", model="m", generation={}
            )
    return refs


async def test_update_insight_answers_the_edit_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World, app_state: AppState
) -> None:
    async def check(case: tuple[Any, Any]) -> None:
        insight_id, edit = case
        refs = await completed_refs(world, app_state)
        await probe.run(
            UPDATE,
            {"id": resolve(insight_id, refs), "input": edit},
            world.me.access_token,
            lambda data, _: {"insight": Change(changed=1), "event": Change(added=1)},
        )

    await for_all(st.tuples(IDS, EDITS), check, FEW_EXAMPLES)


async def test_delete_insight_answers_true_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World, app_state: AppState
) -> None:
    async def check(insight_id: Any) -> None:
        refs = await completed_refs(world, app_state)
        await probe.run(
            DELETE,
            {"id": resolve(insight_id, refs)},
            world.me.access_token,
            lambda data, _: {"insight": Change(changed=1), "event": Change(added=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)
