"""Query arguments the driver or PostgreSQL cannot take (instants whose UTC form leaves years
1–9999, cursors holding one, NULs, huge strings and lists in a filter) are refused as
BAD_USER_INPUT naming the argument, never an internal error."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.factories import Api, entry_input

RANGE = "must be between 1900-01-01 and 2999-12-31 (UTC)"
NOT_A_CURSOR = "is not a cursor this API gave out"
# Their UTC forms are in year 0 and in year 10000.
UNREPRESENTABLE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"]
TIME_ALLOCATION = """query($from: DateTime!, $to: DateTime!) {
  timeAllocation(from: $from, to: $to) { totalMinutes } }"""
PRODUCTIVITY = """query($from: DateTime!, $to: DateTime!) {
  productivityMetrics(from: $from, to: $to) { totalMinutes } }"""
LOG_ENTRIES = """query($filter: LogEntryFilter, $after: String) {
  logEntries(filter: $filter, after: $after) { totalCount edges { node { title } } } }"""
INSIGHTS = "query($after: String) { insights(after: $after) { totalCount } }"


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", UNREPRESENTABLE)
@pytest.mark.parametrize("query", [TIME_ALLOCATION, PRODUCTIVITY], ids=["time", "productivity"])
@pytest.mark.parametrize("field", ["from", "to"])
async def test_metrics_refuse_an_instant_outside_the_supported_years(
    api: Api, query: str, field: str, value: str
) -> None:
    account = await api.sign_up()
    variables = {"from": "2026-01-01T00:00:00+00:00", "to": "2026-02-01T00:00:00+00:00"}
    variables[field] = value
    error = await api.error(query, variables, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {field: RANGE}}


@pytest.mark.parametrize("value", [*UNREPRESENTABLE, "1899-12-31T23:59:59+00:00"])
@pytest.mark.parametrize("field", ["from", "to"])
async def test_log_entries_refuse_a_filter_instant_outside_the_supported_years(
    api: Api, field: str, value: str
) -> None:
    account = await api.sign_up()
    error = await api.error(LOG_ENTRIES, {"filter": {field: value}}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {f"filter.{field}": RANGE}}


@pytest.mark.parametrize("value", UNREPRESENTABLE)
@pytest.mark.parametrize("query", [LOG_ENTRIES, INSIGHTS], ids=["logEntries", "insights"])
async def test_pages_refuse_an_after_cursor_holding_an_instant_outside_the_supported_years(
    api: Api, query: str, value: str
) -> None:
    account = await api.sign_up()
    after = cursor(f"{value}|{uuid.uuid4()}")
    error = await api.error(query, {"after": after}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"after": NOT_A_CURSOR}}


@pytest.mark.parametrize(
    ("filter_", "fields"),
    [
        pytest.param(
            {"tags": ["rust", "ops", "go", "a\x00b"]},
            {"filter.tags.3": "must not contain control characters"},
            id="nul-in-a-tag",
        ),
        pytest.param(
            {"tags": ["x" * 500_000]},
            {"filter.tags.0": "must be at most 50 characters"},
            id="500-kb-tag",
        ),
        pytest.param(
            {"tags": ["rust", " "]}, {"filter.tags.1": "must not be empty"}, id="blank-tag"
        ),
        pytest.param({"tags": ["x"] * 101}, {"filter.tags": "at most 100 items"}, id="101-tags"),
        pytest.param(
            {"types": ["CODE"] * 32_768}, {"filter.types": "at most 100 items"}, id="many-types"
        ),
        pytest.param(
            {"valueRatings": ["LOW"] * 32_768},
            {"filter.valueRatings": "at most 100 items"},
            id="many-value-ratings",
        ),
        pytest.param(
            {"impactLevels": ["TEAM"] * 32_768},
            {"filter.impactLevels": "at most 100 items"},
            id="many-impact-levels",
        ),
        pytest.param(
            {"projectIds": [str(uuid.uuid4())] * 101},
            {"filter.projectIds": "at most 100 items"},
            id="101-project-ids",
        ),
        pytest.param(
            {"projectIds": ["x" * 100_000]},
            {"filter.projectIds.0": "must be an ID"},
            id="huge-project-id",
        ),
        pytest.param(
            {"search": "a\x00b"},
            {"filter.search": "must not contain control characters"},
            id="nul-in-search",
        ),
        pytest.param(
            {"search": "s" * 500_000},
            {"filter.search": "must be at most 200 characters"},
            id="500-kb-search",
        ),
    ],
)
async def test_log_entries_refuse_a_filter_list_or_string_past_its_bounds(
    api: Api, filter_: dict[str, Any], fields: dict[str, str]
) -> None:
    account = await api.sign_up()
    error = await api.error(LOG_ENTRIES, {"filter": filter_}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}


async def test_log_entries_filter_at_its_bounds_answers_the_matching_entries(api: Api) -> None:
    account = await api.sign_up()
    await api.create_entry(account, title="Tagged", tags=["t" * 50])
    await api.create_entry(account, title="Untagged", offset_hours=1)
    filter_ = {
        "from": "1900-01-01T00:00:00+00:00",
        "to": "2999-12-31T23:59:59+00:00",
        "tags": [" " + "t" * 50 + " ", *(f"other{n}" for n in range(99))],
        "types": ["DEBUG"] * 100,
        "valueRatings": ["MEDIUM", "LOW", "HIGH"],
        "impactLevels": ["PERSONAL", "TEAM", "PRODUCT", "COMPANY"],
    }
    data = await api.data(LOG_ENTRIES, {"filter": filter_}, account.access_token)
    assert data == {"logEntries": {"totalCount": 1, "edges": [{"node": {"title": "Tagged"}}]}}


async def test_log_entries_filter_with_instants_in_other_offsets_still_matches(api: Api) -> None:
    account = await api.sign_up()
    await api.data(
        "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }",
        {"input": entry_input(title="Monday")},
        account.access_token,
    )
    filter_ = {"from": "2026-11-02T23:00:00+14:00", "to": "2026-11-02T00:00:00-14:00"}
    data = await api.data(LOG_ENTRIES, {"filter": filter_}, account.access_token)
    assert data["logEntries"]["edges"] == [{"node": {"title": "Monday"}}]
