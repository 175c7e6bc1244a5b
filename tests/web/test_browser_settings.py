"""The settings screen in Chromium against a real server: the profile (name, time zone, an
e-mail change confirmed with the password, errors at their fields with nothing typed lost),
the sessions of two browsers (end the other one, then change the password, and the other
browser's next request lands on the sign-in page), preferences that survive a reload, the
export downloaded as a JSON file, and deleting the account."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.browser import chromium
from tests.factories import Api
from tests.graph.auth.support import LOG_IN, LOG_OUT
from tests.live import live_server
from tests.web.layout_support import wider_than_the_screen
from tests.web.support import (
    EXPECT_WITHIN_MS,
    PASSWORD,
    browsing,
    new_page,
    screenshot,
    sign_in,
)

NEW_PASSWORD = "a much longer passphrase"
ME = "{ me { email firstName lastName timezone preferences { weeklyReport dailySummaryTime reminderTime email } } }"  # noqa: E501


@asynccontextmanager
async def signed_in(api: Api, email: str, password: str) -> AsyncIterator[str]:
    """An access token of a login that ends afterwards (so the screen lists only browsers)."""
    data = await api.data(LOG_IN, {"email": email, "password": password})
    try:
        yield data["logIn"]["accessToken"]
    finally:
        await api.data(LOG_OUT, {"refreshToken": data["logIn"]["refreshToken"]})


async def me(api: Api, email: str, password: str) -> dict[str, object]:
    async with signed_in(api, email, password) as token:
        data = await api.data(ME, token=token)
    result: dict[str, object] = data["me"]
    return result


async def open_settings(page: Page) -> None:
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    await expect(page.get_by_role("heading", name="Profile")).to_be_visible()


async def lands_on_sign_in(page: Page) -> None:
    """The page's next request (a screen's query) finds its session ended."""
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible(
        timeout=EXPECT_WITHIN_MS
    )


async def test_settings_profile_sessions_preferences_password_export_and_deletion(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
        browsing(browser, server) as (context, recorded),
        browsing(browser, server) as (phone, _),
    ):
        api = Api(http)
        account = await api.sign_up()
        await api.data(LOG_OUT, {"refreshToken": account.refresh_token})
        page = await new_page(context)
        await sign_in(page, server, account.email)
        await open_settings(page)
        await screenshot(page, "settings")

        # Name and time zone.
        await page.get_by_label("First name").fill("Grace")
        await page.get_by_label("Last name").fill("Hopper")
        await page.get_by_label("Time zone").select_option("America/New_York")
        await page.get_by_role("button", name="Save profile").click()
        await expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
        await expect(page.locator(".who")).to_have_text("Grace Hopper")
        profile = await me(api, account.email, PASSWORD)
        assert (profile["firstName"], profile["lastName"], profile["timezone"]) == (
            "Grace",
            "Hopper",
            "America/New_York",
        )

        # A new e-mail with a wrong password: the error at Current password, nothing lost.
        new_email = f"grace.{account.email}"
        await page.get_by_label("E-mail", exact=True).fill(new_email)
        await page.get_by_label("Current password").first.fill("not my password")
        await page.get_by_role("button", name="Save profile").click()
        password_field = page.get_by_label("Current password").first
        await expect(password_field).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(".field-error:visible")).to_have_text(
            ["Is not this account's password"]
        )
        assert await page.get_by_label("E-mail", exact=True).input_value() == new_email
        assert await password_field.input_value() == "not my password"
        assert await page.get_by_label("First name").input_value() == "Grace"
        await screenshot(page, "settings-email-error")
        await password_field.fill(PASSWORD)
        await page.get_by_role("button", name="Save profile").click()
        await expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
        await expect(password_field).not_to_have_attribute("aria-invalid", "true")
        assert await password_field.input_value() == ""
        assert (await me(api, new_email, PASSWORD))["email"] == new_email

        # Two browsers: both listed, this one marked; ending the other signs it out.
        other = await new_page(phone)
        await sign_in(other, server, new_email, PASSWORD)
        await page.reload()
        await expect(page.locator(".session")).to_have_count(2)
        current = page.locator('.session[data-current="true"]')
        await expect(current).to_contain_text("This device")
        await expect(page.locator(".session").first).to_contain_text("This device")
        await screenshot(page, "settings-sessions")
        await page.locator('.session[data-current="false"]').get_by_role("button").click()
        await expect(
            page.get_by_role("status").filter(has_text="Ended the session")
        ).to_be_visible()
        await expect(page.locator(".session")).to_have_count(1)
        await lands_on_sign_in(other)

        # Preferences: saved, and still so after a reload.
        await page.get_by_label("Weekly report").uncheck()
        await page.get_by_label("Daily summary at").fill("18:30")
        await page.get_by_label("Reminder at").fill("17:05")
        await page.get_by_label("E-mail notifications").check()
        await page.get_by_role("button", name="Save preferences").click()
        await expect(
            page.get_by_role("status").filter(has_text="Preferences saved.")
        ).to_be_visible()
        await page.reload()
        await expect(page.get_by_label("Daily summary at")).to_have_value("18:30")
        await expect(page.get_by_label("Reminder at")).to_have_value("17:05")
        await expect(page.get_by_label("Weekly report")).not_to_be_checked()
        await expect(page.get_by_label("E-mail notifications")).to_be_checked()
        assert (await me(api, new_email, PASSWORD))["preferences"] == {
            "weeklyReport": False,
            "dailySummaryTime": "18:30",
            "reminderTime": "17:05",
            "email": True,
        }

        # The password: a wrong current one at its field; then changed, ending the other
        # browser's new session and keeping this one.
        await sign_in(other, server, new_email, PASSWORD)
        await page.reload()
        await expect(page.locator(".session")).to_have_count(2)
        change = page.locator("form").filter(has=page.get_by_role("button", name="Change password"))
        await change.get_by_label("Current password").fill("not my password")
        await change.get_by_label("New password").fill(NEW_PASSWORD)
        await change.get_by_role("button", name="Change password").click()
        await expect(change.get_by_label("Current password")).to_have_attribute(
            "aria-invalid", "true"
        )
        assert await change.get_by_label("New password").input_value() == NEW_PASSWORD
        await change.get_by_label("Current password").fill(PASSWORD)
        await change.get_by_role("button", name="Change password").click()
        await expect(change.get_by_role("status")).to_have_text(
            "Password changed. 1 other session was signed out."
        )
        await expect(page.locator(".session")).to_have_count(1)
        await lands_on_sign_in(other)
        await open_settings(page)  # this browser goes on

        # Export: a JSON file with the user's entry, downloaded without a new window.
        async with signed_in(api, new_email, NEW_PASSWORD) as token:
            await api.data(
                "mutation E($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }",
                {
                    "input": {
                        "title": "Exported entry",
                        "type": "DOCS",
                        "startTime": "2026-11-02T09:00:00+00:00",
                        "endTime": "2026-11-02T09:30:00+00:00",
                    }
                },
                token,
            )
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download my data (JSON)").click()
        download = await download_info.value
        assert download.suggested_filename.startswith("englog-export-")
        assert download.suggested_filename.endswith(".json")
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        document = json.loads(saved.read_text())
        assert document["user"]["email"] == new_email
        assert [entry["title"] for entry in document["log_entries"]] == ["Exported entry"]
        await expect(page.get_by_text("Downloaded.")).to_be_visible()
        assert len(context.pages) == 1

        await page.set_viewport_size({"width": 375, "height": 800})
        await screenshot(page, "settings-375")
        assert await wider_than_the_screen(page) == []
        await page.set_viewport_size({"width": 1280, "height": 900})

        # Deleting the account: a dialog asks for the password; then the sign-in page.
        await page.get_by_role("button", name="Delete my account…").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_label("Your password").fill("not my password")
        await dialog.get_by_role("button", name="Delete my account for good").click()
        await expect(dialog.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")
        await screenshot(page, "settings-delete-dialog")
        await dialog.get_by_label("Your password").fill(NEW_PASSWORD)
        await dialog.get_by_role("button", name="Delete my account for good").click()
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        error = await api.error(LOG_IN, {"email": new_email, "password": NEW_PASSWORD})
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        await page.reload()
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
