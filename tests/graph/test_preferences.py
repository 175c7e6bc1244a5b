"""User.preferences and updatePreferences: defaults, partial updates, refusals, scoping."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.factories import Account, Api, connect

PREFERENCES = "{ me { timezone preferences { weeklyReport dailySummaryTime email reminderTime } } }"
UPDATE = """
mutation($input: UpdatePreferencesInput!) {
  updatePreferences(input: $input) {
    id timezone preferences { weeklyReport dailySummaryTime email reminderTime }
  }
}
"""
DEFAULTS = {"weeklyReport": True, "dailySummaryTime": None, "email": False, "reminderTime": None}


async def me(api: Api, account: Account) -> dict[str, Any]:
    data: dict[str, Any] = (await api.data(PREFERENCES, token=account.access_token))["me"]
    return data


async def stored(database_url: str, account: Account) -> dict[str, Any]:
    async with connect(database_url) as connection:
        raw = await connection.fetchval(
            'SELECT preferences FROM "user" WHERE id = $1', uuid.UUID(account.user_id)
        )
    value: dict[str, Any] = json.loads(raw)
    return value


async def test_a_new_account_has_the_weekly_report_on_and_everything_else_off(api: Api) -> None:
    account = await api.sign_up()

    assert await me(api, account) == {"timezone": "Europe/London", "preferences": DEFAULTS}


async def test_update_preferences_changes_what_it_is_given_and_keeps_the_rest(
    api: Api, database_url: str
) -> None:
    account = await api.sign_up()
    first = await api.data(
        UPDATE,
        {"input": {"reminderTime": "17:30", "email": True, "timezone": "America/New_York"}},
        account.access_token,
    )
    second = await api.data(UPDATE, {"input": {"dailySummaryTime": "08:05"}}, account.access_token)
    third = await api.data(
        UPDATE, {"input": {"reminderTime": None, "weeklyReport": False}}, account.access_token
    )

    assert first["updatePreferences"] == {
        "id": account.user_id,
        "timezone": "America/New_York",
        "preferences": {**DEFAULTS, "reminderTime": "17:30", "email": True},
    }
    assert second["updatePreferences"]["preferences"] == {
        **DEFAULTS,
        "reminderTime": "17:30",
        "email": True,
        "dailySummaryTime": "08:05",
    }
    expected = {
        "weeklyReport": False,
        "dailySummaryTime": "08:05",
        "email": True,
        "reminderTime": None,
    }
    assert third["updatePreferences"]["preferences"] == expected
    assert await me(api, account) == {"timezone": "America/New_York", "preferences": expected}
    assert await stored(database_url, account) == {
        "weekly_report": False,
        "daily_summary_at": "08:05",
        "email": True,
        "reminder_at": None,
    }


async def test_update_preferences_refuses_bad_values_with_their_fields_and_changes_nothing(
    api: Api,
) -> None:
    account = await api.sign_up()
    await api.data(UPDATE, {"input": {"reminderTime": "17:30"}}, account.access_token)
    refused = {
        "reminderTime": "24:00",
        "dailySummaryTime": "9:00",
        "weeklyReport": None,
        "email": None,
        "timezone": "Mars/Olympus",
    }

    error = await api.error(UPDATE, {"input": refused}, account.access_token)
    huge = await api.error(
        UPDATE,
        {"input": {"timezone": "x" * 100_000, "reminderTime": "1" * 100_000}},
        account.access_token,
    )

    time_message = "must be a time of day written HH:MM, from 00:00 to 23:59"
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "input.reminderTime": time_message,
            "input.dailySummaryTime": time_message,
            "input.weeklyReport": "must be true or false, not null",
            "input.email": "must be true or false, not null",
            "input.timezone": "must be an IANA time zone such as Europe/Berlin",
        },
    }
    assert huge["extensions"]["code"] == "BAD_USER_INPUT"
    assert set(huge["extensions"]["fields"]) == {"input.timezone", "input.reminderTime"}
    assert await me(api, account) == {
        "timezone": "Europe/London",
        "preferences": {**DEFAULTS, "reminderTime": "17:30"},
    }


async def test_update_preferences_changes_only_the_callers_account(api: Api) -> None:
    account, other = await api.sign_up(), await api.sign_up()

    await api.data(
        UPDATE, {"input": {"email": True, "timezone": "Asia/Tokyo"}}, account.access_token
    )

    assert await me(api, other) == {"timezone": "Europe/London", "preferences": DEFAULTS}


async def test_update_preferences_refuses_missing_and_bad_tokens(api: Api) -> None:
    account = await api.sign_up()
    for token in (None, account.refresh_token, account.access_token[:-2] + "xx"):
        error = await api.error(UPDATE, {"input": {"email": True}}, token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await me(api, account))["preferences"] == DEFAULTS
