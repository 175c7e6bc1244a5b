"""updateLogEntry and deleteLogEntry, and what deleting a project or a tag does to entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.factories import Account, Api, entry_input
from tests.graph.entries.support import CREATE_ENTRY, ENTRY_FIELDS, GET_ENTRY, TAGS, Database

UPDATE_ENTRY = f"""
mutation Update($id: ID!, $input: UpdateLogEntryInput!) {{
  updateLogEntry(id: $id, input: $input) {{ {ENTRY_FIELDS} }}
}}
"""
DELETE_ENTRY = "mutation Delete($id: ID!) { deleteLogEntry(id: $id) }"
DELETE_PROJECT = "mutation DeleteProject($id: ID!) { deleteProject(id: $id) }"
CREATE_TAG = "mutation CreateTag($input: CreateTagInput!) { createTag(input: $input) { id } }"
DELETE_TAG = "mutation DeleteTag($id: ID!) { deleteTag(id: $id) }"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def create(api: Api, account: Account, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE_ENTRY, {"input": entry_input(**fields)}, account.access_token)
    entry: dict[str, Any] = data["createLogEntry"]
    return entry


async def update(api: Api, account: Account, entry_id: str, **changes: Any) -> dict[str, Any]:
    data = await api.data(UPDATE_ENTRY, {"id": entry_id, "input": changes}, account.access_token)
    entry: dict[str, Any] = data["updateLogEntry"]
    return entry


async def fetch(api: Api, account: Account, entry_id: str) -> dict[str, Any] | None:
    data = await api.data(GET_ENTRY, {"id": entry_id}, account.access_token)
    entry: dict[str, Any] | None = data["logEntry"]
    return entry


async def tag_usage(api: Api, account: Account) -> list[tuple[str, int]]:
    data = await api.data(TAGS, token=account.access_token)
    return [(tag["name"], tag["usageCount"]) for tag in data["tags"]]


@pytest.fixture
async def full_entry(api: Api, account: Account) -> dict[str, Any]:
    project = await api.create_project(account, "Apollo")
    return await create(
        api,
        account,
        title="Original title",
        description="Original description",
        type="CODE",
        projectId=project["id"],
        tags=["alpha", "beta"],
        valueRating="HIGH",
        impactLevel="PRODUCT",
    )


# --- updateLogEntry -------------------------------------------------------------------------


async def test_update_changes_only_the_given_field_and_moves_updated_at(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    updated = await update(api, account, full_entry["id"], title="  New title  ")
    row = await db.entry_row(full_entry["id"])
    assert row is not None
    expected = {**full_entry, "title": "New title", "updatedAt": row["updated_at"].isoformat()}
    assert datetime.fromisoformat(expected["updatedAt"]) > datetime.fromisoformat(
        full_entry["updatedAt"]
    )
    # What is stored, what a later read gives, and what the mutation answers all agree.
    assert await fetch(api, account, full_entry["id"]) == expected
    assert updated == expected


async def test_update_with_an_empty_input_changes_nothing_but_updated_at(
    api: Api, account: Account, full_entry: dict[str, Any]
) -> None:
    updated = await update(api, account, full_entry["id"])
    assert {k: v for k, v in updated.items() if k != "updatedAt"} == {
        k: v for k, v in full_entry.items() if k != "updatedAt"
    }


async def test_update_changes_every_field_and_recomputes_the_duration(
    api: Api, account: Account, full_entry: dict[str, Any]
) -> None:
    other = await api.create_project(account, "Gemini")
    updated = await update(
        api,
        account,
        full_entry["id"],
        title="Pairing session",
        description="With the new hire",
        type="MENTORING",
        projectId=other["id"],
        tags=["Mentoring"],
        startTime="2026-11-03T14:00:00+02:00",
        endTime="2026-11-03T16:30:00+02:00",
        valueRating="LOW",
        impactLevel="PERSONAL",
    )
    stored = await fetch(api, account, full_entry["id"])
    assert stored is not None
    assert {k: v for k, v in stored.items() if k not in ("updatedAt", "tags")} == {
        "id": full_entry["id"],
        "title": "Pairing session",
        "description": "With the new hire",
        "type": "MENTORING",
        "project": {"id": other["id"], "name": "Gemini"},
        "startTime": "2026-11-03T12:00:00+00:00",
        "endTime": "2026-11-03T14:30:00+00:00",
        "durationMinutes": 150,
        "valueRating": "LOW",
        "impactLevel": "PERSONAL",
        "createdAt": full_entry["createdAt"],
    }
    assert [(tag["name"], tag["usageCount"]) for tag in stored["tags"]] == [("Mentoring", 1)]
    # The mutation answers with the entry as it now is.
    assert updated == stored


async def test_update_clears_description_and_project_with_null(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    updated = await update(api, account, full_entry["id"], description=None, projectId=None)
    row = await db.entry_row(full_entry["id"])
    assert row is not None
    assert (row["description"], row["project_id"], row["title"]) == (None, None, "Original title")
    stored = await fetch(api, account, full_entry["id"])
    assert stored is not None
    assert (stored["description"], stored["project"]) == (None, None)
    assert updated == stored
    # The project itself is untouched.
    projects = await api.data("{ projects { name } }", token=account.access_token)
    assert projects == {"projects": [{"name": "Apollo"}]}


async def test_update_replaces_the_tag_set_and_moves_usage_counts(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    updated = await update(api, account, full_entry["id"], tags=["beta", "Gamma", "gamma"])
    assert [(tag["name"], tag["usageCount"]) for tag in updated["tags"]] == [
        ("beta", 1),
        ("Gamma", 1),
    ]
    assert await tag_usage(api, account) == [("alpha", 0), ("beta", 1), ("Gamma", 1)]
    assert await db.link_count(account) == 2


async def test_update_with_an_empty_tag_list_removes_every_tag(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    updated = await update(api, account, full_entry["id"], tags=[])
    assert updated["tags"] == []
    assert await tag_usage(api, account) == [("alpha", 0), ("beta", 0)]
    assert await db.link_count(account) == 0


async def test_update_with_null_tags_removes_every_tag(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    updated = await update(api, account, full_entry["id"], tags=None)
    assert updated["tags"] == []
    assert await db.link_count(account) == 0


async def test_update_without_tags_keeps_them(
    api: Api, account: Account, full_entry: dict[str, Any]
) -> None:
    updated = await update(api, account, full_entry["id"], valueRating="LOW")
    assert [tag["name"] for tag in updated["tags"]] == ["alpha", "beta"]
    assert await tag_usage(api, account) == [("alpha", 1), ("beta", 1)]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"endTime": "2026-11-02T08:30:00+00:00"}, id="end before stored start"),
        pytest.param({"endTime": "2026-11-02T09:00:00+00:00"}, id="end equal to stored start"),
        pytest.param({"startTime": "2026-11-02T10:00:00+00:00"}, id="start at stored end"),
        pytest.param({"startTime": "2026-11-02T12:00:00+01:00"}, id="start after stored end"),
        pytest.param(
            {"startTime": "2026-11-02T12:00:00+00:00", "endTime": "2026-11-02T11:00:00+00:00"},
            id="both given, reversed",
        ),
    ],
)
async def test_update_rejects_an_end_not_after_the_start_and_keeps_the_row(
    api: Api, account: Account, db: Database, changes: dict[str, Any]
) -> None:
    # Stored: 09:00–10:00 UTC.
    entry = await create(api, account, tags=["kept"])
    before = await db.entry_row(entry["id"])
    error = await api.error(
        UPDATE_ENTRY,
        {"id": entry["id"], "input": {**changes, "title": "Changed"}},
        account.access_token,
    )
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"endTime": "must be after startTime"},
    }
    assert await db.entry_row(entry["id"]) == before
    assert await fetch(api, account, entry["id"]) == entry


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"title": None}, {"title": "must not be null"}, id="title null"),
        pytest.param({"title": ""}, {"title": "must not be empty"}, id="title empty"),
        pytest.param(
            {"title": "t" * 201}, {"title": "must be at most 200 characters"}, id="title too long"
        ),
        pytest.param(
            {"description": "d" * 2001},
            {"description": "must be at most 2000 characters"},
            id="description too long",
        ),
        pytest.param({"type": None}, {"type": "must not be null"}, id="type null"),
        pytest.param({"startTime": None}, {"startTime": "must not be null"}, id="start null"),
        pytest.param({"endTime": None}, {"endTime": "must not be null"}, id="end null"),
        pytest.param(
            {"valueRating": None}, {"valueRating": "must not be null"}, id="value rating null"
        ),
        pytest.param(
            {"impactLevel": None}, {"impactLevel": "must not be null"}, id="impact level null"
        ),
        pytest.param(
            {"endTime": "2026-11-02T11:00:00"},
            {"endTime": "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)"},
            id="naive end",
        ),
        pytest.param({"tags": ["ok"] * 21}, {"tags": "at most 20 tags an entry"}, id="21 tags"),
        pytest.param(
            {"tags": ["ok", "x" * 51]}, {"tags.1": "must be at most 50 characters"}, id="long tag"
        ),
        pytest.param({"projectId": "nope"}, {"projectId": "must be an ID"}, id="malformed project"),
    ],
)
async def test_update_rejects_invalid_values_and_keeps_the_row(
    api: Api,
    account: Account,
    full_entry: dict[str, Any],
    db: Database,
    changes: dict[str, Any],
    fields: dict[str, str],
) -> None:
    before = await db.entry_row(full_entry["id"])
    error = await api.error(
        UPDATE_ENTRY, {"id": full_entry["id"], "input": changes}, account.access_token
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await db.entry_row(full_entry["id"]) == before
    assert await tag_usage(api, account) == [("alpha", 1), ("beta", 1)]


@pytest.mark.parametrize("entry_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_update_of_an_unknown_entry_is_not_found(
    api: Api, account: Account, db: Database, entry_id: str
) -> None:
    error = await api.error(
        UPDATE_ENTRY,
        {"id": entry_id, "input": {"title": "x", "tags": ["nope"]}},
        account.access_token,
    )
    assert (error["message"], error["extensions"]) == ("Log entry not found", {"code": "NOT_FOUND"})
    assert await db.tag_count(account) == 0


async def test_update_of_another_users_entry_is_not_found_and_changes_nothing(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    intruder = await api.sign_up()
    before = await db.entry_row(full_entry["id"])
    error = await api.error(
        UPDATE_ENTRY,
        {"id": full_entry["id"], "input": {"title": "Mine now", "tags": ["x"]}},
        intruder.access_token,
    )
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert await db.entry_row(full_entry["id"]) == before
    assert await db.tag_count(intruder) == 0


@pytest.mark.parametrize("foreign", [False, True], ids=["unknown project", "another users project"])
async def test_update_to_a_project_the_user_lacks_is_not_found(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database, foreign: bool
) -> None:
    project_id = UNKNOWN_ID
    if foreign:
        project_id = (await api.create_project(await api.sign_up(), "Theirs"))["id"]
    before = await db.entry_row(full_entry["id"])
    error = await api.error(
        UPDATE_ENTRY,
        {"id": full_entry["id"], "input": {"projectId": project_id}},
        account.access_token,
    )
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}}
    assert await db.entry_row(full_entry["id"]) == before


# --- deleteLogEntry -------------------------------------------------------------------------


async def test_delete_removes_the_entry_then_a_second_delete_is_not_found(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    data = await api.data(DELETE_ENTRY, {"id": full_entry["id"]}, account.access_token)
    assert data == {"deleteLogEntry": True}
    assert await fetch(api, account, full_entry["id"]) is None
    assert await db.entry_row(full_entry["id"]) is None
    assert await db.link_count(account) == 0
    assert await tag_usage(api, account) == [("alpha", 0), ("beta", 0)]
    error = await api.error(DELETE_ENTRY, {"id": full_entry["id"]}, account.access_token)
    assert (error["message"], error["extensions"]) == ("Log entry not found", {"code": "NOT_FOUND"})


async def test_delete_leaves_other_entries_alone(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    kept = await create(api, account, title="Kept", tags=["alpha"])
    await api.data(DELETE_ENTRY, {"id": full_entry["id"]}, account.access_token)
    assert await fetch(api, account, kept["id"]) == {
        **kept,
        "tags": [{**kept["tags"][0], "usageCount": 1}],
    }
    assert await db.entry_count(account) == 1


@pytest.mark.parametrize("entry_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_delete_of_an_unknown_entry_is_not_found(
    api: Api, account: Account, entry_id: str
) -> None:
    error = await api.error(DELETE_ENTRY, {"id": entry_id}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_delete_of_another_users_entry_is_not_found_and_keeps_it(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    intruder = await api.sign_up()
    error = await api.error(DELETE_ENTRY, {"id": full_entry["id"]}, intruder.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert await fetch(api, account, full_entry["id"]) == full_entry
    assert await fetch(api, intruder, full_entry["id"]) is None


async def test_deleting_a_project_leaves_its_entries_without_a_project(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    project_id = full_entry["project"]["id"]
    data = await api.data(DELETE_PROJECT, {"id": project_id}, account.access_token)
    assert data == {"deleteProject": True}
    assert await fetch(api, account, full_entry["id"]) == {**full_entry, "project": None}
    row = await db.entry_row(full_entry["id"])
    assert row is not None
    assert row["project_id"] is None
    assert await db.entry_count(account) == 1


async def test_deleting_a_tag_removes_it_from_its_entries(
    api: Api, account: Account, full_entry: dict[str, Any], db: Database
) -> None:
    other = await create(api, account, title="Other", tags=["alpha"])
    alpha = next(tag for tag in full_entry["tags"] if tag["name"] == "alpha")
    data = await api.data(DELETE_TAG, {"id": alpha["id"]}, account.access_token)
    assert data == {"deleteTag": True}
    assert await fetch(api, account, full_entry["id"]) == {
        **full_entry,
        "tags": [tag for tag in full_entry["tags"] if tag["name"] == "beta"],
    }
    refetched = await fetch(api, account, other["id"])
    assert refetched is not None
    assert refetched["tags"] == []
    assert await tag_usage(api, account) == [("beta", 1)]
    assert await db.link_count(account) == 1
    assert await db.entry_count(account) == 2
