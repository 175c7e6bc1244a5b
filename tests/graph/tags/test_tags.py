from __future__ import annotations

import pytest

from tests.factories import Api, entry_input

CREATE = """
mutation($input: CreateTagInput!) { createTag(input: $input) { id name category color usageCount } }
"""
UPDATE = """
mutation($id: ID!, $input: UpdateTagInput!) {
  updateTag(id: $id, input: $input) { name category color }
}
"""
DELETE = "mutation($id: ID!) { deleteTag(id: $id) }"


async def test_create_tag_returns_every_field(api: Api) -> None:
    account = await api.sign_up()
    data = await api.data(
        CREATE,
        {"input": {"name": "rust", "category": "skill", "color": "#ABCDEF"}},
        account.access_token,
    )
    tag = data["createTag"]
    assert tag == {
        "id": tag["id"],
        "name": "rust",
        "category": "skill",
        "color": "#ABCDEF",
        "usageCount": 0,
    }


async def test_create_tag_validates_and_refuses_duplicates(api: Api) -> None:
    account = await api.sign_up()
    error = await api.error(
        CREATE, {"input": {"name": "n" * 51, "color": "#12345"}}, account.access_token
    )
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "name": "must be at most 50 characters",
            "color": "must be a hex colour like #1A2B3C",
        },
    }
    await api.data(CREATE, {"input": {"name": "Rust"}}, account.access_token)
    error = await api.error(CREATE, {"input": {"name": "rust"}}, account.access_token)
    assert error["extensions"] == {"code": "CONFLICT", "fields": {"name": "is already used"}}


async def test_tags_created_by_entries_show_in_tags_and_popular_tags(api: Api) -> None:
    account = await api.sign_up()
    await api.create_entry(account, tags=["go", "infra"])
    await api.create_entry(account, tags=["Go"])
    await api.create_entry(account, tags=["docs", "GO", "infra"])
    data = await api.data("{ tags { name usageCount } }", token=account.access_token)
    assert data == {
        "tags": [
            {"name": "docs", "usageCount": 1},
            {"name": "go", "usageCount": 3},
            {"name": "infra", "usageCount": 2},
        ]
    }
    data = await api.data("{ popularTags(limit: 2) { name } }", token=account.access_token)
    assert data == {"popularTags": [{"name": "go"}, {"name": "infra"}]}


async def test_popular_tags_limit_must_be_between_1_and_100(api: Api) -> None:
    account = await api.sign_up()
    for limit in (0, 101):
        error = await api.error(
            f"{{ popularTags(limit: {limit}) {{ name }} }}", token=account.access_token
        )
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fields": {"limit": "must be between 1 and 100"},
        }


async def test_update_and_delete_tag(api: Api) -> None:
    account = await api.sign_up()
    entry = await api.create_entry(account, tags=["old"])
    tag_id = (await api.data("{ tags { id } }", token=account.access_token))["tags"][0]["id"]
    data = await api.data(
        UPDATE, {"id": tag_id, "input": {"name": "new", "category": "area"}}, account.access_token
    )
    assert data == {"updateTag": {"name": "new", "category": "area", "color": None}}
    data = await api.data(
        "query($id: ID!) { logEntry(id: $id) { tags { name } } }",
        {"id": entry["id"]},
        account.access_token,
    )
    assert data == {"logEntry": {"tags": [{"name": "new"}]}}
    assert await api.data(DELETE, {"id": tag_id}, account.access_token) == {"deleteTag": True}
    data = await api.data(
        "query($id: ID!) { logEntry(id: $id) { tags { name } } }",
        {"id": entry["id"]},
        account.access_token,
    )
    assert data == {"logEntry": {"tags": []}}
    error = await api.error(DELETE, {"id": tag_id}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_update_tag_refuses_a_name_another_tag_has(api: Api) -> None:
    account = await api.sign_up()
    await api.data(CREATE, {"input": {"name": "rust"}}, account.access_token)
    other = (await api.data(CREATE, {"input": {"name": "go"}}, account.access_token))["createTag"]
    error = await api.error(
        UPDATE, {"id": other["id"], "input": {"name": "RUST"}}, account.access_token
    )
    assert error["extensions"] == {"code": "CONFLICT", "fields": {"name": "is already used"}}


@pytest.mark.parametrize("names", [["İ", "i"], ["ΑΣ", "ασ"]], ids=["dotted-i", "final-sigma"])
async def test_tag_names_equal_to_postgresql_but_not_to_python_make_one_tag(
    api: Api, names: list[str]
) -> None:
    """Found by the property tests: Python's str.lower() and PostgreSQL's lower() disagree on
    "İ" and on a final "Σ"."""
    account = await api.sign_up()
    body = await api.post(
        "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { tags { id } } }",
        {"input": entry_input(tags=names)},
        account.access_token,
    )
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["createLogEntry"]["tags"]) == 1
