"""GET /export/entries: the user's entries as CSV, JSON and Markdown, streamed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from starlette.types import ASGIApp

from graph.exports.entries import safe_cell
from tests.factories import Account, Api, entry_input
from tests.graph.auth.support import LOG_OUT
from tests.graph.exports.support import add_entries, asgi_get, create_entries, error_of, get

PATH = "/export/entries"
LONDON = ZoneInfo("Europe/London")  # Api.sign_up's time zone
TODAY = f"{datetime.now(UTC):%Y-%m-%d}"
NOT_A_BOUND = "must be a date (2026-01-05) or an ISO-8601 date and time (2026-01-05T09:00:00+01:00)"
NOT_A_TYPE = (
    "must be one of MEETING, CODE, DEBUG, DOCS, MENTORING, REVIEW, PLANNING, LEARNING, OPS, ADMIN"
)
HEADER = [
    "Description",
    "Project",
    "Tags",
    "Start date",
    "Start time",
    "End date",
    "End time",
    "Duration",
    "Type",
    "Value",
    "Impact",
    "Notes",
]


async def seed(api: Api, account: Account) -> list[dict[str, object]]:
    """Three entries over two ISO weeks (2026-11-02 is a Monday), two with a project."""
    project = await api.create_project(account, "Payments")
    inputs = [
        entry_input(
            0,
            90,
            title="Reviewed the payments PR",
            type="REVIEW",
            projectId=project["id"],
            tags=["review", "Backend"],
            valueRating="HIGH",
            impactLevel="PRODUCT",
            description="Two rounds, approved",
        ),
        entry_input(3, 45, title="Paired on the ledger", type="CODE", projectId=project["id"]),
        entry_input(24 * 7 + 2, 30, title="Sprint planning", type="PLANNING", tags=["team"]),
    ]
    await create_entries(api, account, inputs)
    return inputs


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def local(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LONDON)


async def test_the_csv_export_reads_back_as_the_same_entries(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    inputs = await seed(api, account)

    response = await get(client, PATH, account, format="csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-entries-{TODAY}.csv"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.content.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)
    rows = rows_of(response)
    assert [
        (
            row["Description"],
            local(row["Start date"], row["Start time"]),
            local(row["End date"], row["End time"]),
            row["Duration"],
            row["Tags"].split(", ") if row["Tags"] else [],
        )
        for row in rows
    ] == [
        (
            entry["title"],
            datetime.fromisoformat(str(entry["startTime"])),
            datetime.fromisoformat(str(entry["endTime"])),
            duration,
            tags,
        )
        for entry, duration, tags in zip(
            inputs,
            ["1:30:00", "0:45:00", "0:30:00"],
            [["Backend", "review"], [], ["team"]],
            strict=True,
        )
    ]
    assert rows[0] | {"Tags": ""} == {
        "Description": "Reviewed the payments PR",
        "Project": "Payments",
        "Tags": "",
        "Start date": "2026-11-02",
        "Start time": "09:00:00",  # London is on UTC in November
        "End date": "2026-11-02",
        "End time": "10:30:00",
        "Duration": "1:30:00",
        "Type": "REVIEW",
        "Value": "HIGH",
        "Impact": "PRODUCT",
        "Notes": "Two rounds, approved",
    }


async def test_the_csv_times_are_in_the_users_time_zone(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await api.create_entry(
        account, startTime="2026-07-01T23:30:00+00:00", endTime="2026-07-02T00:15:00+00:00"
    )

    (row,) = rows_of(await get(client, PATH, account, format="csv"))

    # British Summer Time: an hour ahead of UTC.
    assert [row[c] for c in HEADER[3:8]] == [
        "2026-07-02",
        "00:30:00",
        "2026-07-02",
        "01:15:00",
        "0:45:00",
    ]


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_kept_as_text(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    payloads = ['=HYPERLINK("http://evil.test","click")', "+1+1", "-2+3", "@SUM(A1)"]
    await create_entries(
        api,
        account,
        [
            entry_input(index, title=payload, description=payload, tags=[f"t{index}"])
            for index, payload in enumerate(payloads)
        ],
    )
    await api.create_entry(account, offset_hours=10, title="Plain = fine", tags=["=cmd"])

    rows = rows_of(await get(client, PATH, account, format="csv"))

    assert [(row["Description"], row["Notes"]) for row in rows[:-1]] == [
        ("'" + payload, "'" + payload) for payload in payloads
    ]
    assert (rows[-1]["Description"], rows[-1]["Tags"]) == ("Plain = fine", "'=cmd")


async def test_the_json_export_is_an_array_of_the_entries(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await seed(api, account)

    response = await get(client, PATH, account, format="json", type="REVIEW")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-entries-{TODAY}.json"'
    )
    (entry,) = response.json()
    assert entry.pop("id")
    assert entry.pop("projectId")
    assert entry == {
        "title": "Reviewed the payments PR",
        "description": "Two rounds, approved",
        "type": "REVIEW",
        "project": "Payments",
        "tags": ["Backend", "review"],
        "startTime": "2026-11-02T09:00:00+00:00",
        "endTime": "2026-11-02T10:30:00+00:00",
        "durationMinutes": 90,
        "valueRating": "HIGH",
        "impactLevel": "PRODUCT",
    }


async def test_the_filters_choose_the_period_project_type_and_tag(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await seed(api, account)
    project = (await get(client, PATH, account, format="json", type="CODE")).json()[0]["projectId"]

    async def titles(**params: str | list[str]) -> list[str]:
        response = await get(client, PATH, account, format="json", **params)
        assert response.status_code == 200, response.text
        return [entry["title"] for entry in response.json()]

    assert await titles(**{"from": "2026-11-09"}) == ["Sprint planning"]
    assert await titles(to="2026-11-02") == ["Reviewed the payments PR", "Paired on the ledger"]
    assert await titles(**{"from": "2026-11-02T11:00:00Z", "to": "2026-11-03"}) == [
        "Paired on the ledger"
    ]
    assert await titles(project=project, tag="REVIEW") == ["Reviewed the payments PR"]
    assert await titles(type=["PLANNING", "CODE"]) == ["Paired on the ledger", "Sprint planning"]


async def test_the_markdown_export_is_a_brag_document_by_week_and_project(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    await seed(api, account)

    response = await get(client, PATH, account, format="markdown", to="2026-11-30")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-entries-{TODAY}.md"'
    )
    assert response.text == (
        "# Work log (to 2026-11-30)\n\n"
        f"Exported from EngLog on {TODAY}; times in Europe/London.\n"
        "\n## Week 2026-W45 (02 Nov – 08 Nov 2026) · 2 h 15 min\n"
        "\n### Payments · 2 h 15 min\n\n"
        "- **Reviewed the payments PR** — Mon 02 Nov 09:00 · 1 h 30 min · Review · high value"
        " · product impact · tags: Backend, review\n"
        "  Two rounds, approved\n"
        "- **Paired on the ledger** — Mon 02 Nov 12:00 · 45 min · Code · medium value"
        " · team impact\n"
        "\n## Week 2026-W46 (09 Nov – 15 Nov 2026) · 30 min\n"
        "\n### No project · 30 min\n\n"
        "- **Sprint planning** — Mon 09 Nov 11:00 · 30 min · Planning · medium value"
        " · team impact · tags: team\n"
    )


async def test_a_large_export_is_streamed_in_batches(
    api: Api, app: ASGIApp, database_url: str
) -> None:
    account = await api.sign_up()
    await add_entries(database_url, account, 5_000, "Bulk")

    status, chunks = await asgi_get(app, PATH, "format=csv", account.access_token)

    assert status == 200
    assert len(chunks) >= 10  # the header, then one chunk a batch of 500 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == 5_000
    assert (rows[0]["Description"], rows[-1]["Description"]) == ("Bulk 1", "Bulk 5000")
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=5_000)
    assert local(rows[-1]["Start date"], rows[-1]["Start time"]) == start


async def test_an_export_holds_only_the_callers_entries(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    await seed(api, account)
    await add_entries(database_url, other, 20, "Secret of the other")
    other_project = await api.create_project(other, "Hidden")

    for fmt in ("csv", "json", "markdown"):
        response = await get(client, PATH, account, format=fmt)
        assert response.status_code == 200
        assert "Secret" not in response.text
        assert "Reviewed the payments PR" in response.text
    by_their_project = await get(client, PATH, account, format="json", project=other_project["id"])
    assert by_their_project.json() == []


async def test_bad_parameters_answer_400_naming_them(api: Api, client: httpx.AsyncClient) -> None:
    account = await api.sign_up()
    cases: list[tuple[dict[str, str | list[str]], dict[str, str]]] = [
        ({"format": "xlsx"}, {"format": "must be one of csv, json, markdown"}),
        (
            {"from": "yesterday"},
            {"from": NOT_A_BOUND},
        ),
        (
            {"to": "2026-02-30"},
            {"to": NOT_A_BOUND},
        ),
        ({"from": "0999-01-01"}, {"from": "must be between 1900-01-01 and 2999-12-31"}),
        ({"from": "2026-02-01", "to": "2026-01-01"}, {"to": "must be after from"}),
        ({"project": "nope"}, {"project.0": "must be an ID"}),
        (
            {"type": ["CODE", "NAP"]},
            {"type.1": NOT_A_TYPE},
        ),
        ({"tag": "x" * 51}, {"tag.0": "must be at most 50 characters"}),
        ({"tag": [f"t{n}" for n in range(101)]}, {"tag": "at most 100 items"}),
    ]

    for params, fields in cases:
        response = await get(client, PATH, account, **params)
        assert response.status_code == 400, params
        assert error_of(response)["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}


async def test_a_missing_bad_or_revoked_token_answers_401(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    assert (await client.get(PATH)).status_code == 401
    bad = await client.get(PATH, headers={"Authorization": "Bearer garbage"})
    assert (bad.status_code, error_of(bad)["extensions"]) == (401, {"code": "UNAUTHENTICATED"})
    await api.data(LOG_OUT, {"refreshToken": account.refresh_token}, account.access_token)

    revoked = await get(client, PATH, account, format="csv")

    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"] == "Bearer"
    assert error_of(revoked) == {
        "message": "Token revoked",
        "extensions": {"code": "UNAUTHENTICATED"},
    }


def test_every_formula_start_the_owasp_rule_names_is_escaped() -> None:
    cells = ["=1", "+1", "-1", "@A1", "\tx", "\rx", "plain", "1-2", ""]
    assert [safe_cell(cell) for cell in cells] == [
        "'=1",
        "'+1",
        "'-1",
        "'@A1",
        "'\tx",
        "'\rx",
        "plain",
        "1-2",
        "",
    ]
