"""createProject/createTag, updateProject/updateTag and deleteProject/deleteTag, fed generated
input: the two are one shape (a named thing of the user's), so one set of properties serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.properties.harness import FEW_EXAMPLES, Change, Probe, World, for_all
from tests.properties.strategies import (
    COLOR,
    DATE,
    IDS,
    STRINGISH,
    WRONG,
    enum,
    plausible,
    resolve,
    weighted,
)


@dataclass(frozen=True)
class Named:
    type: str  # the GraphQL type: Project, Tag
    table: str  # its table, which World.ids and the change counts name
    input: st.SearchStrategy[dict[str, Any]]  # every field optional, names near the limits

    @property
    def new(self) -> st.SearchStrategy[Any]:
        """Mostly with a fresh name, so that the other fields decide."""
        fresh = st.builds(
            lambda name, rest: {**rest, "name": name}, st.uuids().map(str), self.input
        )
        return weighted((4, fresh), (2, self.input), (1, WRONG))


PROJECT = Named(
    "Project",
    "project",
    st.fixed_dictionaries(
        {},
        optional={
            "name": plausible(st.sampled_from(["Apollo", "apollo ", "p" * 200])),
            "description": STRINGISH,
            "status": enum("ACTIVE", "COMPLETED", "ON_HOLD", "CANCELLED"),
            "color": COLOR,
            "startDate": DATE,
            "endDate": DATE,
        },
    ),
)
TAG = Named(
    "Tag",
    "tag",
    st.fixed_dictionaries(
        {},
        optional={
            "name": plausible(st.sampled_from(["rust", "Rust ", "t" * 50])),
            "category": STRINGISH,
            "color": COLOR,
        },
    ),
)
NAMED = pytest.mark.parametrize("named", [PROJECT, TAG], ids=lambda named: named.table)


@NAMED
async def test_create_answers_the_thing_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World, named: Named
) -> None:
    query = f"""mutation($input: Create{named.type}Input!) {{
      create{named.type}(input: $input) {{ id }} }}"""

    async def check(value: Any) -> None:
        await probe.run(
            query, {"input": value}, world.me.access_token, lambda *_: {named.table: Change(1)}
        )

    await for_all(named.new, check)


@NAMED
async def test_update_answers_the_thing_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World, named: Named
) -> None:
    refs = await world.ids(named.table)
    query = f"""mutation($id: ID!, $input: Update{named.type}Input!) {{
      update{named.type}(id: $id, input: $input) {{ id }} }}"""

    async def check(example: tuple[Any, Any]) -> None:
        target, changes_ = resolve(example, refs)
        data = await probe.run(
            query,
            {"id": target, "input": changes_},
            world.me.access_token,
            lambda *_: {named.table: Change(changed=1)},
        )
        if data is not None:
            assert data == {f"update{named.type}": {"id": refs["own"]}}

    await for_all(st.tuples(IDS, plausible(named.input)), check)


@NAMED
async def test_delete_answers_true_or_coded_errors_and_deletes_only_what_it_answers(
    probe: Probe, world: World, named: Named
) -> None:
    async def check(target: Any) -> None:
        refs = await world.ids(named.table)  # a fresh own one: the last one may be gone
        await probe.run(
            f"mutation($id: ID!) {{ delete{named.type}(id: $id) }}",
            {"id": resolve(target, refs)},
            world.me.access_token,
            lambda *_: {named.table: Change(removed=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)
