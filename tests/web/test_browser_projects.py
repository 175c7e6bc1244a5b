"""The Projects and tags screen in Chromium against a real server: projects and tags are
created, renamed, recoloured, archived and deleted (after a dialog) as the API then holds them;
a name already taken shows the API's error at the name field with what was typed kept; the
entry counts shown are the API's."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from tests.browser import chromium
from tests.factories import Account, Api
from tests.live import live_server
from tests.web.layout_support import wider_than_the_screen
from tests.web.support import browsing, new_page, screenshot, sign_in

STATE = """
query State {
  projects { id name description status color }
  tags { id name category color usageCount }
}
"""
PROJECT_COUNT = """
query Count($id: ID!) { logEntries(filter: {projectIds: [$id]}) { totalCount } }
"""


async def state(api: Api, account: Account) -> dict[str, dict[str, Any]]:
    """The user's projects and tags by name, as the API answers."""
    data = await api.data(STATE, token=account.access_token)
    return {
        "projects": {project["name"]: project for project in data["projects"]},
        "tags": {tag["name"]: tag for tag in data["tags"]},
    }


def row(page: Page, section: str, name: str) -> Locator:
    return (
        page.get_by_role("region", name=section)
        .locator(".thing")
        .filter(has=page.locator(".title", has_text=name))
    )


def form(page: Page, name: str) -> Locator:
    return page.get_by_role("form", name=name)


async def test_projects_and_tags_are_created_renamed_archived_and_deleted_as_the_api_says(
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
        apollo = await api.create_project(account, "Apollo", color="#2457d6")
        await api.create_project(account, "Hermes", description="The courier service")
        for index, names in enumerate([["backend"], ["backend", "infra"], []]):
            await api.create_entry(account, offset_hours=index, projectId=apollo["id"], tags=names)

        page = await new_page(context)
        await sign_in(page, server, account.email)
        await page.goto(f"{server.http_url}/projects")
        await expect(page.get_by_role("heading", name="Projects and tags")).to_be_visible()

        # The counts shown are the API's: logEntries' totalCount, Tag.usageCount.
        before = await state(api, account)
        for name, project in before["projects"].items():
            count = await api.data(PROJECT_COUNT, {"id": project["id"]}, account.access_token)
            total = count["logEntries"]["totalCount"]
            shown = f"{total} {'entry' if total == 1 else 'entries'}"
            await expect(row(page, "Projects", name).locator(".usage")).to_have_text(shown)
        assert [before["tags"][name]["usageCount"] for name in ("backend", "infra")] == [2, 1]
        await expect(row(page, "Tags", "backend").locator(".usage")).to_have_text("2 entries")
        await expect(row(page, "Tags", "infra").locator(".usage")).to_have_text("1 entry")
        await expect(row(page, "Projects", "Apollo").locator(".usage")).to_have_text("3 entries")
        await expect(row(page, "Projects", "Hermes").locator(".usage")).to_have_text("0 entries")

        # Create a project by keyboard; then a name already taken: the error at Name, kept.
        new_project = form(page, "New project")
        await new_project.get_by_label("Name", exact=True).fill("Zephyr")
        await new_project.get_by_label("Description", exact=True).fill("Wind tunnel data")
        await new_project.get_by_label("Colour", exact=True).fill("#16a34a")
        await new_project.get_by_label("Status", exact=True).select_option("ON_HOLD")
        await new_project.get_by_label("Name", exact=True).press("Enter")
        await expect(row(page, "Projects", "Zephyr")).to_contain_text("On hold")
        await expect(row(page, "Projects", "Zephyr").locator(".usage")).to_have_text("0 entries")
        await expect(new_project.get_by_label("Name", exact=True)).to_be_focused()
        await expect(new_project.get_by_label("Name", exact=True)).to_have_value("")
        zephyr = (await state(api, account))["projects"]["Zephyr"]
        assert {key: zephyr[key] for key in ("description", "status", "color")} == {
            "description": "Wind tunnel data",
            "status": "ON_HOLD",
            "color": "#16a34a",
        }
        await new_project.get_by_label("Name", exact=True).fill("apollo")
        await new_project.get_by_label("Description", exact=True).fill("A second one")
        await new_project.get_by_role("button", name="Create project").press("Enter")
        name_field = new_project.get_by_label("Name", exact=True)
        await expect(name_field).to_have_attribute("aria-invalid", "true")
        await expect(new_project.locator(".field-error:visible")).to_have_text(["Is already used"])
        await expect(name_field).to_be_focused()
        await expect(name_field).to_have_value("apollo")
        await expect(new_project.get_by_label("Description", exact=True)).to_have_value(
            "A second one"
        )
        await screenshot(page, "projects-duplicate-name")
        assert len((await state(api, account))["projects"]) == 3

        # Rename and recolour inline; Escape leaves an edit untouched.
        await row(page, "Projects", "Zephyr").get_by_role("button", name="Edit").press("Enter")
        editor = form(page, "Edit project “Zephyr”")
        await expect(editor.get_by_label("Name", exact=True)).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(editor).to_be_hidden()
        await row(page, "Projects", "Zephyr").get_by_role("button", name="Edit").press("Enter")
        await editor.get_by_label("Name", exact=True).fill("Zephyr II")
        await editor.get_by_label("Colour", exact=True).fill("#b42318")
        await editor.get_by_label("Name", exact=True).press("Enter")
        await expect(row(page, "Projects", "Zephyr II")).to_be_visible()
        renamed = (await state(api, account))["projects"]
        assert "Zephyr" not in renamed
        assert (renamed["Zephyr II"]["color"], renamed["Zephyr II"]["id"]) == (
            "#b42318",
            zephyr["id"],
        )

        # Archive (status COMPLETED), then reactivate.
        await row(page, "Projects", "Apollo").get_by_role("button", name="Archive").click()
        await expect(row(page, "Projects", "Apollo").locator(".badge")).to_have_text("Completed")
        assert (await state(api, account))["projects"]["Apollo"]["status"] == "COMPLETED"
        await expect(row(page, "Projects", "Apollo")).to_have_class("thing archived")
        await screenshot(page, "projects")
        await row(page, "Projects", "Apollo").get_by_role("button", name="Reactivate").click()
        await expect(row(page, "Projects", "Apollo").locator(".badge")).to_have_text("Active")
        assert (await state(api, account))["projects"]["Apollo"]["status"] == "ACTIVE"

        # Delete after the dialog (Cancel first, then Delete).
        await row(page, "Projects", "Hermes").get_by_role("button", name="Delete").press("Enter")
        dialog = page.get_by_role("dialog", name="Delete project “Hermes”?")
        await expect(dialog).to_contain_text("It has no entries.")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(row(page, "Projects", "Hermes")).to_be_visible()
        await row(page, "Projects", "Hermes").get_by_role("button", name="Delete").press("Enter")
        await screenshot(page, "projects-delete-dialog")
        await dialog.get_by_role("button", name="Delete project").press("Enter")
        await expect(row(page, "Projects", "Hermes")).to_have_count(0)
        assert sorted((await state(api, account))["projects"]) == ["Apollo", "Zephyr II"]

        # Tags: create, a taken name at its field, rename with a category, delete.
        new_tag = form(page, "New tag")
        await new_tag.get_by_label("Name", exact=True).fill("perf")
        await new_tag.get_by_label("Category", exact=True).fill("skill")
        await new_tag.get_by_label("Colour", exact=True).fill("#f59e0b")
        await new_tag.get_by_label("Name", exact=True).press("Enter")
        await expect(row(page, "Tags", "perf")).to_contain_text("skill")
        await expect(row(page, "Tags", "perf").locator(".usage")).to_have_text("0 entries")
        await new_tag.get_by_label("Name", exact=True).fill("Backend")
        await new_tag.get_by_label("Name", exact=True).press("Enter")
        await expect(new_tag.locator(".field-error:visible")).to_have_text(["Is already used"])
        await expect(new_tag.get_by_label("Name", exact=True)).to_have_value("Backend")
        await row(page, "Tags", "perf").get_by_role("button", name="Edit").press("Enter")
        tag_editor = form(page, "Edit tag “perf”")
        await tag_editor.get_by_label("Name", exact=True).fill("performance")
        await tag_editor.get_by_label("No colour", exact=True).check()
        await tag_editor.get_by_label("Name", exact=True).press("Enter")
        await expect(row(page, "Tags", "performance")).to_be_visible()
        tags = (await state(api, account))["tags"]
        assert {key: tags["performance"][key] for key in ("category", "color", "usageCount")} == {
            "category": "skill",
            "color": None,
            "usageCount": 0,
        }
        await row(page, "Tags", "infra").get_by_role("button", name="Delete").press("Enter")
        tag_dialog = page.get_by_role("dialog", name="Delete tag “infra”?")
        await expect(tag_dialog).to_contain_text("It is taken off 1 entry that carries it")
        await tag_dialog.get_by_role("button", name="Delete tag").click()
        await expect(row(page, "Tags", "infra")).to_have_count(0)
        assert sorted((await state(api, account))["tags"]) == ["backend", "performance"]

        await page.set_viewport_size({"width": 375, "height": 800})
        await screenshot(page, "projects-375")
        assert await wider_than_the_screen(page) == []

    assert recorded.blocked == []
    assert recorded.other_origins() == []
    assert recorded.problems() == []
    assert recorded.errors == []
