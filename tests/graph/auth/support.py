"""What the account tests share: the documents, a raw connection, a token's id, and one of
everything a user can own (to export or delete)."""

from __future__ import annotations

import uuid
from typing import Any

from jose import jwt

from graph.settings import ApiSettings
from tests.factories import Account, Api, connect

PASSWORD = "correct horse battery"
SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    accessToken refreshToken expiresIn tokenType
    user { id email firstName lastName timezone createdAt }
  }
}
"""
LOG_IN = """
mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password) {
    accessToken refreshToken expiresIn tokenType
    user { id email firstName lastName timezone createdAt }
  }
}
"""
REFRESH = """
mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) {
    accessToken refreshToken expiresIn tokenType user { id email }
  }
}
"""
LOG_OUT = """
mutation LogOut($refreshToken: String!) { logOut(refreshToken: $refreshToken) }
"""
ME = "{ me { id email } }"


def jti(token: str) -> uuid.UUID:
    return uuid.UUID(jwt.get_unverified_claims(token)["jti"])


DELETE_ACCOUNT = "mutation Delete($password: String!) { deleteAccount(password: $password) }"


EXPORT = "{ exportMyData }"
REQUEST_INSIGHT = """
mutation Request($input: RequestInsightInput!) { requestInsight(input: $input) { id } }
"""
CREATE_TAG = "mutation Tag($input: CreateTagInput!) { createTag(input: $input) { id } }"


USER_TABLES = (
    "project",
    "tag",
    "log_entry",
    "insight",
    "task",
    "event",
    "refresh_token",
    "notification",
    "schedule_run",
)


async def rows_of(database_url: str, user_id: str) -> dict[str, int]:
    """How many rows of the user each table holds (log_entry_tag through the entries)."""
    owner = uuid.UUID(user_id)
    async with connect(database_url) as connection:
        counts = {
            table: await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE user_id = $1", owner
            )
            for table in USER_TABLES
        }
        counts["log_entry_tag"] = await connection.fetchval(
            "SELECT count(*) FROM log_entry_tag JOIN log_entry ON log_entry.id = entry_id "
            "WHERE log_entry.user_id = $1",
            owner,
        )
        counts["user"] = await connection.fetchval(
            'SELECT count(*) FROM "user" WHERE id = $1', owner
        )
    return counts


async def fill(api: Api, account: Account) -> None:
    """One of everything: a project, a tag, an entry with both, an insight (and its task)."""
    project = await api.create_project(account)
    await api.data(CREATE_TAG, {"input": {"name": "ops"}}, account.access_token)
    await api.create_entry(account, projectId=project["id"], tags=["ops", "deploy"])
    await api.data(
        REQUEST_INSIGHT,
        {
            "input": {
                "kind": "DAILY_SUMMARY",
                "periodStart": "2026-11-02",
                "periodEnd": "2026-11-02",
            }
        },
        account.access_token,
    )


async def fill_schedule(database_url: str, account: Account) -> None:
    """What the scheduler leaves of a user: a reminder sent, and its run."""
    async with connect(database_url) as connection:
        await connection.execute(
            "INSERT INTO notification (user_id, kind, title, body) "
            "VALUES ($1, 'LOGGING_REMINDER', 'Nothing logged today yet', 'Log something.')",
            uuid.UUID(account.user_id),
        )
        await connection.execute(
            "INSERT INTO schedule_run (user_id, job, period, due_at, ran_at, outcome) "
            "VALUES ($1, 'LOGGING_REMINDER', '2026-11-02', now(), now(), 'NOTIFIED')",
            uuid.UUID(account.user_id),
        )


def sign_up_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "grace@example.com",
        "password": PASSWORD,
        "firstName": "Grace",
        "lastName": "Hopper",
        "timezone": "America/New_York",
    }
    values.update(overrides)
    return values


def claims(token: str, settings: ApiSettings) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    return decoded


async def refresh_rows(database_url: str, user_id: str) -> dict[uuid.UUID, dict[str, Any]]:
    async with connect(database_url) as connection:
        rows = await connection.fetch(
            "SELECT jti, family_id, user_id, revoked_at, replaced_by FROM refresh_token"
            " WHERE user_id = $1",
            uuid.UUID(user_id),
        )
    return {row["jti"]: dict(row) for row in rows}


async def row_counts(database_url: str) -> dict[str, int]:
    async with connect(database_url) as connection:
        return {
            "user": await connection.fetchval('SELECT count(*) FROM "user"'),
            "refresh_token": await connection.fetchval("SELECT count(*) FROM refresh_token"),
        }
