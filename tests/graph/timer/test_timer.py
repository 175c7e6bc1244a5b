"""startTimer, updateTimer, stopTimer, discardTimer and runningTimer: what is stored, what is
refused, that a refusal writes nothing, and that one user never touches another's timer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.factories import Account, Api
from tests.graph.timer.support import (
    DISCARD,
    RUNNING,
    START,
    STOP,
    UPDATE,
    create_tag,
    start,
)

NONE_RUNNING = {"code": "NOT_FOUND", "fields": {"timer": "no timer is running"}}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def ago(**delta: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


async def timer_count(pg: asyncpg.Connection, account: Account) -> int:
    count: int = await pg.fetchval(
        "SELECT count(*) FROM running_timer WHERE user_id = $1", uuid.UUID(account.user_id)
    )
    return count


async def entries_of(pg: asyncpg.Connection, account: Account) -> list[dict[str, Any]]:
    rows = await pg.fetch(
        "SELECT * FROM log_entry WHERE user_id = $1 ORDER BY start_time",
        uuid.UUID(account.user_id),
    )
    return [dict(row) for row in rows]


async def running(api: Api, account: Account) -> dict[str, Any] | None:
    timer: dict[str, Any] | None = (await api.data(RUNNING, token=account.access_token))[
        "runningTimer"
    ]
    return timer


# --- start -------------------------------------------------------------------------------


async def test_start_timer_stores_every_field_and_running_timer_returns_it(
    api: Api, account: Account
) -> None:
    project = await api.create_project(account, "Apollo")
    rust, parser = await create_tag(api, account, "rust"), await create_tag(api, account, "Parser")
    started = ago(minutes=25)
    timer = await start(
        api,
        account,
        title="  Pairing on the parser  ",
        description="Line one\nLine two",
        type="CODE",
        projectId=project["id"],
        tagIds=[rust["id"], parser["id"], rust["id"]],
        valueRating="HIGH",
        impactLevel="PRODUCT",
        startedAt=started.isoformat(),
    )
    assert timer == {
        "id": timer["id"],
        "title": "Pairing on the parser",
        "description": "Line one\nLine two",
        "type": "CODE",
        "valueRating": "HIGH",
        "impactLevel": "PRODUCT",
        "startedAt": iso(started),
        "project": {"id": project["id"], "name": "Apollo"},
        "tags": [parser, rust],  # by name, case-insensitively; the repeated id once
    }
    assert await running(api, account) == timer


async def test_start_timer_with_only_a_title_starts_now_with_nothing_else_set(
    api: Api, account: Account
) -> None:
    before = datetime.now(UTC)
    timer = await start(api, account)
    after = datetime.now(UTC)
    assert before <= datetime.fromisoformat(timer["startedAt"]) <= after
    assert {key: value for key, value in timer.items() if key not in ("id", "startedAt")} == {
        "title": "Pairing on the parser",
        "description": None,
        "type": None,
        "valueRating": None,
        "impactLevel": None,
        "project": None,
        "tags": [],
    }


async def test_starting_while_a_timer_runs_is_a_conflict_and_keeps_the_running_one(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    first = await start(api, account, title="First")
    error = await api.error(START, {"input": {"title": "Second"}}, account.access_token)
    assert error["extensions"] == {"code": "CONFLICT", "fields": {"timer": "is already running"}}
    assert await running(api, account) == first
    assert await timer_count(pg, account) == 1


async def test_concurrent_starts_leave_exactly_one_timer(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    bodies = await asyncio.gather(
        *(
            api.post(START, {"input": {"title": f"Start {n}"}}, account.access_token)
            for n in range(5)
        )
    )
    won = [body for body in bodies if "errors" not in body]
    lost = [body for body in bodies if "errors" in body]
    assert len(won) == 1
    assert [body["errors"][0]["extensions"]["code"] for body in lost] == ["CONFLICT"] * 4
    assert await timer_count(pg, account) == 1
    assert (await running(api, account) or {})["id"] == won[0]["data"]["startTimer"]["id"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param({"title": "x" * 201}, {"title": "must be at most 200 characters"}, id="long"),
        pytest.param({"title": "   "}, {"title": "must not be empty"}, id="blank"),
        pytest.param(
            {"title": "a\x00b"}, {"title": "must not contain control characters"}, id="control"
        ),
        pytest.param(
            {"description": "d" * 2001},
            {"description": "must be at most 2000 characters"},
            id="long-description",
        ),
        pytest.param({"projectId": "nope"}, {"projectId": "must be an ID"}, id="bad-project-id"),
        pytest.param({"tagIds": ["nope"]}, {"tagIds.0": "must be an ID"}, id="bad-tag-id"),
        pytest.param(
            {"tagIds": [str(uuid.uuid4()) for _ in range(21)]},
            {"tagIds": "at most 20 items"},
            id="too-many-tags",
        ),
        pytest.param(
            {"startedAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
            {"startedAt": "must not be in the future"},
            id="future",
        ),
        pytest.param(
            {"startedAt": "1850-01-01T00:00:00+00:00"},
            {"startedAt": "must be between 1900-01-01 and 2999-12-31 (UTC)"},
            id="out-of-range",
        ),
    ],
)
async def test_start_timer_refuses_bad_input_and_starts_nothing(
    api: Api, account: Account, pg: asyncpg.Connection, fields: dict[str, Any], errors: Any
) -> None:
    variables = {"input": {"title": "Valid", **fields}}
    error = await api.error(START, variables, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": errors}
    assert await timer_count(pg, account) == 0


async def test_start_timer_with_another_users_project_or_tag_is_not_found(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    other = await api.sign_up()
    project = await api.create_project(other, "Theirs")
    theirs = await create_tag(api, other, "theirs")
    mine = await create_tag(api, account, "mine")

    error = await api.error(
        START, {"input": {"title": "x", "projectId": project["id"]}}, account.access_token
    )
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}}
    error = await api.error(
        START, {"input": {"title": "x", "tagIds": [mine["id"], theirs["id"]]}}, account.access_token
    )
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"tagIds.1": "no such tag"}}
    assert await timer_count(pg, account) == 0


# --- update ------------------------------------------------------------------------------


async def test_update_timer_changes_what_is_given_and_clears_what_is_null(
    api: Api, account: Account
) -> None:
    project = await api.create_project(account, "Apollo")
    old, new = await create_tag(api, account, "old"), await create_tag(api, account, "new")
    timer = await start(
        api,
        account,
        description="Draft",
        type="CODE",
        projectId=project["id"],
        tagIds=[old["id"]],
        valueRating="LOW",
    )
    started = ago(hours=2)
    data = await api.data(
        UPDATE,
        {
            "input": {
                "title": "Reviewing the parser",
                "description": None,
                "type": "REVIEW",
                "projectId": None,
                "tagIds": [new["id"]],
                "impactLevel": "TEAM",
                "startedAt": started.isoformat(),
            }
        },
        account.access_token,
    )
    assert data["updateTimer"] == {
        "id": timer["id"],
        "title": "Reviewing the parser",
        "description": None,
        "type": "REVIEW",
        "valueRating": "LOW",  # not given: kept
        "impactLevel": "TEAM",
        "startedAt": iso(started),
        "project": None,
        "tags": [new],
    }
    assert await running(api, account) == data["updateTimer"]


async def test_update_timer_refuses_bad_input_and_changes_nothing(
    api: Api, account: Account
) -> None:
    timer = await start(api, account)
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    for fields, errors in (
        ({"title": None}, {"title": "must not be null"}),
        ({"title": "t" * 201}, {"title": "must be at most 200 characters"}),
        ({"startedAt": None}, {"startedAt": "must not be null"}),
        ({"startedAt": future}, {"startedAt": "must not be in the future"}),
    ):
        error = await api.error(UPDATE, {"input": fields}, account.access_token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": errors}
    other = await api.sign_up()
    project = await api.create_project(other, "Theirs")
    error = await api.error(UPDATE, {"input": {"projectId": project["id"]}}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"projectId": "no such project"}}
    assert await running(api, account) == timer


async def test_update_timer_when_none_runs_is_not_found(api: Api, account: Account) -> None:
    error = await api.error(UPDATE, {"input": {"title": "x"}}, account.access_token)
    assert error["extensions"] == NONE_RUNNING


# --- stop --------------------------------------------------------------------------------


async def test_stop_timer_logs_exactly_one_entry_with_the_timers_fields_and_times(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    project = await api.create_project(account, "Apollo")
    tag = await create_tag(api, account, "parser")
    started = ago(hours=3)
    await start(
        api,
        account,
        description="Notes",
        type="CODE",
        projectId=project["id"],
        tagIds=[tag["id"]],
        valueRating="HIGH",
        impactLevel="COMPANY",
        startedAt=started.isoformat(),
    )
    ended = started + timedelta(minutes=95)
    data = await api.data(STOP, {"input": {"endTime": ended.isoformat()}}, account.access_token)
    entry = data["stopTimer"]
    assert entry == {
        "id": entry["id"],
        "title": "Pairing on the parser",
        "description": "Notes",
        "type": "CODE",
        "startTime": iso(started),
        "endTime": iso(ended),
        "durationMinutes": 95,
        "valueRating": "HIGH",
        "impactLevel": "COMPANY",
        "project": {"id": project["id"]},
        "tags": [{"name": "parser"}],
    }
    rows = await entries_of(pg, account)
    assert [(str(row["id"]), row["start_time"], row["end_time"]) for row in rows] == [
        (entry["id"], started, ended)
    ]
    assert await running(api, account) is None
    assert await timer_count(pg, account) == 0
    # createLogEntry's side effects: the entry's event and its enrichment task.
    events = await pg.fetch(
        "SELECT topic, action, object_id FROM event WHERE user_id = $1 ORDER BY id",
        uuid.UUID(account.user_id),
    )
    assert [(e["topic"], e["action"]) for e in events] == [
        ("running_timer", "STARTED"),
        ("log_entry", "CREATED"),
        ("running_timer", "STOPPED"),
    ]
    tasks = await pg.fetch(
        "SELECT payload FROM task WHERE user_id = $1 AND kind = 'enrich_entry'",
        uuid.UUID(account.user_id),
    )
    assert len(tasks) == 1
    assert entry["id"] in tasks[0]["payload"]


async def test_stop_timer_without_an_end_ends_now_with_create_log_entrys_defaults(
    api: Api, account: Account
) -> None:
    started = ago(minutes=40)
    await start(api, account, type="DEBUG", startedAt=started.isoformat())
    before = datetime.now(UTC)
    entry = (await api.data(STOP, token=account.access_token))["stopTimer"]
    after = datetime.now(UTC)
    assert entry["startTime"] == iso(started)
    assert before <= datetime.fromisoformat(entry["endTime"]) <= after
    assert (entry["type"], entry["valueRating"], entry["impactLevel"]) == (
        "DEBUG",
        "MEDIUM",
        "TEAM",
    )
    assert (entry["project"], entry["tags"], entry["description"]) == (None, [], None)


async def test_stop_timer_under_a_minute_logs_the_exact_times_as_create_log_entry_allows(
    api: Api, account: Account
) -> None:
    started = ago(minutes=10)
    await start(api, account, type="OPS", startedAt=started.isoformat())
    ended = started + timedelta(seconds=30)
    entry = (await api.data(STOP, {"input": {"endTime": ended.isoformat()}}, account.access_token))[
        "stopTimer"
    ]
    assert (entry["startTime"], entry["endTime"], entry["durationMinutes"]) == (
        iso(started),
        iso(ended),
        0,
    )


async def test_stop_timer_needs_a_type_and_takes_one_given_at_the_stop(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    timer = await start(api, account)
    error = await api.error(STOP, token=account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"type": "is required: the timer has none, give it here"},
    }
    assert await running(api, account) == timer
    assert await entries_of(pg, account) == []
    entry = (await api.data(STOP, {"input": {"type": "MEETING"}}, account.access_token))[
        "stopTimer"
    ]
    assert entry["type"] == "MEETING"


async def test_stop_timer_refuses_an_end_not_after_the_start_and_keeps_the_timer(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    started = ago(minutes=10)
    timer = await start(api, account, type="CODE", startedAt=started.isoformat())
    for end, errors in (
        (started, {"endTime": "must be after the timer's startedAt"}),
        (started - timedelta(minutes=1), {"endTime": "must be after the timer's startedAt"}),
    ):
        error = await api.error(STOP, {"input": {"endTime": end.isoformat()}}, account.access_token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": errors}
    error = await api.error(
        STOP, {"input": {"endTime": "2026-01-01T00:00:00"}}, account.access_token
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fields"]) == ["endTime"]
    assert await running(api, account) == timer
    assert await entries_of(pg, account) == []


async def test_stop_timer_when_none_runs_is_not_found(api: Api, account: Account) -> None:
    error = await api.error(STOP, token=account.access_token)
    assert error["extensions"] == NONE_RUNNING


async def test_concurrent_stops_log_exactly_one_entry(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    await start(api, account, type="CODE", startedAt=ago(minutes=30).isoformat())
    bodies = await asyncio.gather(*(api.post(STOP, token=account.access_token) for _ in range(4)))
    assert sorted("errors" in body for body in bodies) == [False, True, True, True]
    assert [body["errors"][0]["extensions"] for body in bodies if "errors" in body] == [
        NONE_RUNNING
    ] * 3
    assert len(await entries_of(pg, account)) == 1


# --- discard -----------------------------------------------------------------------------


async def test_discard_timer_deletes_it_without_an_entry(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    await start(api, account, type="CODE")
    assert await api.data(DISCARD, token=account.access_token) == {"discardTimer": True}
    assert await running(api, account) is None
    assert await entries_of(pg, account) == []
    error = await api.error(DISCARD, token=account.access_token)
    assert error["extensions"] == NONE_RUNNING
    # A new one may start now.
    assert (await start(api, account, title="Again"))["title"] == "Again"


# --- other users and tokens ----------------------------------------------------------------


async def test_another_user_neither_sees_nor_changes_nor_stops_my_timer(
    api: Api, account: Account, pg: asyncpg.Connection
) -> None:
    mine = await start(api, account, type="CODE")
    other = await api.sign_up()
    assert await running(api, other) is None
    for document, variables in (
        (UPDATE, {"input": {"title": "Hijacked"}}),
        (STOP, None),
        (DISCARD, None),
    ):
        error = await api.error(document, variables, other.access_token)
        assert error["extensions"] == NONE_RUNNING
    # Their own start is theirs and does not conflict with mine.
    theirs = await start(api, other, title="Theirs")
    assert theirs["id"] != mine["id"]
    assert await running(api, account) == mine
    assert await entries_of(pg, account) == []
    assert await entries_of(pg, other) == []


@pytest.mark.parametrize("token", [None, "garbage", "a.b.c"])
async def test_timer_operations_without_a_valid_token_are_unauthenticated(
    api: Api, account: Account, pg: asyncpg.Connection, token: str | None
) -> None:
    await start(api, account, type="CODE")
    for document, variables in (
        (RUNNING, None),
        (START, {"input": {"title": "x"}}),
        (UPDATE, {"input": {"title": "x"}}),
        (STOP, None),
        (DISCARD, None),
    ):
        error = await api.error(document, variables, token)
        assert error["extensions"] == {"code": "UNAUTHENTICATED"}, document
    assert await timer_count(pg, account) == 1
    assert await entries_of(pg, account) == []
