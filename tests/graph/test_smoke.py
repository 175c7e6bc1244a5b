from __future__ import annotations

from tests.factories import Api


async def test_sign_up_then_me(api: Api) -> None:
    account = await api.sign_up("ada@example.com")
    data = await api.data("{ me { email firstName timezone } }", token=account.access_token)
    assert data == {
        "me": {"email": "ada@example.com", "firstName": "Ada", "timezone": "Europe/London"}
    }


async def test_entry_roundtrip(api: Api) -> None:
    account = await api.sign_up()
    project = await api.create_project(account)
    entry = await api.create_entry(account, projectId=project["id"], tags=["Go", "infra", "go"])
    assert entry["durationMinutes"] == 60
    assert entry["project"] == {"id": project["id"], "name": "Apollo"}
    assert entry["tags"] == [{"name": "Go"}, {"name": "infra"}]
