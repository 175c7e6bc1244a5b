"""logEntries: order, every filter, totalCount, page sizes, cursors; and popularTags."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import BASE_TIME, Account, Api, entry_input
from tests.graph.entries.support import CREATE_ENTRIES, CREATE_ENTRY

LIST = """
query List($filter: LogEntryFilter, $first: Int!, $after: String) {
  logEntries(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id title startTime } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
POPULAR = "query Popular($limit: Int!) { popularTags(limit: $limit) { name usageCount } }"
POPULAR_DEFAULT = "{ popularTags { name } }"
CREATE_TAG = "mutation CreateTag($input: CreateTagInput!) { createTag(input: $input) { id } }"


def at(hours: float) -> str:
    return (BASE_TIME + timedelta(hours=hours)).isoformat()


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def page(
    api: Api,
    account: Account,
    *,
    first: int = 20,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    variables = {"first": first, "after": after, "filter": filter}
    data = await api.data(LIST, variables, account.access_token)
    connection: dict[str, Any] = data["logEntries"]
    return connection


def titles(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


async def create_many(
    api: Api, account: Account, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    entries: list[dict[str, Any]] = data["createLogEntries"]
    return entries


async def walk(
    api: Api, account: Account, *, first: int, filter: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every page in turn; checks each page's pageInfo on the way."""
    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        connection = await page(api, account, first=first, after=after, filter=filter)
        pages.append(connection)
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]


# --- order ----------------------------------------------------------------------------------


async def test_entries_come_newest_first_by_start_time(api: Api, account: Account) -> None:
    for hours, title in ((5, "Fifth"), (-3, "Earliest"), (12, "Latest"), (0, "Zero")):
        await api.create_entry(account, offset_hours=hours, title=title)
    connection = await page(api, account)
    assert titles(connection) == ["Latest", "Fifth", "Zero", "Earliest"]
    assert [edge["node"]["startTime"] for edge in connection["edges"]] == [
        at(12),
        at(5),
        at(0),
        at(-3),
    ]
    assert connection["totalCount"] == 4
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": connection["edges"][0]["cursor"],
        "endCursor": connection["edges"][-1]["cursor"],
    }


async def test_entries_starting_at_the_same_time_are_ordered_by_id_descending(
    api: Api, account: Account
) -> None:
    created = await create_many(
        api,
        account,
        [entry_input(0, title=f"Tie {index}") for index in range(7)]
        + [entry_input(1, title="Later"), entry_input(-1, title="Earlier")],
    )
    ties = sorted((e["id"] for e in created if e["title"].startswith("Tie")), reverse=True)
    connection = await page(api, account)
    ids = [edge["node"]["id"] for edge in connection["edges"]]
    assert ids == [created[7]["id"], *ties, created[8]["id"]]
    # Paging through the ties in twos gives the same order, nothing twice, nothing skipped.
    walked = [edge["node"]["id"] for p in await walk(api, account, first=2) for edge in p["edges"]]
    assert walked == ids


async def test_the_empty_list_has_no_cursors(api: Api, account: Account) -> None:
    assert await page(api, account) == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_entries_of_other_users_are_never_listed_or_counted(
    api: Api, account: Account
) -> None:
    other = await api.sign_up()
    await api.create_entry(other, title="Theirs", tags=["shared"])
    await api.create_entry(account, offset_hours=1, title="Mine", tags=["mine"])
    assert titles(await page(api, account)) == ["Mine"]
    assert (await page(api, account))["totalCount"] == 1
    tagged = await page(api, account, filter={"tags": ["shared"]})
    assert (titles(tagged), tagged["totalCount"]) == ([], 0)


# --- filters --------------------------------------------------------------------------------


@pytest.fixture
async def catalogue(api: Api, account: Account) -> dict[str, str]:
    """Five entries an hour apart (A at BASE_TIME … E four hours later); returns project ids."""
    p1 = (await api.create_project(account, "Apollo"))["id"]
    p2 = (await api.create_project(account, "Gemini"))["id"]
    rows = [
        entry_input(
            0,
            title="Deploying the API gateway",
            type="CODE",
            projectId=p1,
            tags=["Go"],
            valueRating="HIGH",
            impactLevel="TEAM",
        ),
        entry_input(
            1,
            title="Fixed flaky tests",
            description="The deploy script timed out",
            type="DEBUG",
            projectId=p2,
            tags=["infra", "go"],
            valueRating="LOW",
            impactLevel="PERSONAL",
        ),
        entry_input(
            2, title="Sprint planning", type="MEETING", valueRating="MEDIUM", impactLevel="COMPANY"
        ),
        entry_input(
            3,
            title="Reviewed payments PR",
            description="Looked at the retries",
            type="REVIEW",
            projectId=p1,
            tags=["Rust"],
            valueRating="HIGH",
            impactLevel="PRODUCT",
        ),
        entry_input(
            4,
            title="Wrote runbook",
            description="How to roll back a deployment",
            type="DOCS",
            tags=["INFRA"],
            valueRating="MEDIUM",
            impactLevel="TEAM",
        ),
    ]
    for row in rows:
        await api.data(CREATE_ENTRY, {"input": row}, account.access_token)
    return {"p1": p1, "p2": p2}


A, B, C, D, E = (
    "Deploying the API gateway",
    "Fixed flaky tests",
    "Sprint planning",
    "Reviewed payments PR",
    "Wrote runbook",
)

FILTERS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no filter", {}, [E, D, C, B, A]),
    ("from is inclusive", {"from": at(2)}, [E, D, C]),
    ("from in another offset", {"from": "2026-11-02T12:00:00+01:00"}, [E, D, C]),
    ("from a microsecond later", {"from": "2026-11-02T11:00:00.000001+00:00"}, [E, D]),
    ("to is exclusive", {"to": at(2)}, [B, A]),
    ("to a microsecond later", {"to": "2026-11-02T11:00:00.000001+00:00"}, [C, B, A]),
    ("from and to", {"from": at(1), "to": at(3)}, [C, B]),
    ("from after to", {"from": at(3), "to": at(1)}, []),
    ("one project", {"projectIds": ["p1"]}, [D, A]),
    ("two projects", {"projectIds": ["p1", "p2"]}, [D, B, A]),
    ("no projects", {"projectIds": []}, []),
    ("one type", {"types": ["MEETING"]}, [C]),
    ("two types", {"types": ["CODE", "REVIEW"]}, [D, A]),
    ("a type nobody used", {"types": ["OPS"]}, []),
    ("a tag in another case", {"tags": ["GO"]}, [B, A]),
    ("any of two tags", {"tags": ["infra", "rust"]}, [E, D, B]),
    ("an unknown tag", {"tags": ["cobol"]}, []),
    ("one value rating", {"valueRatings": ["HIGH"]}, [D, A]),
    ("two value ratings", {"valueRatings": ["LOW", "MEDIUM"]}, [E, C, B]),
    ("one impact level", {"impactLevels": ["TEAM"]}, [E, A]),
    ("two impact levels", {"impactLevels": ["COMPANY", "PRODUCT"]}, [D, C]),
    ("search matches word forms", {"search": "deploy"}, [E, B, A]),
    ("search is case-insensitive", {"search": "RUNBOOK"}, [E]),
    ("search covers the description", {"search": "retries"}, [D]),
    ("search with a phrase", {"search": '"payments PR"'}, [D]),
    ("search excluding a word", {"search": "deploy -runbook"}, [B, A]),
    ("search with or", {"search": "sprint or gateway"}, [C, A]),
    ("search for all words", {"search": "flaky deploy"}, [B]),
    ("search with no match", {"search": "kubernetes"}, []),
    ("search for a blank string", {"search": "   "}, [E, D, C, B, A]),
    ("project and type", {"projectIds": ["p1"], "types": ["CODE"]}, [A]),
    ("tag and value rating", {"tags": ["go"], "valueRatings": ["LOW"]}, [B]),
    ("from and search", {"from": at(1), "search": "deploy"}, [E, B]),
    (
        "everything at once",
        {
            "from": at(0),
            "to": at(4),
            "projectIds": ["p1", "p2"],
            "types": ["CODE", "DEBUG", "REVIEW"],
            "tags": ["go", "rust"],
            "valueRatings": ["HIGH", "LOW"],
            "impactLevels": ["TEAM", "PRODUCT"],
            "search": "deploy",
        },
        [A],
    ),
]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [pytest.param(filter, expected, id=name) for name, filter, expected in FILTERS],
)
async def test_filter_selects_the_matching_entries_and_counts_them(
    api: Api,
    account: Account,
    catalogue: dict[str, str],
    filter: dict[str, Any],
    expected: list[str],
) -> None:
    if "projectIds" in filter:
        filter = {**filter, "projectIds": [catalogue.get(p, p) for p in filter["projectIds"]]}
    connection = await page(api, account, filter=filter)
    assert (titles(connection), connection["totalCount"]) == (expected, len(expected))


async def test_total_count_is_the_whole_match_on_every_page(
    api: Api, account: Account, catalogue: dict[str, str]
) -> None:
    pages = await walk(api, account, first=2, filter={"search": "deploy"})
    assert [titles(p) for p in pages] == [[E, B], [A]]
    assert [p["totalCount"] for p in pages] == [3, 3]


@pytest.mark.parametrize(
    ("filter", "fields"),
    [
        pytest.param(
            {"from": "2026-11-02T09:00:00"},
            {"filter.from": "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)"},
            id="naive from",
        ),
        pytest.param(
            {"to": "2026-11-02T09:00:00"},
            {"filter.to": "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)"},
            id="naive to",
        ),
        pytest.param(
            {"projectIds": ["nope"]}, {"filter.projectIds.0": "must be an ID"}, id="bad project id"
        ),
        pytest.param(
            {"search": "s" * 201},
            {"filter.search": "must be at most 200 characters"},
            id="long search",
        ),
        pytest.param(
            {"tags": [f"t{index}" for index in range(101)]},
            {"filter.tags": "at most 100 items"},
            id="101 tags",
        ),
    ],
)
async def test_invalid_filters_are_bad_user_input(
    api: Api, account: Account, filter: dict[str, Any], fields: dict[str, str]
) -> None:
    error = await api.error(LIST, {"first": 5, "filter": filter}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}


# --- page size and cursors ------------------------------------------------------------------


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_page_size_outside_1_to_100_is_bad_user_input(
    api: Api, account: Account, first: int
) -> None:
    error = await api.error(LIST, {"first": first}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"first": "must be between 1 and 100"},
    }


async def test_page_sizes_1_and_100_are_accepted(api: Api, account: Account) -> None:
    await create_many(api, account, [entry_input(i, title=f"E{i}") for i in range(101)])
    one = await page(api, account, first=1)
    hundred = await page(api, account, first=100)
    assert (titles(one), one["pageInfo"]["hasNextPage"], one["totalCount"]) == (
        ["E100"],
        True,
        101,
    )
    assert titles(hundred) == [f"E{i}" for i in range(100, 0, -1)]
    assert hundred["pageInfo"]["hasNextPage"] is True
    last = await page(api, account, first=100, after=hundred["pageInfo"]["endCursor"])
    assert (titles(last), last["pageInfo"]["hasNextPage"]) == (["E0"], False)


async def test_the_default_page_size_is_20(api: Api, account: Account) -> None:
    await create_many(api, account, [entry_input(i) for i in range(21)])
    data = await api.data(
        "{ logEntries { edges { cursor } pageInfo { hasNextPage } } }", token=account.access_token
    )
    assert (len(data["logEntries"]["edges"]), data["logEntries"]["pageInfo"]) == (
        20,
        {"hasNextPage": True},
    )


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("!!!!", id="not base64"),
        pytest.param("é", id="not ascii"),
        pytest.param(b64("2026-11-02T09:00:00+00:00|not-a-uuid"), id="bad id"),
        pytest.param(b64("2026-11-02T09:00:00|00000000-0000-4000-8000-000000000000"), id="naive"),
        pytest.param(b64("yesterday|00000000-0000-4000-8000-000000000000"), id="bad time"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(), id="not utf-8"),
    ],
)
async def test_a_cursor_the_api_did_not_give_out_is_bad_user_input(
    api: Api, account: Account, cursor: str
) -> None:
    error = await api.error(LIST, {"first": 5, "after": cursor}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"after": "is not a cursor this API gave out"},
    }


async def test_walking_every_page_gives_every_entry_exactly_once(
    api: Api, account: Account
) -> None:
    created = await create_many(
        api, account, [entry_input(i * 0.5, title=f"E{i:02d}") for i in range(30)]
    )
    pages = await walk(api, account, first=7)
    assert [len(p["edges"]) for p in pages] == [7, 7, 7, 7, 2]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, True, True, False]
    assert [p["totalCount"] for p in pages] == [30] * 5
    walked = [edge["node"]["id"] for p in pages for edge in p["edges"]]
    assert walked == [entry["id"] for entry in reversed(created)]


async def test_a_page_that_ends_on_the_last_entry_says_there_is_no_next_page(
    api: Api, account: Account
) -> None:
    await create_many(api, account, [entry_input(i, title=f"E{i:02d}") for i in range(14)])
    pages = await walk(api, account, first=7)
    assert [(len(p["edges"]), p["pageInfo"]["hasNextPage"]) for p in pages] == [
        (7, True),
        (7, False),
    ]
    after_last = await page(api, account, first=7, after=pages[-1]["pageInfo"]["endCursor"])
    assert (after_last["edges"], after_last["pageInfo"]) == (
        [],
        {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None},
    )


async def test_walking_pages_while_entries_are_added_skips_and_repeats_nothing(
    api: Api, account: Account
) -> None:
    created = await create_many(
        api, account, [entry_input(i, title=f"Old {i:02d}") for i in range(30)]
    )
    original = [entry["id"] for entry in reversed(created)]
    seen: list[str] = []
    newer: list[str] = []
    after: str | None = None
    step = 0
    while True:
        connection = await page(api, account, first=7, after=after)
        seen.extend(edge["node"]["id"] for edge in connection["edges"])
        step += 1
        # Between pages: one entry newer than everything, one older than everything, and one
        # starting at the very instant of the cursor (it sorts before or after it by id).
        cursor_time = connection["edges"][-1]["node"]["startTime"] if connection["edges"] else None
        inputs = [
            entry_input(100 + step, title=f"Newer {step}"),
            entry_input(-100 - step, title=f"Older {step}"),
        ]
        if cursor_time is not None:
            end = (BASE_TIME + timedelta(days=30)).isoformat()
            inputs.append(
                {**entry_input(title=f"Same {step}"), "startTime": cursor_time, "endTime": end}
            )
        added = await create_many(api, account, inputs)
        newer.append(added[0]["id"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    # Every entry present at the start, once, in order; none of the newer ones.
    assert [entry_id for entry_id in seen if entry_id in set(original)] == original
    assert not set(newer) & set(seen)


async def test_a_cursor_stays_valid_after_its_entry_is_deleted(api: Api, account: Account) -> None:
    created = await create_many(api, account, [entry_input(i, title=f"E{i}") for i in range(5)])
    first = await page(api, account, first=2)
    await api.data(
        "mutation($id: ID!) { deleteLogEntry(id: $id) }",
        {"id": first["edges"][-1]["node"]["id"]},
        account.access_token,
    )
    rest = await page(api, account, first=10, after=first["pageInfo"]["endCursor"])
    assert titles(rest) == ["E2", "E1", "E0"]
    assert rest["totalCount"] == 4
    assert len(created) == 5


# --- popularTags ----------------------------------------------------------------------------


@pytest.fixture
async def tagged(api: Api, account: Account) -> None:
    await create_many(
        api,
        account,
        [
            entry_input(0, tags=["Go", "apple", "Banana"]),
            entry_input(1, tags=["Go", "Banana", "Rust"]),
            entry_input(2, tags=["Go", "apple"]),
        ],
    )
    await api.data(CREATE_TAG, {"input": {"name": "unused"}}, account.access_token)
    other = await api.sign_up()
    await api.create_entry(other, tags=["theirs"])


async def test_popular_tags_are_ordered_by_usage_then_name(
    api: Api, account: Account, tagged: None
) -> None:
    data = await api.data(POPULAR, {"limit": 100}, account.access_token)
    assert data == {
        "popularTags": [
            {"name": "Go", "usageCount": 3},
            {"name": "apple", "usageCount": 2},
            {"name": "Banana", "usageCount": 2},
            {"name": "Rust", "usageCount": 1},
            {"name": "unused", "usageCount": 0},
        ]
    }


async def test_popular_tags_stop_at_the_limit(api: Api, account: Account, tagged: None) -> None:
    one = await api.data(POPULAR, {"limit": 1}, account.access_token)
    three = await api.data(POPULAR, {"limit": 3}, account.access_token)
    default = await api.data(POPULAR_DEFAULT, token=account.access_token)
    assert one == {"popularTags": [{"name": "Go", "usageCount": 3}]}
    assert [tag["name"] for tag in three["popularTags"]] == ["Go", "apple", "Banana"]
    assert [tag["name"] for tag in default["popularTags"]] == [
        "Go",
        "apple",
        "Banana",
        "Rust",
        "unused",
    ]


@pytest.mark.parametrize("limit", [0, 101, -5])
async def test_popular_tags_limit_outside_1_to_100_is_bad_user_input(
    api: Api, account: Account, limit: int
) -> None:
    error = await api.error(POPULAR, {"limit": limit}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"limit": "must be between 1 and 100"},
    }


async def test_filtering_by_a_project_that_is_not_the_users_is_not_found(api: Api) -> None:
    account = await api.sign_up()
    body = await api.post(
        "query($p: [ID!]) { logEntries(filter: {projectIds: $p}) { edges { cursor } } }",
        {"p": ["00000000-0000-4000-8000-000000000000"]},
        account.access_token,
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["extensions"]["fields"] == {"filter.projectIds": "no such project"}
