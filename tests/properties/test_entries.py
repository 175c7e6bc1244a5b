"""createLogEntry, createLogEntries, updateLogEntry and deleteLogEntry, fed generated input."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from tests.factories import entry_input
from tests.properties.harness import (
    CREATE_ENTRY,
    FEW_EXAMPLES,
    Change,
    Probe,
    Snapshot,
    World,
    answer,
    changes,
    for_all,
)
from tests.properties.strategies import (
    ACTIVITY,
    DATETIME,
    IDS,
    IMPACT,
    STRINGISH,
    TAG_NAMES,
    VALUE,
    WRONG,
    huge,
    plausible,
    resolve,
    weighted,
)

ENTRY_INPUT = st.fixed_dictionaries(
    {
        "title": plausible(st.sampled_from(["Fixed the deploy", " t ", "t" * 200])),
        "type": ACTIVITY,
        "startTime": DATETIME,
        "endTime": DATETIME,
    },
    optional={
        "description": STRINGISH,
        "projectId": IDS,
        "tags": TAG_NAMES,
        "valueRating": VALUE,
        "impactLevel": IMPACT,
    },
)
# Mostly well-formed entries, so that successes are tried as often as refusals.
GOOD_ENTRY = st.builds(
    lambda offset, minutes, tags: entry_input(offset_hours=offset, minutes=minutes, tags=tags),
    st.integers(min_value=-10_000, max_value=10_000),
    st.integers(min_value=-5, max_value=600),
    st.lists(st.sampled_from(["rust", "Rust", "ops", " ops ", "x" * 50]), max_size=3),
)
ANY_ENTRY = weighted((4, GOOD_ENTRY), (3, ENTRY_INPUT), (1, WRONG))


def entry_writes(entries: list[dict[str, Any]], before: Snapshot) -> dict[str, Change]:
    """What creating these entries writes: each row, its tag links, its enrichment task and
    event; its tags are created, or have their usage counted."""
    tags = {tag["id"] for entry in entries for tag in entry["tags"]}
    new_tags = sum(1 for tag_id in tags if (uuid.UUID(tag_id),) not in before["tag"])
    expected = {
        "log_entry": Change(added=len(entries)),
        "task": Change(added=len(entries)),
        "event": Change(added=len(entries)),
        "log_entry_tag": Change(added=sum(len(entry["tags"]) for entry in entries)),
        "tag": Change(added=new_tags, changed=len(tags) - new_tags),
    }
    return {table: change for table, change in expected.items() if change != Change()}


async def test_create_log_entry_answers_an_entry_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")

    async def check(entry: Any) -> None:
        await probe.run(
            CREATE_ENTRY,
            {"input": resolve(entry, refs)},
            world.me.access_token,
            lambda data, before: entry_writes([data["createLogEntry"]], before),
        )

    await for_all(ANY_ENTRY, check)


async def test_create_log_entries_writes_all_or_nothing_and_never_fails_internally(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")
    query = """mutation($inputs: [CreateLogEntryInput!]!) {
      createLogEntries(inputs: $inputs) { id tags { id } } }"""
    batches = plausible(
        st.one_of(
            st.lists(ANY_ENTRY, max_size=4),
            huge(entry_input()),
            st.sampled_from([500, 501]).map(lambda size: [entry_input(tags=["bulk"])] * size),
        )
    )

    async def check(batch: Any) -> None:
        await probe.run(
            query,
            {"inputs": resolve(batch, refs)},
            world.me.access_token,
            lambda data, before: entry_writes(data["createLogEntries"], before),
        )

    await for_all(batches, check, FEW_EXAMPLES)


UPDATE_ENTRY_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "title": plausible(st.sampled_from(["Renamed", "t" * 201])),
        "description": STRINGISH,
        "type": ACTIVITY,
        "projectId": IDS,
        "tags": TAG_NAMES,
        "startTime": DATETIME,
        "endTime": DATETIME,
        "valueRating": VALUE,
        "impactLevel": IMPACT,
    },
)


async def test_update_log_entry_answers_an_entry_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    projects = await world.ids("project")
    entries = await world.ids("entry")
    query = """mutation($id: ID!, $input: UpdateLogEntryInput!) {
      updateLogEntry(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        entry_id = resolve(example[0], entries)
        changes_ = resolve(example[1], projects)
        before = await probe.db.snapshot()
        data = await answer(
            probe.client, query, {"id": entry_id, "input": changes_}, world.me.access_token
        )
        after = await probe.db.snapshot()
        found = changes(before, after)
        if data is None:
            assert found == {}, (example, data)
            return
        assert data == {"updateLogEntry": {"id": entries["own"]}}
        # The entry (its updatedAt at least) and one UPDATED event; tags as the input says.
        assert (found["log_entry"], found["event"]) == (Change(changed=1), Change(added=1))
        assert set(found) <= {"log_entry", "event", "log_entry_tag", "tag"}, found

    await for_all(st.tuples(IDS, plausible(UPDATE_ENTRY_INPUT)), check)


async def test_delete_log_entry_answers_true_or_coded_errors_and_deletes_only_on_success(
    probe: Probe, world: World
) -> None:
    async def check(entry_id: Any) -> None:
        refs = await world.ids("entry")
        await probe.run(
            "mutation($id: ID!) { deleteLogEntry(id: $id) }",
            {"id": resolve(entry_id, refs)},
            world.me.access_token,
            lambda data, _: {"log_entry": Change(removed=1), "event": Change(added=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)
