from __future__ import annotations

from tests.factories import Api, connect

UPDATE = """
mutation Update($id: ID!, $input: UpdateProjectInput!) {
  updateProject(id: $id, input: $input) { id name description status color startDate endDate }
}
"""
DELETE = "mutation Delete($id: ID!) { deleteProject(id: $id) }"
LIST = "{ projects { name } }"
ONE = "query One($id: ID!) { project(id: $id) { name status } }"


async def _count(database_url: str, table: str) -> int:
    async with connect(database_url) as connection:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))


async def test_create_project_returns_every_field(api: Api) -> None:
    account = await api.sign_up()
    project = await api.create_project(
        account,
        name="  Apollo  ",
        description="Moon landing",
        status="ON_HOLD",
        color="#1A2B3C",
        startDate="2026-01-01",
        endDate="2026-06-30",
    )
    assert project == {
        "id": project["id"],
        "name": "Apollo",
        "description": "Moon landing",
        "status": "ON_HOLD",
        "color": "#1A2B3C",
        "startDate": "2026-01-01",
        "endDate": "2026-06-30",
    }


async def test_create_project_rejects_bad_fields_and_writes_nothing(
    api: Api, database_url: str
) -> None:
    account = await api.sign_up()
    error = await api.error(
        "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }",
        {
            "input": {
                "name": "x" * 201,
                "description": "d" * 2001,
                "color": "red",
                "startDate": "2026-02-01",
                "endDate": "2026-01-01",
            }
        },
        account.access_token,
    )
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "name": "must be at most 200 characters",
            "description": "must be at most 2000 characters",
            "color": "must be a hex colour like #1A2B3C",
            "endDate": "must not be before startDate",
        },
    }
    assert await _count(database_url, "project") == 0


async def test_project_names_are_unique_per_user_case_insensitively(api: Api) -> None:
    ada, bob = await api.sign_up(), await api.sign_up()
    await api.create_project(ada, name="Apollo")
    error = await api.error(
        'mutation { createProject(input: {name: "APOLLO"}) { id } }', token=ada.access_token
    )
    assert error["extensions"] == {"code": "CONFLICT", "fields": {"name": "is already used"}}
    # Another user may use the same name.
    assert (await api.create_project(bob, name="Apollo"))["name"] == "Apollo"


async def test_update_project_changes_only_given_fields_and_null_clears(api: Api) -> None:
    account = await api.sign_up()
    project = await api.create_project(account, name="Apollo", description="Moon", color="#000000")
    data = await api.data(
        UPDATE,
        {"id": project["id"], "input": {"status": "COMPLETED", "description": None}},
        account.access_token,
    )
    assert data["updateProject"] == {
        "id": project["id"],
        "name": "Apollo",
        "description": None,
        "status": "COMPLETED",
        "color": "#000000",
        "startDate": None,
        "endDate": None,
    }


async def test_update_project_checks_dates_against_the_stored_ones(api: Api) -> None:
    account = await api.sign_up()
    project = await api.create_project(account, startDate="2026-05-01")
    error = await api.error(
        UPDATE, {"id": project["id"], "input": {"endDate": "2026-04-30"}}, account.access_token
    )
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"endDate": "must not be before startDate"},
    }


async def test_update_project_rejects_null_name_and_duplicate_name(api: Api) -> None:
    account = await api.sign_up()
    await api.create_project(account, name="Apollo")
    gemini = await api.create_project(account, name="Gemini")
    error = await api.error(
        UPDATE, {"id": gemini["id"], "input": {"name": None}}, account.access_token
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"name": "must not be null"}}
    error = await api.error(
        UPDATE, {"id": gemini["id"], "input": {"name": "apollo"}}, account.access_token
    )
    assert error["extensions"]["code"] == "CONFLICT"


async def test_delete_project_keeps_its_entries_without_a_project(api: Api) -> None:
    account = await api.sign_up()
    project = await api.create_project(account)
    entry = await api.create_entry(account, projectId=project["id"])
    assert await api.data(DELETE, {"id": project["id"]}, account.access_token) == {
        "deleteProject": True
    }
    data = await api.data(
        "query($id: ID!) { logEntry(id: $id) { project { id } } }",
        {"id": entry["id"]},
        account.access_token,
    )
    assert data == {"logEntry": {"project": None}}
    error = await api.error(DELETE, {"id": project["id"]}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_projects_lists_newest_first_and_project_finds_one(api: Api) -> None:
    account = await api.sign_up()
    first = await api.create_project(account, name="First")
    await api.create_project(account, name="Second")
    assert await api.data(LIST, token=account.access_token) == {
        "projects": [{"name": "Second"}, {"name": "First"}]
    }
    assert await api.data(ONE, {"id": first["id"]}, account.access_token) == {
        "project": {"name": "First", "status": "ACTIVE"}
    }
    assert await api.data(ONE, {"id": "not-a-uuid"}, account.access_token) == {"project": None}


async def test_project_operations_require_a_token(api: Api) -> None:
    for query in (LIST, 'mutation { createProject(input: {name: "x"}) { id } }'):
        error = await api.error(query)
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}
