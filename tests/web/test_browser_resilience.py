"""The web app when the server goes away or the access token runs out, in Chromium against
real servers: after an `englog api` restart the Today screen reconnects by itself, resumes
with its `since` cursor and shows every entry it missed exactly once; an expired access token
is refreshed once (before the request, or after the server refused it, and the request
replayed) with nobody asked to sign in, a reload signs in again from the cookie, and once the
session is ended elsewhere, the next action lands on the sign-in page.

(Signing out of all devices closing the other tab's session: tests/web/test_browser_live.py.)"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Request, Response, WebSocket, expect

from tests.e2e.processes import ApiProcess, Launcher
from tests.factories import Account, Api
from tests.live import eventually, live_server
from tests.web.support import (
    BROWSER_WITHIN,
    EXPECT_WITHIN_MS,
    PASSWORD,
    Recorded,
    browsing,
    chromium,
    new_page,
    screenshot,
    sign_in,
)

# A restarted process takes seconds to start, and the page's retries back off meanwhile
# (web/js/live.js: up to 15 s between attempts): a bound, not a speed.
RECONNECT_WITHIN_MS = 60_000
WAIT_SECONDS = 15.0  # for a 2 s token to expire: a bound, not a speed
OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+(\w+)")
ME = "{ me { id } }"
Refused = Callable[[str], Awaitable[str]]  # the error code `me` answers a token, or "OK"
END_OTHERS = "mutation { endOtherSessions }"
RENAME = 'mutation Rename($id: ID!) { updateLogEntry(id: $id, input: {title: "Renamed"}) { id } }'
DELETE = "mutation Drop($id: ID!) { deleteLogEntry(id: $id) }"
LOG_IN = """mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password) { accessToken }
}"""


@dataclass
class Operations:
    """The GraphQL operations the pages POSTed, by name, in the order they were sent; the
    error code of each answer ("OK": no error), the bearer token each request carried and
    every access token an answer carried."""

    sent: list[str] = field(default_factory=list)
    bearers: list[str | None] = field(default_factory=list)
    answered: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", self.on_request)
        page.on("response", self.on_response)

    @staticmethod
    def name(request: Request) -> str | None:
        if request.method != "POST" or not request.url.endswith("/graphql"):
            return None
        found = OPERATION.match(json.loads(request.post_data or "{}").get("query", ""))
        return found.group(1) if found else "anonymous"

    def on_request(self, request: Request) -> None:
        if (name := self.name(request)) is not None:
            self.sent.append(name)
            bearer = request.headers.get("authorization")
            self.bearers.append(bearer.removeprefix("Bearer ") if bearer else None)

    async def on_response(self, response: Response) -> None:
        if (name := self.name(response.request)) is None:
            return
        body: dict[str, Any] = await response.json()
        errors = body.get("errors") or [{}]
        self.answered.append(
            (name, errors[0].get("extensions", {}).get("code") if "errors" in body else "OK")
        )
        for value in (body.get("data") or {}).values():
            if isinstance(value, dict) and "accessToken" in value:
                self.tokens.append(value["accessToken"])

    def since(self, mark: int) -> list[str]:
        return self.sent[mark:]

    async def answered_since(self, mark: int) -> list[tuple[str, str]]:
        """(Async for `eventually`: an answer is read from the browser after it arrived.)"""
        return self.answered[mark:]


@dataclass
class Frames:
    """The subscribe messages the pages sent on their websockets."""

    subscribed: list[dict[str, Any]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("websocket", self.on_socket)

    def on_socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self.on_frame)

    def on_frame(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        if message.get("type") == "subscribe":
            self.subscribed.append(message["payload"])


@asynccontextmanager
async def processes(tmp_path: Path, database_url: str, redis_url: str) -> AsyncIterator[Launcher]:
    launcher = Launcher(tmp_path, database_url=database_url, redis_url=redis_url)
    try:
        yield launcher
    finally:
        await launcher.close()


@asynccontextmanager
async def tab_of(browser: Browser, api: ApiProcess) -> AsyncIterator[tuple[Page, Recorded]]:
    """One tab on `api`'s web app, recorded as tests/web/support.py's `browsing` records."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="UTC", locale="en-GB"
    )
    context.set_default_timeout(BROWSER_WITHIN * 1000)
    recorded = Recorded(origin=api.base_url)
    await recorded.watch(context)
    try:
        yield await context.new_page(), recorded
    finally:
        await context.close()


def today_at(hour: int) -> dict[str, str]:
    """Times of a quarter-hour entry today at `hour` (UTC, the browser's zone here)."""
    start = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=15)).isoformat(),
    }


async def row_ids(page: Page) -> list[str]:
    ids: list[str] = await page.locator(".entries [data-id]").evaluate_all(
        "rows => rows.map((row) => row.dataset.id)"
    )
    return ids


async def expect_rows(page: Page, ids: list[str], within_ms: float = EXPECT_WITHIN_MS) -> None:
    """The list shows exactly these entries, each once."""
    await expect(page.locator(".entries [data-id]")).to_have_count(len(ids), timeout=within_ms)
    assert sorted(await row_ids(page)) == sorted(ids)


async def test_the_page_reconnects_after_an_api_restart_and_shows_what_it_missed_once(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        processes(tmp_path, database_url, redis_url) as launcher,
        chromium() as browser,
    ):
        served, other = await asyncio.gather(  # the same database and Redis
            launcher.api(name="api-served"), launcher.api(name="api-other")
        )
        async with (
            httpx.AsyncClient(base_url=served.base_url, timeout=30.0) as to_served,
            httpx.AsyncClient(base_url=other.base_url, timeout=30.0) as to_other,
            tab_of(browser, served) as (page, recorded),
        ):
            account = await Api(to_served).sign_up()
            frames = Frames()
            frames.watch(page)
            await sign_in_at(page, served, account)
            await expect(page.locator(".connection")).to_have_text("Live")
            # Arrives live: from here on the page's feed has a cursor to resume from.
            first = await Api(to_served).create_entry(account, title="Before", **today_at(1))
            await expect_rows(page, [first["id"]])
            # A second tab that has had no event: its feed has no cursor to resume from, so
            # after the drop it must read the list anew (live.feed's onResync).
            quiet = await new_page(page.context)
            await quiet.goto(f"{served.base_url}/today")
            await expect_rows(quiet, [first["id"]])
            await expect(quiet.locator(".connection")).to_have_text("Live")

            # SIGKILL: no close frame, no goodbye; the browser sees the socket drop.
            await served.proc.kill()
            await expect(page.locator(".connection")).not_to_have_text("Live")
            while_down = Api(to_other)
            missed = [
                await while_down.create_entry(account, title=f"Missed {n}", **today_at(2 + n))
                for n in range(3)
            ]
            await while_down.data(RENAME, {"id": first["id"]}, account.access_token)
            gone = await while_down.create_entry(account, title="Gone again", **today_at(6))
            await while_down.data(DELETE, {"id": gone["id"]}, account.access_token)

            # The same ports again; an entry at once, likely before the page is back.
            served = await launcher.api(
                name="api-restarted", ports=(served.http_port, served.grpc_port)
            )
            right_after = await Api(to_served).create_entry(
                account, title="Right after", **today_at(7)
            )
            await expect(page.locator(".connection")).to_have_text(
                "Live", timeout=RECONNECT_WITHIN_MS
            )
            expected = [first["id"], *(entry["id"] for entry in missed), right_after["id"]]
            await expect_rows(page, expected)
            await expect(page.locator(f'[data-id="{first["id"]}"] .title')).to_have_text("Renamed")
            await screenshot(page, "today-after-restart")
            await expect_rows(quiet, expected)
            await expect(quiet.locator(f'[data-id="{first["id"]}"] .title')).to_have_text("Renamed")

            # Still live afterwards (an event through Redis from the other process), still once.
            later = await Api(to_other).create_entry(account, title="Later", **today_at(8))
            await expect_rows(page, [*expected, later["id"]])

    # The page subscribed again by itself, resuming after the last event it had seen.
    feeds = [s for s in frames.subscribed if "logEntryEvents" in s["query"]]
    assert feeds[0]["variables"] == {"since": None}
    assert len(feeds) >= 2
    assert all(feed["variables"]["since"] for feed in feeds[1:])
    assert recorded.other_origins() == []
    assert recorded.errors == []


async def sign_in_at(page: Page, api: ApiProcess, account: Account) -> None:
    await page.goto(f"{api.base_url}/signin")
    await page.get_by_label("E-mail").fill(account.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Password").press("Enter")
    await expect(page.get_by_role("heading", name="Today")).to_be_visible()


async def log_from_the_form(page: Page, title: str, start: str, end: str) -> None:
    await page.get_by_label("What did you do?").fill(title)
    await page.get_by_label("Start").fill(start)
    await page.get_by_label("End").fill(end)
    await page.get_by_label("End").press("Enter")
    await expect(page.get_by_role("status").filter(has_text=f"Logged “{title}”")).to_be_visible()


async def quiet(page: Page, operations: Operations, refused: Refused) -> None:
    """Stops the tab's clock, then waits for its newest access token to expire on the server,
    which closes the tab's socket (4403 "Token expired"). With timers stopped the socket's
    retry waits, so no request but the next action's goes out: the log is the action's alone.
    """
    await page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    await eventually(lambda: refused(operations.tokens[-1]), "UNAUTHENTICATED", WAIT_SECONDS)
    await expect(page.locator(".connection")).to_have_text("Offline")


async def test_an_expired_access_token_is_refreshed_silently_until_the_session_ends(
    database_url: str, redis_url: str
) -> None:
    async with (
        # Access tokens live 2 s (a socket is closed when its token expires); sockets re-check
        # revocations rarely, so that only the page's own requests can end the session here.
        live_server(
            database_url, redis_url, access_token_ttl_seconds=2, ws_auth_recheck_seconds=600
        ) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        api = Api(http)
        account = await api.sign_up()

        async def refused(token: str) -> str:
            answer = await api.post(ME, token=token)
            code: str = answer["errors"][0]["extensions"]["code"] if "errors" in answer else "OK"
            return code

        # The page's timers run on a clock the test can stop (in step with real time until then).
        await context.clock.install()
        page = await new_page(context)
        operations = Operations()
        operations.watch(page)
        await sign_in(page, server, account.email)
        await expect(page.locator(".connection")).to_have_text("Live")

        # 1. The token expired, and the page knows it (it is past its expiresIn): the action
        # refreshes first, then sends its request with the new token, once each.
        await quiet(page, operations, refused)
        mark, answers = len(operations.sent), len(operations.answered)
        await log_from_the_form(page, "After expiry", "9:00", "9:30")
        assert operations.since(mark) == ["Refresh", "CreateEntry"]
        await eventually(
            lambda: operations.answered_since(answers), [("Refresh", "OK"), ("CreateEntry", "OK")]
        )
        assert operations.bearers[-1] == operations.tokens[-1]

        # 2. The token expired, and the page does not know it (its clock went back a minute:
        # a laptop's clock corrected, say): sent, refused, refreshed once, replayed.
        await eventually(lambda: refused(operations.tokens[-1]), "UNAUTHENTICATED", WAIT_SECONDS)
        await page.clock.set_system_time(datetime.now(UTC) - timedelta(minutes=1))
        mark, answers = len(operations.sent), len(operations.answered)
        await log_from_the_form(page, "Replayed", "10:00", "10:30")
        assert operations.since(mark) == ["CreateEntry", "Refresh", "CreateEntry"]
        replayed = [("CreateEntry", "UNAUTHENTICATED"), ("Refresh", "OK"), ("CreateEntry", "OK")]
        await eventually(lambda: operations.answered_since(answers), replayed)
        assert operations.bearers[-1] == operations.tokens[-1] != operations.bearers[-2]
        await expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
        await expect(page.locator(".entries .title")).to_have_text(["Replayed", "After expiry"])
        await screenshot(page, "today-after-silent-refresh")

        # 3. A reload forgets the access token; the refresh cookie signs the tab in again.
        await page.clock.resume()
        mark = len(operations.sent)
        await page.reload()
        await expect(page.get_by_role("heading", name="Today")).to_be_visible()
        await expect(page.locator(".entries .title")).to_have_text(["Replayed", "After expiry"])
        await expect(page.locator(".connection")).to_have_text("Live")
        assert operations.since(mark)[0] == "Refresh"
        assert "LogIn" not in operations.since(mark)

        # 4. Another device ends every other session: this tab's refresh cookie is revoked
        # with it, so its next action cannot refresh and lands on the sign-in page.
        await quiet(page, operations, refused)
        elsewhere = await api.data(LOG_IN, {"email": account.email, "password": PASSWORD})
        ended = await api.data(END_OTHERS, token=elsewhere["logIn"]["accessToken"])
        assert ended == {"endOtherSessions": 2}  # the sign-up's and this tab's
        mark, answers = len(operations.sent), len(operations.answered)
        await page.get_by_label("What did you do?").fill("Never logged")
        await page.get_by_label("Duration").fill("30m")
        await page.get_by_label("Duration").press("Enter")
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        await screenshot(page, "signed-out-after-revocation")
        assert operations.since(mark) == ["Refresh"]
        await eventually(
            lambda: operations.answered_since(answers), [("Refresh", "UNAUTHENTICATED")]
        )

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
