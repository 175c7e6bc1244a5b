"""Bad input, tried systematically: every mutation, fed generated variables (any text, very long
text, control characters, out-of-range dates, bogus time zones, wrong JSON types, huge lists,
bogus ids), answers data or coded GraphQL errors, never INTERNAL_SERVER_ERROR nor a 5xx, and
the database holds exactly the writes of the answers that succeeded.

Hypothesis drives a plain function in a worker thread; each example runs on the test's own
event loop (where the app's pools live), so @given never meets pytest's async fixtures.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.engine import asyncpg_dsn
from db.queries import insight as insights
from graph.context import AppState
from graph.errors import INTERNAL_SERVER_ERROR
from graph.schema import export_sdl
from tests.factories import Account, Api, entry_input

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,  # nothing written under the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW_EXAMPLES = settings(EXAMPLES, max_examples=12)  # each example writes up to 500 entries


async def for_all(
    strategy: st.SearchStrategy[Any],
    probe: Callable[[Any], Coroutine[Any, Any, None]],
    examples: settings = EXAMPLES,
) -> None:
    """Runs `probe` on examples of `strategy` (shrinking a failing one) on this event loop."""
    loop = asyncio.get_running_loop()

    @examples
    @given(strategy)
    def run(value: Any) -> None:
        asyncio.run_coroutine_threadsafe(probe(value), loop).result()

    await asyncio.to_thread(run)


# --- the database, every row of it -------------------------------------------------------

KEYS = {
    '"user"': ("id",),
    "refresh_token": ("jti",),
    "project": ("id",),
    "tag": ("id",),
    "log_entry": ("id",),
    "log_entry_tag": ("entry_id", "tag_id"),
    "insight": ("id",),
    "task": ("id",),
    "event": ("id",),
    "notification": ("id",),
    "schedule_run": ("user_id", "job", "period"),
}
Snapshot = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


@dataclass(frozen=True)
class Change:
    added: int = 0
    removed: int = 0
    changed: int = 0


@dataclass
class Database:
    connection: asyncpg.Connection

    async def snapshot(self) -> Snapshot:
        tables: Snapshot = {}
        for table, key in KEYS.items():
            rows = await self.connection.fetch(f"SELECT * FROM {table}")
            tables[table] = {
                tuple(row[column] for column in key): tuple(row.values()) for row in rows
            }
        return tables

    async def value(self, query: str, *args: Any) -> Any:
        return await self.connection.fetchval(query, *args)


def changes(before: Snapshot, after: Snapshot) -> dict[str, Change]:
    """Per table: rows added, removed and changed (tables without any left out)."""
    result = {}
    for table in KEYS:
        old, new = before[table], after[table]
        change = Change(
            added=len(new.keys() - old.keys()),
            removed=len(old.keys() - new.keys()),
            changed=sum(1 for key in old.keys() & new.keys() if old[key] != new[key]),
        )
        if change != Change():
            result[table] = change
    return result


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield Database(connection)
    finally:
        await connection.close()


# --- answers -------------------------------------------------------------------------------


async def answer(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any] | None:
    """The data of a successful answer, or None after checking that every error is coded
    (and not INTERNAL_SERVER_ERROR) and the status is not 5xx."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    errors = body.get("errors")
    if not errors:
        assert response.status_code == 200, response.text[:500]
        data: dict[str, Any] = body["data"]
        return data
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert all(isinstance(code, str) for code in codes), errors
    assert INTERNAL_SERVER_ERROR not in codes, errors
    assert body.get("data") is None, body
    return None


@dataclass
class Probe:
    """Sends one mutation and checks the database against its answer."""

    client: httpx.AsyncClient
    db: Database

    async def run(
        self,
        query: str,
        variables: dict[str, Any],
        token: str | None,
        on_success: Callable[[dict[str, Any], Snapshot], dict[str, Change]],
    ) -> dict[str, Any] | None:
        """The answer's data, if any; `on_success(data, before)` says what it must have
        written (a refusal must have written nothing)."""
        before = await self.db.snapshot()
        data = await answer(self.client, query, variables, token)
        after = await self.db.snapshot()
        expected = {} if data is None else on_success(data, before)
        assert changes(before, after) == expected, (variables, data)
        return data


@pytest.fixture
def probe(client: httpx.AsyncClient, db: Database) -> Probe:
    return Probe(client, db)


# --- strategies ----------------------------------------------------------------------------

# Text of every kind JSON can carry (lone surrogates cannot be encoded: test_malformed.py sends
# them as raw escapes), runs of one character past every limit, and awkward favourites.
AWKWARD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t",
    "\r\n",
    "\x7f",
    "\u0085",
    "\u2028",
    "\ufeff",
    "\u202e",
    "🙂",
    "e\u0301",
    "ß",
    "'; DROP TABLE project; --",
    "%s%n",
    "null",
    "{}",
]
LONG = st.builds(
    lambda char, size: char * size,
    st.characters(exclude_categories=["Cs"]),
    st.sampled_from([51, 101, 129, 201, 255, 2001, 100_000]),
)
TEXT = st.one_of(st.text(), st.sampled_from(AWKWARD), LONG)
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
STRINGISH = st.one_of(TEXT, WRONG)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says."""

    def pick(number: int) -> st.SearchStrategy[Any]:
        for weight, strategy in choices:
            if number < weight:
                return strategy
            number -= weight
        raise AssertionError(number)

    return st.integers(0, sum(weight for weight, _ in choices) - 1).flatmap(pick)


def plausible(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `strategy`, otherwise anything a client could send instead: an input of a few
    fields then succeeds about as often as it is refused."""
    return weighted((7, strategy), (1, STRINGISH))


def enum(*values: str) -> st.SearchStrategy[Any]:
    return plausible(st.sampled_from(values))


DATES = st.one_of(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)).map(date.isoformat),
    st.dates().map(date.isoformat),
    st.sampled_from(
        ["0000-01-01", "10000-01-01", "-0001-01-01", "2026-02-30", "2026-13-01", "20260105"]
    ),
)
DATE = plausible(DATES)
OFFSETS = st.sampled_from(["+00:00", "Z", "+01:00", "-14:00", "+14:00", "+05:45", "-00:30"])
DATETIMES = st.one_of(
    st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
        OFFSETS,
    ),
    st.builds(lambda moment, offset: moment.isoformat() + offset, st.datetimes(), OFFSETS),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # no offset
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999999+00:00",
            "9999-12-31T23:59:00-14:00",
            "1899-12-31T23:59:59+00:00",
            "3000-01-01T00:00:00+00:00",
            "10000-01-01T00:00:00+00:00",
            "2026-01-01T00:00:00+25:00",
            "2026-01-01T24:00:00+00:00",
            "2026-01-01T00:00:00 Europe/Berlin",
        ]
    ),
)
DATETIME = plausible(DATETIMES)
COLOR = plausible(st.from_regex(r"#[0-9A-Fa-f]{6}", fullmatch=True))
ZONES = plausible(
    st.sampled_from(
        [
            "UTC",
            "Europe/London",
            "Pacific/Kiritimati",
            "America/St_Johns",
            "utc",
            "Europe/../UTC",
            "/etc/localtime",
            "localtime",
            "Factory",
            "Etc/GMT+14",
            "Europe/Berlin ",
        ]
    )
)


class Ref:
    """An id chosen at run time: the user's own object, another user's, or a deleted one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Ref({self.name!r})"


OWN, OTHERS, GONE = Ref("own"), Ref("others"), Ref("gone")
IDS = weighted(
    (3, st.just(OWN)),
    (1, st.sampled_from([OTHERS, GONE])),
    (1, st.uuids().map(str)),
    (
        1,
        st.sampled_from(
            ["00000000-0000-0000-0000-000000000000", "{" + str(uuid.UUID(int=1)) + "}"]
        ),
    ),
    (1, STRINGISH),
)


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    """`value` with every Ref replaced by its id in `refs`."""
    if isinstance(value, Ref):
        return refs[value.name]
    if isinstance(value, dict):
        return {key: resolve(item, refs) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(item, refs) for item in value)
    return value


def huge(item: Any) -> st.SearchStrategy[list[Any]]:
    return st.sampled_from([0, 21, 101, 501, 5000]).map(lambda size: [item] * size)


# Python's str.lower() and PostgreSQL's lower() disagree on "İ" and on a final "Σ": both are in.
TAG_TEXT = st.one_of(TEXT, st.sampled_from(["İ", "i", "ΑΣ", "ασ"]))
TAG_NAMES = plausible(st.one_of(st.lists(plausible(TAG_TEXT), max_size=25), huge("x"), huge(None)))


ACTIVITY = enum("MEETING", "CODE", "DEBUG", "DOCS", "REVIEW", "OPS")
VALUE = enum("LOW", "MEDIUM", "HIGH")
IMPACT = enum("PERSONAL", "TEAM", "PRODUCT", "COMPANY")
ENTRY_INPUT = st.fixed_dictionaries(
    {
        "title": plausible(st.sampled_from(["Fixed the deploy", " t ", "t" * 200])),
        "type": ACTIVITY,
        "startTime": DATETIME,
        "endTime": DATETIME,
    },
    optional={
        "description": STRINGISH,
        "projectId": IDS,
        "tags": TAG_NAMES,
        "valueRating": VALUE,
        "impactLevel": IMPACT,
    },
)
# Mostly well-formed entries, so that successes are tried as often as refusals.
GOOD_ENTRY = st.builds(
    lambda offset, minutes, tags: entry_input(offset_hours=offset, minutes=minutes, tags=tags),
    st.integers(min_value=-10_000, max_value=10_000),
    st.integers(min_value=-5, max_value=600),
    st.lists(st.sampled_from(["rust", "Rust", "ops", " ops ", "x" * 50]), max_size=3),
)
ANY_ENTRY = weighted((4, GOOD_ENTRY), (3, ENTRY_INPUT), (1, WRONG))


# --- accounts and their objects ----------------------------------------------------------

CREATE_PROJECT = "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }"
CREATE_TAG = "mutation($input: CreateTagInput!) { createTag(input: $input) { id } }"
CREATE_ENTRY = """mutation($input: CreateLogEntryInput!) {
  createLogEntry(input: $input) { id tags { id } } }"""
REQUEST_INSIGHT = """mutation($input: RequestInsightInput!) {
  requestInsight(input: $input) { id } }"""
INSIGHT = {"kind": "WEEKLY_REPORT", "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}


@dataclass
class World:
    """An account with one object of each kind, another account with its own, and the id of
    a deleted one: what Ref ids stand for."""

    api: Api
    me: Account
    other: Account

    async def create(self, kind: str, account: Account, name: str) -> str:
        query, variables = {
            "project": (CREATE_PROJECT, {"input": {"name": name}}),
            "tag": (CREATE_TAG, {"input": {"name": name}}),
            "entry": (CREATE_ENTRY, {"input": entry_input(title=name)}),
            "insight": (REQUEST_INSIGHT, {"input": INSIGHT}),
        }[kind]
        data = await self.api.data(query, variables, account.access_token)
        [payload] = data.values()
        return str(payload["id"])

    async def ids(self, kind: str) -> dict[str, str]:
        result = {}
        for ref, account in (("own", self.me), ("others", self.other), ("gone", self.me)):
            result[ref] = await self.create(kind, account, f"{ref}-{uuid.uuid4()}")
        delete = {
            "project": "deleteProject",
            "tag": "deleteTag",
            "entry": "deleteLogEntry",
        }.get(kind)
        if delete:
            await self.api.data(
                f"mutation($id: ID!) {{ {delete}(id: $id) }}",
                {"id": result["gone"]},
                self.me.access_token,
            )
        return result


@pytest.fixture
async def world(api: Api) -> World:
    return World(api, await api.sign_up(), await api.sign_up())


# --- projects ------------------------------------------------------------------------------

PROJECT_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "name": plausible(st.sampled_from(["Apollo", "apollo ", "p" * 200])),
        "description": STRINGISH,
        "status": enum("ACTIVE", "COMPLETED", "ON_HOLD", "CANCELLED"),
        "color": COLOR,
        "startDate": DATE,
        "endDate": DATE,
    },
)
# Mostly with a fresh name, so that the other fields decide.
NEW_PROJECT = weighted(
    (4, st.builds(lambda name, rest: {**rest, "name": name}, st.uuids().map(str), PROJECT_INPUT)),
    (2, PROJECT_INPUT),
    (1, WRONG),
)


async def test_create_project_answers_a_project_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(project: Any) -> None:
        query = "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }"
        await probe.run(
            query,
            {"input": project},
            world.me.access_token,
            lambda data, _: {"project": Change(added=1)},
        )

    await for_all(NEW_PROJECT, check)


async def test_update_project_answers_a_project_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")
    query = """mutation($id: ID!, $input: UpdateProjectInput!) {
      updateProject(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        project_id, changes_ = resolve(example, refs)
        data = await probe.run(
            query,
            {"id": project_id, "input": changes_},
            world.me.access_token,
            lambda data, _: {"project": Change(changed=1)},
        )
        if data is not None:
            assert data == {"updateProject": {"id": refs["own"]}}

    await for_all(st.tuples(IDS, plausible(PROJECT_INPUT)), check)


async def test_delete_project_answers_true_or_coded_errors_and_deletes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(project_id: Any) -> None:
        refs = await world.ids("project")  # a fresh own project: the last one may be gone
        await probe.run(
            "mutation($id: ID!) { deleteProject(id: $id) }",
            {"id": resolve(project_id, refs)},
            world.me.access_token,
            lambda data, _: {"project": Change(removed=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)


# --- tags ----------------------------------------------------------------------------------

TAG_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "name": plausible(st.sampled_from(["rust", "Rust ", "t" * 50])),
        "category": STRINGISH,
        "color": COLOR,
    },
)
NEW_TAG = weighted(
    (4, st.builds(lambda name, rest: {**rest, "name": name}, st.uuids().map(str), TAG_INPUT)),
    (2, TAG_INPUT),
    (1, WRONG),
)


async def test_create_tag_answers_a_tag_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(tag: Any) -> None:
        await probe.run(
            CREATE_TAG, {"input": tag}, world.me.access_token, lambda data, _: {"tag": Change(1)}
        )

    await for_all(NEW_TAG, check)


async def test_update_tag_answers_a_tag_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("tag")
    query = """mutation($id: ID!, $input: UpdateTagInput!) {
      updateTag(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        tag_id, changes_ = resolve(example, refs)
        data = await probe.run(
            query,
            {"id": tag_id, "input": changes_},
            world.me.access_token,
            lambda data, _: {"tag": Change(changed=1)},
        )
        if data is not None:
            assert data == {"updateTag": {"id": refs["own"]}}

    await for_all(st.tuples(IDS, plausible(TAG_INPUT)), check)


async def test_delete_tag_answers_true_or_coded_errors_and_deletes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    async def check(tag_id: Any) -> None:
        refs = await world.ids("tag")
        await probe.run(
            "mutation($id: ID!) { deleteTag(id: $id) }",
            {"id": resolve(tag_id, refs)},
            world.me.access_token,
            lambda data, _: {"tag": Change(removed=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)


# --- log entries ---------------------------------------------------------------------------


def entry_writes(entries: list[dict[str, Any]], before: Snapshot) -> dict[str, Change]:
    """What creating these entries writes: each row, its tag links, its enrichment task and
    event; its tags are created, or have their usage counted."""
    tags = {tag["id"] for entry in entries for tag in entry["tags"]}
    new_tags = sum(1 for tag_id in tags if (uuid.UUID(tag_id),) not in before["tag"])
    expected = {
        "log_entry": Change(added=len(entries)),
        "task": Change(added=len(entries)),
        "event": Change(added=len(entries)),
        "log_entry_tag": Change(added=sum(len(entry["tags"]) for entry in entries)),
        "tag": Change(added=new_tags, changed=len(tags) - new_tags),
    }
    return {table: change for table, change in expected.items() if change != Change()}


async def test_create_log_entry_answers_an_entry_or_coded_errors_and_writes_only_what_it_answers(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")

    async def check(entry: Any) -> None:
        await probe.run(
            CREATE_ENTRY,
            {"input": resolve(entry, refs)},
            world.me.access_token,
            lambda data, before: entry_writes([data["createLogEntry"]], before),
        )

    await for_all(ANY_ENTRY, check)


async def test_create_log_entries_writes_all_or_nothing_and_never_fails_internally(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")
    query = """mutation($inputs: [CreateLogEntryInput!]!) {
      createLogEntries(inputs: $inputs) { id tags { id } } }"""
    batches = plausible(
        st.one_of(
            st.lists(ANY_ENTRY, max_size=4),
            huge(entry_input()),
            st.sampled_from([500, 501]).map(lambda size: [entry_input(tags=["bulk"])] * size),
        )
    )

    async def check(batch: Any) -> None:
        await probe.run(
            query,
            {"inputs": resolve(batch, refs)},
            world.me.access_token,
            lambda data, before: entry_writes(data["createLogEntries"], before),
        )

    await for_all(batches, check, FEW_EXAMPLES)


UPDATE_ENTRY_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "title": plausible(st.sampled_from(["Renamed", "t" * 201])),
        "description": STRINGISH,
        "type": ACTIVITY,
        "projectId": IDS,
        "tags": TAG_NAMES,
        "startTime": DATETIME,
        "endTime": DATETIME,
        "valueRating": VALUE,
        "impactLevel": IMPACT,
    },
)


async def test_update_log_entry_answers_an_entry_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    projects = await world.ids("project")
    entries = await world.ids("entry")
    query = """mutation($id: ID!, $input: UpdateLogEntryInput!) {
      updateLogEntry(id: $id, input: $input) { id } }"""

    async def check(example: tuple[Any, Any]) -> None:
        entry_id = resolve(example[0], entries)
        changes_ = resolve(example[1], projects)
        before = await probe.db.snapshot()
        data = await answer(
            probe.client, query, {"id": entry_id, "input": changes_}, world.me.access_token
        )
        after = await probe.db.snapshot()
        found = changes(before, after)
        if data is None:
            assert found == {}, (example, data)
            return
        assert data == {"updateLogEntry": {"id": entries["own"]}}
        # The entry (its updatedAt at least) and one UPDATED event; tags as the input says.
        assert (found["log_entry"], found["event"]) == (Change(changed=1), Change(added=1))
        assert set(found) <= {"log_entry", "event", "log_entry_tag", "tag"}, found

    await for_all(st.tuples(IDS, plausible(UPDATE_ENTRY_INPUT)), check)


async def test_delete_log_entry_answers_true_or_coded_errors_and_deletes_only_on_success(
    probe: Probe, world: World
) -> None:
    async def check(entry_id: Any) -> None:
        refs = await world.ids("entry")
        await probe.run(
            "mutation($id: ID!) { deleteLogEntry(id: $id) }",
            {"id": resolve(entry_id, refs)},
            world.me.access_token,
            lambda data, _: {"log_entry": Change(removed=1), "event": Change(added=1)},
        )

    await for_all(IDS, check, FEW_EXAMPLES)


# --- insights ------------------------------------------------------------------------------

PERIODS = weighted(
    (
        3,
        st.builds(
            lambda start, days: (start.isoformat(), (start + timedelta(days=days)).isoformat()),
            st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)),
            st.integers(min_value=-1, max_value=367),
        ),
    ),
    (1, st.tuples(DATE, DATE)),
)
INSIGHT_INPUT = st.builds(
    lambda period, rest: {**rest, "periodStart": period[0], "periodEnd": period[1]},
    PERIODS,
    st.fixed_dictionaries(
        {
            "kind": enum("DAILY_SUMMARY", "WEEKLY_REPORT", "ANNUAL_ASSESSMENT"),
        },
        optional={
            "projectIds": plausible(st.one_of(st.lists(IDS, max_size=4), huge(OWN))),
            "focusAreas": plausible(st.one_of(st.lists(plausible(TEXT), max_size=12), huge("a"))),
        },
    ),
)


async def test_request_insight_answers_an_insight_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    refs = await world.ids("project")

    async def check(request: Any) -> None:
        await probe.run(
            REQUEST_INSIGHT,
            {"input": resolve(request, refs)},
            world.me.access_token,
            lambda data, _: {
                "insight": Change(added=1),
                "task": Change(added=1),
                "event": Change(added=1),
            },
        )

    await for_all(plausible(INSIGHT_INPUT), check)


async def test_retry_insight_answers_a_pending_insight_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World, app_state: AppState
) -> None:
    async def check(insight_id: Any) -> None:
        refs = await world.ids("insight")
        async with app_state.db() as session, session.begin():  # only a FAILED one retries
            own = uuid.UUID(refs["own"])
            assert await insights.mark_insight_running(session, insight_id=own)
            assert await insights.fail_insight(session, insight_id=own, error="model timed out")
        await probe.run(
            "mutation($id: ID!) { retryInsight(id: $id) { id status } }",
            {"id": resolve(insight_id, refs)},
            world.me.access_token,
            lambda data, _: {
                "insight": Change(changed=1),
                "task": Change(added=1),
                "event": Change(added=1),
            },
        )

    await for_all(IDS, check, FEW_EXAMPLES)  # "gone" is one still PENDING: CONFLICT


# --- accounts and sessions -----------------------------------------------------------------

LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }"
SIGN_UP_INPUT = st.fixed_dictionaries(
    {
        "email": plausible(st.one_of(st.emails(), st.sampled_from(["taken@example.com"]))),
        "password": plausible(st.sampled_from(["correct horse battery", "x" * 128, "x" * 129])),
        "firstName": plausible(st.sampled_from(["Ada", "A" * 100])),
        "lastName": plausible(st.sampled_from(["Lovelace", "L" * 101])),
    },
    optional={"timezone": ZONES},
)


async def test_sign_up_answers_tokens_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    await api.sign_up("taken@example.com")

    async def check(account: Any) -> None:
        await probe.run(
            SIGN_UP,
            {"input": account},
            None,
            lambda data, _: {'"user"': Change(added=1), "refresh_token": Change(added=1)},
        )

    await for_all(plausible(SIGN_UP_INPUT), check)


async def test_log_in_answers_tokens_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    account = await api.sign_up("ada@example.com", password="correct horse battery")
    query = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
    emails = weighted(
        (3, st.sampled_from([account.email, " ADA@example.com ", "ada@example.co"])),
        (1, TEXT),
        (1, WRONG),
    )
    passwords = plausible(st.sampled_from(["correct horse battery", "Correct horse battery"]))

    async def check(example: tuple[Any, Any]) -> None:
        email, password = example
        await probe.run(
            query,
            {"e": email, "p": password},
            None,
            # The new session, and the user's last_login_at.
            lambda data, _: {'"user"': Change(changed=1), "refresh_token": Change(added=1)},
        )

    await for_all(st.tuples(emails, passwords), check)


VALID = Ref("valid")  # a refresh token freshly issued for the example
TOKENS = weighted(
    (2, st.just(VALID)),
    (1, st.sampled_from(["a.b.c", "e30.e30.", "x" * 100_000])),
    (2, STRINGISH),
)


async def test_refresh_token_answers_tokens_or_coded_errors_and_rotates_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"

    async def check(token: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            query,
            {"t": resolve(token, {"valid": account.refresh_token})},
            None,
            # The new token, and the presented one marked used.
            lambda data, _: {"refresh_token": Change(added=1, changed=1)},
        )

    await for_all(TOKENS, check, FEW_EXAMPLES)


async def test_log_out_answers_true_or_coded_errors_and_ends_a_session_only_on_success(
    probe: Probe, api: Api
) -> None:
    async def check(token: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            "mutation($t: String!) { logOut(refreshToken: $t) }",
            {"t": resolve(token, {"valid": account.refresh_token})},
            None,
            lambda data, _: {"refresh_token": Change(changed=1)},
        )

    await for_all(TOKENS, check, FEW_EXAMPLES)


# --- what the properties found -------------------------------------------------------------

RANGE = "must be between 1900-01-01 and 2999-12-31 (UTC)"


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
    assert await db.value("SELECT count(*) FROM log_entry") == 0


async def test_update_log_entry_refuses_instants_outside_the_supported_years(
    api: Api, world: World
) -> None:
    entries = await world.ids("entry")
    error = await api.error(
        """mutation($id: ID!, $input: UpdateLogEntryInput!) {
          updateLogEntry(id: $id, input: $input) { id } }""",
        {"id": entries["own"], "input": {"startTime": "0001-01-01T00:00:00+01:00"}},
        world.me.access_token,
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"startTime": RANGE}}


@pytest.mark.parametrize(
    ("period_start", "period_end", "fields"),
    [
        ("9999-12-25", "9999-12-31", ["periodStart", "periodEnd"]),
        ("0001-01-01", "0001-01-05", ["periodStart", "periodEnd"]),
        ("1899-12-31", "1900-01-06", ["periodStart"]),
    ],
)
async def test_request_insight_refuses_periods_outside_the_supported_years(
    api: Api, db: Database, period_start: str, period_end: str, fields: list[str]
) -> None:
    account = await api.sign_up("kiritimati@example.com")
    await db.connection.execute(
        "UPDATE \"user\" SET timezone = 'Pacific/Kiritimati' WHERE email = $1", account.email
    )
    request = {"kind": "WEEKLY_REPORT", "periodStart": period_start, "periodEnd": period_end}
    error = await api.error(REQUEST_INSIGHT, {"input": request}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": dict.fromkeys(fields, "must be between 1900-01-01 and 2999-12-31"),
    }
    assert await db.value("SELECT count(*) FROM insight") == 0


@pytest.mark.parametrize(
    "variables",
    [None, True, 5, 1.5, "x", [], {"unknownField": 1}],
    ids=["null", "boolean", "int", "float", "string", "list", "unknown-field"],
)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("mutation($v: SignUpInput!) { signUp(input: $v) { accessToken } }", "v"),
        ("mutation($v: CreateProjectInput!) { createProject(input: $v) { id } }", "v"),
        ('mutation($v: UpdateProjectInput!) { updateProject(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: CreateTagInput!) { createTag(input: $v) { id } }", "v"),
        ('mutation($v: UpdateTagInput!) { updateTag(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: CreateLogEntryInput!) { createLogEntry(input: $v) { id } }", "v"),
        ("mutation($v: [CreateLogEntryInput!]!) { createLogEntries(inputs: $v) { id } }", "v"),
        ('mutation($v: UpdateLogEntryInput!) { updateLogEntry(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: RequestInsightInput!) { requestInsight(input: $v) { id } }", "v"),
    ],
)
async def test_an_input_of_the_wrong_json_type_is_refused_as_bad_user_input(
    client: httpx.AsyncClient, db: Database, query: str, name: str, variables: Any
) -> None:
    before = await db.snapshot()
    response = await client.post("/graphql", json={"query": query, "variables": {name: variables}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}
    assert changes(before, await db.snapshot()) == {}


# --- the account -----------------------------------------------------------------------

PASSWORDS = plausible(
    st.sampled_from(
        ["correct horse battery", "Correct horse battery", "short", "x" * 128, "x" * 129, ""]
    )
)


async def test_change_password_answers_a_count_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) }"
    inputs = plausible(
        st.fixed_dictionaries(
            {},
            optional={
                "currentPassword": plausible(st.one_of(PASSWORDS, TEXT)),
                "newPassword": plausible(st.one_of(PASSWORDS, TEXT)),
            },
        )
    )

    async def check(value: Any) -> None:
        account = await api.sign_up()
        await api.data(LOG_IN, {"e": account.email, "p": "correct horse battery"})
        await probe.run(
            query,
            {"input": value},
            account.access_token,
            # The password, and the other session ended.
            lambda data, _: {'"user"': Change(changed=1), "refresh_token": Change(changed=1)},
        )

    await for_all(inputs, check, FEW_EXAMPLES)


async def test_delete_account_answers_true_or_coded_errors_and_deletes_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($p: String!) { deleteAccount(password: $p) }"

    async def check(password: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            query,
            {"p": password},
            account.access_token,
            lambda data, _: {'"user"': Change(removed=1), "refresh_token": Change(removed=1)},
        )

    await for_all(plausible(st.one_of(PASSWORDS, TEXT)), check, FEW_EXAMPLES)


# --- preferences ---------------------------------------------------------------------------

CLOCK_TIMES = st.one_of(
    st.sampled_from(["00:00", "09:00", "23:59", "24:00", "9:00", "09:60", "09:00:00", "09:00\n"]),
    st.none(),
    TEXT,
)
PREFERENCES_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "weeklyReport": plausible(st.one_of(st.booleans(), st.none())),
        "email": plausible(st.one_of(st.booleans(), st.none())),
        "dailySummaryTime": plausible(CLOCK_TIMES),
        "reminderTime": plausible(CLOCK_TIMES),
        "timezone": plausible(
            st.one_of(st.sampled_from(["Europe/Berlin", "UTC", "Mars/Olympus"]), st.none(), TEXT)
        ),
    },
)


async def test_update_preferences_answers_the_user_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    query = """mutation($input: UpdatePreferencesInput!) {
      updatePreferences(input: $input) { id preferences { reminderTime } } }"""

    async def check(value: Any) -> None:
        data = await probe.run(
            query,
            {"input": value},
            world.me.access_token,
            lambda data, _: {'"user"': Change(changed=1)},
        )
        if data is not None:
            assert data["updatePreferences"]["id"] == world.me.user_id

    await for_all(plausible(PREFERENCES_INPUT), check)


# Every mutation has its property test above: one added later without it fails here.
COVERED = {
    "signUp",
    "logIn",
    "refreshToken",
    "logOut",
    "changePassword",
    "deleteAccount",
    "createProject",
    "updateProject",
    "deleteProject",
    "createTag",
    "updateTag",
    "deleteTag",
    "createLogEntry",
    "createLogEntries",
    "updateLogEntry",
    "deleteLogEntry",
    "requestInsight",
    "retryInsight",
    "updatePreferences",
}


def test_every_mutation_of_the_schema_has_a_property_test() -> None:
    mutation = graphql.build_schema(export_sdl()).mutation_type
    assert mutation is not None
    assert set(mutation.fields) == COVERED


# --- found by the properties, and fixed ----------------------------------------------------


@pytest.mark.parametrize("names", [["İ", "i"], ["ΑΣ", "ασ"]], ids=["dotted-i", "final-sigma"])
async def test_tag_names_equal_to_postgresql_but_not_to_python_make_one_tag(
    api: Api, names: list[str]
) -> None:
    account = await api.sign_up()
    body = await api.post(CREATE_ENTRY, {"input": entry_input(tags=names)}, account.access_token)
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["createLogEntry"]["tags"]) == 1


async def test_log_in_with_a_nul_in_the_email_is_refused_as_unauthenticated(api: Api) -> None:
    await api.sign_up("ada@example.com")
    error = await api.error(
        "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }",
        {"e": "ada\x00@example.com", "p": "correct horse battery"},
    )
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
