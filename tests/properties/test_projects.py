"""createProject, updateProject and deleteProject, fed generated input."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.properties.harness import (
    FEW_EXAMPLES,
    Change,
    Probe,
    World,
    for_all,
)
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

PROJECT_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "name": plausible(st.sampled_from(["Apollo", "apollo ", "p" * 200])),
        "description": STRINGISH,
        "status": enum("ACTIVE", "COMPLETED", "ON_HOLD", "CANCELLED"),
        "color": COLOR,
        "startDate": DATE,
        "endDate": DATE,
    },
)
# Mostly with a fresh name, so that the other fields decide.
NEW_PROJECT = weighted(
    (4, st.builds(lambda name, rest: {**rest, "name": name}, st.uuids().map(str), PROJECT_INPUT)),
    (2, PROJECT_INPUT),
    (1, WRONG),
)


async def test_create_project_answers_a_project_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(project: Any) -> None:
        query = "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }"
        await probe.run(
            query,
            {"input": project},
            world.me.access_token,
            lambda data, _: {"project": Change(added=1)},
        )

    await for_all(NEW_PROJECT, check)


async def test_update_project_answers_a_project_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")
    query = """mutation($id: ID!, $input: UpdateProjectInput!) {
      updateProject(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        project_id, changes_ = resolve(example, refs)
        data = await probe.run(
            query,
            {"id": project_id, "input": changes_},
            world.me.access_token,
            lambda data, _: {"project": Change(changed=1)},
        )
        if data is not None:
            assert data == {"updateProject": {"id": refs["own"]}}

    await for_all(st.tuples(IDS, plausible(PROJECT_INPUT)), check)


async def test_delete_project_answers_true_or_coded_errors_and_deletes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(project_id: Any) -> None:
        refs = await world.ids("project")  # a fresh own project: the last one may be gone
        await probe.run(
            "mutation($id: ID!) { deleteProject(id: $id) }",
            {"id": resolve(project_id, refs)},
            world.me.access_token,
            lambda data, _: {"project": Change(removed=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)
