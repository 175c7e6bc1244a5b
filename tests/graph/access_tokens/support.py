"""Documents and helpers of the personal-access-token tests."""

from __future__ import annotations

from typing import Any

from tests.factories import Account, Api

CREATE = """mutation($input: CreateAccessTokenInput!) {
  createAccessToken(input: $input) {
    token accessToken { id name scopes createdAt lastUsedAt expiresAt } } }"""
LIST = "{ accessTokens { id name scopes createdAt lastUsedAt expiresAt } }"
REVOKE = "mutation($id: ID!) { revokeAccessToken(id: $id) }"
ME = "{ me { email } }"
CREATE_PROJECT = 'mutation { createProject(input: {name: "From a script"}) { name } }'


async def create_token(
    api: Api,
    account: Account,
    name: str = "git hook",
    scopes: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The createAccessToken answer: {token, accessToken}."""
    variables = {"input": {"name": name, "scopes": scopes or ["READ", "WRITE"], **fields}}
    data = await api.data(CREATE, variables, account.access_token)
    result: dict[str, Any] = data["createAccessToken"]
    return result
