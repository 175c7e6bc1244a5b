"""The dashboard in Chromium against a real server: for a user whose time zone is not the
browser's, the figures on screen are the API's own (timeAllocation, productivityMetrics) for
the period the preset names in that zone, the week's days add up to the week's total, a
preset changes them, a custom range's error lands at its field, the charts are drawn, a new
entry refreshes the figures live, and it fits a 375 px screen."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Locator, Page, expect

from tests.browser import chromium
from tests.factories import Account, Api
from tests.live import live_server
from tests.web.layout_support import wider_than_the_screen
from tests.web.support import EXPECT_WITHIN_MS, browsing, new_page, screenshot, sign_in

ZONE = "Asia/Tokyo"  # UTC+9 all year; the browser runs in UTC: days differ by nine hours
SHARE = "key minutes percent"
FIGURES = f"""
query Figures($from: DateTime!, $to: DateTime!) {{
  timeAllocation(from: $from, to: $to) {{
    totalMinutes byType {{ {SHARE} }} byProject {{ {SHARE} }} byValue {{ {SHARE} }}
    byImpact {{ {SHARE} }}
  }}
  productivityMetrics(from: $from, to: $to) {{
    totalMinutes totalEntries averageDailyHours daysWithEntries peakHour
    highValuePercent productCompanyImpactPercent valueImpactScore
  }}
}}
"""
CREATE_ENTRIES = """
mutation Seed($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }
"""
TYPES = ["CODE", "REVIEW", "MEETING", "DEBUG", "DOCS"]
VALUES = ["HIGH", "MEDIUM", "LOW"]
IMPACTS = ["TEAM", "PRODUCT", "PERSONAL", "COMPANY"]


def this_monday() -> date:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return today - timedelta(days=today.weekday())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(ZONE))


def week_inputs(monday: date, project_id: str, scale: int) -> list[dict[str, Any]]:
    """Two entries a day, Monday to Sunday: known minutes, types, projects, value, impact.
    One starts at 23:30 local (14:30 UTC), so the day it counts on is the user's, not UTC's."""
    inputs = []
    for index in range(7):
        day = monday + timedelta(days=index)
        for slot, (hour, minute) in enumerate([(9, 0), (23, 30)]):
            minutes = scale * (15 + 10 * index + 5 * slot)
            start = at(day, hour, minute)
            inputs.append(
                {
                    "title": f"Work {index}.{slot}",
                    "type": TYPES[(index + slot) % len(TYPES)],
                    "projectId": project_id if (index + slot) % 3 else None,
                    "startTime": start.isoformat(),
                    "endTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "valueRating": VALUES[index % len(VALUES)],
                    "impactLevel": IMPACTS[(index + slot) % len(IMPACTS)],
                }
            )
    return inputs


async def seeded(api: Api) -> tuple[Account, dict[str, int]]:
    """An account in ZONE with last week and this week logged; this week's minutes a day."""
    account = await api.sign_up()
    await api.data(
        "mutation Zone($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }",
        {"input": {"timezone": ZONE}},
        account.access_token,
    )
    project = await api.create_project(account, "Payments")
    monday = this_monday()
    inputs = week_inputs(monday - timedelta(days=7), project["id"], 1)
    inputs += week_inputs(monday, project["id"], 2)
    await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    per_day: dict[str, int] = {}
    for entry in inputs[14:]:
        start = datetime.fromisoformat(entry["startTime"])
        minutes = (datetime.fromisoformat(entry["endTime"]) - start) // timedelta(minutes=1)
        key = start.date().isoformat()
        per_day[key] = per_day.get(key, 0) + minutes
    return account, per_day


async def shown_period(page: Page) -> tuple[datetime, datetime]:
    screen = page.locator(".dashboard")
    await expect(screen).to_have_attribute("data-state", "ready")
    return await bounds(screen)


async def bounds(locator: Locator) -> tuple[datetime, datetime]:
    """The instants in an element's data-from and data-to."""
    start = await locator.get_attribute("data-from")
    end = await locator.get_attribute("data-to")
    assert start is not None
    assert end is not None
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


async def figures_on_screen(page: Page) -> dict[str, Any]:
    """The tables and metrics as the page shows them, read from their data attributes."""
    result: dict[str, Any] = await page.evaluate(
        """() => {
          const shares = (figure) => [...document.querySelectorAll(
              `table[data-figure="${figure}"] tbody tr`)].map((row) => ({
            key: row.dataset.key,
            minutes: Number(row.querySelector("[data-minutes]").dataset.minutes),
            percent: Number(row.querySelector("[data-percent]").dataset.percent),
          }));
          const total = document.querySelector(
              'table[data-figure="byType"] tfoot [data-minutes]').dataset.minutes;
          const metrics = {};
          for (const dd of document.querySelectorAll("dd[data-metric]")) {
            metrics[dd.dataset.metric] = dd.dataset.value === "" ? null : Number(dd.dataset.value);
          }
          return {
            timeAllocation: {
              totalMinutes: Number(total),
              byType: shares("byType"), byProject: shares("byProject"),
              byValue: shares("byValue"), byImpact: shares("byImpact"),
            },
            productivityMetrics: metrics,
          };
        }"""
    )
    return result


async def the_api_figures(api: Api, account: Account, start: datetime, end: datetime) -> Any:
    variables = {"from": start.isoformat(), "to": end.isoformat()}
    return await api.data(FIGURES, variables, account.access_token)


async def week_on_screen(page: Page) -> tuple[dict[str, int], int, datetime, datetime]:
    week = page.locator("section.week")
    await expect(week).to_have_attribute("data-state", "ready")
    days: dict[str, int] = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
            'table[data-figure="byDay"] tbody tr')].map((row) =>
            [row.dataset.date, Number(row.querySelector("[data-minutes]").dataset.minutes)]))"""
    )
    total = await week.locator("tfoot [data-minutes]").get_attribute("data-minutes")
    assert total is not None
    return days, int(total), *(await bounds(week))


async def drawn_canvases(page: Page) -> list[int]:
    """How many pixels of each visible chart canvas are not transparent."""
    counts: list[int] = await page.evaluate(
        """() => [...document.querySelectorAll(".dashboard canvas")]
          .filter((canvas) => canvas.offsetParent !== null)
          .map((canvas) => {
            const { width, height } = canvas;
            const { data } = canvas.getContext("2d").getImageData(0, 0, width, height);
            let drawn = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn += 1;
            return drawn;
          })"""
    )
    return counts


async def test_the_dashboard_shows_the_apis_figures_for_the_users_own_periods(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        api = Api(http)
        account, this_week_days = await seeded(api)
        page = await new_page(context)
        await sign_in(page, server, account.email)
        await page.get_by_role("link", name="Dashboard").click()
        await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

        # This week (the default), Monday 00:00 to Monday 00:00 in Tokyo, not in UTC.
        monday = this_monday()
        start, end = await shown_period(page)
        assert (start, end) == (at(monday, 0), at(monday + timedelta(days=7), 0))
        expected = await the_api_figures(api, account, start, end)
        assert expected["timeAllocation"]["totalMinutes"] == sum(this_week_days.values())
        assert await figures_on_screen(page) == expected
        await expect(page.locator('dd[data-metric="totalMinutes"]')).to_have_text(
            f"{expected['timeAllocation']['totalMinutes'] // 60}h "
            f"{expected['timeAllocation']['totalMinutes'] % 60}m"
        )

        # The week day by day: each local day's minutes, adding up to the week's total.
        days, total, week_start, week_end = await week_on_screen(page)
        assert (week_start, week_end) == (start, end)
        assert days == this_week_days
        assert sum(days.values()) == total == expected["timeAllocation"]["totalMinutes"]

        # Every chart is drawn on its canvas (allocation ×4, the week).
        counts = await drawn_canvases(page)
        assert len(counts) == 5
        assert all(count > 0 for count in counts), counts
        await screenshot(page, "dashboard")

        # Another preset: other figures, still the API's for that period.
        await page.get_by_label("Last week").check()
        await expect(page.locator(".dashboard")).not_to_have_attribute(
            "data-from", start.astimezone(UTC).isoformat().replace("+00:00", ".000Z")
        )
        last_start, last_end = await shown_period(page)
        assert (last_start, last_end) == (at(monday - timedelta(days=7), 0), at(monday, 0))
        last_week = await the_api_figures(api, account, last_start, last_end)
        assert last_week != expected
        assert await figures_on_screen(page) == last_week
        days, total, _, _ = await week_on_screen(page)
        assert sum(days.values()) == total == last_week["timeAllocation"]["totalMinutes"]

        # A custom range: an end before the start is the API's error, at "To".
        await page.get_by_label("Custom", exact=True).check()
        await page.get_by_label("From").fill(monday.isoformat())
        await page.get_by_label("To (included)").fill((monday - timedelta(days=3)).isoformat())
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_label("To (included)")).to_have_attribute("aria-invalid", "true")
        assert await page.get_by_label("From").input_value() == monday.isoformat()
        await page.get_by_label("To (included)").fill((monday + timedelta(days=1)).isoformat())
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_label("To (included)")).not_to_have_attribute(
            "aria-invalid", "true"
        )
        two_days = await shown_period(page)
        assert two_days == (at(monday, 0), at(monday + timedelta(days=2), 0))
        assert await figures_on_screen(page) == await the_api_figures(api, account, *two_days)

        # Live: an entry logged elsewhere refreshes the figures.
        before = await the_api_figures(api, account, *two_days)
        await api.data(
            CREATE_ENTRIES,
            {
                "inputs": [
                    {
                        "title": "Late review",
                        "type": "REVIEW",
                        "startTime": at(monday, 15).isoformat(),
                        "endTime": at(monday, 15, 45).isoformat(),
                    }
                ]
            },
            account.access_token,
        )
        after = await the_api_figures(api, account, *two_days)
        assert after != before
        await expect(page.locator('dd[data-metric="totalMinutes"]')).to_have_attribute(
            "data-value",
            str(after["productivityMetrics"]["totalMinutes"]),
            timeout=EXPECT_WITHIN_MS,
        )
        assert await figures_on_screen(page) == after

        # The dark scheme: the charts take the page's dark colours as it changes.
        await page.emulate_media(color_scheme="dark")
        await screenshot(page, "dashboard-dark")
        await page.emulate_media(color_scheme="light")

        await page.set_viewport_size({"width": 375, "height": 800})
        await page.get_by_label("This week").check()
        await shown_period(page)
        await week_on_screen(page)
        await screenshot(page, "dashboard-375")
        assert await wider_than_the_screen(page) == []

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
