"""The Today screen in Chromium as a worker and the rate limits see it: the enrichment's
suggested tags arrive live as chips (one key press adds one), and a rate-limited sign-in says
when to try again, with what was typed still there."""

from __future__ import annotations

import re
import uuid

import grpc.aio
import httpx
from playwright.async_api import expect

from protos.generated.englog.worker import v1 as pb
from tests.factories import Api
from tests.graph.tasks.support import next_task, registered
from tests.graph.test_graphiql_browser import chromium
from tests.live import live_server
from tests.web.support import EXPECT_WITHIN_MS, browsing, new_page, screenshot, sign_in

RETRY_IN = re.compile(r"^Too many requests: try again in [1-9][0-9]* (s|min)\.$")


async def test_suggested_tags_arrive_live_as_chips_and_a_key_press_adds_one(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.state.grpc_port}") as channel,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        account = await Api(http).sign_up()
        page = await new_page(context)
        await sign_in(page, server, account.email)
        await page.get_by_label("What did you do?").fill("Tuned the Postgres autovacuum")
        await page.get_by_label("Tags").fill("ops")
        await page.get_by_label("Start").fill("9:00")
        await page.get_by_label("End").fill("9:40")
        await page.get_by_label("End").press("Enter")
        entry = page.locator(".entry").filter(has_text="Tuned the Postgres autovacuum")
        await expect(entry.locator(".chip")).to_have_text(["ops"])

        # The worker protocol, spoken as a worker does: the entry's enrich_entry task, and
        # its suggestions (one it already has, two new ones, one of them markup).
        worker = await registered(channel)
        stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1, kinds=["enrich_entry"]))
        try:
            task = await next_task(stream)
        finally:
            stream.cancel()
        suggestions = ["ops", "postgres", "<b>perf</b>"]
        success = pb.Success(model="fake:1b", suggested_tags=suggestions, suggested_skills=[])
        result = pb.ReportResultRequest(
            task_id=task.task_id, lease_token=task.lease_token, success=success
        )
        assert (await worker.report_result(result)).accepted is True

        offered = entry.locator(".suggested button")
        await expect(offered).to_have_text(
            ["+ postgres", "+ <b>perf</b>"], timeout=EXPECT_WITHIN_MS
        )
        await screenshot(page, "today-suggested-tags")
        await entry.get_by_role("button", name="Add suggested tag postgres").press("Enter")
        await expect(entry.locator("ul.chips .chip")).to_have_text(["ops", "postgres"])
        await expect(offered).to_have_text(["+ <b>perf</b>"])

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_a_rate_limited_sign_in_says_when_to_retry_and_keeps_the_form(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url, rate_limit_auth_email="2/600") as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        # The first of the two attempts; an address of its own (the counters live in Redis).
        account = await Api(http).sign_up(f"limited-{uuid.uuid4().hex}@example.com")
        page = await new_page(context)
        await page.goto(f"{server.http_url}/signin")
        await page.get_by_label("E-mail").fill(account.email)
        await page.get_by_label("Password").fill("not the password")
        await page.get_by_label("Password").press("Enter")
        alert = page.get_by_role("alert")
        await expect(alert).to_have_text("Wrong e-mail or password")
        await page.get_by_role("button", name="Sign in").press("Enter")
        await expect(alert).to_have_text(RETRY_IN, timeout=EXPECT_WITHIN_MS)
        assert await page.get_by_label("E-mail").input_value() == account.email
        assert await page.get_by_label("Password").input_value() == "not the password"
        await screenshot(page, "signin-rate-limited")

    assert recorded.other_origins() == []


async def test_signing_out_everywhere_ends_the_other_devices_session(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url, ws_auth_recheck_seconds=0.5) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (laptop, recorded),
        browsing(browser, server) as (phone, _),
    ):
        account = await Api(http).sign_up()
        here = await new_page(laptop)
        there = await new_page(phone)
        await sign_in(here, server, account.email)
        await sign_in(there, server, account.email)
        await expect(there.locator(".connection")).to_have_text("Live")

        await here.get_by_role("button", name="Sign out everywhere").press("Enter")
        await expect(here.get_by_role("heading", name="Sign in")).to_be_visible()
        # The phone's socket is closed (its token revoked), its refresh refused: signed out.
        await expect(there.get_by_role("heading", name="Sign in")).to_be_visible(
            timeout=EXPECT_WITHIN_MS
        )
        await there.reload()
        await expect(there.get_by_role("heading", name="Sign in")).to_be_visible()

    assert recorded.other_origins() == []
