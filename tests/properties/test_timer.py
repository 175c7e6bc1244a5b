"""startTimer, updateTimer, stopTimer and discardTimer, fed generated input: each answers the
timer (or the entry) or coded errors, and writes exactly what it answered, or nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.properties.harness import (
    FEW_EXAMPLES,
    Change,
    Probe,
    Snapshot,
    World,
    for_all,
)
from tests.properties.strategies import (
    ACTIVITY,
    DATETIME,
    IDS,
    IMPACT,
    STRINGISH,
    TEXT,
    VALUE,
    WRONG,
    Ref,
    huge,
    plausible,
    resolve,
    weighted,
)

TIMER = "{ id tags { id } }"
START = f"mutation($input: StartTimerInput!) {{ startTimer(input: $input) {TIMER} }}"
UPDATE = f"mutation($input: UpdateTimerInput!) {{ updateTimer(input: $input) {TIMER} }}"
STOP = "mutation($input: StopTimerInput) { stopTimer(input: $input) { id tags { id } } }"
DISCARD = "mutation { discardTimer }"
# Tags are refs of their own (a project's refs are own/others/gone).
OWN_TAG, OTHERS_TAG, GONE_TAG = Ref("own_tag"), Ref("others_tag"), Ref("gone_tag")
TAG_IDS = plausible(
    st.one_of(
        st.lists(
            weighted((3, st.just(OWN_TAG)), (1, st.sampled_from([OTHERS_TAG, GONE_TAG])), (1, IDS)),
            max_size=4,
        ),
        huge(OWN_TAG),
    )
)
TITLES = plausible(st.one_of(st.sampled_from(["Pairing", " t ", "t" * 200, "t" * 201]), TEXT))
STARTED_AT = weighted(
    (2, st.integers(min_value=1, max_value=10_000).map(lambda minutes: _ago(minutes))),
    (1, DATETIME),
)
FIELDS = {
    "description": STRINGISH,
    "type": ACTIVITY,
    "projectId": IDS,
    "tagIds": TAG_IDS,
    "valueRating": VALUE,
    "impactLevel": IMPACT,
    "startedAt": plausible(STARTED_AT),
}
START_INPUT = weighted(
    (6, st.fixed_dictionaries({"title": TITLES}, optional=FIELDS)),
    (1, WRONG),
)
UPDATE_INPUT = weighted(
    (6, st.fixed_dictionaries({}, optional={"title": TITLES, **FIELDS})),
    (1, WRONG),
)
STOP_INPUT = plausible(
    st.fixed_dictionaries(
        {}, optional={"endTime": plausible(STARTED_AT), "type": plausible(ACTIVITY)}
    )
)


def _ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def _refs(world: World) -> dict[str, Any]:
    refs: dict[str, Any] = await world.ids("project")
    tags = await world.ids("tag")
    refs.update({f"{name}_tag": tag_id for name, tag_id in tags.items()})
    return refs


def _links(snapshot: Snapshot, timer_id: str) -> set[tuple[Any, ...]]:
    return {key for key in snapshot["running_timer_tag"] if key[0] == uuid.UUID(timer_id)}


async def _discard(world: World) -> None:
    await world.api.post(DISCARD, token=world.me.access_token)


def _started(data: dict[str, Any], _: Snapshot) -> dict[str, Change]:
    links = len(data["startTimer"]["tags"])
    expected = {"running_timer": Change(added=1), "event": Change(added=1)}
    if links:
        expected["running_timer_tag"] = Change(added=links)
    return expected


async def test_start_timer_answers_the_timer_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await _refs(world)

    async def check(value: Any) -> None:
        await _discard(world)
        await probe.run(START, {"input": resolve(value, refs)}, world.me.access_token, _started)

    await for_all(START_INPUT, check)


async def test_update_timer_answers_the_timer_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await _refs(world)
    timer = await world.api.data(
        START, {"input": {"title": "Running", "tagIds": [refs["own_tag"]]}}, world.me.access_token
    )
    timer_id = timer["startTimer"]["id"]

    def updated(data: dict[str, Any], before: Snapshot) -> dict[str, Change]:
        assert data["updateTimer"]["id"] == timer_id
        old = {key[1] for key in _links(before, timer_id)}
        new = {uuid.UUID(tag["id"]) for tag in data["updateTimer"]["tags"]}
        expected = {"running_timer": Change(changed=1), "event": Change(added=1)}
        links = Change(added=len(new - old), removed=len(old - new))
        if links != Change():
            expected["running_timer_tag"] = links
        return expected

    async def check(value: Any) -> None:
        await probe.run(UPDATE, {"input": resolve(value, refs)}, world.me.access_token, updated)

    await for_all(UPDATE_INPUT, check)


async def test_stop_timer_answers_one_entry_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await _refs(world)

    def stopped(data: dict[str, Any], _: Snapshot) -> dict[str, Change]:
        tags = len(data["stopTimer"]["tags"])
        # The entry, its enrichment task, its CREATED and the timer's STOPPED; the timer gone.
        expected = {
            "log_entry": Change(added=1),
            "task": Change(added=1),
            "event": Change(added=2),
            "running_timer": Change(removed=1),
        }
        if tags:
            expected.update(
                {
                    "running_timer_tag": Change(removed=tags),
                    "log_entry_tag": Change(added=tags),
                    "tag": Change(changed=tags),  # their usage counts
                }
            )
        return expected

    async def check(example: tuple[bool, Any, Any]) -> None:
        running, timer_type, value = example
        await _discard(world)
        if running:
            timer = {"title": "Running", "tagIds": [refs["own_tag"]], "startedAt": _ago(90)}
            if timer_type is not None:
                timer["type"] = timer_type
            await world.api.data(START, {"input": timer}, world.me.access_token)
        variables = {} if value is None else {"input": resolve(value, refs)}
        await probe.run(STOP, variables, world.me.access_token, stopped)

    examples = st.tuples(
        st.booleans(), st.one_of(st.none(), st.just("CODE")), st.one_of(st.none(), STOP_INPUT)
    )
    await for_all(examples, check, FEW_EXAMPLES)


async def test_discard_timer_answers_true_or_coded_errors_and_deletes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await _refs(world)

    def discarded(data: dict[str, Any], _: Snapshot) -> dict[str, Change]:
        assert data == {"discardTimer": True}
        return {
            "running_timer": Change(removed=1),
            "running_timer_tag": Change(removed=1),
            "event": Change(added=1),
        }

    async def check(running: bool) -> None:
        await _discard(world)
        if running:
            timer = {"title": "Running", "tagIds": [refs["own_tag"]]}
            await world.api.data(START, {"input": timer}, world.me.access_token)
        await probe.run(DISCARD, {}, world.me.access_token, discarded)

    await for_all(st.booleans(), check, FEW_EXAMPLES)
