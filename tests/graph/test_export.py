"""GET /export: the account's export streamed as a download, authorised and rate-limited like
the API; and exportMyData, kept for clients, bounded."""

from __future__ import annotations

import tracemalloc
import uuid
from datetime import UTC, datetime

import httpx

from graph.auth.account import MAX_QUERY_ROWS, open_export
from graph.context import AppState
from tests.factories import Account, Api, connect, make_settings, serve
from tests.graph.auth.support import EXPORT, LOG_OUT, fill, fill_schedule, rows_of

TASK_KEYS = {
    "id",
    "user_id",
    "kind",
    "status",
    "attempts",
    "max_attempts",
    "run_after",
    "last_error",
    "created_at",
    "updated_at",
}
INTERNAL_KEYS = {"payload", "lease_token", "lease_owner", "lease_expires_at", "idempotency_key"}
# The document's arrays and the table (rows_of) whose rows each holds.
SECTIONS = {
    "projects": "project",
    "tags": "tag",
    "log_entries": "log_entry",
    "log_entry_tags": "log_entry_tag",
    "insights": "insight",
    "tasks": "task",
    "events": "event",
    "sessions": "refresh_token",
    "notifications": "notification",
    "schedule_runs": "schedule_run",
}


async def add_entries(database_url: str, account: Account, count: int) -> None:
    """`count` log entries of the user, one an hour, written straight into the table."""
    async with connect(database_url) as connection:
        await connection.execute(
            "INSERT INTO log_entry (user_id, title, description, type, start_time, end_time) "
            "SELECT $1, 'Entry ' || n, 'Worked on item ' || n, 'CODE', "
            "timestamptz '2026-01-01 00:00Z' + n * interval '1 hour', "
            "timestamptz '2026-01-01 00:30Z' + n * interval '1 hour' "
            "FROM generate_series(1, $2) AS n",
            uuid.UUID(account.user_id),
            count,
        )


async def download(
    client: httpx.AsyncClient, token: str | None, scheme: str = "Bearer"
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return await client.get("/export", headers=headers)


def keys_anywhere(value: object) -> set[str]:
    """Every object key in a JSON value, however deep."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.update(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


async def test_the_download_streams_a_large_account_whole(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account = await api.sign_up()
    await fill(api, account)
    await fill_schedule(database_url, account)
    await add_entries(database_url, account, 3_000)

    response = await download(client, account.access_token)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-export-{datetime.now(UTC):%Y-%m-%d}.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert (document["format"], document["user"]["id"]) == ("englog-export/1", account.user_id)
    assert "password_hash" not in document["user"]
    counts = await rows_of(database_url, account.user_id)
    assert {key: len(document[key]) for key in SECTIONS} == {
        key: counts[table] for key, table in SECTIONS.items()
    }
    assert counts["log_entry"] == 3_001
    titles = [entry["title"] for entry in document["log_entries"]]
    assert titles[:2] + titles[-2:] == [
        "Entry 1",
        "Entry 2",
        "Entry 3000",
        "Fixed the flaky deploy",
    ]
    assert "search_vector" not in document["log_entries"][0]


async def test_the_download_holds_only_the_callers_data(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    for user in (account, other):
        await fill(api, user)
        await fill_schedule(database_url, user)
    await add_entries(database_url, other, 10)

    for user, stranger in ((account, other), (other, account)):
        response = await download(client, user.access_token)
        assert response.status_code == 200
        document = response.json()
        assert document["user"]["email"] == user.email
        for key in SECTIONS:
            if key != "log_entry_tags":
                assert {row["user_id"] for row in document[key]} == {user.user_id}, key
        assert stranger.user_id not in response.text
        assert stranger.email not in response.text
    assert len(response.json()["log_entries"]) == 11


async def test_the_download_refuses_a_missing_bad_or_revoked_token_with_401(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": account.refresh_token}, account.access_token)
    cases = [
        (None, "Bearer", "Authentication required"),
        ("garbage", "Bearer", "Invalid token"),
        (account.access_token, "Basic", "Expected 'Authorization: Bearer <accessToken>'"),
        (account.access_token, "Bearer", "Token revoked"),
    ]

    for token, scheme, message in cases:
        response = await download(client, token, scheme)
        assert response.status_code == 401, message
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
        }


async def test_downloads_and_export_my_data_share_a_rate_limit_answered_429(
    api: Api, database_url: str, redis_url: str
) -> None:
    settings = make_settings(database_url, redis_url, rate_limit_exports="2/3600")
    async with serve(settings) as client:
        account = await Api(client).sign_up()
        assert (await download(client, account.access_token)).status_code == 200
        assert (await download(client, account.access_token)).status_code == 200

        refused = await download(client, account.access_token)
        graphql = await Api(client).error(EXPORT, token=account.access_token)

    assert refused.status_code == 429
    body = refused.json()
    retry_after = body["errors"][0]["extensions"]["retryAfter"]
    assert body == {
        "errors": [
            {
                "message": f"Too many requests; retry in {retry_after} s",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ]
    }
    assert refused.headers["retry-after"] == str(retry_after)
    assert 1_790 <= retry_after <= 1_800  # half an hour, less the moments the test took
    assert graphql["extensions"]["code"] == "RATE_LIMITED"


async def test_the_export_leaves_the_queue_internals_out(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await fill(api, account)  # an insight and an enrichment: two tasks, queued

    downloaded = (await download(client, account.access_token)).json()
    answered = (await api.data(EXPORT, token=account.access_token))["exportMyData"]

    for document in (downloaded, answered):
        assert [sorted(task) for task in document["tasks"]] == [sorted(TASK_KEYS)] * 2
        assert keys_anywhere(document) & INTERNAL_KEYS == set()
    answered.pop("exported_at")
    downloaded.pop("exported_at")
    assert answered == downloaded


async def test_export_my_data_refuses_an_account_over_its_limit_naming_the_download(
    api: Api, database_url: str
) -> None:
    account = await api.sign_up()
    await add_entries(database_url, account, MAX_QUERY_ROWS + 1)

    error = await api.error(EXPORT, token=account.access_token)

    assert error["message"] == (
        f"This account holds more than {MAX_QUERY_ROWS} rows: download its export with "
        "GET /export (Authorization: Bearer <accessToken>)"
    )
    assert error["extensions"] == {
        "code": "LIMIT_EXCEEDED",
        "limit": MAX_QUERY_ROWS,
        "download": "/export",
    }


async def test_export_my_data_is_marked_deprecated_for_the_download(api: Api) -> None:
    query = '{ __type(name: "Query") { fields(includeDeprecated: true) { name isDeprecated '
    query += "deprecationReason } } }"
    fields = (await api.data(query))["__type"]["fields"]
    assert {field["name"]: field for field in fields}["exportMyData"] == {
        "name": "exportMyData",
        "isDeprecated": True,
        "deprecationReason": "Use `GET /export`: streamed, and for accounts of any size.",
    }


async def peak_while_exporting(state: AppState, account: Account) -> tuple[int, int]:
    """The most memory Python held while the whole export was read, and its size."""
    size = 0
    tracemalloc.start()
    try:
        chunks = await open_export(state.db, user_id=uuid.UUID(account.user_id), batch_rows=100)
        async for chunk in chunks:
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size


async def test_the_exports_memory_stays_flat_as_the_account_grows(
    api: Api, app_state: AppState, database_url: str
) -> None:
    small, large = await api.sign_up(), await api.sign_up()
    await add_entries(database_url, small, 1_000)
    await add_entries(database_url, large, 4_000)
    await peak_while_exporting(app_state, small)  # warm: statements prepared, caches filled

    small_peak, small_size = await peak_while_exporting(app_state, small)
    large_peak, large_size = await peak_while_exporting(app_state, large)

    assert large_size > 3.9 * small_size
    # Whole, the large document alone would be four times the small one's; streamed, both
    # hold one batch of rows at a time.
    assert large_peak < small_peak + small_size // 2, (small_peak, large_peak, small_size)
