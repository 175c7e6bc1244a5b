"""Instants a log entry may hold: years 1900 to 2999 in UTC, whatever offset they were given
(found by the property tests: outside them the driver could not send an instant, or minutes
overflowed durationMinutes, and the answer was an internal error)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Api, entry_input
from tests.graph.entries.support import Database

RANGE = "must be between 1900-01-01 and 2999-12-31 (UTC)"
CREATE_ENTRY = """mutation($input: CreateLogEntryInput!) {
  createLogEntry(input: $input) { id tags { id } } }"""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Its UTC form is in year 0: the driver could not send it.
        ("startTime", "0001-01-01T00:00:00+01:00"),
        # Its UTC form is in year 10000.
        ("endTime", "9999-12-31T23:59:00-14:00"),
        # The driver's -infinity.
        ("startTime", "0001-01-01T00:00:00+00:00"),
        ("startTime", "1899-12-31T23:59:59+00:00"),
        ("endTime", "3000-01-01T00:00:00+00:00"),
    ],
)
async def test_create_log_entry_refuses_instants_outside_the_supported_years(
    api: Api, field: str, value: str
) -> None:
    account = await api.sign_up()
    fields: dict[str, Any] = {field: value}
    error = await api.error(CREATE_ENTRY, {"input": entry_input(**fields)}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {field: RANGE}}


async def test_create_log_entry_refuses_a_span_longer_than_minutes_can_count(
    api: Api, db: Database
) -> None:
    """Years 1 to 9999 in minutes overflowed the 32-bit durationMinutes: an internal error."""
    account = await api.sign_up()
    variables = {
        "input": entry_input(
            startTime="0001-01-02T00:00:00+00:00", endTime="9999-12-30T00:00:00+00:00"
        )
    }
    error = await api.error(CREATE_ENTRY, variables, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"startTime": RANGE, "endTime": RANGE},
    }
    assert await db.connection.fetchval("SELECT count(*) FROM log_entry") == 0


async def test_update_log_entry_refuses_instants_outside_the_supported_years(api: Api) -> None:
    account = await api.sign_up()
    entry = await api.create_entry(account)
    error = await api.error(
        """mutation($id: ID!, $input: UpdateLogEntryInput!) {
          updateLogEntry(id: $id, input: $input) { id } }""",
        {"id": entry["id"], "input": {"startTime": "0001-01-01T00:00:00+01:00"}},
        account.access_token,
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"startTime": RANGE}}
