"""No query or mutation shows or touches another user's projects, tags or log entries.

Another user's id and an id that exists nowhere must be indistinguishable: same code, same
message, same shape; a malformed id answers the same way too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import Account, Api, connect, entry_input, only_error

TABLES = ("user", "project", "tag", "log_entry", "log_entry_tag", "refresh_token")

PROJECT_FIELDS = "id name description status color startDate endDate createdAt updatedAt"
TAG_FIELDS = "id name category color usageCount"
ENTRY_FIELDS = f"""
  id title description type startTime endTime durationMinutes valueRating impactLevel
  createdAt updatedAt project {{ id name }} tags {{ {TAG_FIELDS} }}
"""

CREATE_TAG = f"""
mutation CreateTag($input: CreateTagInput!) {{ createTag(input: $input) {{ {TAG_FIELDS} }} }}
"""
CREATE_PROJECT = f"""
mutation CreateProject($input: CreateProjectInput!) {{
  createProject(input: $input) {{ {PROJECT_FIELDS} }}
}}
"""
CREATE_ENTRY = f"""
mutation CreateEntry($input: CreateLogEntryInput!) {{
  createLogEntry(input: $input) {{ {ENTRY_FIELDS} }}
}}
"""
CREATE_ENTRIES = """
mutation CreateEntries($inputs: [CreateLogEntryInput!]!) {
  createLogEntries(inputs: $inputs) { id }
}
"""
UPDATE_ENTRY = """
mutation UpdateEntry($id: ID!, $input: UpdateLogEntryInput!) {
  updateLogEntry(id: $id, input: $input) { id title project { id } }
}
"""

PROJECT = f"query Project($id: ID!) {{ project(id: $id) {{ {PROJECT_FIELDS} }} }}"
PROJECTS = f"{{ projects {{ {PROJECT_FIELDS} }} }}"
ENTRY = f"query Entry($id: ID!) {{ logEntry(id: $id) {{ {ENTRY_FIELDS} }} }}"
ENTRIES = f"""
query Entries($filter: LogEntryFilter) {{
  logEntries(filter: $filter) {{ totalCount edges {{ node {{ {ENTRY_FIELDS} }} }} }}
}}
"""
TAGS = f"{{ tags {{ {TAG_FIELDS} }} }}"
POPULAR_TAGS = f"{{ popularTags(limit: 100) {{ {TAG_FIELDS} }} }}"


@dataclass
class Owner:
    account: Account
    project: dict[str, Any]
    tag: dict[str, Any]
    entry: dict[str, Any]


@dataclass
class World:
    alice: Owner
    bob: Owner


async def snapshot(database_url: str) -> dict[str, list[str]]:
    """Every row of every table the API writes, as sorted JSON: equal means nothing changed."""
    async with connect(database_url) as connection:
        return {
            table: sorted(
                row["r"]
                for row in await connection.fetch(
                    # The names come from TABLES above, never from input.
                    f'SELECT row_to_json(t)::text AS r FROM "{table}" t'
                )
            )
            for table in TABLES
        }


async def make_owner(api: Api, *, project: str, tag: str, title: str, hours: float) -> Owner:
    account = await api.sign_up()
    created_project = (
        await api.data(
            CREATE_PROJECT,
            {"input": {"name": project, "description": f"{project} plans", "color": "#112233"}},
            account.access_token,
        )
    )["createProject"]
    created_tag = (
        await api.data(
            CREATE_TAG,
            {"input": {"name": tag, "category": "skill", "color": "#445566"}},
            account.access_token,
        )
    )["createTag"]
    entry = (
        await api.data(
            CREATE_ENTRY,
            {
                "input": entry_input(
                    offset_hours=hours,
                    title=title,
                    description=f"{title}, in detail",
                    projectId=created_project["id"],
                    tags=[tag, "shared"],
                )
            },
            account.access_token,
        )
    )["createLogEntry"]
    return Owner(account, created_project, created_tag, entry)


@pytest.fixture
async def world(api: Api) -> World:
    alice = await make_owner(
        api, project="Apollo", tag="alpha-secret", title="Alice's work", hours=0
    )
    bob = await make_owner(api, project="Bravo", tag="bravo-only", title="Bob's work", hours=2)
    return World(alice, bob)


def target_id(world: World, kind: str, key: str) -> str:
    """Alice's object of this kind, an id that exists nowhere, or one that is not an id."""
    if kind == "other-user":
        resource: dict[str, Any] = getattr(world.alice, key)
        return str(resource["id"])
    if kind == "unknown":
        return str(uuid.uuid4())
    return "not-a-uuid"


ID_KINDS = ["other-user", "unknown", "malformed"]


# Single-object queries answer null


@pytest.mark.parametrize("kind", ID_KINDS)
async def test_project_of_another_user_reads_as_null(api: Api, world: World, kind: str) -> None:
    body = await api.post(
        PROJECT, {"id": target_id(world, kind, "project")}, world.bob.account.access_token
    )

    assert body == {"data": {"project": None}}


@pytest.mark.parametrize("kind", ID_KINDS)
async def test_log_entry_of_another_user_reads_as_null(api: Api, world: World, kind: str) -> None:
    body = await api.post(
        ENTRY, {"id": target_id(world, kind, "entry")}, world.bob.account.access_token
    )

    assert body == {"data": {"logEntry": None}}


async def test_owners_still_read_their_own_objects(api: Api, world: World) -> None:
    """The control for the null answers above: the same documents work for the owner."""
    alice = world.alice
    project = await api.data(PROJECT, {"id": alice.project["id"]}, alice.account.access_token)
    entry = await api.data(ENTRY, {"id": alice.entry["id"]}, alice.account.access_token)

    assert project == {"project": alice.project}
    assert entry == {"logEntry": alice.entry}


# Mutations on someone else's object answer NOT_FOUND and change nothing

MUTATIONS = {
    "updateProject": (
        """mutation M($id: ID!) {
             updateProject(id: $id, input: {name: "Hijacked", status: CANCELLED, color: null}) {
               id
             }
           }""",
        "project",
        "Project not found",
    ),
    "deleteProject": (
        "mutation M($id: ID!) { deleteProject(id: $id) }",
        "project",
        "Project not found",
    ),
    "updateTag": (
        """mutation M($id: ID!) {
             updateTag(id: $id, input: {name: "hijacked", category: null, color: "#000000"}) { id }
           }""",
        "tag",
        "Tag not found",
    ),
    "deleteTag": ("mutation M($id: ID!) { deleteTag(id: $id) }", "tag", "Tag not found"),
    "updateLogEntry": (
        """mutation M($id: ID!) {
             updateLogEntry(
               id: $id, input: {title: "Hijacked", tags: ["stolen"], projectId: null}
             ) { id }
           }""",
        "entry",
        "Log entry not found",
    ),
    "deleteLogEntry": (
        "mutation M($id: ID!) { deleteLogEntry(id: $id) }",
        "entry",
        "Log entry not found",
    ),
}


@pytest.mark.parametrize("kind", ID_KINDS)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_mutation_on_another_users_object_is_not_found_and_changes_nothing(
    api: Api, world: World, database_url: str, mutation: str, kind: str
) -> None:
    document, key, message = MUTATIONS[mutation]
    before = await snapshot(database_url)

    body = await api.post(
        document, {"id": target_id(world, kind, key)}, world.bob.account.access_token
    )

    assert only_error(body) == {
        "message": message,
        "path": [mutation],
        "extensions": {"code": "NOT_FOUND"},
    }
    assert await snapshot(database_url) == before


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_mutations_still_work_for_the_owner(
    api: Api, world: World, database_url: str, mutation: str
) -> None:
    """The control for the NOT_FOUND answers above: the same documents act for the owner."""
    document, key, _ = MUTATIONS[mutation]
    before = await snapshot(database_url)

    await api.data(
        document, {"id": target_id(world, "other-user", key)}, world.alice.account.access_token
    )

    assert await snapshot(database_url) != before


@pytest.mark.parametrize("kind", ["other-user", "unknown"])
async def test_create_log_entry_with_another_users_project_is_not_found_and_writes_nothing(
    api: Api, world: World, database_url: str, kind: str
) -> None:
    before = await snapshot(database_url)
    project_id = target_id(world, kind, "project")

    body = await api.post(
        CREATE_ENTRY,
        {"input": entry_input(projectId=project_id, tags=["brand-new"])},
        world.bob.account.access_token,
    )

    assert only_error(body) == {
        "message": "Project not found",
        "path": ["createLogEntry"],
        "extensions": {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}},
    }
    assert await snapshot(database_url) == before


@pytest.mark.parametrize("kind", ["other-user", "unknown"])
async def test_create_log_entries_with_another_users_project_writes_none_of_them(
    api: Api, world: World, database_url: str, kind: str
) -> None:
    before = await snapshot(database_url)
    inputs = [
        entry_input(projectId=world.bob.project["id"], tags=["brand-new"]),
        entry_input(offset_hours=1, projectId=target_id(world, kind, "project")),
    ]

    body = await api.post(CREATE_ENTRIES, {"inputs": inputs}, world.bob.account.access_token)

    assert only_error(body) == {
        "message": "Project not found",
        "path": ["createLogEntries"],
        "extensions": {"code": "NOT_FOUND", "fields": {"inputs.1.projectId": "no such project"}},
    }
    assert await snapshot(database_url) == before


@pytest.mark.parametrize("kind", ["other-user", "unknown"])
async def test_update_log_entry_cannot_move_an_entry_into_another_users_project(
    api: Api, world: World, database_url: str, kind: str
) -> None:
    before = await snapshot(database_url)

    body = await api.post(
        UPDATE_ENTRY,
        {
            "id": world.bob.entry["id"],
            "input": {"projectId": target_id(world, kind, "project"), "title": "Moved"},
        },
        world.bob.account.access_token,
    )

    assert only_error(body) == {
        "message": "Project not found",
        "path": ["updateLogEntry"],
        "extensions": {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}},
    }
    assert await snapshot(database_url) == before


# Lists show only the caller's data


async def test_projects_lists_only_the_callers_projects(api: Api, world: World) -> None:
    bob = await api.data(PROJECTS, token=world.bob.account.access_token)
    alice = await api.data(PROJECTS, token=world.alice.account.access_token)

    assert bob == {"projects": [world.bob.project]}
    assert alice == {"projects": [world.alice.project]}


async def test_tags_lists_only_the_callers_tags(api: Api, world: World) -> None:
    data = await api.data(TAGS, token=world.bob.account.access_token)

    bob_tags = {tag["name"]: tag for tag in world.bob.entry["tags"]}
    assert data == {"tags": [bob_tags["bravo-only"], bob_tags["shared"]]}
    assert [tag["usageCount"] for tag in data["tags"]] == [1, 1]
    alice_ids = {tag["id"] for tag in world.alice.entry["tags"]}
    assert alice_ids.isdisjoint(tag["id"] for tag in data["tags"])


async def test_popular_tags_counts_only_the_callers_tags(api: Api, world: World) -> None:
    # Alice makes "shared" her most used tag; Bob's count of his own "shared" must not move.
    for hours in (10, 11, 12):
        await api.create_entry(world.alice.account, offset_hours=hours, tags=["shared"])

    bob = await api.data(POPULAR_TAGS, token=world.bob.account.access_token)
    alice = await api.data(POPULAR_TAGS, token=world.alice.account.access_token)

    bob_tags = {tag["name"]: tag for tag in world.bob.entry["tags"]}
    assert bob == {"popularTags": [bob_tags["bravo-only"], bob_tags["shared"]]}
    assert [(tag["name"], tag["usageCount"]) for tag in alice["popularTags"]] == [
        ("shared", 4),
        ("alpha-secret", 1),
    ]


async def test_log_entries_lists_only_the_callers_entries(api: Api, world: World) -> None:
    data = await api.data(ENTRIES, token=world.bob.account.access_token)

    assert data == {"logEntries": {"totalCount": 1, "edges": [{"node": world.bob.entry}]}}


@pytest.mark.parametrize(
    "make_filter",
    [
        pytest.param(lambda w: {"tags": ["alpha-secret"]}, id="other-users-tag-name"),
        pytest.param(lambda w: {"tags": ["ALPHA-SECRET"]}, id="other-users-tag-name-upper"),
        pytest.param(lambda w: {"search": "Alice"}, id="search-other-users-words"),
    ],
)
async def test_log_entries_filters_never_reach_another_users_entries(
    api: Api, world: World, make_filter: Any
) -> None:
    data = await api.data(ENTRIES, {"filter": make_filter(world)}, world.bob.account.access_token)

    assert data == {"logEntries": {"totalCount": 0, "edges": []}}


@pytest.mark.parametrize(
    "make_filter",
    [
        pytest.param(lambda w: {"tags": ["shared"]}, id="tag-both-users-have"),
        pytest.param(lambda w: {"tags": ["alpha-secret", "bravo-only"]}, id="both-users-tags"),
    ],
)
async def test_log_entries_filters_matching_both_users_return_only_the_callers_entries(
    api: Api, world: World, make_filter: Any
) -> None:
    data = await api.data(ENTRIES, {"filter": make_filter(world)}, world.bob.account.access_token)

    assert data == {"logEntries": {"totalCount": 1, "edges": [{"node": world.bob.entry}]}}


@pytest.mark.parametrize(
    "make_filter",
    [
        pytest.param(lambda w: {"projectIds": [w.alice.project["id"]]}, id="other-users-project"),
        pytest.param(
            lambda w: {"projectIds": [w.alice.project["id"]], "tags": ["shared"]},
            id="other-users-project-and-shared-tag",
        ),
        pytest.param(
            lambda w: {"projectIds": [w.alice.project["id"], w.bob.project["id"]]},
            id="both-projects",
        ),
    ],
)
async def test_log_entries_filtered_by_another_users_project_are_not_found(
    api: Api, world: World, make_filter: Any
) -> None:
    body = await api.post(ENTRIES, {"filter": make_filter(world)}, world.bob.account.access_token)

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"]


# Names are per user: using someone else's name neither conflicts nor links to their object


async def test_another_users_project_and_tag_names_are_free_to_use(api: Api, world: World) -> None:
    token = world.bob.account.access_token

    project = (await api.data(CREATE_PROJECT, {"input": {"name": "apollo"}}, token))[
        "createProject"
    ]
    tag = (await api.data(CREATE_TAG, {"input": {"name": "Alpha-Secret"}}, token))["createTag"]

    assert project["name"] == "apollo"
    assert project["id"] != world.alice.project["id"]
    assert tag == {
        "id": tag["id"],
        "name": "Alpha-Secret",
        "category": None,
        "color": None,
        "usageCount": 0,
    }
    assert tag["id"] != world.alice.tag["id"]
    alice = await api.data(TAGS, token=world.alice.account.access_token)
    assert [(t["name"], t["usageCount"]) for t in alice["tags"]] == [
        ("alpha-secret", 1),
        ("shared", 1),
    ]


async def test_tagging_with_another_users_tag_name_creates_the_callers_own_tag(
    api: Api, world: World, database_url: str
) -> None:
    alice_tag_row_before = await _tag_row(database_url, world.alice.tag["id"])

    entry = await api.create_entry(world.bob.account, offset_hours=5, tags=["alpha-secret"])

    assert entry["tags"] == [{"name": "alpha-secret"}]
    async with connect(database_url) as connection:
        linked = await connection.fetch(
            "SELECT t.user_id FROM log_entry_tag l JOIN tag t ON t.id = l.tag_id"
            " WHERE l.entry_id = $1",
            uuid.UUID(entry["id"]),
        )
    assert [row["user_id"] for row in linked] == [uuid.UUID(world.bob.account.user_id)]
    assert await _tag_row(database_url, world.alice.tag["id"]) == alice_tag_row_before


async def _tag_row(database_url: str, tag_id: str) -> dict[str, Any]:
    async with connect(database_url) as connection:
        row = await connection.fetchrow("SELECT * FROM tag WHERE id = $1", uuid.UUID(tag_id))
    assert row is not None
    return dict(row)


async def test_an_entry_linked_to_another_users_project_and_tag_shows_neither(
    api: Api, world: World, database_url: str
) -> None:
    """Defence in depth: even if a bad row linked them, the loaders filter by the caller."""
    async with connect(database_url) as connection:
        await connection.execute(
            "UPDATE log_entry SET project_id = $1 WHERE id = $2",
            uuid.UUID(world.alice.project["id"]),
            uuid.UUID(world.bob.entry["id"]),
        )
        await connection.execute(
            "INSERT INTO log_entry_tag (entry_id, tag_id) VALUES ($1, $2)",
            uuid.UUID(world.bob.entry["id"]),
            uuid.UUID(world.alice.tag["id"]),
        )

    data = await api.data(ENTRY, {"id": world.bob.entry["id"]}, world.bob.account.access_token)

    assert data["logEntry"]["project"] is None
    assert [tag["name"] for tag in data["logEntry"]["tags"]] == ["bravo-only", "shared"]
