"""createTag, updateTag and deleteTag, fed generated input."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.properties.harness import (
    CREATE_TAG,
    FEW_EXAMPLES,
    Change,
    Probe,
    World,
    for_all,
)
from tests.properties.strategies import COLOR, IDS, STRINGISH, WRONG, plausible, resolve, weighted

TAG_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "name": plausible(st.sampled_from(["rust", "Rust ", "t" * 50])),
        "category": STRINGISH,
        "color": COLOR,
    },
)
NEW_TAG = weighted(
    (4, st.builds(lambda name, rest: {**rest, "name": name}, st.uuids().map(str), TAG_INPUT)),
    (2, TAG_INPUT),
    (1, WRONG),
)


async def test_create_tag_answers_a_tag_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(tag: Any) -> None:
        await probe.run(
            CREATE_TAG, {"input": tag}, world.me.access_token, lambda data, _: {"tag": Change(1)}
        )

    await for_all(NEW_TAG, check)


async def test_update_tag_answers_a_tag_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("tag")
    query = """mutation($id: ID!, $input: UpdateTagInput!) {
      updateTag(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        tag_id, changes_ = resolve(example, refs)
        data = await probe.run(
            query,
            {"id": tag_id, "input": changes_},
            world.me.access_token,
            lambda data, _: {"tag": Change(changed=1)},
        )
        if data is not None:
            assert data == {"updateTag": {"id": refs["own"]}}

    await for_all(st.tuples(IDS, plausible(TAG_INPUT)), check)


async def test_delete_tag_answers_true_or_coded_errors_and_deletes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(tag_id: Any) -> None:
        refs = await world.ids("tag")
        await probe.run(
            "mutation($id: ID!) { deleteTag(id: $id) }",
            {"id": resolve(tag_id, refs)},
            world.me.access_token,
            lambda data, _: {"tag": Change(removed=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)
