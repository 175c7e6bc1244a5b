"""The Entries screen in Chromium over 300 entries seeded through the API across six weeks:
each period preset (in the user's time zone) and each filter shows exactly what the API's
logEntries answers for the same filter; "Load more" pages through all of them with none
twice; three entries selected and deleted after the dialog are gone from the screen and the
API; the filters live in the URL (a reload and Back keep them); a new entry arrives live."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from tests.browser import chromium
from tests.factories import Account, Api
from tests.live import live_server
from tests.web.layout_support import visible_screenshot, wider_than_the_screen
from tests.web.support import (
    EXPECT_WITHIN_MS,
    browsing,
    new_page,
    screenshot,
    sign_in,
)

ZONE = ZoneInfo("Europe/London")  # tests.factories.Api.sign_up's time zone
TYPES = ["CODE", "DEBUG", "REVIEW", "MEETING", "PLANNING", "DOCS", "MENTORING", "LEARNING"]
TAGS = [["backend"], ["frontend"], ["infra", "backend"], [], ["review"]]
VALUES = ["LOW", "MEDIUM", "HIGH"]
IMPACTS = ["PERSONAL", "TEAM", "PRODUCT", "COMPANY"]
SEED = 300
BATCH = 100

CREATE_MANY = """
mutation Seed($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }
"""
PAGE = """
query Page($filter: LogEntryFilter!, $after: String) {
  logEntries(filter: $filter, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}
"""


def seed_inputs(now: datetime, projects: list[str]) -> list[dict[str, Any]]:
    """300 entries, one every 3 hours back from an hour ago (about 37 days), of every kind."""
    inputs = []
    for index in range(SEED):
        start = now - timedelta(hours=1 + 3 * index)
        inputs.append(
            {
                "title": f"Entry {index:03d} "
                + ("deploy pipeline" if index % 7 == 0 else "routine work"),
                "type": TYPES[index % len(TYPES)],
                "projectId": [*projects, None][index % (len(projects) + 1)],
                "tags": TAGS[index % len(TAGS)],
                "startTime": start.isoformat(),
                "endTime": (start + timedelta(minutes=30 + index % 4 * 15)).isoformat(),
                "valueRating": VALUES[index % len(VALUES)],
                "impactLevel": IMPACTS[index % len(IMPACTS)],
            }
        )
    return inputs


def midnight(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=ZONE).astimezone(UTC).isoformat()


def period_filter(preset: str, now: datetime) -> dict[str, str]:
    """The instants a period preset means in the user's zone, worked out independently."""
    today = now.astimezone(ZONE).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    days = {
        "today": (today, today + timedelta(days=1)),
        "week": (monday, monday + timedelta(days=7)),
        "last-week": (monday - timedelta(days=7), monday),
        "month": (first, next_month),
    }
    if preset == "all":
        return {}
    start, end = days[preset]
    return {"from": midnight(start), "to": midnight(end)}


async def api_ids(api: Api, account: Account, filter: dict[str, Any]) -> tuple[list[str], int]:
    """Every id the API lists for `filter`, newest first, and its totalCount."""
    ids: list[str] = []
    after = None
    while True:
        data = await api.data(PAGE, {"filter": filter, "after": after}, account.access_token)
        page = data["logEntries"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


async def shown_ids(page: Page) -> list[str]:
    ids: list[str] = await page.locator(".entry-row").evaluate_all(
        "rows => rows.map(row => row.dataset.id)"
    )
    return ids


async def expect_list(page: Page, ids: list[str], total: int) -> None:
    """The screen shows the API's first page of `ids` and says `total`."""
    noun = "entry" if total == 1 else "entries"
    text = f"{total} {noun}" if total <= 50 else f"Showing 50 of {total} {noun}"
    await expect(page.locator(".entries-list .total")).to_have_text(text)
    await expect(page.locator(".entry-row")).to_have_count(min(total, 50))
    assert await shown_ids(page) == ids[:50]


async def choose_period(page: Page, label: str) -> None:
    await page.locator(".segment").filter(has_text=re.compile(f"^{label}$")).click()


async def test_presets_filters_paging_bulk_delete_and_the_url_over_300_entries(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        api = Api(http)
        account = await api.sign_up()
        projects = [
            (await api.create_project(account, name, color=color))["id"]
            for name, color in [
                ("Apollo", "#2457d6"),
                ("Gemini", "#16a34a"),
                ("Mercury", "#b42318"),
            ]
        ]
        now = datetime.now(UTC).replace(microsecond=0)
        inputs = seed_inputs(now, projects)
        for offset in range(0, SEED, BATCH):
            await api.data(
                CREATE_MANY, {"inputs": inputs[offset : offset + BATCH]}, account.access_token
            )

        page = await new_page(context)
        await sign_in(page, server, account.email)
        await page.goto(f"{server.http_url}/entries")
        await expect(page.get_by_role("heading", name="Entries", exact=True)).to_be_visible()

        # This week by default; then every preset, each equal to the API's answer.
        ids, total = await api_ids(api, account, period_filter("week", now))
        await expect_list(page, ids, total)
        await screenshot(page, "entries-list")
        for preset, label in [
            ("today", "Today"),
            ("last-week", "Last week"),
            ("month", "This month"),
            ("all", "All time"),
        ]:
            await choose_period(page, label)
            ids, total = await api_ids(api, account, period_filter(preset, now))
            await expect_list(page, ids, total)
            assert page.url == f"{server.http_url}/entries?period={preset}"
        assert total == SEED

        # Custom: it starts from the period shown (all time: no days yet); two days chosen.
        await choose_period(page, "Custom")
        await expect(page.locator(".period-label")).to_have_text(
            "Choose the first and the last day"
        )
        today = now.astimezone(ZONE).date()
        first, last = today - timedelta(days=20), today - timedelta(days=9)
        await page.get_by_label("From", exact=True).fill(first.isoformat())
        await page.get_by_label("To", exact=True).fill(last.isoformat())
        custom = {"from": midnight(first), "to": midnight(last + timedelta(days=1))}
        ids, total = await api_ids(api, account, custom)
        await expect_list(page, ids, total)
        assert total == 12 * 8  # an entry every 3 hours
        assert page.url == (
            f"{server.http_url}/entries?period=custom&from={first.isoformat()}&to={last.isoformat()}"
        )
        await choose_period(page, "All time")
        await expect(page.get_by_label("From", exact=True)).to_be_hidden()
        await expect(page.locator(".entries-list .total")).to_have_text(
            f"Showing 50 of {SEED} entries"
        )

        # Filters narrow exactly as the API does (all time).
        await page.get_by_label("Project", exact=True).select_option(label="Gemini")
        ids, total = await api_ids(api, account, {"projectIds": [projects[1]]})
        await expect_list(page, ids, total)
        assert total == SEED // 4
        await page.get_by_label("Type", exact=True).select_option("DOCS")
        ids, total = await api_ids(api, account, {"projectIds": [projects[1]], "types": ["DOCS"]})
        await expect_list(page, ids, total)
        assert 0 < total < SEED // 4
        await page.get_by_role("button", name="Clear filters").click()
        await page.get_by_label("Tag", exact=True).select_option("infra")
        ids, total = await api_ids(api, account, {"tags": ["infra"]})
        await expect_list(page, ids, total)
        assert total == SEED // len(TAGS)
        await page.get_by_label("Value", exact=True).select_option("HIGH")
        await page.get_by_label("Search", exact=True).fill("deploy")
        await page.get_by_label("Search", exact=True).press("Enter")
        narrow = {"tags": ["infra"], "valueRatings": ["HIGH"], "search": "deploy"}
        ids, total = await api_ids(api, account, narrow)
        await expect_list(page, ids, total)
        assert 0 < total < 20
        await screenshot(page, "entries-filtered")

        # In the URL: a reload shows the same list, and Back the one before it.
        assert page.url == f"{server.http_url}/entries?period=all&tag=infra&value=HIGH&q=deploy"
        await page.reload()
        await expect(page.get_by_label("Search", exact=True)).to_have_value("deploy")
        await expect(page.get_by_label("Tag", exact=True)).to_have_value("infra")
        await expect(page.get_by_label("Value", exact=True)).to_have_value("HIGH")
        await expect(page.get_by_role("radio", name="All time")).to_be_checked()
        await expect_list(page, ids, total)
        await page.go_back()
        await expect(page.get_by_label("Search", exact=True)).to_have_value("")
        ids, total = await api_ids(api, account, {"tags": ["infra"], "valueRatings": ["HIGH"]})
        await expect_list(page, ids, total)

        # An old link naming a project that is gone: the rest of the filter still applies.
        gone = "00000000-0000-4000-8000-000000000000"
        await page.goto(f"{server.http_url}/entries?period=all&type=CODE&project={gone}")
        await expect(page).to_have_url(f"{server.http_url}/entries?period=all&type=CODE")
        ids, total = await api_ids(api, account, {"types": ["CODE"]})
        await expect_list(page, ids, total)

        # Paging: "Load more" until there is no more, every entry once.
        await page.get_by_role("button", name="Clear filters").click()
        await expect(page.locator(".entries-list .total")).to_have_text(
            f"Showing 50 of {SEED} entries"
        )
        more = page.locator("button.load-more")
        for shown in range(100, SEED + 1, 50):
            await more.click()
            await expect(page.locator(".entry-row")).to_have_count(shown)
        await expect(more).to_be_hidden()
        await expect(page.locator(".entries-list .total")).to_have_text(f"{SEED} entries")
        every = await shown_ids(page)
        all_ids, _ = await api_ids(api, account, {})
        assert len(every) == len(set(every)) == SEED
        assert every == all_ids

        # Bulk delete by keyboard: three selected with Space, the dialog, Delete.
        doomed = every[:3]
        for entry_id in doomed:
            await page.locator(f'.entry-row[data-id="{entry_id}"] input.select').press("Space")
        delete = page.get_by_role("button", name="Delete selected (3)")
        await delete.press("Enter")
        dialog = page.get_by_role("dialog", name="Delete 3 entries?")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await visible_screenshot(page, "entries-bulk-delete-dialog")
        await page.keyboard.press("Shift+Tab")
        await expect(dialog.get_by_role("button", name="Delete 3 entries")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(page.locator(".entry-row")).to_have_count(SEED - 3)
        await expect(page.locator(".entries-list .total")).to_have_text(f"{SEED - 3} entries")
        await expect(page.get_by_role("button", name="Delete selected (0)")).to_be_disabled()
        remaining, count = await api_ids(api, account, {})
        assert count == SEED - 3
        assert set(remaining) == set(every) - set(doomed)
        assert await shown_ids(page) == remaining

        # Inline edit (the shared entry item) by keyboard: Enter on Edit, retitle, Enter.
        target = page.locator(f'.entry-row[data-id="{remaining[0]}"]')
        await target.get_by_role("button", name=re.compile("^Edit ")).press("Enter")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("Entry 003 renamed inline")
        await page.keyboard.press("Enter")
        await expect(target.locator(".title")).to_have_text("Entry 003 renamed inline")
        await expect(target.get_by_role("checkbox")).to_have_accessible_name(
            "Select “Entry 003 renamed inline”"
        )
        renamed = await api.data(
            "query One($id: ID!) { logEntry(id: $id) { title } }",
            {"id": remaining[0]},
            account.access_token,
        )
        assert renamed == {"logEntry": {"title": "Entry 003 renamed inline"}}

        # Live: an entry logged elsewhere lands at its place in the list and the count.
        await expect(page.locator(".connection")).to_have_text("Live")
        start = now - timedelta(minutes=20)
        created = await api.create_entry(
            account,
            title="Logged from another device",
            startTime=start.isoformat(),
            endTime=(start + timedelta(minutes=15)).isoformat(),
        )
        first_row = page.locator(".entry-row").first
        await expect(first_row).to_contain_text(
            "Logged from another device", timeout=EXPECT_WITHIN_MS
        )
        assert await first_row.get_attribute("data-id") == created["id"]
        await expect(page.locator(".entries-list .total")).to_have_text(f"{SEED - 2} entries")

        # A search only the server can match: a new entry is announced, shown when asked.
        await page.goto(f"{server.http_url}/entries?period=all&q=deploy")
        ids, total = await api_ids(api, account, {"search": "deploy"})
        await expect_list(page, ids, total)
        await expect(page.locator(".connection")).to_have_text("Live")
        await api.create_entry(
            account,
            title="Another deploy, rolled back",
            startTime=start.isoformat(),
            endTime=(start + timedelta(minutes=5)).isoformat(),
        )
        notice = page.get_by_role("button", name="1 new entry — show")
        await notice.click(timeout=EXPECT_WITHIN_MS)
        await expect(page.locator(".entry-row .title").first).to_have_text(
            "Another deploy, rolled back"
        )
        await expect(notice).to_be_hidden()
        ids, total = await api_ids(api, account, {"search": "deploy"})
        await expect_list(page, ids, total)

        await page.set_viewport_size({"width": 375, "height": 800})
        # Narrow: the filters start folded (none is set), so the list is in sight.
        await page.goto(f"{server.http_url}/entries?period=last-week")
        await expect(page.locator(".entry-row").first).to_be_in_viewport()
        await expect(page.get_by_label("Type", exact=True)).to_be_hidden()
        await visible_screenshot(page, "entries-375")
        assert await wider_than_the_screen(page) == []

    assert recorded.blocked == []
    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
