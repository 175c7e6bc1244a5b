"""Personal access tokens over HTTP: created (the secret shown once, only its hash kept),
listed, revoked, scoped, expiring, and only ever the caller's own."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg

from tests.factories import Api
from tests.graph.access_tokens.support import CREATE, CREATE_PROJECT, LIST, ME, REVOKE, create_token

PASSWORD = "correct horse battery"


async def test_a_created_token_is_listed_without_its_secret_and_only_its_hash_is_stored(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    created = await create_token(api, account, "ci", ["READ"])
    token, record = created["token"], created["accessToken"]
    assert token.startswith("englog_pat_")
    assert len(token) == len("englog_pat_") + 43
    assert record["name"] == "ci"
    assert record["scopes"] == ["READ"]
    assert record["lastUsedAt"] is None
    assert record["expiresAt"] is None
    listed = await api.data(LIST, token=account.access_token)
    assert listed == {"accessTokens": [record]}
    row = await pg.fetchrow("SELECT * FROM access_token WHERE id = $1", uuid.UUID(record["id"]))
    assert row is not None
    assert row["secret_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in row.values()]
    assert str(row["user_id"]) == account.user_id


async def test_a_token_is_a_bearer_that_signs_in_as_its_owner(api: Api) -> None:
    account = await api.sign_up()
    created = await create_token(api, account)
    assert await api.data(ME, token=created["token"]) == {"me": {"email": account.email}}
    made = await api.data(CREATE_PROJECT, token=created["token"])
    assert made == {"createProject": {"name": "From a script"}}
    [listed] = (await api.data(LIST, token=account.access_token))["accessTokens"]
    assert listed["lastUsedAt"] is not None


async def test_a_read_token_runs_queries_but_no_mutation(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    token = (await create_token(api, account, scopes=["READ"]))["token"]
    assert await api.data(ME, token=token) == {"me": {"email": account.email}}
    body = await api.post(CREATE_PROJECT, token=token)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await pg.fetchval("SELECT count(*) FROM project") == 0


async def test_no_token_manages_tokens_or_the_account(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    created = await create_token(api, account, scopes=["WRITE"])
    token, token_id = created["token"], created["accessToken"]["id"]
    documents = [
        (CREATE, {"input": {"name": "another", "scopes": ["WRITE"]}}),
        (REVOKE, {"id": token_id}),
        (f'mutation {{ deleteAccount(password: "{PASSWORD}") }}', {}),
        (
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }",
            {"i": {"currentPassword": PASSWORD, "newPassword": "a new password"}},
        ),
        ("mutation { endOtherSessions }", {}),
        # Hidden behind an alias and a fragment: still refused.
        ("mutation { ...F } fragment F on Mutation { x: endOtherSessions }", {}),
    ]
    for document, variables in documents:
        error = await api.error(document, variables, token)
        assert error["extensions"]["code"] == "FORBIDDEN", document
    assert await pg.fetchval("SELECT count(*) FROM access_token") == 1
    assert await pg.fetchval('SELECT count(*) FROM "user"') == 1
    assert await api.data(ME, token=account.access_token) == {"me": {"email": account.email}}


async def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    account = await api.sign_up()
    created = await create_token(api, account)
    assert await api.data(ME, token=created["token"]) == {"me": {"email": account.email}}
    revoked = await api.data(REVOKE, {"id": created["accessToken"]["id"]}, account.access_token)
    assert revoked == {"revokeAccessToken": True}
    error = await api.error(ME, token=created["token"])
    assert (error["message"], error["extensions"]["code"]) == ("Invalid token", "UNAUTHENTICATED")
    assert await api.data(LIST, token=account.access_token) == {"accessTokens": []}


async def test_an_expired_token_is_refused(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    created = await create_token(api, account, expiresAt="2999-01-01T00:00:00Z")
    assert created["accessToken"]["expiresAt"] == "2999-01-01T00:00:00+00:00"
    await pg.execute("UPDATE access_token SET expires_at = now() - interval '1 second'")
    error = await api.error(ME, token=created["token"])
    assert (error["message"], error["extensions"]["code"]) == ("Token expired", "UNAUTHENTICATED")


async def test_an_unknown_or_malformed_token_is_refused(api: Api) -> None:
    for token in ("englog_pat_" + "A" * 43, "englog_pat_", "englog_pat_" + "x" * 5000):
        error = await api.error(ME, token=token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", token


async def test_another_users_token_id_is_not_found(api: Api) -> None:
    owner, intruder = await api.sign_up(), await api.sign_up()
    created = await create_token(api, owner)
    for token_id in (created["accessToken"]["id"], str(uuid.uuid4()), "not-a-uuid"):
        error = await api.error(REVOKE, {"id": token_id}, intruder.access_token)
        assert error["extensions"] == {
            "code": "NOT_FOUND",
            "fields": {"id": "is not an access token of this account"},
        }
    assert await api.data(LIST, token=intruder.access_token) == {"accessTokens": []}
    assert await api.data(ME, token=created["token"]) == {"me": {"email": owner.email}}


async def test_bad_input_is_refused_with_its_fields(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    cases = [
        ({"name": "n" * 101, "scopes": ["READ"]}, {"name": "must be at most 100 characters"}),
        ({"name": "  ", "scopes": ["READ"]}, {"name": "must not be empty"}),
        ({"name": "ci", "scopes": []}, {"scopes": "must name at least one scope"}),
        (
            {"name": "ci", "scopes": ["READ"], "expiresAt": "2020-01-01T00:00:00Z"},
            {"expiresAt": "must be in the future"},
        ),
    ]
    for value, fields in cases:
        error = await api.error(CREATE, {"input": value}, account.access_token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}, value
    assert await pg.fetchval("SELECT count(*) FROM access_token") == 0


async def test_an_account_holds_at_most_fifty_tokens(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    await pg.execute(
        "INSERT INTO access_token (user_id, name, secret_hash, scopes) "
        "SELECT $1, 't' || n, md5(n::text) || md5(n::text), '{read}' FROM generate_series(1, 50) n",
        uuid.UUID(account.user_id),
    )
    variables = {"input": {"name": "one too many", "scopes": ["READ"]}}
    error = await api.error(CREATE, variables, account.access_token)
    assert error["extensions"] == {
        "code": "CONFLICT",
        "fields": {"name": "at most 50 tokens; revoke one first"},
    }
    assert await pg.fetchval("SELECT count(*) FROM access_token") == 50


async def test_a_deleted_accounts_tokens_die_with_it(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    token = (await create_token(api, account))["token"]
    deleted = await api.data(
        f'mutation {{ deleteAccount(password: "{PASSWORD}") }}', token=account.access_token
    )
    assert deleted == {"deleteAccount": True}
    assert await pg.fetchval("SELECT count(*) FROM access_token") == 0
    error = await api.error(ME, token=token)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_token_management_needs_a_signed_in_user(api: Api) -> None:
    for document, variables in ((LIST, {}), (REVOKE, {"id": str(uuid.uuid4())})):
        error = await api.error(document, variables)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
