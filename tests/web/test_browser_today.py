"""The web app in Debian's headless Chromium against a real server: a newcomer signs up and
logs the first entry with the keyboard alone; a second tab sees it live; a reload keeps the
session; errors land at their fields with nothing typed lost; hostile titles are text; the
content policy blocks inline script; and no request leaves for another origin."""

from __future__ import annotations

import contextlib

import httpx
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from tests.factories import Api
from tests.graph.test_graphiql_browser import chromium
from tests.live import Server, live_server
from tests.web.support import (
    EXPECT_WITHIN_MS,
    PASSWORD,
    browsing,
    focused_label,
    new_page,
    screenshot,
    sign_in,
    type_into_focused,
)

HOSTILE = '<script>window.__pwned = 1</script><img src="/x.png" onerror="window.__pwned = 2">'


async def sign_up_by_keyboard(page: Page, server: Server, email: str) -> None:
    await page.goto(f"{server.http_url}/")
    await expect(page).to_have_url(f"{server.http_url}/signin")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await focused_label(page) == "E-mail"
    await screenshot(page, "signin")
    for _ in range(3):  # past the password and the sign-in button to "Create an account"
        await page.keyboard.press("Tab")
    assert await focused_label(page) == "Create an account"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    assert await focused_label(page) == "First name"
    await type_into_focused(page, "Grace")
    await type_into_focused(page, "Hopper")
    await type_into_focused(page, email)
    await type_into_focused(page, "short", then="Enter")
    # The server's answer lands at its field; what was typed stays.
    await expect(page.get_by_text("must be at least 8 characters")).to_be_visible()
    assert await focused_label(page) == "Password"
    assert await page.get_by_label("E-mail").input_value() == email
    await screenshot(page, "signup-error")
    await page.keyboard.press("Control+A")
    await type_into_focused(page, PASSWORD, then="Enter")
    await expect(page.get_by_role("heading", name="Today")).to_be_visible()
    await expect(page).to_have_url(f"{server.http_url}/today")


async def log_entry_by_keyboard(page: Page, title: str, tags: str, start: str, end: str) -> None:
    """From the focused title field: title, Tab to tags, Tab past duration, start, end, Enter."""
    assert await focused_label(page) == "What did you do?"
    await type_into_focused(page, title)
    assert await focused_label(page) == "Type"
    await page.keyboard.press("Tab")  # type: CODE stays
    await page.keyboard.press("Tab")  # project: none
    assert await focused_label(page) == "Tags"
    await type_into_focused(page, tags)
    assert await focused_label(page) == "Duration"
    await page.keyboard.press("Tab")
    await type_into_focused(page, start)
    await type_into_focused(page, end, then="Enter")


async def test_sign_up_to_first_entry_by_keyboard_only_then_live_in_a_second_tab(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        page = await new_page(context)
        await sign_up_by_keyboard(page, server, "grace@example.com")
        assert await focused_label(page) == "What did you do?"

        # An end before the start: the server's error at End, the form as typed.
        await log_entry_by_keyboard(
            page, "Reviewed the payments PR", "review, payments", "10:00", "9:00"
        )
        end = page.get_by_label("End", exact=True)
        await expect(end).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(".field-error:visible")).to_have_count(1)
        assert (
            await page.get_by_label("What did you do?").input_value() == "Reviewed the payments PR"
        )
        assert await focused_label(page) == "End"
        await page.keyboard.press("Control+A")
        await type_into_focused(page, "11:15", then="Enter")

        first = page.locator(".entry").filter(has_text="Reviewed the payments PR")
        await expect(first).to_contain_text("10:00–11:15")
        await expect(first).to_contain_text("1h 15m")
        await expect(first.locator(".chip")).to_have_text(["payments", "review"])
        await expect(page.get_by_role("status").filter(has_text="Logged")).to_be_visible()
        assert await focused_label(page) == "What did you do?"  # ready for the next one
        await screenshot(page, "today")

        # A second tab: signed in by the cookie alone (silent refresh), and live both ways.
        other = await new_page(context)
        await other.goto(f"{server.http_url}/today")
        await expect(other.locator(".entry")).to_have_count(1)
        await expect(other.locator(".connection")).to_have_text("Live")
        await expect(page.locator(".connection")).to_have_text("Live")
        await log_entry_by_keyboard(other, "Paired on the flaky test", "testing", "13:00", "13:30")
        await expect(page.locator(".entry").first).to_contain_text(
            "Paired on the flaky test", timeout=EXPECT_WITHIN_MS
        )
        await expect(page.locator(".entry .chip").filter(has_text="testing")).to_be_visible()

        # Deleted in the first tab, gone from the second.
        row = page.locator(".entry").filter(has_text="Paired on the flaky test")
        await row.get_by_role("button", name="Delete “Paired on the flaky test”").press("Enter")
        await page.get_by_role("button", name="Delete", exact=True).press("Enter")
        await expect(other.locator(".entry")).to_have_count(1, timeout=EXPECT_WITHIN_MS)

        # Inline edit by keyboard: Enter on Edit, change the title, Enter saves.
        await first.get_by_role("button", name="Edit “Reviewed the payments PR”").press("Enter")
        assert await focused_label(page) == "What did you do?"
        await page.keyboard.press("Control+A")
        await type_into_focused(page, "Reviewed and merged the payments PR", then="Enter")
        await expect(page.locator(".entry .title")).to_have_text(
            ["Reviewed and merged the payments PR"]
        )
        await expect(other.locator(".entry .title")).to_have_text(
            ["Reviewed and merged the payments PR"], timeout=EXPECT_WITHIN_MS
        )

        # The server's timer: started from the form, shown in the other tab, stopped into an entry.
        await page.get_by_label("What did you do?", exact=True).first.fill("Writing the RFC")
        await page.get_by_role("button", name="▶ Start timer").press("Enter")
        await expect(page.locator(".running-title")).to_have_text("Writing the RFC")
        await expect(other.locator(".running-title")).to_have_text(
            "Writing the RFC", timeout=EXPECT_WITHIN_MS
        )
        await page.get_by_role("button", name="■ Stop and log").press("Enter")
        await expect(page.get_by_role("status").filter(has_text="Timer stopped")).to_be_visible()
        await expect(other.get_by_role("button", name="▶ Start timer")).to_be_visible(
            timeout=EXPECT_WITHIN_MS
        )

        # A reload keeps the session (the refresh cookie) and the entries.
        await page.reload()
        await expect(page.get_by_role("heading", name="Today")).to_be_visible()
        await expect(page.locator(".entry").filter(has_text="payments PR")).to_have_count(1)

        await page.set_viewport_size({"width": 375, "height": 800})
        await screenshot(page, "today-375")
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375

        # Signing out ends this browser's session: the other tab goes to the sign-in page.
        await page.get_by_role("button", name="Sign out", exact=True).press("Enter")
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        await expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
        await page.reload()
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    assert recorded.blocked == []
    assert recorded.other_origins() == []
    assert set(recorded.sockets) == {server.ws_url}
    assert recorded.problems() == []
    assert recorded.errors == []


async def test_hostile_titles_render_as_text_and_the_policy_blocks_inline_script(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
    ):
        account = await Api(http).sign_up(password=PASSWORD)
        page = await new_page(context)
        await sign_in(page, server, account.email)
        await page.evaluate(
            """() => {
              window.__violations = [];
              document.addEventListener("securitypolicyviolation", (event) =>
                window.__violations.push(event.violatedDirective));
            }"""
        )
        title = page.get_by_label("What did you do?")
        await title.fill(HOSTILE)
        await page.get_by_label("Start").fill("10:00")
        await page.get_by_label("End").fill("10:45")
        await page.get_by_label("End").press("Enter")
        shown = page.locator(".entry .title")
        await expect(shown).to_have_text([HOSTILE])
        assert await page.locator(".entries img, .entries script").count() == 0

        # A script injected inline (as an XSS would) does not run: the policy has no
        # 'unsafe-inline' and no hash or nonce for it.
        with contextlib.suppress(PlaywrightError):  # Playwright may report the refusal
            await page.add_script_tag(content="window.__pwned = 3")
        assert await page.evaluate("window.__pwned") is None
        assert await page.evaluate("window.__violations") == ["script-src-elem"]
        await screenshot(page, "hostile-title")

    assert recorded.other_origins() == []
    assert f"{server.http_url}/x.png" not in recorded.requested  # the <img> never existed
    assert [line for line in recorded.problems() if "Content Security Policy" not in line] == []
    assert any("Content Security Policy" in line for line in recorded.problems())
