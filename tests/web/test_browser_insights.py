"""The Insights screen in Chromium, with a real `englog worker` process writing the insights
(through the fake Ollama, or its built-in summariser): a weekly report appears PENDING and
turns COMPLETED live, its text arriving piece by piece; hostile Markdown is inert; a failed
one shows why and a retry queues it again; the built-in summariser is labelled as no model;
it downloads and copies as Markdown; and a reminder arrives as a toast on any screen."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from db.queries import event as events
from tests.e2e.processes import REGISTERED, Launcher, Proc
from tests.factories import Account, Api
from tests.fakes.insight_answers import narrative, sections_of
from tests.fakes.ollama import FakeOllama, Script
from tests.graph.schedules.support import make_scheduler, scheduled_account, utc
from tests.live import Server, eventually, live_server
from tests.web.support import (
    EXPECT_WITHIN_MS,
    browsing,
    chromium,
    new_page,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.slow

MODEL = "englog-fake:1b"
# No digits in the hostile parts: the worker drops a sentence whose numbers the log does not
# support (worker/insights/numbers.py), and these must reach the page to be shown inert.
HOSTILE = "<script>alert(document.domain)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(document.domain)>"
# The model's narrative, under the headings the weekly report asks for; EngLog puts its own
# heading and figures around it.
REPLY = narrative(
    sections_of("WEEKLY_REPORT"),
    (
        "You **fixed the flaky deploy** and reviewed the pipeline; the week went to "
        f"reliability work.\n\n{HOSTILE}",
        f"- Debugging took an hour, {HOSTILE_IMG} and reviews took longer.\n"
        "- See [the runbook](https://runbooks.example/deploys) or "
        "[this](javascript:alert(document.cookie)).",
        "Keep the deploy green and write down what was learned, so the next on-call engineer "
        "can start.",
    ),
)
WEEK_HEADING = "Weekly report: 2026-11-02 to 2026-11-08"  # EngLog's, not the model's
RETRIED = narrative(sections_of("MONTHLY_INSIGHTS"), ("Second time lucky.",))
BUILTIN_NOTE = "Written by EngLog's built-in summariser, not a language model"
NOT_FOUND = f'Ollama model not found: model "{MODEL}" not found, try pulling it first'
WIDEST_IN_MAIN = """() => Math.max(
  ...[...document.querySelectorAll("#main, #main *")].map((e) => e.getBoundingClientRect().right)
)"""
REQUEST = "mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id } }"
MONDAY = utc(2026, 3, 30, 15, 30)  # 17:30 in Berlin
# Every text the reading pane shows and every status the list shows, in order, as the
# page changes them (a MutationObserver: each change is seen, however quick).
RECORDER = """() => {
  window.__texts = [];
  window.__statuses = [];
  const last = (list) => list[list.length - 1];
  const keep = (list, node) => {
    const seen = node ? node.textContent : "";
    if (seen && last(list) !== seen) list.push(seen);
  };
  const record = () => {
    keep(window.__texts, document.querySelector(".insight-view .insight-text"));
    keep(window.__statuses, document.querySelector(".insight-list li:first-child .insight-status"));
  };
  record();
  const watching = { subtree: true, childList: true, characterData: true };
  new MutationObserver(record).observe(document.body, watching);
}"""


@pytest.fixture
async def launcher(tmp_path: Path, database_url: str, redis_url: str) -> AsyncIterator[Launcher]:
    """Starts `englog worker` processes; all of them are stopped when the test ends."""
    launcher = Launcher(tmp_path, database_url=database_url, redis_url=redis_url)
    try:
        yield launcher
    finally:
        await launcher.close()


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url, task_poll_seconds=0.5) as running:
        yield running


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama(Script(models=(MODEL,), reply=REPLY)) as fake:
        yield fake


async def worker(launcher: Launcher, server: Server, ollama: FakeOllama | None) -> Proc:
    """`englog worker` dialling the server, with the fake Ollama or none (built-in writer)."""
    env = {
        "ENGLOG_API_GRPC_ADDRESS": f"127.0.0.1:{server.state.grpc_port}",
        "ENGLOG_WORKER_NAME": "worker-web",
        "ENGLOG_OLLAMA_RETRY_BACKOFF_SECONDS": "0.05",
    }
    if ollama is not None:
        env |= {"ENGLOG_OLLAMA_HOST": ollama.url, "ENGLOG_OLLAMA_MODEL": MODEL}
    proc = await launcher.start("worker", "englog.cli", "worker", env=env)
    await proc.wait_for_output(REGISTERED)
    return proc


async def open_insights(page: Page, server: Server, email: str) -> None:
    await sign_in(page, server, email)
    await page.get_by_role("link", name="Insights").press("Enter")
    await expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    await expect(page.locator(".connection")).to_have_text("Live")


async def stored_content(http: httpx.AsyncClient, account: Account) -> str:
    """The newest insight's text as the API stores it (what Copy and Download must give)."""
    data = await Api(http).data(
        "{ insights(first: 1) { edges { node { content } } } }", token=account.access_token
    )
    content: str = data["insights"]["edges"][0]["node"]["content"]
    return content


async def request_week(page: Page, kind: str = "Weekly report") -> None:
    await page.get_by_label("Kind").select_option(label=kind)
    await page.get_by_label("From").fill("2026-11-02")
    await page.get_by_label("To (included)").fill("2026-11-08")
    await page.get_by_role("button", name="Request insight").press("Enter")


async def test_a_weekly_report_streams_in_renders_inert_markdown_and_downloads(
    server: Server, launcher: Launcher, ollama: FakeOllama, tmp_path: Path
) -> None:
    ollama.script = Script(models=(MODEL,), reply=REPLY, token_delay=0.05)  # ~60 deltas
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    async with (
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        account = await Api(http).sign_up()
        page = await new_page(context)
        page.on("dialog", on_dialog)
        await open_insights(page, server, account.email)
        await expect(page.get_by_text("No insights yet.")).to_be_visible()
        await page.get_by_label("Focus areas (optional)").fill("Reliability\nReviews")
        await request_week(page)

        item = page.locator(".insight-list li").first
        # No worker yet: it stays PENDING, in the list and in the reading pane.
        await expect(item.locator(".insight-status")).to_have_text("Pending")
        await expect(item).to_contain_text("Weekly report")
        view = page.locator(".insight-view")
        await expect(view.get_by_role("heading")).to_have_text(
            "Weekly report: 2 Nov 2026 – 8 Nov 2026"
        )
        await expect(view).to_contain_text("Focus: Reliability; Reviews")
        await expect(view).to_contain_text("Queued")
        await screenshot(page, "insights-list")
        await page.evaluate(RECORDER)

        await worker(launcher, server, ollama)
        text = view.locator(".insight-text")
        await expect(text).to_have_attribute("data-state", "streaming", timeout=EXPECT_WITHIN_MS)
        await expect(text).to_contain_text("flaky deploy", timeout=EXPECT_WITHIN_MS)
        await screenshot(page, "insights-streaming")
        await expect(item.locator(".insight-status")).to_have_text(
            "Completed", timeout=EXPECT_WITHIN_MS
        )
        await expect(text).to_have_attribute("data-state", "done")
        await screenshot(page, "insights-completed")

        final = await text.text_content()
        texts: list[str] = await page.evaluate("window.__texts")
        partial = [seen for seen in texts if seen != final]
        assert len(partial) >= 3, texts  # the text grew piece by piece before COMPLETED
        statuses: list[str] = await page.evaluate("window.__statuses")
        assert (statuses[0], statuses[-1]) == ("Pending", "Completed"), statuses

        # Rendered Markdown; the hostile parts are text, the dangerous link has no target.
        await expect(text.get_by_role("heading", level=1)).to_have_text(WEEK_HEADING)
        await expect(text.locator("strong").filter(has_text="flaky")).to_have_text(
            "fixed the flaky deploy"
        )
        await expect(text.locator("li").filter(has_text="runbook")).to_have_count(1)
        await expect(text).to_contain_text(HOSTILE)
        await expect(text).to_contain_text(HOSTILE_IMG)
        assert await page.locator("img, script:not([src]), [onerror]").count() == 0
        runbook = text.get_by_role("link", name="the runbook")
        await expect(runbook).to_have_attribute("rel", "noopener noreferrer")
        await expect(runbook).to_have_attribute("href", "https://runbooks.example/deploys")
        assert await text.locator("a[href^='javascript' i]").count() == 0
        await expect(view.locator(".insight-author")).to_have_text(f"Written by the model {MODEL}")
        assert dialogs == []

        async with page.expect_download() as downloading:
            await view.get_by_role("button", name="Download .md").press("Enter")
        download = await downloading.value
        assert download.suggested_filename == "englog-weekly-report-2026-11-02-to-2026-11-08.md"
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        stored = await stored_content(http, account)
        assert saved.read_text(encoding="utf-8") == stored
        assert "flaky deploy" in stored

        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        await view.get_by_role("button", name="Copy as Markdown").press("Enter")
        await expect(view.get_by_role("status")).to_have_text("Copied as Markdown.")
        assert await page.evaluate("navigator.clipboard.readText()") == stored

        # A reload opens the same insight (its id is in the address), rendered at once.
        await page.reload()
        await expect(page.locator(".insight-view .insight-text h1")).to_have_text(WEEK_HEADING)

    assert dialogs == []
    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_a_failed_insight_shows_the_reason_and_retry_queues_it_again(
    server: Server, launcher: Launcher, ollama: FakeOllama
) -> None:
    ollama.script = Script(models=("some-other-model:7b",))  # fails at once, never retried
    async with (
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        account = await Api(http).sign_up()
        await worker(launcher, server, ollama)
        page = await new_page(context)
        await open_insights(page, server, account.email)
        await request_week(page, "Monthly insights")

        item = page.locator(".insight-list li").first
        await expect(item.locator(".insight-status")).to_have_text(
            "Failed", timeout=EXPECT_WITHIN_MS
        )
        view = page.locator(".insight-view")
        await expect(view.get_by_role("alert")).to_contain_text(f"It failed: {NOT_FOUND}")
        await screenshot(page, "insights-failed")

        # The model is back: the retry is queued (PENDING, as the list shows) and written.
        ollama.script = Script(models=(MODEL,), reply=RETRIED)
        await page.evaluate(RECORDER)
        await view.get_by_role("button", name="Retry").press("Enter")
        await expect(item.locator(".insight-status")).to_have_text(
            "Completed", timeout=EXPECT_WITHIN_MS
        )
        statuses: list[str] = await page.evaluate("window.__statuses")
        assert statuses[:2] == ["Failed", "Pending"], statuses
        await expect(view.get_by_role("status")).to_have_text("Asked again: it is queued.")
        await expect(view.get_by_role("alert")).to_have_count(0)
        await expect(view.locator(".insight-text h1")).to_have_text(
            "Monthly insights: 2026-11-02 to 2026-11-08"
        )
        await expect(view.locator(".insight-text")).to_contain_text("Second time lucky.")
        await expect(view.locator(".insight-meta")).to_contain_text("Completed")

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_the_builtin_summariser_is_labelled_as_no_model_at_375_px(
    server: Server, launcher: Launcher
) -> None:
    async with (
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server, width=375, height=800) as (context, recorded),
    ):
        api = Api(http)
        account = await api.sign_up()
        await api.create_entry(account, title="Fixed the flaky deploy", type="DEBUG", minutes=60)
        await worker(launcher, server, None)  # no Ollama: the built-in summariser writes
        page = await new_page(context)
        await open_insights(page, server, account.email)
        await page.get_by_label("Kind").select_option(label="Daily summary")
        await expect(page.get_by_label("Period")).to_have_value("Today")
        today: str = await page.evaluate(
            "new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date())"
        )
        await expect(page.get_by_label("From")).to_have_value(today)
        await expect(page.get_by_label("To (included)")).to_have_value(today)
        await page.get_by_label("Kind").select_option(label="Weekly report")
        await expect(page.get_by_label("Period")).to_have_value("This week")
        monday = await page.get_by_label("From").input_value()
        assert await page.evaluate(f"new Date('{monday}T00:00:00Z').getUTCDay()") == 1
        await request_week(page)  # the week of the entry
        await expect(page.get_by_label("Period")).to_have_value("custom")

        view = page.locator(".insight-view")
        await expect(view.locator(".insight-status")).to_have_text(
            "Completed", timeout=EXPECT_WITHIN_MS
        )
        await expect(view.locator(".insight-author")).to_have_text(BUILTIN_NOTE)
        await expect(view.locator(".insight-text h1")).to_have_text(
            "Weekly report: 2026-11-02 to 2026-11-08"
        )
        await expect(view.locator(".insight-text")).to_contain_text("Debugging: 1.0 h (100%)")
        # Nothing of the screen (the shared header aside: app.css) is wider than the phone.
        assert await page.evaluate(WIDEST_IN_MAIN) <= 375
        await screenshot(page, "insights-375px")

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_a_reminder_arrives_as_a_toast_and_the_keyboard_dismisses_it(
    server: Server, pg: asyncpg.Connection, database_url: str
) -> None:
    scheduler = make_scheduler(server.state, database_url)
    try:
        async with (
            httpx.AsyncClient(base_url=server.http_url) as http,
            chromium() as browser,
            browsing(browser, server) as (context, recorded),
        ):
            account = await scheduled_account(Api(http), pg, "Europe/Berlin", reminderTime="17:30")
            page = await new_page(context)
            await open_insights(page, server, account.email)
            user_id = uuid.UUID(account.user_id)

            async def following() -> bool:
                return bool(server.state.feeds.members(user_id, events.NOTIFICATION))

            await eventually(following, True, within=EXPECT_WITHIN_MS / 1000)
            await scheduler.tick(MONDAY)

            toast = page.get_by_role("status").filter(has=page.locator(".toast"))
            await expect(toast).to_contain_text(
                "Nothing logged today yet", timeout=EXPECT_WITHIN_MS
            )
            await expect(toast).to_contain_text("You have not logged any work for Monday")
            await expect(page.locator(".toasts")).to_have_attribute("aria-live", "polite")
            await screenshot(page, "notification-toast")
            dismiss = page.get_by_role("button", name="Dismiss “Nothing logged today yet”")
            await dismiss.focus()
            await page.keyboard.press("Escape")
            await expect(page.locator(".toast")).to_have_count(0)
    finally:
        await scheduler.close()

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_past_insights_page_with_load_more_and_errors_land_at_their_fields(
    server: Server,
) -> None:
    async with (
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        api = Api(http)
        account = await api.sign_up()
        for day in range(1, 26):  # no worker: they all stay PENDING
            period = {"periodStart": f"2026-10-{day:02d}", "periodEnd": f"2026-10-{day:02d}"}
            await api.data(
                REQUEST, {"input": {"kind": "DAILY_SUMMARY", **period}}, account.access_token
            )
        page = await new_page(context)
        await open_insights(page, server, account.email)
        items = page.locator(".insight-list li")
        await expect(items).to_have_count(20)
        await expect(page.get_by_text("25 in all")).to_be_visible()
        await page.get_by_role("button", name="Load more").press("Enter")
        await expect(items).to_have_count(25)
        await expect(items.last).to_contain_text("1 Oct 2026")
        await expect(page.get_by_role("button", name="Load more")).to_be_hidden()

        # The server's refusals, beside the fields they name; what was typed stays.
        await page.get_by_label("From").fill("2026-11-08")
        await page.get_by_label("To (included)").fill("2026-11-02")
        focus = page.get_by_label("Focus areas (optional)")
        await focus.fill(f"Reliability\n{'x' * 101}")
        await page.get_by_role("button", name="Request insight").press("Enter")
        await expect(page.get_by_text("Must not be before periodStart")).to_be_visible()
        await expect(page.get_by_label("To (included)")).to_have_attribute("aria-invalid", "true")
        await page.get_by_label("To (included)").fill("2026-11-09")
        await page.get_by_role("button", name="Request insight").press("Enter")
        await expect(focus).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_text("Line 2:")).to_be_visible()
        assert await focus.input_value() == f"Reliability\n{'x' * 101}"
        await expect(items).to_have_count(25)

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
