"""createLogEntry and createLogEntries: what is written, what is refused, and that refusing writes
nothing at all."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.factories import Account, Api, entry_input
from tests.graph.entries.support import CREATE_ENTRIES, CREATE_ENTRY, TAGS, Database

CREATE_TAG = "mutation($input: CreateTagInput!) { createTag(input: $input) { id name } }"
DELETE_ENTRY = "mutation($id: ID!) { deleteLogEntry(id: $id) }"
UPDATE_TAGS = """
mutation($id: ID!, $tags: [String!]) { updateLogEntry(id: $id, input: {tags: $tags}) { id } }
"""
OFFSET_HINT = "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)"


async def create(api: Api, account: Account, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE_ENTRY, {"input": entry_input(**fields)}, account.access_token)
    entry: dict[str, Any] = data["createLogEntry"]
    return entry


async def tags_of(api: Api, account: Account) -> list[dict[str, Any]]:
    data = await api.data(TAGS, token=account.access_token)
    tags: list[dict[str, Any]] = data["tags"]
    return tags


async def assert_nothing_written(db: Database, account: Account) -> None:
    assert await db.entry_count(account) == 0
    assert await db.tag_count(account) == 0
    assert await db.link_count(account) == 0


# --- createLogEntry: success ---------------------------------------------------------------


async def test_create_log_entry_returns_every_field_as_stored(
    api: Api, account: Account, db: Database
) -> None:
    project = await api.create_project(account, "Apollo")
    data = await api.data(
        CREATE_ENTRY,
        {
            "input": {
                "title": "  Reviewed the payment service  ",
                "description": "Line one\nLine two\twith a tab",
                "type": "REVIEW",
                "projectId": project["id"],
                "tags": ["Rust", "payments"],
                "startTime": "2026-11-02T10:15:00+01:00",
                "endTime": "2026-11-02T11:45:00+01:00",
                "valueRating": "HIGH",
                "impactLevel": "COMPANY",
            }
        },
        account.access_token,
    )
    entry = data["createLogEntry"]
    row = await db.entry_row(entry["id"])
    assert row is not None
    tag_ids = await db.tag_ids(account)
    assert entry == {
        "id": str(row["id"]),
        "title": "Reviewed the payment service",
        "description": "Line one\nLine two\twith a tab",
        "type": "REVIEW",
        # The same instants, given back in UTC.
        "startTime": "2026-11-02T09:15:00+00:00",
        "endTime": "2026-11-02T10:45:00+00:00",
        "durationMinutes": 90,
        "valueRating": "HIGH",
        "impactLevel": "COMPANY",
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["created_at"].isoformat(),
        "project": {"id": project["id"], "name": "Apollo"},
        "tags": [
            {"id": tag_ids["payments"], "name": "payments", "usageCount": 1},
            {"id": tag_ids["Rust"], "name": "Rust", "usageCount": 1},
        ],
    }
    assert row["user_id"].hex == account.user_id.replace("-", "")
    assert row["title"] == "Reviewed the payment service"
    assert row["duration_minutes"] == 90
    assert await db.entry_count(account) == 1
    assert await db.link_count(account) == 2


async def test_create_log_entry_defaults_value_medium_and_impact_team(
    api: Api, account: Account
) -> None:
    entry = await create(api, account, title="Standup", type="MEETING", minutes=15)
    assert {key: entry[key] for key in ("title", "type", "description", "project", "tags")} == {
        "title": "Standup",
        "type": "MEETING",
        "description": None,
        "project": None,
        "tags": [],
    }
    assert (entry["valueRating"], entry["impactLevel"], entry["durationMinutes"]) == (
        "MEDIUM",
        "TEAM",
        15,
    )


async def test_create_log_entry_accepts_the_largest_title_and_description(
    api: Api, account: Account, db: Database
) -> None:
    entry = await create(api, account, title="t" * 200, description="d" * 2000)
    assert (len(entry["title"]), len(entry["description"])) == (200, 2000)
    assert await db.entry_count(account) == 1


async def test_create_log_entry_accepts_twenty_tags_of_fifty_characters(
    api: Api, account: Account
) -> None:
    names = [f"{index:02d}" + "x" * 48 for index in range(20)]
    entry = await create(api, account, tags=names)
    assert [tag["name"] for tag in entry["tags"]] == names


async def test_duration_counts_whole_minutes_only(api: Api, account: Account) -> None:
    # 1 min 30 s is one whole minute, and 59 s is none.
    ninety_seconds = await create(
        api,
        account,
        startTime="2026-11-02T09:00:00+00:00",
        endTime="2026-11-02T09:01:30+00:00",
    )
    under_a_minute = await create(
        api,
        account,
        startTime="2026-11-02T10:00:00+00:00",
        endTime="2026-11-02T10:00:59+00:00",
    )
    assert (ninety_seconds["durationMinutes"], under_a_minute["durationMinutes"]) == (1, 0)


async def test_tags_are_created_on_first_use_and_reused_case_insensitively(
    api: Api, account: Account, db: Database
) -> None:
    first = await create(api, account, tags=["Rust"])
    second = await create(api, account, tags=["rust", "Go"])
    third = await create(api, account, tags=["RUST"])
    # The spelling of first use stays; every entry points at the one tag.
    assert [tag["name"] for tag in first["tags"]] == ["Rust"]
    assert [tag["name"] for tag in second["tags"]] == ["Go", "Rust"]
    assert [tag["name"] for tag in third["tags"]] == ["Rust"]
    assert first["tags"][0]["id"] == second["tags"][1]["id"] == third["tags"][0]["id"]
    assert await tags_of(api, account) == [
        {"name": "Go", "usageCount": 1},
        {"name": "Rust", "usageCount": 3},
    ]
    assert await db.tag_count(account) == 2


async def test_tags_given_twice_on_one_entry_are_linked_once(
    api: Api, account: Account, db: Database
) -> None:
    entry = await create(api, account, tags=["Go", "go", "  GO  ", "infra"])
    assert [(tag["name"], tag["usageCount"]) for tag in entry["tags"]] == [("Go", 1), ("infra", 1)]
    assert await db.link_count(account) == 2


async def test_an_existing_tag_created_explicitly_is_reused_by_name(
    api: Api, account: Account
) -> None:
    data = await api.data(CREATE_TAG, {"input": {"name": "Mentoring"}}, account.access_token)
    entry = await create(api, account, tags=["mentoring"])
    assert entry["tags"] == [{"id": data["createTag"]["id"], "name": "Mentoring", "usageCount": 1}]


async def test_tag_usage_count_follows_create_update_and_delete(api: Api, account: Account) -> None:
    first = await create(api, account, tags=["alpha", "beta"])
    second = await create(api, account, tags=["alpha"])
    assert await tags_of(api, account) == [
        {"name": "alpha", "usageCount": 2},
        {"name": "beta", "usageCount": 1},
    ]
    await api.data(UPDATE_TAGS, {"id": second["id"], "tags": ["beta"]}, account.access_token)
    assert await tags_of(api, account) == [
        {"name": "alpha", "usageCount": 1},
        {"name": "beta", "usageCount": 2},
    ]
    await api.data(DELETE_ENTRY, {"id": first["id"]}, account.access_token)
    assert await tags_of(api, account) == [
        {"name": "alpha", "usageCount": 0},
        {"name": "beta", "usageCount": 1},
    ]
    await api.data(DELETE_ENTRY, {"id": second["id"]}, account.access_token)
    assert await tags_of(api, account) == [
        {"name": "alpha", "usageCount": 0},
        {"name": "beta", "usageCount": 0},
    ]


async def test_tags_of_another_user_with_the_same_name_are_not_shared(
    api: Api, account: Account
) -> None:
    other = await api.sign_up()
    await create(api, other, tags=["Rust"])
    entry = await create(api, account, tags=["rust"])
    assert [(tag["name"], tag["usageCount"]) for tag in entry["tags"]] == [("rust", 1)]
    assert await tags_of(api, other) == [{"name": "Rust", "usageCount": 1}]


async def test_concurrent_entries_naming_the_same_new_tags_in_any_order_all_succeed(
    api: Api, account: Account, db: Database
) -> None:
    names = [f"tag-{index:02d}" for index in range(20)]
    for round_ in range(10):
        ordered = [f"r{round_}-{name}" for name in names]
        bodies = await asyncio.gather(
            *(
                api.post(
                    CREATE_ENTRY,
                    {"input": entry_input(tags=ordered if turn % 2 else ordered[::-1])},
                    account.access_token,
                )
                for turn in range(6)
            )
        )
        # Two writers creating the same tags in opposite orders must not deadlock each other.
        assert [body.get("errors") for body in bodies] == [None] * 6
    assert await db.entry_count(account) == 60
    assert {tag["usageCount"] for tag in await tags_of(api, account)} == {6}
    assert await db.tag_count(account) == 200


# --- createLogEntry: refusals ---------------------------------------------------------------

START = "2026-11-02T09:00:00+00:00"

INVALID_INPUTS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("empty title", {"title": ""}, {"title": "must not be empty"}),
    ("blank title", {"title": "   "}, {"title": "must not be empty"}),
    ("title of 201 characters", {"title": "t" * 201}, {"title": "must be at most 200 characters"}),
    (
        "description of 2001 characters",
        {"description": "d" * 2001},
        {"description": "must be at most 2000 characters"},
    ),
    (
        "end equal to start",
        {"startTime": START, "endTime": START},
        {"endTime": "must be after startTime"},
    ),
    (
        "end before start",
        {"startTime": START, "endTime": "2026-11-02T08:59:59+00:00"},
        {"endTime": "must be after startTime"},
    ),
    (
        "end before start in another offset",
        {"startTime": START, "endTime": "2026-11-02T09:30:00+01:00"},
        {"endTime": "must be after startTime"},
    ),
    ("naive start", {"startTime": "2026-11-02T09:00:00"}, {"startTime": OFFSET_HINT}),
    ("naive end", {"endTime": "2026-11-02T10:00:00"}, {"endTime": OFFSET_HINT}),
    (
        "naive start and end",
        {"startTime": "2026-11-02T09:00:00", "endTime": "2026-11-02T10:00:00"},
        {"startTime": OFFSET_HINT, "endTime": OFFSET_HINT},
    ),
    (
        "21 tags",
        {"tags": [f"tag{index}" for index in range(21)]},
        {"tags": "at most 20 tags an entry"},
    ),
    (
        "a tag of 51 characters",
        {"tags": ["x" * 51, "fine"]},
        {"tags.0": "must be at most 50 characters"},
    ),
    (
        "a later tag of 51 characters",
        {"tags": ["fine", "also-fine", "y" * 51]},
        {"tags.2": "must be at most 50 characters"},
    ),
    ("an empty tag", {"tags": ["fine", " "]}, {"tags.1": "must not be empty"}),
    (
        "a tag with a control character",
        {"tags": ["bell\x07"]},
        {"tags.0": "must not contain control characters"},
    ),
    (
        "NUL in the title",
        {"title": "before\x00after"},
        {"title": "must not contain control characters"},
    ),
    (
        "a newline in the title",
        {"title": "two\nlines"},
        {"title": "must not contain control characters"},
    ),
    (
        "an escape character in the title",
        {"title": "colour \x1b[31m"},
        {"title": "must not contain control characters"},
    ),
    (
        "NUL in the description",
        {"description": "a\x00b"},
        {"description": "must not contain control characters"},
    ),
    ("a malformed project id", {"projectId": "not-an-id"}, {"projectId": "must be an ID"}),
    (
        "several problems at once",
        {"title": "", "description": "d" * 2001, "startTime": START, "endTime": START},
        {
            "title": "must not be empty",
            "description": "must be at most 2000 characters",
            "endTime": "must be after startTime",
        },
    ),
]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [pytest.param(fields, expected, id=name) for name, fields, expected in INVALID_INPUTS],
)
async def test_create_log_entry_rejects_invalid_input_and_writes_nothing(
    api: Api, account: Account, db: Database, fields: dict[str, Any], expected: dict[str, str]
) -> None:
    values = entry_input(tags=["must-not-be-created"])
    values.update(fields)
    error = await api.error(CREATE_ENTRY, {"input": values}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": expected}
    assert error["path"] == ["createLogEntry"]
    await assert_nothing_written(db, account)


async def test_create_log_entry_error_message_names_the_first_field(
    api: Api, account: Account
) -> None:
    values = entry_input(title="", description="d" * 2001)
    error = await api.error(CREATE_ENTRY, {"input": values}, account.access_token)
    assert error["message"] == "Invalid input: title: must not be empty (and 1 more)"


async def test_create_log_entry_rejects_an_unknown_activity_type_given_in_variables(
    api: Api, account: Account, db: Database
) -> None:
    values = entry_input(type="NAPPING", tags=["must-not-be-created"])
    body = await api.post(CREATE_ENTRY, {"input": values}, account.access_token)
    message = (
        "Variable '$input' has invalid value at .type: "
        "Value 'NAPPING' does not exist in 'ActivityType' enum."
    )
    assert body == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 2, "column": 17}],
                "extensions": {"code": "BAD_USER_INPUT", "fields": {"type": message}},
            }
        ],
    }
    await assert_nothing_written(db, account)


async def test_create_log_entry_rejects_a_time_that_is_not_iso_8601(
    api: Api, account: Account, db: Database
) -> None:
    values = entry_input(startTime="yesterday morning")
    error = await api.error(CREATE_ENTRY, {"input": values}, account.access_token)
    message = error["message"]
    assert message.startswith("Variable '$input' has invalid value at .startTime: ")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"startTime": message}}
    await assert_nothing_written(db, account)


async def test_create_log_entry_with_an_unknown_project_is_not_found(
    api: Api, account: Account, db: Database
) -> None:
    values = entry_input(
        projectId="00000000-0000-4000-8000-000000000000", tags=["must-not-be-created"]
    )
    error = await api.error(CREATE_ENTRY, {"input": values}, account.access_token)
    assert (error["message"], error["extensions"]) == (
        "Project not found",
        {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}},
    )
    await assert_nothing_written(db, account)


async def test_create_log_entry_with_another_users_project_is_not_found(
    api: Api, account: Account, db: Database
) -> None:
    other = await api.sign_up()
    project = await api.create_project(other, "Theirs")
    values = entry_input(projectId=project["id"], tags=["must-not-be-created"])
    error = await api.error(CREATE_ENTRY, {"input": values}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}}
    await assert_nothing_written(db, account)


async def test_create_log_entry_without_a_token_is_unauthenticated(
    api: Api, db: Database, account: Account
) -> None:
    error = await api.error(CREATE_ENTRY, {"input": entry_input()})
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    await assert_nothing_written(db, account)


# --- createLogEntries -----------------------------------------------------------------------


async def test_create_log_entries_writes_every_entry_in_the_given_order(
    api: Api, account: Account, db: Database
) -> None:
    project = await api.create_project(account, "Apollo")
    inputs = [
        entry_input(0, title="First", tags=["Go"]),
        entry_input(1, title="Second", projectId=project["id"], tags=["Go", "infra"]),
        entry_input(2, minutes=30, title="Third", valueRating="LOW", impactLevel="PERSONAL"),
    ]
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    entries = data["createLogEntries"]
    assert [
        (e["title"], e["durationMinutes"], e["valueRating"], e["impactLevel"], e["project"])
        for e in entries
    ] == [
        ("First", 60, "MEDIUM", "TEAM", None),
        ("Second", 60, "MEDIUM", "TEAM", {"id": project["id"], "name": "Apollo"}),
        ("Third", 30, "LOW", "PERSONAL", None),
    ]
    assert [[tag["name"] for tag in e["tags"]] for e in entries] == [["Go"], ["Go", "infra"], []]
    assert await db.entry_count(account) == 3
    assert await db.link_count(account) == 3
    assert await tags_of(api, account) == [
        {"name": "Go", "usageCount": 2},
        {"name": "infra", "usageCount": 1},
    ]
    for entry in entries:
        row = await db.entry_row(entry["id"])
        assert row is not None
        assert row["title"] == entry["title"]


async def test_create_log_entries_accepts_exactly_500(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index, title=f"Entry {index}", tags=["bulk"]) for index in range(500)]
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert [entry["title"] for entry in data["createLogEntries"]] == [
        f"Entry {index}" for index in range(500)
    ]
    assert await db.entry_count(account) == 500
    assert await tags_of(api, account) == [{"name": "bulk", "usageCount": 500}]


@pytest.mark.parametrize("size", [0, 501], ids=["empty", "501"])
async def test_create_log_entries_rejects_a_batch_outside_1_to_500(
    api: Api, account: Account, db: Database, size: int
) -> None:
    inputs = [entry_input(index, tags=["must-not-be-created"]) for index in range(size)]
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"inputs": "must hold 1 to 500 entries"},
    }
    await assert_nothing_written(db, account)


async def test_create_log_entries_writes_nothing_when_one_input_is_invalid(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index, tags=["must-not-be-created"]) for index in range(6)]
    inputs[3]["title"] = ""
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"inputs.3.title": "must not be empty"},
    }
    await assert_nothing_written(db, account)


async def test_create_log_entries_reports_every_invalid_input_by_index(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index) for index in range(5)]
    inputs[1]["endTime"] = inputs[1]["startTime"]
    inputs[4]["tags"] = ["ok", "z" * 51]
    inputs[4]["startTime"] = "2026-11-02T09:00:00"
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "inputs.1.endTime": "must be after startTime",
            "inputs.4.startTime": OFFSET_HINT,
            "inputs.4.tags.1": "must be at most 50 characters",
        },
    }
    await assert_nothing_written(db, account)


async def test_create_log_entries_writes_nothing_when_one_project_is_unknown(
    api: Api, account: Account, db: Database
) -> None:
    project = await api.create_project(account, "Apollo")
    inputs = [
        entry_input(index, projectId=project["id"], tags=["must-not-be-created"])
        for index in range(4)
    ]
    inputs[2]["projectId"] = "00000000-0000-4000-8000-000000000000"
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"] == {
        "code": "NOT_FOUND",
        "fields": {"inputs.2.projectId": "no such project"},
    }
    await assert_nothing_written(db, account)


async def test_create_log_entries_keys_an_unknown_enum_value_by_index(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index) for index in range(3)]
    inputs[2]["valueRating"] = "HUGE"
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    message = (
        "Variable '$inputs' has invalid value at [2].valueRating: Value 'HUGE' does not exist "
        "in 'ValueRating' enum. Did you mean the enum value 'HIGH'?"
    )
    # The mutation promises errors keyed `inputs.<index>.<field>`, variable coercion included.
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"inputs.2.valueRating": message},
    }
    await assert_nothing_written(db, account)


async def test_create_log_entries_keeps_the_first_spelling_of_a_new_tag(
    api: Api, account: Account
) -> None:
    inputs = [entry_input(0, tags=["GraphQL"]), entry_input(1, tags=["graphql"])]
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    # As within one entry (graph/validation.py tag_names): the first spelling names the tag.
    assert [[tag["name"] for tag in e["tags"]] for e in data["createLogEntries"]] == [
        ["GraphQL"],
        ["GraphQL"],
    ]
    assert await tags_of(api, account) == [{"name": "GraphQL", "usageCount": 2}]
