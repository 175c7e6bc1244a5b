"""The private iCalendar feed: enabled, regenerated and disabled over GraphQL, read by URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
from icalendar import Calendar

from tests.factories import Account, Api, entry_input
from tests.graph.auth.support import LOG_OUT
from tests.graph.exports.support import create_entries, error_of

ENABLE = "mutation { enableCalendarFeed { url createdAt } }"
DISABLE = "mutation { disableCalendarFeed }"
FEED = "{ calendarFeed { url createdAt } }"
NOT_FOUND = {"message": "Calendar feed not found", "extensions": {"code": "NOT_FOUND"}}


# Whole minutes, read once: every call of `recent` in a test names the same instants.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def recent(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


async def enable(api: Api, account: Account) -> str:
    url: str = (await api.data(ENABLE, token=account.access_token))["enableCalendarFeed"]["url"]
    return urlsplit(url).path


async def events_of(client: httpx.AsyncClient, path: str) -> list[dict[str, str]]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return [
        {
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART").isoformat(),
            "end": event.decoded("DTEND").isoformat(),
            "description": str(event["DESCRIPTION"]),
        }
        for event in calendar.walk("VEVENT")
    ]


async def test_the_feed_holds_the_users_recent_entries_and_nothing_else(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    project = await api.create_project(account, "Payments")
    old = entry_input(0, title="Long ago")  # 2026-11-02: over six months before today
    await create_entries(
        api,
        account,
        [
            old | {"startTime": "2020-01-01T09:00:00Z", "endTime": "2020-01-01T10:00:00Z"},
            {
                "title": "Reviewed the PR",
                "type": "REVIEW",
                "projectId": project["id"],
                "description": "private notes",
                "tags": ["secret-tag"],
                "startTime": recent(5),
                "endTime": recent(4),
            },
            {
                "title": "Standup",
                "type": "MEETING",
                "startTime": recent(2),
                "endTime": recent(1.75),
            },
        ],
    )

    path = await enable(api, account)
    response = await client.get(path)

    assert path.startswith("/calendar/")
    assert path.endswith(".ics")
    assert response.headers["cache-control"] == "private, no-store"
    assert await events_of(client, path) == [
        {
            "summary": "Reviewed the PR",
            "start": recent(5),
            "end": recent(4),
            "description": "Review · Payments",
        },
        {"summary": "Standup", "start": recent(2), "end": recent(1.75), "description": "Meeting"},
    ]
    text = response.text
    for private in ("private notes", "secret-tag", account.email, "Lovelace", "Long ago"):
        assert private not in text


async def test_one_users_feed_has_none_of_another_users_entries(
    api: Api, client: httpx.AsyncClient
) -> None:
    mine, theirs = await api.sign_up(), await api.sign_up()
    await api.create_entry(mine, title="Mine", startTime=recent(3), endTime=recent(2))
    await api.create_entry(theirs, title="Theirs", startTime=recent(3), endTime=recent(2))

    my_feed, their_feed = await enable(api, mine), await enable(api, theirs)

    assert [e["summary"] for e in await events_of(client, my_feed)] == ["Mine"]
    assert [e["summary"] for e in await events_of(client, their_feed)] == ["Theirs"]


async def test_regenerating_revokes_the_old_url_and_disabling_the_new_one(
    api: Api, client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    first = await enable(api, account)
    second = await enable(api, account)

    assert first != second
    assert (await client.get(first)).status_code == 404
    assert error_of(await client.get(first)) == NOT_FOUND
    assert (await client.get(second)).status_code == 200
    feed = (await api.data(FEED, token=account.access_token))["calendarFeed"]
    assert feed["url"] is None
    assert datetime.fromisoformat(feed["createdAt"]) <= datetime.now(UTC)
    secret = second.removeprefix("/calendar/").removesuffix(".ics")
    stored = await pg.fetchval("SELECT secret_hash FROM calendar_feed")
    assert len(stored) == 64
    assert secret not in stored

    assert await api.data(DISABLE, token=account.access_token) == {"disableCalendarFeed": True}
    assert await api.data(DISABLE, token=account.access_token) == {"disableCalendarFeed": False}
    assert await api.data(FEED, token=account.access_token) == {"calendarFeed": None}
    assert error_of(await client.get(second)) == NOT_FOUND


async def test_an_unknown_or_malformed_secret_is_not_found(client: httpx.AsyncClient) -> None:
    for path in ("/calendar/" + "A" * 43 + ".ics", "/calendar/short.ics", "/calendar/x%00y.ics"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert error_of(response) == NOT_FOUND


async def test_the_feed_fields_need_a_live_session(api: Api) -> None:
    account = await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": account.refresh_token}, account.access_token)

    for document in (ENABLE, DISABLE, FEED):
        assert (await api.error(document))["extensions"]["code"] == "UNAUTHENTICATED"
        error = await api.error(document, token=account.access_token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
